// views/status.js — the status bar, always visible: online or offline,
// pending actions, last successful sync, refused and awaiting-review
// counts (with a way to see the reasons), and "Sync now".

import { h, replace } from '../dom.js';
import { t, formatTime, formatDateTime } from '../i18n.js';
import { state, syncNow } from '../sync.js';
import { size } from '../outbox.js';
import { getAll } from '../db.js';

/** mount renders the status bar into el and returns its update function. */
export function mount(el, ctx) {
  let generation = 0;
  const update = async () => {
    const mine = ++generation;
    const [pending, issues] = await Promise.all([size(), getAll('issues')]);
    if (mine !== generation) return; // a later update is on its way: never show stale counts
    const refused = issues.filter((i) => i.list === 'refused').length;
    const review = issues.filter((i) => i.list === 'review').length;
    const online = navigator.onLine;
    const last = state.lastSyncAt;
    const sameDay = last && new Date(last).toDateString() === new Date().toDateString();
    const parts = [
      h('span', { class: 'pill ' + (online && !state.unreachable ? 'ok' : 'off'), 'data-test': 'net' },
        !online ? t('status.offline') : state.unreachable ? t('status.unreachable') : t('status.online')),
      h('span', { class: 'pill' + (pending ? ' warn' : ''), 'data-test': 'pending', 'data-count': pending }, t('status.pending', { n: pending })),
      h('span', { class: 'pill', 'data-test': 'last-sync' },
        last ? t('status.last_sync', { when: sameDay ? formatTime(last) : formatDateTime(last) }) : t('status.never_synced')),
    ];
    if (state.loginRequired) {
      parts.push(h('a', { class: 'pill bad', href: '#/login' }, t('status.login_required')));
    }
    if (refused || review) {
      parts.push(h('a', { class: 'pill bad', href: '#/issues', 'data-test': 'issues' },
        [refused ? t('status.refused', { n: refused }) : '', refused && review ? ' · ' : '', review ? t('status.review', { n: review }) : '']));
    }
    if (ctx.user()) {
      // The button shows the running sync itself, so that the bar keeps its
      // layout (nothing moves under the user's finger).
      parts.push(h('button', { type: 'button', class: 'small', 'data-test': 'sync-now', 'aria-busy': String(state.running), disabled: state.running || !online, onclick: () => syncNow() },
        state.running ? t('status.syncing') : t('status.sync_now')));
    }
    el.setAttribute('aria-label', t('status.label')); // a named region: a landmark
    replace(el, ...parts);
  };
  return update;
}
