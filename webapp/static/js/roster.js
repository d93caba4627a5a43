// roster.js — the local copy of the user's scope, loaded from IndexedDB
// into memory: activities, establishments, the search indexes of trainees
// and speakers, and the presence of every (activity, person) pair.

import { getAll, getMeta, tx, req } from './db.js';
import { buildIndex, packIndex, unpackIndex, searchAll } from './search.js';
import { pairKey, pairState } from './presence.js';

/** data is the loaded scope; reload() fills it. */
export const data = {
  activities: [],
  establishments: new Map(),
  organizations: new Map(),
  trainees: new Map(),
  speakers: new Map(),
  traineeIndex: [],
  speakerIndex: [],
  rosterAt: null,
  rows: new Map(), // pairKey → attendance row
  journal: new Map(), // pairKey → journal entries
};

/**
 * reload reads everything from the local database. The trainees come from
 * their packed search index (one record of meta, see readIndex), and only
 * when it is missing or stale from the trainee store, which then packs it
 * again.
 */
export function reload() {
  // A reload asked while one runs (the download's own and the 'pulled'
  // event's) waits for it and runs once more after it, then cheaply: the
  // first one has stored the packed index.
  if (!loading) {
    loading = load().finally(() => { loading = null; });
    return loading;
  }
  if (!queued) queued = loading.catch(() => {}).then(() => { queued = null; return reload(); });
  return queued;
}

let loading = null;
let queued = null;

async function load() {
  const [acts, ests, orgs, sps, att, jn, rosterAt, packed] = await Promise.all([
    getAll('activity'), getAll('establishment'), getAll('organization'),
    getAll('speaker'), getAll('attendance'), getAll('journal'), getMeta('roster_at'), readIndex(),
  ]);
  performance.mark('roster:read');
  data.activities = acts.map((r) => r.data).sort((a, b) =>
    (a.date + a.start_time + a.activity_id).localeCompare(b.date + b.start_time + b.activity_id));
  data.establishments = new Map(ests.map((r) => [r.id, r.data]));
  data.organizations = new Map(orgs.map((r) => [r.id, r.data]));
  data.speakers = new Map(sps.map((r) => [r.id, r]));
  data.speakerIndex = buildIndex(sps);
  data.traineeIndex = packed ? unpackIndex(packed) : await indexTrainees();
  data.trainees = new Map(data.traineeIndex.map((e) => [e.item.id, e.item]));
  performance.mark('roster:index');
  data.rosterAt = rosterAt || null;
  data.rows = new Map();
  for (const r of att) if (r.data && r.data.person) data.rows.set(pairKey(r.data.activity_id, r.data.person), r);
  data.journal = new Map();
  for (const e of jn) addJournal(e);
}

/**
 * readIndex returns the packed trainee index of meta when it was built
 * from the trainee store as it is: every write of trainees (a pull page,
 * a walk-in) bumps meta.trainee_gen in its transaction (db.bumpTrainees), and
 * the packed index records the generation it was built from.
 */
function readIndex() {
  return tx(['meta'], 'readonly', async (t) => {
    const m = t.objectStore('meta');
    const [gen, idx] = await Promise.all([req(m.get('trainee_gen')), req(m.get('trainee_index'))]);
    return idx && idx.gen === (gen || 0) ? idx.packed : null;
  });
}

/**
 * indexTrainees builds the trainee index from the trainee store and saves
 * it packed, unless trainees were written in between (not awaited: the
 * next start reads it).
 */
async function indexTrainees() {
  const { gen, rows } = await tx(['trainee', 'meta'], 'readonly', async (t) => {
    const [g, r] = await Promise.all([req(t.objectStore('meta').get('trainee_gen')), req(t.objectStore('trainee').getAll())]);
    return { gen: g || 0, rows: r };
  });
  const packed = packIndex(buildIndex(rows));
  tx(['meta'], 'readwrite', async (t) => {
    const m = t.objectStore('meta');
    if (((await req(m.get('trainee_gen'))) || 0) === gen) m.put({ gen, packed }, 'trainee_index');
  }, 'relaxed').catch(() => { /* rebuilt at the next start */ });
  return unpackIndex(packed);
}

/**
 * reloadAfterPull re-reads what a pull changed: only the attendance rows
 * and the journal when nothing else changed (the usual pull after a push,
 * which must not rebuild the search indexes under the user's taps),
 * everything otherwise (entities null: a snapshot).
 */
export async function reloadAfterPull(entities) {
  if (!entities || [...entities].some((e) => e !== 'attendance')) return reload();
  const [att, jn] = await Promise.all([getAll('attendance'), getAll('journal')]);
  const rows = new Map();
  for (const r of att) if (r.data && r.data.person) rows.set(pairKey(r.data.activity_id, r.data.person), r);
  data.rows = rows;
  data.journal = new Map();
  for (const e of jn) addJournal(e);
}

/** reloadJournal re-reads the journal only (after a push). */
export async function reloadJournal() {
  const jn = await getAll('journal');
  data.journal = new Map();
  for (const e of jn) addJournal(e);
}

/** addJournal adds one journal entry (just recorded) to memory. */
export function addJournal(e) {
  const k = pairKey(e.activity_id, e.person);
  const list = data.journal.get(k);
  if (list) list.push(e); else data.journal.set(k, [e]);
}

/**
 * traineeResults returns the first `limit` trainees matching query (the
 * user's establishment, code est, first: see search.searchAll) and how
 * many match in all: {items, total}. The last query's matches are kept,
 * so that "show more" draws them without searching again.
 */
export function traineeResults(query, est, limit) {
  if (!last || last.query !== query || last.est !== est || last.index !== data.traineeIndex || last.size !== data.traineeIndex.length) {
    last = { query, est, index: data.traineeIndex, size: data.traineeIndex.length, all: searchAll(data.traineeIndex, query, est || '') };
  }
  return { items: last.all.slice(0, limit), total: last.all.length };
}
let last = null;

/** addTrainee adds a trainee registered on this phone to memory. */
export function addTrainee(rec) {
  const [e] = unpackIndex(packIndex(buildIndex([rec])));
  data.trainees.set(e.item.id, e.item);
  data.traineeIndex.push(e);
}

let dates = new Map();
let datesOf = null;

/** dateOf returns an activity's date (YYYY-MM-DD), or undefined. */
function dateOf(activityId) {
  if (datesOf !== data.activities) {
    datesOf = data.activities;
    dates = new Map(datesOf.map((a) => [a.activity_id, a.date]));
  }
  return dates.get(activityId);
}

/** state returns {present, checkInIds, at, held} of a person at an activity (presence.pairState). */
export function state(activityId, person) {
  const k = pairKey(activityId, person);
  return pairState(data.rows.get(k), data.journal.get(k) || [], dateOf(activityId));
}

/** presentCount counts the persons of kind present at an activity (with held: those whose check-in awaits review instead). */
export function presentCount(activityId, kind = 'trainee', held = false) {
  const prefix = activityId + '|' + kind + '|';
  const keys = new Set();
  for (const k of data.rows.keys()) if (k.startsWith(prefix)) keys.add(k);
  for (const k of data.journal.keys()) if (k.startsWith(prefix)) keys.add(k);
  let n = 0;
  for (const k of keys) {
    const id = k.slice(prefix.length);
    const st = state(activityId, { kind, id });
    if (held ? !!st.held : st.present) n++;
  }
  return n;
}

/** heldCount counts the persons of kind whose check-in at an activity awaits review. */
export function heldCount(activityId, kind = 'trainee') {
  return presentCount(activityId, kind, true);
}

/**
 * recent returns the latest check-ins recorded on this phone at an
 * activity whose person is still present or awaits review, newest first.
 */
export function recent(activityId, limit = 8) {
  const out = [];
  const seen = new Set();
  const all = [];
  for (const [k, list] of data.journal) if (k.startsWith(activityId + '|')) all.push(...list);
  all.sort((a, b) => b.seq - a.seq);
  for (const e of all) {
    if (e.type !== 'attendance.check_in') continue;
    const k = pairKey(activityId, e.person);
    if (seen.has(k)) continue;
    seen.add(k);
    const st = state(activityId, e.person);
    if (st.present || st.held) out.push(e);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * lastMethod returns the method (qr, search, manual) of the person's
 * latest check-in at an activity recorded on this phone, 'manual' when
 * there is none: "Rétablir" records the check-in again the same way.
 */
export function lastMethod(activityId, person) {
  let m = 'manual', seq = -1;
  for (const e of data.journal.get(pairKey(activityId, person)) || []) {
    if (e.type === 'attendance.check_in' && e.seq > seq && e.method) { seq = e.seq; m = e.method; }
  }
  return m;
}

/** person returns the local record of a person ({id, data}) or undefined. */
export function person(p) {
  return p.kind === 'speaker' ? data.speakers.get(p.id) : data.trainees.get(p.id);
}

/**
 * wipe forgets the user's scope (logout). The outbox, the journal and the
 * refused/review lists stay: they were saved to a file before, and they are
 * pushed after the next login, so nothing recorded is ever lost. The sent
 * log stays: each entry names its user and is requeued only under that
 * user's session (sentlog.requeue). device_id and seq stay too (a device
 * never reuses a seq).
 */
export function wipe() {
  const scope = ['establishment', 'activity', 'trainee', 'speaker', 'organization', 'company', 'attendance'];
  return tx([...scope, 'meta'], 'readwrite', (t) => {
    for (const s of scope) t.objectStore(s).clear();
    const m = t.objectStore('meta');
    for (const k of ['cursor', 'roster_at', 'user', 'last_sync_at', 'trainee_index']) m.delete(k);
  });
}
