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

/** render loads and draws the bilan. */
export async function render(root) {
  replace(root, h('h1', {}, t('bilan.title')), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let b;
  try { b = await getJSON('/api/v1/reports/bilan'); } catch (e) {
    replace(root, h('h1', {}, t('bilan.title')), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const rtl = currentLang() === 'ar';
  const parts = (c) => [c.meeting_participations, c.visit_participations];
  const regions = Object.keys(b.per_region || {}).sort();
  const days = Object.keys(b.per_day || {}).sort();
  replace(root,
    h('div', { class: 'title-row' }, h('h1', {}, t('bilan.title')),
      h('button', { type: 'button', class: 'secondary no-print', onclick: () => window.print() }, t('bilan.print'))),
    b.edition ? h('p', { class: 'muted' }, h('bdi', {}, b.edition.name)) : null,
    h('section', { 'aria-labelledby': 'b-totals', class: 'bilan-block' }, h('h2', { id: 'b-totals' }, t('bilan.totals')),
      h('div', { class: 'figures' },
        figure('beneficiaries', b.beneficiaries),
        figure('meeting_participations', b.meeting_participations),
        figure('visit_participations', b.visit_participations),
        figure('speakers_present', b.speakers_present),
        figure('organizations_represented', b.organizations_represented))),
    h('section', { 'aria-labelledby': 'b-meetings', class: 'bilan-block' }, h('h2', { id: 'b-meetings' }, t('bilan.meetings')),
      h('div', { class: 'figures' },
        figure('meetings_held', b.meetings_held),
        figure('meetings_listed', b.meetings_listed),
        figure('distinct_trainees_meetings', b.distinct_trainees_meetings),
        figure('speaker_participations', b.speaker_participations))),
    h('section', { 'aria-labelledby': 'b-visits', class: 'bilan-block' }, h('h2', { id: 'b-visits' }, t('bilan.visits')),
      h('div', { class: 'figures' },
        figure('visits_held', b.visits_held),
        figure('visits_listed', b.visits_listed),
        figure('companies_visited', b.companies_visited),
        figure('distinct_trainees_visits', b.distinct_trainees_visits),
        figure('visit_establishments', b.visit_establishments))),
    h('section', { 'aria-labelledby': 'b-regions', class: 'bilan-block chart-block' }, h('h2', { id: 'b-regions' }, t('bilan.per_region')), legend(),
      barChart(regions.map((r) => ({ label: r, parts: parts(b.per_region[r]) })), { title: t('bilan.per_region'), rtl, format: formatNumber })),
    h('section', { 'aria-labelledby': 'b-days', class: 'bilan-block chart-block' }, h('h2', { id: 'b-days' }, t('bilan.per_day')), legend(),
      barChart(days.map((d) => ({ label: formatDay(d).replace(/^\S+\s/, ''), parts: parts(b.per_day[d]) })), { title: t('bilan.per_day'), rtl, format: formatNumber })));
}
