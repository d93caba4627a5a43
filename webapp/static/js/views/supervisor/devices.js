// views/supervisor/devices.js — "is every phone synced?" (issue #18,
// finding 7): GET /api/v1/review/devices?region=&sort=attention
// &not_seen_since= answers {date, summary, devices}; the screen shows the
// summary (synced today, pending, gaps, not seen), the phones sorted by
// what needs attention, filters (pending, gaps, not seen since a time; an
// admin's region) and the same list as CSV (format=csv). Each phone is a
// card (user, last sync, what remained in the outbox after its last push,
// app version, clock offset marked over 5 minutes, seq gaps): readable on
// a 360 px phone.

import { h, replace } from '../../dom.js';
import { t, formatNumber } from '../../i18n.js';
import { getJSON, download } from '../console/api.js';
import { errorText, when, dl, field, message } from '../console/ui.js';

const SKEW_MS = 5 * 60 * 1000;

/** view keeps the screen's choices across redraws. */
const view = { show: '', since: '', region: '', regions: [] };

function offset(ms) {
  const min = Math.round(ms / 60000);
  const txt = t('devices.offset_min', { n: min });
  return Math.abs(ms) > SKEW_MS ? h('span', { class: 'pill bad', 'data-test': 'skewed' }, '⚠ ', txt) : txt;
}

function gaps(g) {
  if (!g || !g.length) return '—';
  return h('span', { class: 'pill warn', 'data-test': 'gaps' }, g.map(([a, b]) => (a === b ? String(a) : `${a}–${b}`)).join(', '));
}

/** sinceISO turns the datetime-local value (the browser's time) into RFC 3339. */
function sinceISO(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function query(extra = {}) {
  const q = new URLSearchParams({ sort: 'attention' });
  if (view.region) q.set('region', view.region);
  const since = sinceISO(view.since);
  if (since) q.set('not_seen_since', since);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

const SHOWN = { '': () => true, pending: (d) => d.attention.includes('pending'), gaps: (d) => d.attention.includes('gaps'), not_seen: (d) => d.attention.includes('not_seen'), not_synced_today: (d) => d.attention.includes('not_synced_today'), attention: (d) => d.attention.length > 0 };

function card(d) {
  return h('li', { class: 'card device' + (d.revoked ? ' revoked' : ''), 'data-test': 'device', 'data-id': d.device_id, 'data-attention': d.attention.join(' ') },
    h('h2', { class: 'device-title' }, h('bdi', {}, d.username), ' ', h('span', { class: 'muted small-text' }, h('bdi', {}, d.device_id.slice(0, 8)), d.revoked ? ' · ' + t('devices.revoked') : ''),
      ' ', d.attention.map((a) => h('span', { class: 'pill ' + (a === 'pending' || a === 'gaps' ? 'bad' : 'warn'), 'data-test': 'attention-' + a }, t('devices.attention.' + a)))),
    dl([
      [t('devices.last_sync'), d.last_push_at ? when(d.last_push_at) : t('devices.never')],
      [t('devices.outbox'), h('span', { 'data-test': 'outbox', 'data-value': String(d.outbox_size) }, formatNumber(d.outbox_size))],
      [t('devices.gaps'), gaps(d.seq_gaps)],
      [t('devices.offset'), h('span', {}, offset(d.clock_offset_ms), d.skew_acknowledged_at
        ? h('span', { class: 'muted small-text', 'data-test': 'skew-acknowledged' }, ' · ', t('devices.skew_acknowledged', { user: d.skew_acknowledged_by || '' })) : null)],
      [t('devices.version'), h('bdi', {}, d.app_version || '—')],
      [t('devices.seen_at'), when(d.last_seen_at)],
    ]));
}

/** render draws the devices screen. */
export async function render(root, ctx) {
  const title = h('h1', {}, t('devices.title'));
  const status = h('p', { class: 'muted', role: 'status' }, t('console.loading'));
  if (!root.querySelector('[data-test=device-filters]')) replace(root, title, status);
  let list;
  try {
    list = await getJSON('/api/v1/review/devices?' + query());
  } catch (e) {
    replace(root, title, h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const isAdmin = ctx && ctx.user && ctx.user().role === 'admin';
  if (isAdmin && !view.region) view.regions = [...new Set(list.devices.map((d) => d.region_code).filter(Boolean))].sort();
  const redraw = () => render(root, ctx);
  const s = list.summary;
  const fig = (key, n) => h('div', { class: 'figure', 'data-test': 'summary-' + key, 'data-value': String(n) },
    h('span', { class: 'figure-value' }, formatNumber(n)), h('span', { class: 'figure-label' }, t('devices.summary.' + key)));
  const show = field(t('devices.filter.show'), { 'data-test': 'device-show' },
    ['', 'attention', 'pending', 'gaps', 'not_seen', 'not_synced_today'].map((k) => [k, t('devices.show.' + (k || 'all'))]));
  show.control.value = view.show;
  show.control.addEventListener('change', () => { view.show = show.control.value; redraw(); });
  const since = field(t('devices.filter.since'), { type: 'datetime-local', 'data-test': 'device-since', value: view.since });
  since.control.addEventListener('change', () => { view.since = since.control.value; redraw(); });
  const region = isAdmin ? field(t('devices.filter.region'), { 'data-test': 'device-region' },
    [['', t('devices.all_regions')], ...view.regions.map((r) => [r, r])]) : null;
  if (region) {
    region.control.value = view.region;
    region.control.addEventListener('change', () => { view.region = region.control.value; redraw(); });
  }
  const msg = message();
  const csv = h('button', {
    type: 'button', class: 'secondary', 'data-test': 'device-csv',
    onclick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      msg.textContent = '';
      try {
        const got = await download('/api/v1/review/devices?' + query({ format: 'csv' }));
        b.dataset.size = String(got.size);
        b.dataset.type = got.type;
      } catch (e) {
        msg.textContent = errorText(e);
      }
      b.disabled = false;
    },
  }, t('devices.csv'));
  const shown = list.devices.filter(SHOWN[view.show] || SHOWN['']);
  replace(root, title,
    h('p', { class: 'muted' }, t('devices.today', { date: list.date })),
    h('div', { class: 'figures', 'data-test': 'device-summary' },
      fig('total', s.total), fig('synced_today', s.synced_today), fig('pending', s.pending), fig('gaps', s.gaps), fig('not_seen', s.not_seen)),
    h('div', { class: 'card', 'data-test': 'device-filters' },
      h('div', { class: 'filter-grid' }, show.el, since.el, region ? region.el : null),
      h('div', { class: 'actions' }, csv), msg),
    h('p', { 'data-test': 'device-count', 'data-show': view.show }, t('devices.shown', { n: formatNumber(shown.length), total: formatNumber(list.devices.length) })),
    shown.length ? h('ul', { class: 'cards devices' }, shown.map(card)) : h('p', { class: 'muted', 'data-test': 'devices-none' }, t('devices.none')));
}
