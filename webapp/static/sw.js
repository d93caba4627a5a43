// sw.js — the service worker: precaches the app shell (the list and the
// version are inlined by the server above this line), answers navigations
// with the cached shell, never touches /api/, and waits for the user's
// click before replacing a running version.
'use strict';

const PRECACHE = self.PRECACHE || { version: 'dev', files: ['/index.html'] };
const CACHE = 'prodays-shell-' + PRECACHE.version;
// The vendored QR decoder (/vendor/: over 400 KB gzip) is not part of the
// shell: it has a cache of its own, named by its own content hash, filled
// when a page without a native BarcodeDetector asks ('cache-lazy') and by
// the first use of each file; a new shell version keeps it.
const LAZY = PRECACHE.lazy || { version: 'dev', files: [] };
const LAZY_CACHE = 'prodays-lazy-' + LAZY.version;
const isLazy = (path) => path.startsWith('/vendor/');
// The consoles' screens (supervisors, admins) are not part of the staff
// phones' first load either: each is cached on first use, in a cache of
// the shell's version.
const CONSOLE = PRECACHE.console || [];
const CONSOLE_CACHE = 'prodays-console-' + PRECACHE.version;
const isConsole = (path) => CONSOLE.some((p) => path.startsWith(p));

// The shell's cache, opened once per worker start (not once per request:
// a cold start asks for some twenty files at once).
let shellCache = null;
const openShell = () => shellCache || (shellCache = caches.open(CACHE));

self.addEventListener('install', (event) => {
  // No skipWaiting here: a new version waits until the user asks for it.
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PRECACHE.files.map((u) => new Request(u, { cache: 'no-cache' })));
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if ((name.startsWith('prodays-shell-') && name !== CACHE) ||
        (name.startsWith('prodays-lazy-') && name !== LAZY_CACHE) ||
        (name.startsWith('prodays-console-') && name !== CONSOLE_CACHE)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
  if (event.data && event.data.type === 'cache-lazy') event.waitUntil(cacheLazy());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return;
  if (isLazy(url.pathname)) {
    event.respondWith(lazyFile(req, LAZY_CACHE));
    return;
  }
  if (isConsole(url.pathname)) {
    event.respondWith(lazyFile(req, CONSOLE_CACHE));
    return;
  }
  if (req.mode === 'navigate') {
    event.respondWith((async () => {
      const cache = await openShell();
      const shell = await cache.match('/index.html');
      return shell || fetch(req);
    })());
    return;
  }
  event.respondWith((async () => {
    const cache = await openShell();
    // An exact match is a keyed lookup; ignoreSearch makes the cache scan
    // every entry, so it is only the fallback (a URL with a query string).
    const hit = (await cache.match(req)) || (url.search && await cache.match(req, { ignoreSearch: true }));
    return hit || fetch(req);
  })());
});

// cacheLazy puts the lazy files not yet cached into their cache (a failed
// download is retried at the next ask).
async function cacheLazy() {
  const cache = await caches.open(LAZY_CACHE);
  for (const u of LAZY.files) {
    if (await cache.match(u)) continue;
    try {
      const res = await fetch(new Request(u, { cache: 'no-cache' }));
      if (res.ok) await cache.put(u, res);
    } catch (e) { /* offline: the next ask or the first use caches it */ }
  }
}

// lazyFile answers a file kept out of the shell from its cache (name), or
// from the network, and keeps that answer.
async function lazyFile(req, name) {
  const cache = await caches.open(name);
  const hit = await cache.match(req, { ignoreSearch: true });
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok) await cache.put(req, res.clone());
  return res;
}

// Background Sync: the page holds the access token, so the worker asks the
// open pages to push; with no page open the next start of the app pushes.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'prodays-push') return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window' });
    for (const p of pages) p.postMessage({ type: 'sync-now' });
  })());
});
