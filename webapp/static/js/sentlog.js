// sentlog.js — the sent log (sync protocol 1.1, "Sent log and restore
// without loss"): every mutation the server has answered leaves the outbox
// for this log, kept RETENTION_MS or until it holds MAX_SENT mutations
// (oldest first out). After every push or pull answer, the answer's
// `device` object says what the server holds of this device; what the log
// has and the server no longer holds (it was restored from a backup) goes
// back into the outbox, as it was, and is pushed as usual. Each entry keeps
// the username it was pushed under (`user`): on a shared phone only the
// entries of the user logged in now go back (pushed under their token);
// the others stay in the log until their user logs in and syncs.

import { tx, req } from './db.js';

/** RETENTION_MS is how long an answered mutation stays in the log: 14 days. */
export const RETENTION_MS = 14 * 24 * 3600 * 1000;

/** MAX_SENT is the most mutations the log holds. */
export const MAX_SENT = 100000;

/**
 * lostRanges returns the seq ranges [first, last] (both included; last
 * may be Infinity) that the server no longer holds according to a push or
 * pull answer's device object {epoch, max_seq, gaps}: its gaps, and every
 * seq above max_seq. An answer without a device object (a 1.0 server)
 * gives [].
 */
export function lostRanges(device) {
  if (!device || typeof device.max_seq !== 'number') return [];
  const out = [];
  for (const g of device.gaps || []) {
    if (Array.isArray(g) && g.length === 2 && g[0] <= g[1]) out.push([g[0], g[1]]);
  }
  out.push([device.max_seq + 1, Infinity]);
  return out;
}

/**
 * keep adds answered mutations to the log inside the transaction t (over
 * the 'sent' store) at time now (ms), with user (the username they were
 * pushed under), then trims it: older than RETENTION_MS, then the oldest
 * beyond MAX_SENT.
 */
export async function keep(t, mutations, now = Date.now(), user = undefined) {
  const s = t.objectStore('sent');
  for (const m of mutations) s.put(user ? { ...m, sent_at: now, user } : { ...m, sent_at: now });
  const byTime = s.index('sent_at');
  for (const k of await req(byTime.getAllKeys(IDBKeyRange.upperBound(now - RETENTION_MS)))) s.delete(k);
  const n = await req(s.count());
  if (n > MAX_SENT) for (const k of await req(byTime.getAllKeys(null, n - MAX_SENT))) s.delete(k);
}

/** mine reports whether a log entry belongs to user (the username logged in now); an entry kept before usernames were kept has none and is the current user's. */
function mine(rec, user) {
  return !rec.user || rec.user === user;
}

/**
 * requeue puts back into the outbox, in one durable transaction, every
 * mutation of the log that device (an answer's device object) says the
 * server no longer holds and that user (the username logged in now) pushed,
 * with its original id, seq and recorded_at, and marks its journal entry
 * pending again. Another user's entries stay in the log. It resolves with
 * {mutations, checkIns}: how many went back, and how many of them were
 * check-ins.
 */
export function requeue(device, user) {
  const ranges = lostRanges(device);
  if (!ranges.length) return Promise.resolve({ mutations: 0, checkIns: 0 });
  return tx(['sent', 'outbox', 'journal'], 'readwrite', async (t) => {
    const sent = t.objectStore('sent');
    const ob = t.objectStore('outbox');
    const jn = t.objectStore('journal');
    let mutations = 0;
    let checkIns = 0;
    for (const [a, b] of ranges) {
      const range = b === Infinity ? IDBKeyRange.lowerBound(a) : IDBKeyRange.bound(a, b);
      for (const rec of await req(sent.index('seq').getAll(range))) {
        if (!mine(rec, user)) continue;
        const { sent_at: _, user: _u, ...m } = rec;
        sent.delete(m.id);
        if ((await req(ob.get(m.id))) || (await req(ob.index('seq').count(m.seq)))) continue;
        ob.add(m);
        mutations++;
        if (m.type === 'attendance.check_in') checkIns++;
        const j = await req(jn.get(m.id));
        if (j) jn.put({ ...j, status: 'pending' });
      }
    }
    return { mutations, checkIns };
  }, 'strict');
}

/** all returns the log's mutations in seq order, as they were pushed (for the outbox file). */
export function all() {
  return tx(['sent'], 'readonly', async (t) => {
    const list = await req(t.objectStore('sent').index('seq').getAll());
    return list.map(({ sent_at: _, user: _u, ...m }) => m);
  });
}
