// views/status.js — the status bar, always visible: online or offline,
// pending actions, last successful sync, refused and awaiting-review
// counts (with a way to see the reasons), and "Sync now".

import { h, replace } from '../dom.js';
import { t, formatTime, formatDateTime } from '../i18n.js';
import { state, syncNow, clockSkew } from '../sync.js';
import { size } from '../outbox.js';
import { getAll } from '../db.js';

/** sizer is the data-sizer of an item that may show any of texts. */
function sizer(...texts) { return texts.join('\n'); }

/** mount renders the status bar into el and returns its update function. */
export function mount(el, ctx) {
  let generation = 0;
  let offlineTap = false; // "Synchroniser" was tapped while offline
  const update = async () => {
    const mine = ++generation;
    const [pending, issues] = await Promise.all([size(), getAll('issues')]);
    if (mine !== generation) return; // a later update is on its way: never show stale counts
    const refused = issues.filter((i) => i.list === 'refused').length;
    const review = issues.filter((i) => i.list === 'review').length;
    const online = navigator.onLine;
    const last = state.lastSyncAt;
    const sameDay = last && new Date(last).toDateString() === new Date().toDateString();
    // Every item is as wide as its widest possible text (data-sizer, drawn
    // invisible by the stylesheet), so that the bar never changes its
    // rows, and so its height, when a sync starts or ends, the network
    // comes and goes, or the pending count gains a digit: a change of
    // height would move the whole screen under the user's finger, and a
    // tap whose finger comes up on another element records nothing.
    const parts = [
      h('span', { class: 'pill sized ' + (online && !state.unreachable ? 'ok' : 'off'), 'data-test': 'net',
        'data-sizer': sizer(t('status.online'), t('status.offline'), t('status.unreachable')) },
      !online ? t('status.offline') : state.unreachable ? t('status.unreachable') : t('status.online')),
      h('span', { class: 'pill pending sized' + (pending ? ' warn' : ''), 'data-test': 'pending', 'data-count': pending,
        'data-sizer': sizer(t('status.pending', { n: 1 }), t('status.pending', { n: 88 }), t('status.pending', { n: 888 }), t('status.pending', { n: 8888 })) },
      t('status.pending', { n: pending })),
      h('span', { class: 'pill sized', 'data-test': 'last-sync',
        'data-sizer': sizer(t('status.never_synced'), t('status.last_sync', { when: formatTime(new Date(2026, 0, 1, 20, 58)) })) },
      last ? t('status.last_sync', { when: sameDay ? formatTime(last) : formatDateTime(last) }) : t('status.never_synced')),
    ];
    if (online) offlineTap = false;
    if (offlineTap) parts.push(h('span', { class: 'pill off', 'data-test': 'sync-offline', role: 'status' }, t('status.sync_offline')));
    const skew = clockSkew(state.clockOffsetMs);
    if (skew) {
      parts.push(h('span', { class: 'pill warn', 'data-test': 'clock-skew', 'data-offset-ms': String(state.clockOffsetMs) }, t('status.clock_skew', { d: t('status.skew_' + skew.unit, { n: skew.n }) })));
    }
    if (state.resent) {
      // Said once: a tap dismisses it.
      parts.push(h('button', { type: 'button', class: 'pill warn', 'data-test': 'resent', 'data-count': String(state.resent), onclick: () => { state.resent = 0; update(); } },
        t('status.resent', { n: state.resent })));
    }
    if (state.loginRequired) {
      parts.push(h('a', { class: 'pill bad', href: '#/login' }, t('status.login_required')));
    }
    if (refused || review) {
      parts.push(h('a', { class: 'pill bad', href: '#/issues', 'data-test': 'issues' },
        [refused ? t('status.refused', { n: refused }) : '', refused && review ? ' · ' : '', review ? t('status.review', { n: review }) : '']));
    }
    if (ctx.user()) {
      // The button shows the running sync itself, at the width of its
      // wider label, so that the bar keeps its layout.
      // (The sizer is on a span: a button lays its content out in a row.)
      parts.push(h('button', { type: 'button', class: 'small', 'data-test': 'sync-now', 'aria-busy': String(state.running), disabled: state.running, onclick: () => {
        // Offline, the tap says so (the 'online' event sends the outbox).
        if (!navigator.onLine) { offlineTap = true; ctx.announce(t('status.sync_offline'), 'sync-offline'); update(); } else syncNow();
      } },
        h('span', { class: 'sized', 'data-sizer': sizer(t('status.syncing'), t('status.sync_now')) }, state.running ? t('status.syncing') : t('status.sync_now'))));
    }
    el.setAttribute('aria-label', t('status.label')); // a named region: a landmark
    replace(el, ...parts);
  };
  return update;
}
