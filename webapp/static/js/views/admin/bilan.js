// views/admin/bilan.js — the bilan dashboard (GET /api/v1/reports/bilan):
// the totals first (beneficiaries, meeting and visit participations,
// speakers, organisations), then meetings, then visits, and bar charts per
// region and per day; prints cleanly (@media print in app.css).

import { h, replace } from '../../dom.js';
import { t, formatNumber, formatDay, currentLang } from '../../i18n.js';
import { getJSON } from '../console/api.js';
import { errorText } from '../console/ui.js';
import { barChart } from './charts.js';

function figure(key, n, test) {
  return h('div', { class: 'figure', 'data-test': 'fig-' + (test || key), 'data-value': n },
    h('span', { class: 'figure-value' }, formatNumber(n)), h('span', { class: 'figure-label' }, t('bilan.' + key)));
}

function legend() {
  return h('p', { class: 'legend' },
    h('span', { class: 'swatch bar-0', 'aria-hidden': 'true' }), t('bilan.meeting_participations'), ' ',
    h('span', { class: 'swatch bar-1', 'aria-hidden': 'true' }), t('bilan.visit_participations'));
}

/** figures is the section id of the bilan b: its title and the figures of keys. */
function figures(b, id, keys) {
  return h('section', { 'aria-labelledby': 'b-' + id, class: 'bilan-block' }, h('h2', { id: 'b-' + id }, t('bilan.' + id)),
    h('div', { class: 'figures' }, keys.map((k) => figure(k, b[k]))));
}

/** chart is a section of bars: the meeting and visit participations of each row. */
function chart(id, title, rows) {
  return h('section', { 'aria-labelledby': id, class: 'bilan-block chart-block' }, h('h2', { id }, title), legend(),
    barChart(rows, { title, rtl: currentLang() === 'ar', format: formatNumber }));
}

/** render loads and draws the bilan. */
export async function render(root) {
  replace(root, h('h1', {}, t('bilan.title')), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let b;
  try { b = await getJSON('/api/v1/reports/bilan'); } catch (e) {
    replace(root, h('h1', {}, t('bilan.title')), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const parts = (c) => [c.meeting_participations, c.visit_participations];
  const regions = Object.keys(b.per_region || {}).sort();
  const days = Object.keys(b.per_day || {}).sort();
  replace(root,
    h('div', { class: 'title-row' }, h('h1', {}, t('bilan.title')),
      h('button', { type: 'button', class: 'secondary no-print', onclick: () => window.print() }, t('bilan.print'))),
    b.edition ? h('p', { class: 'muted' }, h('bdi', {}, b.edition.name)) : null,
    figures(b, 'totals', ['beneficiaries', 'meeting_participations', 'visit_participations', 'speakers_present', 'organizations_represented']),
    figures(b, 'meetings', ['meetings_held', 'meetings_listed', 'distinct_trainees_meetings', 'speaker_participations']),
    figures(b, 'visits', ['visits_held', 'visits_listed', 'companies_visited', 'distinct_trainees_visits', 'visit_establishments']),
    chart('b-regions', t('bilan.per_region'), regions.map((r) => ({ label: r, parts: parts(b.per_region[r]) }))),
    chart('b-days', t('bilan.per_day'), days.map((d) => ({ label: formatDay(d).replace(/^\S+\s/, ''), parts: parts(b.per_day[d]) }))));
}
