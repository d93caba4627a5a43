// sw.js — the service worker: precaches the app shell (the list and the
// version are inlined by the server above this line), answers navigations
// with the cached shell, never touches /api/, and waits for the user's
// click before replacing a running version.
'use strict';

const PRECACHE = self.PRECACHE || { version: 'dev', files: ['/index.html'] };
const CACHE = 'prodays-shell-' + PRECACHE.version;

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
      if (name.startsWith('prodays-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return;
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

// Background Sync: the page holds the access token, so the worker asks the
// open pages to push; with no page open the next start of the app pushes.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'prodays-push') return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window' });
    for (const p of pages) p.postMessage({ type: 'sync-now' });
  })());
});
