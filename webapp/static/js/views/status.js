// views/status.js — the status bar, always visible, one row at 360 px:
// a summary button (online or offline, actions to send, time of the last
// sync) that opens a small details panel, the refused and awaiting-review
// counts (a link to their list), other items (addItem), and "Sync now";
// under it, full-width lines for one-time messages.

import { h, replace } from '../dom.js';
import { t, formatTime, formatDateTime } from '../i18n.js';
import { state, syncNow, clockSkew } from '../sync.js';
import { size } from '../outbox.js';
import { getAll } from '../db.js';

/**
 * items are the extra status items (addItem), drawn in the order added.
 * Each is a function (info) → {row, panel} (either may be null, the
 * function may be async): row is a short node drawn in the row before the
 * issues link (keep it a few characters: the row never wraps, the summary
 * gives way), panel a node drawn as one more line of the details panel.
 * info is {online, pending, refused, review, issues}, issues being the
 * local list of refused and awaiting-review actions.
 */
const items = [];

/**
 * addItem adds an item to the status bar (a clock off, held check-ins…):
 * see items for its shape. The bar redraws at its next update.
 */
export function addItem(fn) { items.push(fn); }

/** open says whether the details panel is shown: it stays across updates. */
let open = false;

/** mount renders the status bar into el and returns its update function. */
export function mount(el, ctx) {
  let generation = 0;
  let offlineTap = false; // "Synchroniser" was tapped while offline
  const update = async () => {
    const mine = ++generation;
    const [pending, issues] = await Promise.all([size(), getAll('issues')]);
    const refused = issues.filter((i) => i.list === 'refused').length;
    const review = issues.filter((i) => i.list === 'review').length;
    const online = navigator.onLine;
    const info = { online, pending, refused, review, issues };
    const extra = await Promise.all(items.map(async (fn) => { try { return (await fn(info)) || {}; } catch (e) { return {}; } }));
    if (mine !== generation) return; // a later update is on its way: never show stale counts
    const last = state.lastSyncAt;
    const sameDay = last && new Date(last).toDateString() === new Date().toDateString();
    const net = !online ? 'offline' : state.unreachable ? 'unreachable' : 'online';
    const netFull = t('status.' + net);
    const lastFull = last ? t('status.last_sync', { when: sameDay ? formatTime(last) : formatDateTime(last) }) : t('status.never_synced');

    // The row is one line whatever it shows (the summary ends in "…" when
    // too long, the details are in the panel): its height never changes
    // under the user's finger when a sync starts or ends, the network
    // comes and goes, or a count gains a digit.
    const summary = h('button', {
      type: 'button', class: 'status-summary', 'data-test': 'status-row', 'aria-expanded': String(open), 'aria-controls': 'status-panel',
      onclick: () => { open = !open; update(); },
    },
    // One line: the time, when it does not fit, goes onto a clipped
    // second line; the state and the count always show (the row is never
    // narrower than them: with a large font, the other items wrap).
    h('span', { class: 'sum' },
      h('span', {},
        h('span', { class: 'net ' + (net === 'online' ? 'ok' : 'off'), 'data-test': 'net', 'data-state': net, title: netFull }, t('status.' + net + '_short')), ' ',
        h('span', { class: 'pending' + (pending ? ' warn' : ''), 'data-test': 'pending', 'data-count': pending }, t('status.pending', { n: pending }))),
      h('span', { class: 'last', 'data-test': 'last-sync', title: lastFull },
        last ? (sameDay ? formatTime(last) : formatDateTime(last)) : t('status.never_short'))));

    const row = [summary, extra.map((x) => x.row || null)];
    if (online) offlineTap = false;
    // One-time messages (the offline tap, a clock off, the re-sent count)
    // are full-width lines under the row, readable at 360 px in every
    // language: the row keeps its one line.
    const notes = [];
    if (offlineTap) notes.push(h('p', { class: 'status-note off', 'data-test': 'sync-offline', role: 'status' }, t('status.sync_offline')));
    const skew = clockSkew(state.clockOffsetMs);
    if (skew) {
      notes.push(h('p', { class: 'status-note warn', 'data-test': 'clock-skew', 'data-offset-ms': String(state.clockOffsetMs) }, t('status.clock_skew', { d: t('status.skew_' + skew.unit, { n: skew.n }) })));
    }
    if (state.resent) {
      // Said once: a tap dismisses it.
      notes.push(h('button', { type: 'button', class: 'status-note warn', 'data-test': 'resent', 'data-count': String(state.resent), onclick: () => { state.resent = 0; update(); } },
        t('status.resent', { n: state.resent })));
    }
    if (refused || review) {
      // Red only for refusals: awaiting review is not an error.
      // In the row the refusals when there are, else the reviews; the
      // panel and the list say both.
      const both = [refused ? t('status.refused', { n: refused }) : '', review ? t('status.review', { n: review }) : ''].filter(Boolean).join(' · ');
      row.push(h('a', { class: 'pill issues ' + (refused ? 'bad' : 'neutral'), href: '#/issues', 'data-test': 'issues', title: both },
        refused ? t('status.refused', { n: refused }) : t('status.review', { n: review })));
    }
    if (ctx.user()) {
      // An icon button (its name is "Sync now"), as wide while it runs.
      // Tapped offline, it says why nothing happens (the 'online' event
      // sends the outbox).
      row.push(h('button', {
        type: 'button', class: 'small icon sync', 'data-test': 'sync-now', 'aria-busy': String(state.running), disabled: state.running,
        'aria-label': state.running ? t('status.syncing') : t('status.sync_now'), title: t('status.sync_now'),
        onclick: () => { if (navigator.onLine) syncNow(); else { offlineTap = true; ctx.announce(t('status.sync_offline'), 'sync-offline'); update(); } },
      }, h('span', { 'aria-hidden': 'true' }, '⟳')));
    }

    const panel = h('div', { id: 'status-panel', class: 'status-panel', 'data-test': 'status-panel', hidden: !open },
      h('p', { 'data-test': 'net-detail' }, netFull),
      h('p', {}, t('status.pending_detail', { n: pending })),
      h('p', {}, lastFull),
      refused ? h('p', {}, h('a', { href: '#/issues', class: 'bad-text' }, t('status.refused', { n: refused }))) : null,
      review ? h('p', {}, h('a', { href: '#/issues' }, t('status.review', { n: review }))) : null,
      extra.map((x) => x.panel ? h('p', {}, x.panel) : null),
      state.running ? h('p', {}, t('status.syncing')) : null);

    el.setAttribute('aria-label', t('status.label')); // a named region: a landmark
    replace(el,
      h('div', { class: 'status-line' }, row),
      notes,
      state.loginRequired ? h('a', { class: 'status-alert', href: '#/login' }, t('status.login_required')) : null,
      panel);
  };
  return update;
}
