// db.js — the IndexedDB wrapper: opens the phone's database, declares its
// stores, and runs transactions as promises that settle only when the
// transaction has completed (so "done" on screen means written).

const DB_NAME = 'prodays';
const DB_VERSION = 2; // 2: the sent log (sentlog.js)

/** ENTITIES are the pulled entities; each has a store of the same name. */
export const ENTITIES = ['establishment', 'activity', 'trainee', 'speaker', 'organization', 'company', 'attendance'];

let opening = null;

/** open returns the database, creating or upgrading its stores. */
export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const r = indexedDB.open(DB_NAME, DB_VERSION);
      r.onupgradeneeded = (ev) => {
        const db = r.result;
        if (ev.oldVersion < 1) {
          for (const e of ENTITIES) db.createObjectStore(e, { keyPath: 'id' });
          db.createObjectStore('meta');
          db.createObjectStore('outbox', { keyPath: 'id' }).createIndex('seq', 'seq', { unique: true });
          db.createObjectStore('journal', { keyPath: 'id' }).createIndex('activity_id', 'activity_id');
          db.createObjectStore('issues', { keyPath: 'id' });
        }
        if (ev.oldVersion < 2) {
          const sent = db.createObjectStore('sent', { keyPath: 'id' });
          sent.createIndex('seq', 'seq', { unique: true });
          sent.createIndex('sent_at', 'sent_at');
        }
      };
      r.onsuccess = () => {
        const db = r.result;
        db.onversionchange = () => db.close();
        resolve(db);
      };
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('database blocked by another tab'));
    });
  }
  return opening;
}

/** req turns an IDBRequest into a promise of its result. */
export function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/**
 * tx runs fn(transaction) in one transaction over stores and resolves with
 * fn's result once the transaction has COMPLETED (durability 'strict' when
 * asked: flushed to disk). fn may be async as long as it awaits only
 * requests of this transaction.
 */
export async function tx(stores, mode, fn, durability = 'default') {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(stores, mode, { durability });
    let result;
    let failed = null;
    t.oncomplete = () => (failed ? reject(failed) : resolve(result));
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(failed || t.error || new Error('transaction aborted'));
    Promise.resolve()
      .then(() => fn(t))
      .then((v) => { result = v; })
      .catch((e) => { failed = e; try { t.abort(); } catch (x) { /* already finished */ } });
  });
}

/** getMeta reads one value of the meta store. */
export async function getMeta(key) {
  return tx(['meta'], 'readonly', (t) => req(t.objectStore('meta').get(key)));
}

/** setMeta writes one value of the meta store. */
export async function setMeta(key, value) {
  return tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(value, key); });
}

/** getAll returns every record of a store. */
export async function getAll(store) {
  return tx([store], 'readonly', (t) => req(t.objectStore(store).getAll()));
}

/** count returns the number of records of a store. */
export async function count(store) {
  return tx([store], 'readonly', (t) => req(t.objectStore(store).count()));
}

/** get returns one record of a store, or undefined. */
export async function get(store, key) {
  return tx([store], 'readonly', (t) => req(t.objectStore(store).get(key)));
}

/**
 * deviceId returns the installation's device_id, making it on first use.
 * It survives logout; only uninstalling the app (clearing storage) resets it.
 */
export async function deviceId(make) {
  return metaOnce('device_id', make);
}

/**
 * deviceSecret returns the installation's device_secret, making it with
 * make on first use (an installation of before 1.1 makes it at its next
 * start, and its next login binds its device id with it). It proves at
 * every login, whoever logs in, that the device_id belongs to this
 * installation (sync protocol 1.1, Device binding); like the device_id it
 * survives logout.
 */
export async function deviceSecret(make) {
  return metaOnce('device_secret', make, 'strict');
}

/**
 * metaOnce returns the meta value key, making it with make and storing it,
 * in the same transaction, when there is none yet.
 */
async function metaOnce(key, make, durability) {
  return tx(['meta'], 'readwrite', async (t) => {
    const m = t.objectStore('meta');
    let v = await req(m.get(key));
    if (!v) {
      v = make();
      m.put(v, key);
    }
    return v;
  }, durability);
}

/**
 * bumpTrainees marks, inside a transaction t over meta that writes
 * trainees, that the packed trainee index (roster.js) is stale.
 */
export async function bumpTrainees(t) {
  const m = t.objectStore('meta');
  m.put(((await req(m.get('trainee_gen'))) || 0) + 1, 'trainee_gen');
}
