// views/supervisor/activities.js — the activities of a day in the region:
// present / capacity, open or closed; closing signs the sheet off (name
// and time), and asks for a reason when review items are still open (the
// server answers 409 review_pending); admins may reopen.

import { h, replace } from '../../dom.js';
import { t, formatNumber, formatDay } from '../../i18n.js';
import { localDate } from '../../time.js';
import { getJSON, send } from '../console/api.js';
import { errorText, when, field, message } from '../console/ui.js';
import { HttpError } from '../../http.js';

let day = null;

function card(a, ctx, reload) {
  const msg = message();
  const actions = h('div', { class: 'actions' });
  const isAdmin = ctx.user().role === 'admin';
  const close = async (reason) => {
    try {
      await send('POST', `/api/v1/activities/${encodeURIComponent(a.activity_id)}/close`, reason ? { reason } : undefined);
      reload(t('activities.closed_done', { id: a.activity_id }));
    } catch (e) {
      if (e instanceof HttpError && e.code === 'review_pending') askReason();
      else msg.textContent = errorText(e);
    }
  };
  const askReason = () => {
    const reason = field(t('activities.reason'), { name: 'close-reason', required: true, 'data-test': 'close-reason' });
    replace(actions,
      h('p', { class: 'notice warn', role: 'alert' }, t('activities.pending', { n: a.open_flags + (a.pending_merges || 0) })),
      reason.el,
      h('button', { type: 'button', class: 'primary', 'data-test': 'close-anyway', onclick: () => {
        if (!reason.control.value.trim()) { msg.textContent = t('activities.reason_needed'); reason.control.focus(); return; }
        close(reason.control.value.trim());
      } }, t('activities.close_anyway')),
      h('a', { class: 'button', href: '#/review' }, t('activities.see_review')));
    reason.control.focus();
  };
  if (a.status === 'open') {
    actions.append(h('button', { type: 'button', class: 'primary', 'data-test': 'close', onclick: () => close('') }, t('activities.close')));
  } else if (isAdmin) {
    actions.append(h('button', { type: 'button', class: 'secondary', 'data-test': 'reopen', onclick: async () => {
      try { await send('POST', `/api/v1/activities/${encodeURIComponent(a.activity_id)}/reopen`); reload(t('activities.reopened', { id: a.activity_id })); } catch (e) { msg.textContent = errorText(e); }
    } }, t('activities.reopen')));
  }
  const over = a.capacity && a.present > a.capacity;
  return h('li', { class: 'card activity-row', 'data-test': 'console-activity', 'data-id': a.activity_id, 'data-status': a.status },
    h('div', { class: 'when' }, h('bdi', { dir: 'ltr' }, `${a.start_time}–${a.end_time}`), ' · ', a.activity_id),
    h('h3', {}, h('bdi', {}, a.title)),
    h('p', { class: 'count big' + (over ? ' over' : '') }, a.capacity
      ? t('activities.present_cap', { n: a.present, cap: formatNumber(a.capacity) })
      : t('activities.present', { n: a.present })),
    h('p', {}, h('span', { class: 'pill ' + (a.status === 'open' ? 'ok' : 'off') }, t('activities.status.' + a.status)),
      a.open_flags + (a.pending_merges || 0) ? [' ', h('a', { class: 'pill bad', href: '#/review' }, t('activities.flags', { n: a.open_flags + (a.pending_merges || 0) }))] : null),
    a.status === 'closed' ? h('p', { class: 'muted', 'data-test': 'signed' }, t('activities.signed', { by: a.closed_by, at: when(a.closed_at) }),
      a.close_reason ? ' — ' + a.close_reason : '') : null,
    actions, msg);
}

/** render lists the day's activities. */
export async function render(root, ctx, notice = '') {
  if (!day) day = localDate();
  const reload = (m) => render(root, ctx, m);
  const pick = field(t('activities.day'), { type: 'date', value: day, name: 'day' });
  pick.control.addEventListener('change', () => { if (pick.control.value) { day = pick.control.value; reload(''); } });
  const list = h('div', {}, h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  replace(root, h('h1', {}, t('activities.title', { day: formatDay(day) })),
    notice ? h('p', { class: 'notice ok', role: 'status', 'data-test': 'activities-notice' }, notice) : null,
    pick.el, list);
  try {
    const r = await getJSON('/api/v1/review/activities?date=' + encodeURIComponent(day));
    replace(list, r.activities.length
      ? h('ul', { class: 'cards' }, r.activities.map((a) => card(a, ctx, reload)))
      : h('p', { class: 'muted' }, t('activities.none')));
  } catch (e) {
    replace(list, h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
  }
}
