// presence.js — who is present where, as far as the phone knows: the
// pulled attendance rows merged with the phone's own journal of check-ins
// and undos (observed-remove, as on the server). Pure functions.

/** pairKey names a (activity, person) pair. */
export function pairKey(activityId, person) {
  return activityId + '|' + person.kind + '|' + person.id;
}

/** counts reports whether a journal entry still shapes the local view. */
function counts(entry, row) {
  if (entry.status === 'pending') return true;
  if (entry.status !== 'applied') return false; // flagged and rejected do not count
  // An applied entry is in the server's state once a later pull brought
  // the pair back; from then on the pulled row is the truth.
  return !row || !(row.pulled_at >= entry.acked_at);
}

/**
 * pairState computes the presence of one pair from its pulled attendance
 * row (or undefined) and the phone's journal entries of that pair.
 * It returns {present, checkInIds, at, held} where checkInIds are every
 * check-in id the phone knows of for that pair (what an undo must name),
 * and held, when the pair is not present, is the latest check-in the
 * server holds for review (push result `flagged`, protocol "Push") that
 * no undo names: {id, code, recorded_at} (code: out_of_window, late,
 * awaiting_registration), else null. A supervisor's acceptance arrives
 * with the next pull as a present row naming that check-in.
 */
export function pairState(row, entries) {
  const data = row ? row.data : null;
  const pulledIds = data && Array.isArray(data.check_in_ids) ? data.check_in_ids : [];
  const known = new Set(pulledIds);
  const alive = new Set(pulledIds);
  let local = false;
  let at = data && data.present ? data.checked_in_at : null;
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  for (const e of sorted) {
    if (e.type === 'attendance.check_in' && e.status !== 'rejected') known.add(e.id);
    if (!counts(e, row)) continue;
    local = true;
    if (e.type === 'attendance.check_in') {
      alive.add(e.id);
      if (!at) at = e.recorded_at;
    } else if (e.type === 'attendance.undo') {
      for (const id of e.undoes || []) alive.delete(id);
      if (alive.size === 0) at = null;
    }
  }
  let present;
  if (!local) present = !!(data && data.present);
  else present = alive.size > 0 || (!!(data && data.present) && pulledIds.length === 0 &&
    !sorted.some((e) => e.type === 'attendance.undo' && counts(e, row)));
  let held = null;
  if (!present) {
    const undone = new Set();
    for (const e of sorted) if (e.type === 'attendance.undo' && e.status !== 'rejected') for (const id of e.undoes || []) undone.add(id);
    for (const e of sorted) {
      if (e.type === 'attendance.check_in' && e.status === 'flagged' && !undone.has(e.id)) held = { id: e.id, code: e.code || '', recorded_at: e.recorded_at };
    }
  }
  return { present, checkInIds: [...known], at: present ? at : null, held };
}
