// views/admin/exports.js — every export as a button: the file is fetched
// with the bearer token and saved from a blob (the token is not a cookie).
// Parameters (day, activity, establishment, group, trainee, region) are
// filled once at the top.

import { h, replace } from '../../dom.js';
import { t, formatNumber } from '../../i18n.js';
import { localDate } from '../../time.js';
import { download } from '../console/api.js';
import { errorText, field } from '../console/ui.js';

const params = { date: '', activity: '', establishment: '', group: '', trainee: '', region: '' };

function exportsList() {
  const e = encodeURIComponent;
  const region = params.region ? '&region=' + e(params.region) : '';
  return [
    ['participations_csv', () => `/api/v1/exports/participations.csv?sep=comma${region}`],
    ['participations_csv_semicolon', () => `/api/v1/exports/participations.csv?sep=semicolon${region}`],
    ['participations_xlsx', () => `/api/v1/exports/participations.xlsx?${region.slice(1)}`],
    ['attendance_pdf', () => `/api/v1/exports/attendance/${e(params.activity)}.pdf`],
    ['attendance_xlsx', () => `/api/v1/exports/attendance/${e(params.activity)}.xlsx`],
    ['day_pdf', () => `/api/v1/exports/attendance-day?date=${e(params.date)}&establishment=${e(params.establishment)}&format=pdf`],
    ['day_xlsx', () => `/api/v1/exports/attendance-day?date=${e(params.date)}&establishment=${e(params.establishment)}&format=xlsx`],
    ['badges', () => `/api/v1/exports/badges.pdf?establishment=${e(params.establishment)}${params.group ? '&group=' + e(params.group) : ''}`],
    ['certificate', () => `/api/v1/exports/certificates/${e(params.trainee)}.pdf`],
    ['bilan_pdf', () => `/api/v1/exports/bilan.pdf?${region.slice(1)}`],
    ['bilan_xlsx', () => `/api/v1/exports/bilan.xlsx?${region.slice(1)}`],
  ];
}

/** render shows the parameters and one button per export. */
export async function render(root) {
  if (!params.date) params.date = localDate();
  const inputs = Object.keys(params).map((k) => {
    const f = field(t('exports.param.' + k), { name: k, value: params[k], type: k === 'date' ? 'date' : 'text', 'data-test': 'param-' + k });
    f.control.addEventListener('input', () => { params[k] = f.control.value.trim(); });
    return f.el;
  });
  const items = exportsList().map(([key, url]) => {
    const result = h('span', { class: 'dl-result', role: 'status', 'data-test': 'dl-result' });
    const button = h('button', { type: 'button', class: 'secondary', 'data-test': 'export-' + key, onclick: async () => {
      button.disabled = true;
      result.textContent = t('exports.running');
      try {
        const r = await download(url());
        result.dataset.type = r.type;
        result.dataset.size = String(r.size);
        result.textContent = t('exports.saved', { name: r.name, size: formatNumber(Math.ceil(r.size / 1024)) });
      } catch (e) {
        result.dataset.error = '1';
        result.textContent = errorText(e);
      }
      button.disabled = false;
    } }, t('exports.' + key));
    return h('li', { class: 'export-row' }, button, result);
  });
  replace(root, h('h1', {}, t('exports.title')),
    h('fieldset', { class: 'card params' }, h('legend', {}, t('exports.params')), inputs),
    h('ul', { class: 'list exports' }, items));
}
