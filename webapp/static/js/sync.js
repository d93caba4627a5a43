// sync.js — the push/pull client of the sync protocol: pushes the outbox
// in batches, pulls the user's scope page by page (rows and cursor in one
// transaction), and schedules automatic syncs with exponential backoff,
// jitter and Retry-After.

import { tx, req, setMeta, getMeta, bumpTrainees, ENTITIES } from './db.js';
import { authFetch } from './auth.js';
import { errorOf, LoginRequired } from './http.js';
import * as outbox from './outbox.js';
import * as sentlog from './sentlog.js';
import { personKey } from './search.js';
import { isoLocal } from './time.js';

/**
 * PAGE is the pull page size: the most the server allows
 * (protocol.MaxPullLimit); the server is about 3 times faster per item at
 * 5,000 than at 1,000, and the phone writes fewer transactions.
 */
export const PAGE = 5000;

/** options.intervalMs is the wait between two automatic syncs after a success. */
export const options = { intervalMs: 120000 };

/** events fires 'change' whenever the sync state changes. */
export const events = new EventTarget();

/** state is what the status bar shows. */
export const state = {
  running: false, lastSyncAt: null, error: null, loginRequired: false, unreachable: false, nextAt: null,
  clockOffsetMs: 0, // the last push answer's clock_offset_ms: server time − this phone's clock
  resent: 0, // check-ins re-sent after a server restore, not yet shown
};

/** SKEW_MS is the clock offset from which the status bar warns (as the server marks the device: protocol, Time). */
export const SKEW_MS = 5 * 60 * 1000;

/**
 * clockSkew returns how far the phone's clock is off, {n, unit} in whole
 * days ('d'), hours ('h') or minutes ('min'), or null when |offsetMs| is
 * at most SKEW_MS.
 */
export function clockSkew(offsetMs) {
  const a = Math.abs(Number(offsetMs) || 0);
  if (a <= SKEW_MS) return null;
  if (a >= 86400000) return { n: Math.round(a / 86400000), unit: 'd' };
  if (a >= 3600000) return { n: Math.round(a / 3600000), unit: 'h' };
  return { n: Math.round(a / 60000), unit: 'min' };
}

let deviceId = '';
let failures = 0;
let timer = 0;
let running = null;

function emit() { events.dispatchEvent(new Event('change')); }

/**
 * applyPage stores one pull page: upserts and deletes of every entity,
 * then the cursor, in ONE transaction (the puts are queued, not awaited
 * one by one; the promise settles when the transaction completes). A
 * snapshot's first page first empties the entity stores (keeping walk-ins
 * not yet pushed). The durability is relaxed: a page lost to a power cut
 * is pulled again from the cursor before it, as the cursor is in the same
 * transaction (the outbox, never relaxed, is not touched here). A held
 * check-in (the "awaiting review" list) that a pulled presence names was
 * accepted by a supervisor: it leaves the list.
 */
export function applyPage(page, fresh) {
  const now = Date.now();
  return tx([...ENTITIES, 'meta', 'issues'], 'readwrite', async (t) => {
    const issues = t.objectStore('issues');
    const held = new Set(await req(issues.getAllKeys()));
    let trainees = fresh;
    if (fresh) {
      for (const e of ENTITIES) {
        if (e !== 'trainee') { t.objectStore(e).clear(); continue; }
        const all = await req(t.objectStore(e).getAll());
        for (const r of all) if (!r.local) t.objectStore(e).delete(r.id);
      }
    }
    const stores = {};
    for (const e of ENTITIES) stores[e] = t.objectStore(e);
    for (const c of page.changes || []) {
      const s = stores[c.entity];
      if (!s) continue;
      if (c.entity === 'trainee') trainees = true;
      if (c.op === 'delete') { s.delete(c.id); continue; }
      const rec = { id: c.id, data: c.data || {} };
      if (c.entity === 'trainee' || c.entity === 'speaker') rec.sk = personKey(rec.data);
      if (c.entity === 'attendance') {
        rec.pulled_at = now;
        if (held.size && rec.data.present) for (const id of rec.data.check_in_ids || []) if (held.has(id)) issues.delete(id);
      }
      s.put(rec);
    }
    const m = t.objectStore('meta');
    m.put(page.cursor, 'cursor');
    if (!page.has_more) m.put(now, 'roster_at');
    if (trainees) await bumpTrainees(t);
  }, 'relaxed');
}

/**
 * pull brings the local copy of the scope up to date; without a cursor it
 * downloads a full snapshot. A 409 resync drops the cursor and starts a
 * snapshot again; the outbox is never touched. onPage(n) reports progress.
 */
export function pull(onPage = () => {}) {
  if (!pulling) pulling = pullPages(onPage).finally(() => { pulling = null; });
  return pulling;
}

let pulling = null;

/**
 * fetchPage asks for the page after cursor and reads it: {page}, or {res}
 * when the server did not answer 200.
 */
async function fetchPage(cursor) {
  const q = `/api/v1/sync/pull?limit=${PAGE}` + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
  const gen = pushes;
  const res = await syncFetch(q, { headers: { Accept: 'application/json' } });
  // A page whose request crossed a push answer may say less than the phone
  // was told since: its device object is not compared (gen).
  return res.ok ? { page: await res.json(), fresh: gen === pushes } : { res };
}

/** username returns the username logged in now (the sent log's owner), or undefined. */
async function username() {
  return ((await getMeta('user')) || {}).username;
}

let pushes = 0; // push answers received: a pull compares its device object only when none crossed it

/**
 * answered compares an answer's device object with the sent log (1.1,
 * "Sent log and restore without loss"): what the server no longer holds
 * goes back into the outbox; state.resent counts the check-ins among it.
 * It reports whether anything went back.
 */
async function answered(device) {
  if (!device) return false;
  const r = await sentlog.requeue(device, await username());
  if (!r.mutations) return false;
  state.resent += r.checkIns;
  events.dispatchEvent(new Event('pushed')); // the journal changed
  emit();
  return true;
}

async function pullPages(onPage) {
  let cursor = await getMeta('cursor');
  let fresh = !cursor;
  let fresh0 = fresh;
  let n = 0;
  const changed = new Set(); // entities the pull brought
  let next = fetchPage(cursor);
  for (;;) {
    const { page, res, fresh: compare } = await next;
    if (res && res.status === 409) {
      const err = await errorOf(res);
      if (err.code === 'resync' && cursor) {
        cursor = null;
        fresh = fresh0 = true;
        next = fetchPage(cursor);
        continue;
      }
      throw err;
    }
    if (res) throw await errorOf(res);
    // The next page travels while this one is written (it is only used
    // once this one is stored, with the cursor this one ends at).
    if (page.has_more) {
      next = fetchPage(page.cursor);
      next.catch(() => {}); // a failure surfaces when it is awaited
    }
    await applyPage(page, fresh);
    if (compare && (await answered(page.device))) again = true; // push them now
    fresh = false;
    cursor = page.cursor;
    n += (page.changes || []).length;
    for (const c of page.changes || []) changed.add(c.entity);
    onPage(n);
    if (!page.has_more) {
      // detail.entities lets the app reload only what changed (a snapshot
      // counts as every entity).
      if (n) events.dispatchEvent(new CustomEvent('pulled', { detail: { entities: fresh0 ? null : changed } }));
      return n;
    }
  }
}

/** push sends the outbox in batches of at most outbox.BATCH until empty. */
export async function push() {
  for (;;) {
    const batch = await outbox.peek(outbox.BATCH);
    if (!batch.length) return;
    const body = {
      device_id: deviceId,
      client_time: isoLocal(new Date()),
      app_version: outbox.APP_VERSION,
      outbox_size: await outbox.size(),
      mutations: batch,
    };
    const res = await syncFetch('/api/v1/sync/push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw await errorOf(res);
    const out = await res.json();
    pushes++;
    await outbox.applyResults(out.results, await username());
    await answered(out.device);
    if (typeof out.clock_offset_ms === 'number' && out.clock_offset_ms !== state.clockOffsetMs) {
      state.clockOffsetMs = out.clock_offset_ms;
      await setMeta('clock_offset_ms', state.clockOffsetMs);
    }
    events.dispatchEvent(new Event('pushed'));
    emit();
    const left = new Set((await outbox.peek(outbox.BATCH)).map((m) => m.id));
    if (batch.every((m) => left.has(m.id))) throw new Error('push made no progress');
  }
}

/** backoffMs is the wait after the n-th failure in a row: 2 s doubling to 5 min, ±50 % jitter, at least Retry-After. */
export function backoffMs(n, retryAfter = null, rand = Math.random) {
  const base = Math.min(300000, 2000 * 2 ** Math.max(0, n - 1));
  const wait = base * (0.5 + rand());
  return retryAfter != null ? Math.max(retryAfter * 1000, wait) : wait;
}

function schedule(ms) {
  clearTimeout(timer);
  state.nextAt = Date.now() + ms;
  timer = setTimeout(() => { syncNow(); }, ms);
}

/**
 * HEADERS_MS is how long a sync request may wait for the server's answer
 * to begin before the phone gives it up and retries (a request that
 * hangs, on a network that took it and never answered, must not hold the
 * outbox: the mutation ids make the retry safe).
 */
export const HEADERS_MS = 20000;

/** OFFLINE_RETRY_MS is how often the phone looks again while the browser reports no network (the 'online' event is the main path). */
export const OFFLINE_RETRY_MS = 30000;

let controller = null; // aborts the requests of the running sync
let again = false; // run once more when the running sync ends

/**
 * syncFetch is authFetch bound to the running sync: aborted when the
 * network goes or comes back, and when no answer began within HEADERS_MS.
 */
async function syncFetch(url, opts = {}) {
  const c = controller || new AbortController();
  const t = setTimeout(() => c.abort(new DOMException('no answer', 'TimeoutError')), HEADERS_MS);
  try {
    return await authFetch(url, { ...opts, signal: c.signal });
  } finally {
    clearTimeout(t);
  }
}

/**
 * syncNow pushes then pulls. It never throws: the outcome is in state, and
 * a failure schedules a retry (not after LoginRequired: that waits for the
 * user to log in again; not while offline: the 'online' event starts the
 * next one). One sync runs at a time: a call while one runs returns it.
 * Its in-flight marker is set before any of its code runs and cleared in
 * its own finally, whatever fails, so the phone never stays stuck.
 */
export function syncNow() {
  if (!running) running = runLoop();
  return running;
}

async function runLoop() {
  await null; // the marker (running) is set before anything below runs
  try {
    do {
      again = false;
      await runOnce();
    } while (again && navigator.onLine);
  } finally {
    running = null;
    state.running = false;
    emit();
  }
}

async function runOnce() {
  state.running = true;
  state.error = null;
  emit();
  controller = new AbortController();
  try {
    if (!navigator.onLine) {
      const e = new Error('offline');
      e.code = 'offline';
      throw e;
    }
    await push();
    await pull();
    failures = 0;
    state.loginRequired = false;
    state.unreachable = false;
    state.lastSyncAt = Date.now();
    await setMeta('last_sync_at', state.lastSyncAt);
    schedule(options.intervalMs);
  } catch (e) {
    state.error = e;
    // fetch rejects with a TypeError when no answer came at all, and with
    // an AbortError or TimeoutError when the phone gave the request up.
    if (e instanceof TypeError || (e && (e.name === 'AbortError' || e.name === 'TimeoutError'))) state.unreachable = true;
    if (e instanceof LoginRequired) {
      state.loginRequired = true;
      clearTimeout(timer);
      state.nextAt = null;
    } else if (!navigator.onLine) {
      schedule(OFFLINE_RETRY_MS); // no failure counted: 'online' resumes at once
    } else {
      failures++;
      schedule(backoffMs(failures, e.retryAfter));
    }
  } finally {
    controller = null;
  }
}

/**
 * reconnected is the 'online' event: the backoff of failures met while the
 * network was gone starts again, and a sync runs now. A sync already
 * running (its requests may hang on the network that went away) is given
 * up and run again.
 */
function reconnected() {
  failures = 0;
  state.unreachable = false;
  if (running) {
    again = true;
    if (controller) controller.abort();
  } else {
    syncNow();
  }
}

/** disconnected is the 'offline' event: the running sync's requests are given up. */
function disconnected() {
  if (controller) controller.abort();
  emit();
}

let kickTimer = 0;

/**
 * kick asks for a sync soon after a new action: through Background Sync
 * where available, and by a push 1.5 s after the last of a burst of taps
 * (so that a queue of check-ins makes one push, and a push never competes
 * with the next tap). After a failure the backoff timer decides, so that
 * taps do not hammer a server that asked to wait (Retry-After).
 */
export async function kick() {
  emit();
  try {
    // getRegistration, not ready: ready never settles without a worker.
    const reg = navigator.serviceWorker && (await navigator.serviceWorker.getRegistration());
    if (reg && reg.active && reg.sync) await reg.sync.register('prodays-push');
  } catch (e) { /* Background Sync unavailable or refused */ }
  if (!navigator.onLine || state.loginRequired || failures > 0) return;
  clearTimeout(kickTimer);
  kickTimer = setTimeout(() => { syncNow(); }, 1500);
}

/** start wires the automatic syncs: online event, worker messages, and a first run when immediate. */
export async function start(device, immediate = true) {
  deviceId = device;
  state.lastSyncAt = (await getMeta('last_sync_at')) || null;
  state.clockOffsetMs = (await getMeta('clock_offset_ms')) || 0;
  window.addEventListener('online', reconnected);
  window.addEventListener('offline', disconnected);
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'sync-now') syncNow();
  });
  if (immediate) syncNow();
}

/** loggedIn clears the login-required state after a new login. */
export function loggedIn() {
  state.loginRequired = false;
  failures = 0;
  if (running) again = true; // a sync that met the 401 may still be ending
  emit();
}
