// views/supervisor/devices.js — the phones of the region: user, last sync,
// what remained in the outbox after the last push, app version, clock
// offset (marked over 5 minutes), seq gaps; and the staff phones that did
// not sync today.

import { h, replace } from '../../dom.js';
import { t, formatNumber } from '../../i18n.js';
import { getJSON } from '../console/api.js';
import { errorText, when, table } from '../console/ui.js';

const SKEW_MS = 5 * 60 * 1000;

function offset(ms) {
  const min = Math.round(ms / 60000);
  const txt = t('devices.offset_min', { n: min });
  return Math.abs(ms) > SKEW_MS ? h('span', { class: 'pill bad', 'data-test': 'skewed' }, '⚠ ', txt) : txt;
}

function gaps(g) {
  if (!g || !g.length) return '—';
  return h('span', { class: 'pill warn' }, g.map(([a, b]) => (a === b ? String(a) : `${a}–${b}`)).join(', '));
}

/** render lists the devices. */
export async function render(root) {
  replace(root, h('h1', {}, t('devices.title')), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let devices;
  try {
    devices = (await getJSON('/api/v1/review/devices')).devices;
  } catch (e) {
    replace(root, h('h1', {}, t('devices.title')), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const synced = devices.filter((d) => d.last_push_at);
  // Staff phones (not the consoles' browsers) with no push today, in
  // Casablanca (the server's synced_today).
  const never = devices.filter((d) => d.role === 'staff' && !d.revoked && !d.synced_today);
  replace(root,
    h('h1', {}, t('devices.title')),
    synced.length ? table(t('devices.caption'),
      [t('devices.user'), t('devices.last_sync'), t('devices.outbox'), t('devices.version'), t('devices.offset'), t('devices.gaps')],
      synced.map((d) => h('tr', { 'data-test': 'device', 'data-id': d.device_id, class: d.revoked ? 'revoked' : null },
        h('td', {}, h('bdi', {}, d.username), h('div', { class: 'muted small-text' }, d.device_id.slice(0, 8), d.revoked ? ' · ' + t('devices.revoked') : '')),
        h('td', {}, when(d.last_push_at)),
        h('td', {}, formatNumber(d.outbox_size)),
        h('td', {}, h('bdi', {}, d.app_version || '—')),
        h('td', {}, offset(d.clock_offset_ms), d.skew_acknowledged_at
          ? h('div', { class: 'muted small-text', 'data-test': 'skew-acknowledged' }, t('devices.skew_acknowledged', { user: d.skew_acknowledged_by || '' })) : null),
        h('td', {}, gaps(d.seq_gaps))))) : h('p', { class: 'muted' }, t('devices.none')),
    h('h2', {}, t('devices.never_title')),
    never.length ? h('ul', { class: 'list' }, never.map((d) => h('li', { class: 'row', 'data-test': 'never-synced' },
      h('div', { class: 'grow' }, h('strong', {}, h('bdi', {}, d.username)), ' · ', t('devices.seen', { at: when(d.last_seen_at) }))))) :
      h('p', { class: 'muted' }, t('devices.never_none')));
}
