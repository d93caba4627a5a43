// presence.js — who is present where, as far as the phone knows: the
// pulled attendance rows merged with the phone's own journal of check-ins
// and undos (observed-remove, as on the server). Pure functions.

import { localDate } from './time.js';

const DAY_MS = 86400000;

/**
 * outOfWindow predicts the server's out_of_window flag (protocol "Push",
 * engine gate): a check-in recorded (RFC 3339) on a phone day more than
 * 1 day from the activity's date (YYYY-MM-DD) will be held for review.
 * Without a date it predicts nothing.
 */
export function outOfWindow(recordedAt, activityDate) {
  const t = Date.parse(recordedAt);
  if (!activityDate || Number.isNaN(t)) return false;
  const day = (s) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10));
  return Math.abs(day(localDate(new Date(t))) - day(activityDate)) > DAY_MS;
}

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
 * with the next pull as a present row naming that check-in. With
 * activityDate (YYYY-MM-DD), a pending check-in the server will hold
 * (outOfWindow) is held from the start ({…, code: 'out_of_window',
 * predicted: true}), not present, until the push answers.
 */
export function pairState(row, entries, activityDate) {
  const data = row ? row.data : null;
  const pulledIds = data && Array.isArray(data.check_in_ids) ? data.check_in_ids : [];
  const known = new Set(pulledIds);
  const alive = new Set(pulledIds);
  let local = false;
  let at = data && data.present ? data.checked_in_at : null;
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const predicted = (e) => e.type === 'attendance.check_in' && e.status === 'pending' && outOfWindow(e.recorded_at, activityDate);
  for (const e of sorted) {
    if (e.type === 'attendance.check_in' && e.status !== 'rejected') known.add(e.id);
    if (!counts(e, row) || predicted(e)) continue;
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
      else if (predicted(e) && !undone.has(e.id)) held = { id: e.id, code: 'out_of_window', recorded_at: e.recorded_at, predicted: true };
    }
  }
  return { present, checkInIds: [...known], at: present ? at : null, held };
}
