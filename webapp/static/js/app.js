// app.js — the entry module: wires languages, the local database, the
// session, the sync client and the screens; routes on the URL hash; and
// registers the service worker, offering a reload when a new version waits.

import * as i18n from './i18n.js';
import * as db from './db.js';
import * as auth from './auth.js';
import * as sync from './sync.js';
import * as roster from './roster.js';
import { uuidv7, randomSecret } from './uuid.js';
import { h, replace } from './dom.js';
import * as statusView from './views/status.js';
import * as loginView from './views/login.js';
import * as homeView from './views/home.js';
import * as activityView from './views/activity.js';
import * as issuesView from './views/issues.js';

// The console (supervisors' and admins' screens, a dozen modules) is
// loaded only when such a user opens it: the staff app starts without it.
const consoles = {
  isConsole: (u) => !!u && (u.role === 'supervisor' || u.role === 'admin'),
  render: async (...args) => (await import('./views/console/router.js')).render(...args),
};

// Marks of the start-up (performance.mark): TestMeasure logs where the
// offline cold start goes.
performance.mark('app:modules');

const main = document.getElementById('main');
const live = document.getElementById('live');
const banner = document.getElementById('update');
const langSelect = document.getElementById('lang');

let user = null;
let device = '';
let persisted = null;
let current = null;
let updateStatus = () => {};
let syncStarted = false;
let started = false; // start has finished
let relabelling = 0; // language changes in progress

const ctx = {
  user: () => user,
  setUser(u) {
    user = u;
    if (u && !consoles.isConsole(u) && !syncStarted) { syncStarted = true; sync.start(device, false); }
    updateStatus();
  },
  deviceId: () => device,
  persisted: () => persisted,
  go(hash) {
    if (location.hash === hash || (hash === '#/' && !location.hash)) route();
    else location.hash = hash;
  },
  /**
   * announce shows a confirmation and reads it to screen readers. opts:
   * kind (a class of the toast: 'undo' has its own colour; also its
   * data-kind, for tests) and action ({label, test, run}: a button of the
   * toast, which stays longer). A string opts is the kind.
   */
  announce(msg, opts = {}) {
    if (typeof opts === 'string') opts = { kind: opts };
    const a = opts.action;
    replace(live, h('span', {}, msg), a ? h('button', { type: 'button', class: 'toast-action', 'data-test': a.test, onclick: () => { live.hidden = true; a.run(); } }, a.label) : null);
    live.className = 'toast' + (opts.kind ? ' ' + opts.kind : '');
    live.dataset.kind = opts.kind || '';
    live.hidden = false;
    clearTimeout(ctx.announceTimer);
    ctx.announceTimer = setTimeout(() => { live.hidden = true; }, a ? 8000 : 4000);
  },
  /** persist asks the browser not to evict the phone's data. */
  async persist() {
    if (!navigator.storage || !navigator.storage.persist) { persisted = false; return; }
    persisted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
  },
};

async function route() {
  const hash = location.hash || '#/';
  live.hidden = true;
  current = null;
  if (!user && hash !== '#/login') { location.hash = '#/login'; return; }
  // Supervisors and admins get their own screens (online-first, no roster).
  const inConsole = consoles.isConsole(user) && hash !== '#/login';
  document.getElementById('status').hidden = inConsole;
  document.body.classList.toggle('console-mode', inConsole);
  if (inConsole) { await consoles.render(main, ctx, hash); return; }
  if (hash.startsWith('#/activity/')) {
    current = activityView.render(main, ctx, decodeURIComponent(hash.slice('#/activity/'.length)));
  } else if (hash === '#/issues') {
    await issuesView.render(main, ctx);
  } else if (hash === '#/login') {
    await loginView.render(main, ctx);
  } else {
    await homeView.render(main, ctx);
    current = () => homeView.render(main, ctx);
  }
  updateStatus();
}

function texts() {
  document.title = i18n.t('app.title');
  document.getElementById('lang-label').textContent = i18n.t('lang.label');
  document.getElementById('brand').textContent = i18n.t('app.name');
  langSelect.value = i18n.currentLang();
}

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  let asked = false;
  const offer = (worker) => {
    replace(banner,
      h('span', {}, i18n.t('update.ready')),
      h('button', { type: 'button', class: 'primary', 'data-test': 'reload', onclick: () => { asked = true; worker.postMessage({ type: 'skip-waiting' }); } }, i18n.t('update.reload')));
    banner.hidden = false;
  };
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (asked) location.reload(); });
  try {
    const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
    if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      if (!w) return;
      w.addEventListener('statechange', () => {
        if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w);
      });
    });
    setInterval(() => { if (navigator.onLine) reg.update().catch(() => {}); }, 30 * 60 * 1000);
  } catch (e) { /* no worker: the app still works online */ }
}

async function start() {
  // The messages, the local database and the roster load at the same time.
  const local = Promise.all([
    db.deviceId(uuidv7),
    db.getMeta('user'),
    db.deviceSecret(randomSecret),
    roster.reload().then(() => performance.mark('app:roster')),
    navigator.storage && navigator.storage.persisted ? navigator.storage.persisted() : null,
  ]);
  local.catch(() => {}); // awaited below
  await i18n.setLang(i18n.savedLang());
  performance.mark('app:i18n');
  texts();
  langSelect.addEventListener('change', async () => {
    // data-ready is off while the new messages load and the screen re-renders.
    relabelling++;
    delete document.documentElement.dataset.ready;
    try {
      await i18n.setLang(langSelect.value);
      texts();
      await route();
    } finally {
      relabelling--;
      markReady();
    }
  });
  let u;
  let secret;
  [device, u, secret, , persisted] = await local;
  user = u || null;
  auth.setDevice(device, secret);
  performance.mark('app:local');
  if (user && !persisted) await ctx.persist();
  updateStatus = statusView.mount(document.getElementById('status'), ctx);
  sync.events.addEventListener('change', () => updateStatus());
  sync.events.addEventListener('pulled', async (e) => { await roster.reloadAfterPull(e.detail && e.detail.entities); if (current) current(); });
  sync.events.addEventListener('pushed', async () => { await roster.reloadJournal(); if (current) current(); });
  window.addEventListener('online', () => updateStatus());
  window.addEventListener('offline', () => updateStatus());
  window.addEventListener('hashchange', route);
  await route();
  performance.mark('app:route');
  registerWorker();
  if (user && !consoles.isConsole(user)) { syncStarted = true; sync.start(device, true); }
  started = true;
  markReady();
}

/**
 * markReady sets data-ready="1" on the document once the app has started
 * and no language change is re-rendering the screen: the browser tests
 * wait for it instead of sleeping.
 */
function markReady() {
  if (started && relabelling === 0) document.documentElement.dataset.ready = '1';
}

start();
