// views/supervisor/review.js — the review queue, one screen: late
// check-ins after close, out-of-window check-ins, clock-skewed devices,
// walk-in duplicates to merge, field conflicts and quarantined (refused)
// mutations; each item says what each device said and when, with the
// decisions of the review endpoints. Every decision is kept by the server
// (a resolved refusal or an acknowledged clock leaves the queue for good).

import { h, replace } from '../../dom.js';
import { t, has, formatNumber } from '../../i18n.js';
import { getJSON, send } from '../console/api.js';
import { errorText, whenEl, who, shortId, dl, field, message } from '../console/ui.js';
import { reasonText, mergeReasonText } from '../../reasons.js';
import * as queue from './queue.js';

/** typeText names a mutation type (the type itself when unknown). */
function typeText(type) {
  return has('type.' + type) ? t('type.' + type) : String(type || '—');
}

/** fieldText names a trainee field in the user's language (field.<name>). */
function fieldText(name) {
  return has('field.' + name) ? t('field.' + name) : String(name || '—');
}

/** staff shows a staff member's name with the device's short id in small print. */
function staff(name, deviceId) {
  return who(name, shortId(deviceId), 'staff');
}

/** person shows the person's name with the matricule in small print. */
function person(name, id) {
  return who(name, id, 'person');
}

/** saidBy shows a value with who wrote it and when, each part isolated. */
function saidBy(value, name, deviceId, at) {
  return h('span', {}, h('bdi', { class: 'value' }, '« ', String(value ?? ''), ' »'), ' — ', staff(name, deviceId), ' · ', whenEl(at));
}

/**
 * differences lays the walk-in and the roster trainee side by side:
 * establishment, programme and group, the rows that differ marked.
 */
function differences(p) {
  const a = p.walk_in || {};
  const b = p.candidate || {};
  const est = (f) => (f.establishment_name ? `${f.establishment_name} (${f.establishment_code})` : f.establishment_code || '—');
  const rows = [
    ['establishment', est(a), est(b), a.establishment_code !== b.establishment_code],
    ['program', a.program || '—', b.program || '—', (a.program || '') !== (b.program || '')],
    ['group', a.group || '—', b.group || '—', (a.group || '') !== (b.group || '')],
  ];
  return h('div', { class: 'table-wrap compact' }, h('table', { class: 'diff' },
    h('thead', {}, h('tr', {}, h('td', {}), h('th', { scope: 'col' }, t('review.walk_in')), h('th', { scope: 'col' }, t('review.candidate')))),
    h('tbody', {}, rows.map(([k, x, y, differs]) => h('tr', { class: differs ? 'differs' : '', 'data-test': 'diff-' + k, 'data-differs': String(differs) },
      h('th', { scope: 'row' }, t('review.diff.' + k)), h('td', {}, h('bdi', {}, x)), h('td', {}, h('bdi', {}, y)))))));
}

/**
 * CANNOT_COUNT are refusal codes whose check-in names something the server
 * does not have: counting it present can only fail, so it is not offered.
 */
const CANNOT_COUNT = new Set(['unknown_activity', 'unknown_trainee', 'unknown_speaker', 'invalid_mutation']);

/** said describes a mutation as the phone recorded it (name: the person's, from the server). */
function said(m, name = '') {
  if (!m || typeof m !== 'object') return '—';
  const id = m.person ? m.person.id : m.trainee_id || '';
  const whom = m.trainee ? `${m.trainee.last_name} ${m.trainee.first_name}` : name && id ? `${name} (${id})` : id;
  const fields = m.fields ? Object.entries(m.fields).map(([k, v]) => `${fieldText(k)} = ${v}`).join(', ') : '';
  return [typeText(m.type), whom, m.activity_id, fields].filter(Boolean).join(' · ');
}

/** personOf shows the person a mutation names: name and matricule. */
function personOf(m, name) {
  const id = m && (m.person ? m.person.id : m.trainee_id);
  return id || name ? person(name, id) : null;
}

/** item builds one card: title, facts, an optional reason and the actions. */
function item(kind, id, title, facts, actions, reload) {
  const msg = message();
  const reason = field(t('review.reason'), { name: 'reason', autocomplete: 'off' });
  const buttons = actions.map(([key, run, primary]) => h('button', {
    type: 'button', class: primary ? 'primary' : 'secondary', 'data-test': 'act-' + key,
    onclick: async (ev) => {
      const all = ev.currentTarget.parentElement.querySelectorAll('button');
      all.forEach((b) => { b.disabled = true; });
      try {
        await run(reason.control.value.trim());
        await reload(t('review.done_' + key));
      } catch (e) {
        msg.textContent = errorText(e);
        all.forEach((b) => { b.disabled = false; });
      }
    },
  }, t('review.' + key)));
  return h('li', { class: 'card item', 'data-test': 'item-' + kind, 'data-id': id },
    h('h3', {}, title), dl(facts), actions.length ? [reason.el, h('div', { class: 'actions' }, buttons)] : null, msg);
}

function group(kind, items, help) {
  return h('section', { class: 'group', 'data-test': 'group-' + kind, 'aria-labelledby': 'g-' + kind },
    h('h2', { id: 'g-' + kind }, t('review.group.' + kind), ' ', h('span', { class: 'badge' }, formatNumber(items.length))),
    help ? h('p', { class: 'muted' }, help) : null,
    items.length ? h('ul', { class: 'cards' }, items) : h('p', { class: 'muted' }, t('review.none')));
}

/**
 * render loads every open item of the region and draws the queue. After a
 * decision (keepPlace) the page stays as it is while loading and keeps its
 * scroll position once redrawn: the next card takes the decided one's place.
 */
export async function render(root, ctx, notice = '', keepPlace = false) {
  const scroller = document.scrollingElement || document.documentElement;
  const top = scroller.scrollTop;
  const status = h('p', { role: 'status', class: 'muted' }, t('console.loading'));
  if (!keepPlace) replace(root, h('h1', {}, t('review.title')), status);
  let flags, conflicts, proposals, quarantine, devices, page;
  try {
    [flags, conflicts, proposals, quarantine, devices, page] = await Promise.all([
      getJSON('/api/v1/review/flags').then((r) => r.flags),
      getJSON('/api/v1/review/conflicts').then((r) => r.conflicts),
      getJSON('/api/v1/review/merge-proposals').then((r) => r.merge_proposals),
      getJSON('/api/v1/review/quarantine').then((r) => r.mutations),
      getJSON('/api/v1/review/devices').then((r) => r.devices),
      queue.load(),
    ]);
  } catch (e) {
    if (keepPlace) replace(root, h('h1', {}, t('review.title')), status);
    status.textContent = errorText(e);
    return;
  }
  const reload = (msg, keep = true) => render(root, ctx, msg, keep);
  // The flags and refused mutations shown: the filtered queue's pages.
  flags = queue.order(page, flags, (f) => 'flag:' + f.id);
  quarantine = queue.order(page, quarantine, (m) => 'mutation:' + m.id);
  const mark = (prefix) => (card) => queue.decorate(card, page, prefix + card.dataset.id, reload);
  const post = (url) => (reason) => send('POST', url, reason ? { reason } : undefined);
  const flagItem = (f) => item(f.kind, f.id, t('review.flag.' + f.kind, { activity: f.activity_id }), [
    [t('review.person'), personOf(f.payload, f.person_name)],
    [t('review.recorded_at'), whenEl(f.payload && f.payload.recorded_at)],
    [t('review.received_at'), whenEl(f.created_at)],
    [t('review.staff'), staff(f.staff_name, f.device_id)],
  ], [
    ['accept', post(`/api/v1/review/flags/${f.id}/accept`), true],
    ['reject', post(`/api/v1/review/flags/${f.id}/reject`)],
  ].filter(([k]) => k !== 'accept' || f.kind !== 'awaiting_registration'), reload);

  const late = flags.filter((f) => f.kind === 'late').map(flagItem).map(mark('flag:'));
  const outOfWindow = flags.filter((f) => f.kind !== 'late').map(flagItem).map(mark('flag:'));
  const skewed = devices.filter((d) => d.clock_skewed && !d.skew_acknowledged_at).map((d) => item('skew', d.device_id,
    t('review.skew_title', { user: d.username }), [
      [t('review.device'), who(d.username, shortId(d.device_id), 'staff')],
      [t('devices.offset'), t('devices.offset_min', { n: Math.round(d.clock_offset_ms / 60000) })],
      [t('devices.last_sync'), whenEl(d.last_push_at)],
    ], [
      ['acknowledge_skew', post(`/api/v1/review/devices/${encodeURIComponent(d.device_id)}/acknowledge-skew`), true],
    ], reload));
  const merges = proposals.map((p) => item('merge', p.id, t('review.merge_title', { name: p.walk_in_name || p.walk_in_id }), [
    [t('review.why'), mergeReasonText(p.reason)],
    [t('review.differences'), differences(p)],
    [t('review.received_at'), whenEl(p.created_at)],
  ], [
    ['merge', post(`/api/v1/review/merge-proposals/${p.id}/merge`), true],
    ['dismiss', post(`/api/v1/review/merge-proposals/${p.id}/dismiss`)],
  ], reload));
  const conflictItems = conflicts.map((c) => item('conflict', c.id,
    t('review.conflict_title', { field: fieldText(c.field), trainee: c.trainee_name || c.trainee_id }), [
      [t('review.person'), person(c.trainee_name, c.trainee_id)],
      [t('review.kept'), saidBy(c.winner_value, c.winner_staff_name, c.winner_device_id, c.winner_recorded_at)],
      [t('review.other'), saidBy(c.loser_value, c.loser_staff_name, c.loser_device_id, c.loser_recorded_at)],
    ], [
      ['confirm', post(`/api/v1/review/conflicts/${c.id}/confirm`), true],
      ['reverse', post(`/api/v1/review/conflicts/${c.id}/reverse`)],
    ], reload));
  const resolve = (m, action, fallback) => (reason) => send('POST',
    `/api/v1/review/quarantine/${encodeURIComponent(m.id)}/resolve`, { action, reason: reason || fallback });
  const refused = quarantine.map((m) => {
    const p = m.payload || {};
    const presence = p.type === 'attendance.check_in' && p.person && p.activity_id && !CANNOT_COUNT.has(m.code);
    return item('quarantine', m.id, t('review.refused_title', { what: typeText(p.type) }), [
      [t('review.device_said'), said(p, m.person_name)],
      [t('review.recorded_at'), whenEl(p.recorded_at)],
      [t('review.received_at'), whenEl(m.received_at)],
      [t('review.staff'), staff(m.staff_name || m.username, m.device_id)],
      [t('review.server_said'), h('span', { 'data-test': 'reason', 'data-code': m.code }, reasonText(m.code, m.message))],
    ], [
      presence ? ['present', resolve(m, 'count_present', t('review.present_reason')), true] : null,
      ['acknowledge', resolve(m, 'acknowledge', ''), !presence],
    ].filter(Boolean), reload);
  }).map(mark('mutation:'));

  replace(root,
    h('h1', {}, t('review.title')),
    notice ? h('p', { class: 'notice ok', role: 'status', 'data-test': 'review-notice' }, notice) : null,
    queue.bar(page, reload),
    group('late', late, t('review.help.late')),
    group('window', outOfWindow, t('review.help.window')),
    group('skew', skewed, t('review.help.skew')),
    group('merge', merges, t('review.help.merge')),
    group('conflict', conflictItems, t('review.help.conflict')),
    group('quarantine', refused, t('review.help.quarantine')),
    queue.more(page, reload));
  if (keepPlace) scroller.scrollTop = top;
}
