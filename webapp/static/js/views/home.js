// views/home.js — the home screen: the state of the local roster, the
// day's (or the week's) activities with present count and capacity, and
// the phone's housekeeping (save pending actions to a file, refused list,
// logout).

import { h, replace, frenchSpacing } from '../dom.js';
import { t, formatDateTime, formatDay, formatNumber } from '../i18n.js';
import * as roster from '../roster.js';
import { localDate } from '../time.js';
import { size, exportBody } from '../outbox.js';
import { getMeta, setMeta } from '../db.js';
import * as auth from '../auth.js';
import { state as syncState } from '../sync.js';

const DAY = 24 * 3600 * 1000;
let showWeek = null;

function activityCard(a, ctx) {
  const n = roster.presentCount(a.activity_id);
  const place = a.kind === 'company_visit' ? t('kind.company_visit') : t('kind.meeting');
  return h('li', {},
    h('a', { class: 'card activity', href: '#/activity/' + encodeURIComponent(a.activity_id), 'data-test': 'activity', 'data-id': a.activity_id },
      h('span', { class: 'when' }, h('bdi', { dir: 'ltr' }, `${a.start_time}–${a.end_time}`)),
      h('span', { class: 'title' }, h('bdi', {}, frenchSpacing(a.title))),
      h('span', { class: 'meta' }, place, ' · ', a.activity_id, a.status === 'closed' ? ' · ' + t('activity.closed') : ''),
      h('span', { class: 'count', 'data-test': 'count' },
        a.capacity ? t('activity.count_cap', { n, cap: formatNumber(a.capacity) }) : t('activity.count', { n }))));
}

/** render draws the home screen. */
export async function render(root, ctx) {
  const d = roster.data;
  const today = localDate();
  const todays = d.activities.filter((a) => a.date === today);
  if (showWeek === null) showWeek = todays.length === 0;
  const list = showWeek ? d.activities : todays;

  const notices = [];
  if (d.rosterAt) {
    notices.push(h('p', { class: 'notice ok', 'data-test': 'roster' },
      t('home.roster', { date: formatDateTime(d.rosterAt), count: t('count.trainees', { n: d.trainees.size }) })));
    if (Date.now() - d.rosterAt > DAY) notices.push(h('p', { class: 'notice warn', role: 'alert', 'data-test': 'stale' }, t('home.stale')));
  } else {
    notices.push(h('p', { class: 'notice warn' }, t('home.no_roster')));
  }
  if (ctx.persisted() === false) notices.push(h('p', { class: 'notice warn', 'data-test': 'not-persisted' }, t('home.not_persisted')));

  let weekTotal = 0;
  for (const a of d.activities) weekTotal += roster.presentCount(a.activity_id);

  const groups = [];
  let cur = null;
  for (const a of list) {
    if (!cur || cur.date !== a.date) { cur = { date: a.date, items: [] }; groups.push(cur); }
    cur.items.push(a);
  }

  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': t('home.period') },
    h('button', { type: 'button', 'aria-pressed': String(!showWeek), onclick: () => { showWeek = false; render(root, ctx); } }, t('home.today')),
    h('button', { type: 'button', 'aria-pressed': String(showWeek), 'data-test': 'week', onclick: () => { showWeek = true; render(root, ctx); } }, t('home.week')));

  const logoutMsg = h('p', { class: 'msg', role: 'alert' });
  replace(root,
    h('h1', {}, showWeek ? t('home.title_week') : t('home.title_today', { day: formatDay(today) })),
    notices,
    tabs,
    h('p', { class: 'muted', 'data-test': 'week-total' }, t('home.week_total', { n: weekTotal })),
    list.length === 0 ? h('p', { class: 'muted' }, t('home.no_activity')) : null,
    groups.map((g) => [showWeek ? h('h2', {}, formatDay(g.date)) : null, h('ul', { class: 'cards' }, g.items.map((a) => activityCard(a, ctx)))]),
    h('h2', {}, t('home.phone')),
    h('div', { class: 'stack' },
      h('button', { type: 'button', 'data-test': 'save-file', onclick: () => saveFile(ctx) }, t('home.save_file')),
      h('a', { class: 'button', href: '#/issues' }, t('home.issues')),
      h('button', { type: 'button', 'data-test': 'logout', onclick: () => logout(ctx, logoutMsg) }, t('home.logout')),
      logoutMsg));
}

/**
 * saveFile downloads the outbox as a push body (JSON) and remembers the
 * highest seq saved, which allows logging out.
 */
async function saveFile(ctx) {
  const body = await exportBody(ctx.deviceId());
  const blob = new Blob([JSON.stringify(body, null, 1)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const stamp = body.client_time.slice(0, 19).replace(/[:T]/g, '-');
  const a = h('a', { href: url, download: `prodays-outbox-${stamp}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  const maxSeq = body.mutations.reduce((m, x) => Math.max(m, x.seq), 0);
  await setMeta('saved_seq', maxSeq);
  ctx.announce(t('home.saved', { n: body.mutations.length }));
}

/**
 * logout is refused while the outbox holds actions not saved to a file.
 * Offline (or the server unreachable), or with actions still to send, it
 * first says that logging in again needs the network and that the
 * actions stay on the phone, and logs out only when confirmed.
 */
async function logout(ctx, msg) {
  const pending = await size();
  if (pending > 0) {
    const body = await exportBody(ctx.deviceId());
    const savedSeq = (await getMeta('saved_seq')) || 0;
    if (body.mutations.some((m) => m.seq > savedSeq)) {
      msg.textContent = t('home.logout_refused', { n: pending });
      return;
    }
  }
  const offline = !navigator.onLine || syncState.unreachable;
  if (offline || pending > 0) {
    if (!(await confirmLogout(offline, pending))) return;
  }
  await auth.logout();
  await roster.wipe();
  await roster.reload();
  ctx.setUser(null);
  ctx.go('#/login');
}

/** confirmLogout asks whether to log out anyway; it resolves to the answer. */
function confirmLogout(offline, pending) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'dialog', 'data-test': 'logout-dialog', 'aria-labelledby': 'logout-title' });
    const done = (ok) => { dialog.close(); dialog.remove(); resolve(ok); };
    replace(dialog,
      h('h2', { id: 'logout-title' }, t('logout.title')),
      h('p', { class: 'notice warn' }, offline ? t('logout.offline') : t('logout.network')),
      pending ? h('p', {}, t('logout.kept', { n: pending })) : null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', 'data-test': 'logout-cancel', onclick: () => done(false) }, t('logout.cancel')),
        h('button', { type: 'button', class: 'primary', 'data-test': 'logout-confirm', onclick: () => done(true) }, t('logout.confirm'))));
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
  });
}
