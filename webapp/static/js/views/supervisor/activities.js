// views/supervisor/activities.js — the activities of a day in the region:
// a summary (open, closed, present / capacity), filters (kind, place,
// status, text; region for admins), present / capacity, open or closed;
// closing signs the sheet off (name and time), and asks for a reason when
// review items are still open (the server answers 409 review_pending);
// admins may reopen, after a confirmation with a reason (audited). The
// first day shown is the server's: today, or the edition's nearest day.

import { h, replace } from '../../dom.js';
import { t, formatNumber, formatDay } from '../../i18n.js';
import { getJSON, send } from '../console/api.js';
import { errorText, when, field, message } from '../console/ui.js';
import { HttpError } from '../../http.js';

let day = null;
/** filters keeps the filters across reloads (a close keeps the view). */
const filters = { kind: '', place: '', status: '', region: '', text: '' };

/** placeOf is an activity's place: the visited company, else the establishment. */
function placeOf(a) {
  return a.company_id ? [a.company_id, a.company_name || a.company_id] : [a.establishment_code, a.establishment_name || a.establishment_code];
}

/** matches reports whether a passes the filters. */
function matches(a) {
  const q = filters.text.toLowerCase();
  return (!filters.kind || a.kind === filters.kind) && (!filters.status || a.status === filters.status) &&
    (!filters.region || a.region_code === filters.region) && (!filters.place || placeOf(a)[0] === filters.place) &&
    (!q || `${a.activity_id} ${a.title} ${placeOf(a)[1]}`.toLowerCase().includes(q));
}

/** summary sums the shown activities: open, closed, present and capacity. */
function summary(list) {
  const sum = (f) => list.reduce((n, a) => n + f(a), 0);
  const figs = [
    ['open', sum((a) => (a.status === 'open' ? 1 : 0))],
    ['closed', sum((a) => (a.status === 'closed' ? 1 : 0))],
    ['present', sum((a) => a.present)],
    ['capacity', sum((a) => a.capacity)],
  ];
  return h('dl', { class: 'figures compact', 'data-test': 'activities-summary' }, figs.map(([k, v]) => h('div', { class: 'figure', 'data-test': 'sum-' + k, 'data-value': String(v) },
    h('dt', { class: 'figure-label' }, t('activities.sum.' + k)), h('dd', { class: 'figure-value' }, formatNumber(v)))));
}

/** options returns the distinct [value, label] pairs of list, sorted by label, after an "all" choice. */
function options(list, f) {
  const m = new Map(list.map(f));
  return [['', t('activities.filter.all')], ...[...m].sort((x, y) => String(x[1]).localeCompare(String(y[1])))];
}

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
    actions.append(h('button', { type: 'button', class: 'secondary', 'data-test': 'reopen', onclick: () => {
      const reason = field(t('activities.reopen_reason'), { name: 'reopen-reason', required: true, 'data-test': 'reopen-reason' });
      replace(actions,
        h('p', { class: 'notice warn', role: 'alert' }, t('activities.reopen_confirm', { id: a.activity_id })),
        reason.el,
        h('button', { type: 'button', class: 'primary', 'data-test': 'reopen-confirm', onclick: async () => {
          const why = reason.control.value.trim();
          if (!why) { msg.textContent = t('activities.reason_needed'); reason.control.focus(); return; }
          try {
            await send('POST', `/api/v1/activities/${encodeURIComponent(a.activity_id)}/reopen`, { reason: why });
            reload(t('activities.reopened', { id: a.activity_id }));
          } catch (e) { msg.textContent = errorText(e); }
        } }, t('activities.reopen')),
        h('button', { type: 'button', class: 'secondary', 'data-test': 'reopen-cancel', onclick: () => reload('') }, t('users.cancel')));
      reason.control.focus();
    } }, t('activities.reopen')));
  }
  const over = a.capacity && a.present > a.capacity;
  return h('li', { class: 'card activity-row', 'data-test': 'console-activity', 'data-id': a.activity_id, 'data-status': a.status },
    h('div', { class: 'when' }, h('bdi', { dir: 'ltr' }, `${a.start_time}–${a.end_time}`), ' · ', a.activity_id, ' · ', t('kind.' + a.kind),
      ' · ', h('bdi', {}, placeOf(a)[1])),
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

/** render lists the day's activities (the server's day first). */
export async function render(root, ctx, notice = '') {
  const reload = (m) => render(root, ctx, m);
  const isAdmin = ctx.user().role === 'admin';
  replace(root, h('h1', {}, t('activities.title', { day: day ? formatDay(day) : '…' })), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let r;
  try {
    r = await getJSON('/api/v1/review/activities' + (day ? '?date=' + encodeURIComponent(day) : ''));
  } catch (e) {
    replace(root, h('h1', {}, t('activities.title', { day: day ? formatDay(day) : '' })), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  day = r.date;
  const days = r.days || [];
  const pick = field(t('activities.day'), { type: 'date', value: day, name: 'day', min: days[0] || null, max: days[days.length - 1] || null, 'data-test': 'activities-day' });
  pick.control.addEventListener('change', () => { if (pick.control.value) { day = pick.control.value; reload(''); } });
  const select = (key, label, opts) => {
    const f = field(label, { name: 'filter-' + key, 'data-test': 'filter-' + key }, opts);
    f.control.value = filters[key];
    f.control.addEventListener('change', () => { filters[key] = f.control.value; draw(); });
    return f.el;
  };
  const all = r.activities;
  const text = field(t('activities.filter.text'), { type: 'search', name: 'filter-text', value: filters.text, autocomplete: 'off', 'data-test': 'filter-text' });
  text.control.addEventListener('input', () => { filters.text = text.control.value.trim(); draw(); });
  // On a phone the filters fold away (open when one is set).
  const open = window.matchMedia('(min-width: 481px)').matches || Object.values(filters).some(Boolean);
  const bar = h('details', { class: 'filter-box', open: open ? '' : null, 'data-test': 'activities-filters-box' },
    h('summary', { class: 'button secondary' }, t('activities.filters')), h('div', { class: 'filters', role: 'search', 'data-test': 'activities-filters' },
    select('kind', t('activities.filter.kind'), [['', t('activities.filter.all')], ['meeting', t('kind.meeting')], ['company_visit', t('kind.company_visit')]]),
    select('place', t('activities.filter.place'), options(all, placeOf)),
    select('status', t('activities.filter.status'), [['', t('activities.filter.all')], ['open', t('activities.status.open')], ['closed', t('activities.status.closed')]]),
    isAdmin ? select('region', t('activities.filter.region'), options(all, (a) => [a.region_code, a.region_code])) : null,
    text.el));
  const sum = h('div', {});
  const list = h('div', {});
  const draw = () => {
    const shown = all.filter(matches);
    replace(sum, summary(shown), shown.length !== all.length
      ? h('p', { class: 'muted', 'data-test': 'activities-shown' }, t('activities.shown', { n: shown.length, total: formatNumber(all.length) })) : null);
    replace(list, shown.length
      ? h('ul', { class: 'cards' }, shown.map((a) => card(a, ctx, reload)))
      : h('p', { class: 'muted' }, t(all.length ? 'activities.none_match' : 'activities.none')));
  };
  draw();
  replace(root, h('h1', {}, t('activities.title', { day: formatDay(day) })),
    notice ? h('p', { class: 'notice ok', role: 'status', 'data-test': 'activities-notice' }, notice) : null,
    sum, pick.el, bar, list);
}
