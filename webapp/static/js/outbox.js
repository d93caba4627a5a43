// outbox.js — every action is written here first: a mutation with its id
// (UUIDv7) and the device's next seq, in one durable transaction, before
// the screen says "done". It also applies the server's push results
// (drop, awaiting review, refused) and exports the outbox to a file.

import { tx, req, bumpTrainees } from './db.js';
import { uuidv7 } from './uuid.js';
import { isoLocal } from './time.js';
import { personKey } from './search.js';
import * as sentlog from './sentlog.js';

/** APP_VERSION is sent with every push. */
export const APP_VERSION = '1.0.0';

/** BATCH is the most mutations one push carries (the server takes 1,000). */
export const BATCH = 500;

/**
 * options.durability is the IndexedDB durability of recording: 'strict'
 * (flushed to disk before "done": survives a power loss, costs an fsync)
 * or 'relaxed' (handed to the OS: survives a crash of the app or browser).
 */
export const options = { durability: 'strict' };

/**
 * record writes one mutation of type with fields to the outbox (and the
 * attendance journal, or the local roster for a walk-in) and resolves with
 * it once the transaction has completed on disk.
 */
export function record(type, fields) {
  return tx(['meta', 'outbox', 'journal', 'trainee'], 'readwrite', async (t) => {
    const meta = t.objectStore('meta');
    const seq = ((await req(meta.get('seq'))) || 0) + 1;
    meta.put(seq, 'seq');
    const m = { id: uuidv7(), seq, type, recorded_at: isoLocal(new Date()), ...fields };
    t.objectStore('outbox').add(m);
    if (type === 'attendance.check_in' || type === 'attendance.undo') {
      t.objectStore('journal').put({ ...m, status: 'pending' });
    } else if (type === 'trainee.register') {
      const d = fields.trainee;
      t.objectStore('trainee').put({ id: d.id, data: { trainee_id: d.id, ...d }, sk: personKey(d), local: true });
      await bumpTrainees(t);
    }
    return m;
  }, options.durability);
}

/** peek returns the oldest n mutations of the outbox, in seq order. */
export function peek(n = BATCH) {
  return tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').index('seq').getAll(null, n)));
}

/** size returns how many mutations wait in the outbox. */
export function size() {
  return tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').count()));
}

/**
 * applyResults applies a push's per-mutation results in one transaction:
 * applied and duplicate leave the outbox; flagged leave it for the
 * "awaiting review" list; rejected for the "refused" list with the reason.
 * Every mutation that leaves the outbox goes to the sent log (sentlog.js)
 * with user, the username it was pushed under.
 */
export function applyResults(results, user) {
  const now = Date.now();
  return tx(['outbox', 'journal', 'issues', 'sent'], 'readwrite', async (t) => {
    const answered = [];
    const ob = t.objectStore('outbox');
    const jn = t.objectStore('journal');
    const is = t.objectStore('issues');
    for (const r of results || []) {
      const m = await req(ob.get(r.id));
      if (!m) continue;
      let status = r.status === 'duplicate' ? (r.outcome || 'applied') : r.status;
      if (!['applied', 'flagged', 'rejected'].includes(status)) continue; // unknown: keep and retry
      ob.delete(r.id);
      answered.push(m);
      const j = await req(jn.get(r.id));
      if (j) {
        if (status === 'rejected') jn.delete(r.id);
        else jn.put({ ...j, status, code: r.code || '', acked_at: now });
      }
      if (status !== 'applied') {
        is.put({ id: r.id, list: status === 'flagged' ? 'review' : 'refused', code: r.code || '', message: r.message || '', mutation: m, at: now });
      }
    }
    await sentlog.keep(t, answered, now, user);
  });
}

/**
 * exportBody returns the whole outbox in the shape of a push body, so that
 * a supervisor can upload the file later, with the sent log as `sent`
 * (1.1: the upload re-applies what a restored server lost; the ids make
 * what it holds harmless duplicates).
 */
export async function exportBody(deviceId) {
  const [mutations, sent] = await Promise.all([
    tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').index('seq').getAll())),
    sentlog.all(),
  ]);
  return { device_id: deviceId, client_time: isoLocal(new Date()), app_version: APP_VERSION, outbox_size: mutations.length, mutations, sent };
}
