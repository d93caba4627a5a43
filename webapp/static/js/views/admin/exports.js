// views/admin/exports.js — the exports screen of supervisors (their
// region) and admins: every export as a button; the file is fetched with
// the bearer token and saved from a blob (the token is not a cookie) under
// the server's file name. Parameters are picked, not typed as codes: the
// region, the day among the days with activities, the establishment and
// its group (GET /api/v1/exports/choices), the activity of the day (GET
// /api/v1/review/activities). XLSX files come in the user's language.

import { h, replace } from '../../dom.js';
import { t, formatNumber, formatDay, currentLang } from '../../i18n.js';
import { localDate } from '../../time.js';
import { download, getJSON } from '../console/api.js';
import { errorText, field } from '../console/ui.js';

const params = { date: '', activity: '', establishment: '', group: '', trainee: '', region: '' };

const e = encodeURIComponent;
const q = (pairs) => pairs.filter(([, v]) => v).map(([k, v]) => k + '=' + e(v)).join('&');

// sections lists the exports by what they are for: [heading key, [button key, url]…].
function sections() {
  const p = params;
  const lang = ['lang', currentLang()];
  const scope = [['region', p.region], ['date', p.date], ['establishment', p.establishment]];
  return [
    ['exports.section.participations', [
      ['participations_csv', () => `/api/v1/exports/participations.csv?${q([...scope, ['sep', 'comma']])}`],
      ['participations_csv_semicolon', () => `/api/v1/exports/participations.csv?${q([...scope, ['sep', 'semicolon']])}`],
      ['participations_xlsx', () => `/api/v1/exports/participations.xlsx?${q([...scope, lang])}`],
    ], 'exports.csv_note'],
    ['exports.section.sheets', [
      ['region_day_pdf', () => `/api/v1/exports/attendance-day?${q([['date', p.date], ['region', p.region], ['format', 'pdf']])}`],
      ['region_day_xlsx', () => `/api/v1/exports/attendance-day?${q([['date', p.date], ['region', p.region], ['format', 'xlsx'], lang])}`],
      ['day_pdf', () => `/api/v1/exports/attendance-day?${q([['date', p.date], ['establishment', p.establishment], ['format', 'pdf']])}`],
      ['day_xlsx', () => `/api/v1/exports/attendance-day?${q([['date', p.date], ['establishment', p.establishment], ['format', 'xlsx'], lang])}`],
      ['attendance_pdf', () => `/api/v1/exports/attendance/${e(p.activity)}.pdf`],
      ['attendance_xlsx', () => `/api/v1/exports/attendance/${e(p.activity)}.xlsx?${q([lang])}`],
    ]],
    ['exports.section.people', [
      ['badges', () => `/api/v1/exports/badges.pdf?${q([['establishment', p.establishment], ['group', p.group]])}`],
      ['certificates_group', () => `/api/v1/exports/certificates.pdf?${q([['establishment', p.establishment], ['group', p.group]])}`],
      ['certificates_activity', () => `/api/v1/exports/certificates.pdf?${q([['activity', p.activity]])}`],
      ['certificate', () => `/api/v1/exports/certificates/${e(p.trainee)}.pdf`],
    ]],
    ['exports.section.bilan', [
      ['bilan_pdf', () => `/api/v1/exports/bilan.pdf?${q([['region', p.region]])}`],
      ['bilan_xlsx', () => `/api/v1/exports/bilan.xlsx?${q([['region', p.region], lang])}`],
    ]],
  ];
}

function button(key, url) {
  const result = h('span', { class: 'dl-result', role: 'status', 'data-test': 'dl-result' });
  const b = h('button', { type: 'button', class: 'secondary', 'data-test': 'export-' + key, onclick: async () => {
    b.disabled = true;
    delete result.dataset.error;
    result.textContent = t('exports.running');
    try {
      const r = await download(url());
      result.dataset.type = r.type;
      result.dataset.size = String(r.size);
      result.dataset.name = r.name;
      result.textContent = t('exports.saved', { name: r.name, size: formatNumber(Math.ceil(r.size / 1024)) });
    } catch (err) {
      result.dataset.error = '1';
      result.textContent = errorText(err);
    }
    b.disabled = false;
  } }, t('exports.' + key));
  return h('li', { class: 'export-row' }, b, result);
}

// datalist returns a <datalist> of [value, label] options.
function datalist(id, options) {
  return h('datalist', { id }, options.map(([v, label]) => h('option', { value: v }, label)));
}

/** render shows the pickers and the export buttons, by section. */
export async function render(root, ctx) {
  const user = ctx && ctx.user ? ctx.user() : null;
  let choices = { regions: [], days: [], establishments: [] };
  let loadError = '';
  try { choices = await getJSON('/api/v1/exports/choices'); } catch (err) { loadError = errorText(err); }
  const supervisor = user && user.role === 'supervisor';
  if (supervisor && choices.regions.length === 1) params.region = choices.regions[0].region_code;
  if (!params.date) {
    const today = localDate();
    const days = choices.days;
    params.date = days.includes(today) || !days.length ? today : (days.find((d) => d >= today) || days[days.length - 1]);
  }

  const region = field(t('exports.param.region'), { name: 'region', 'data-test': 'param-region', disabled: supervisor || null },
    [...(supervisor ? [] : [['', t('exports.all_regions')]]), ...choices.regions.map((r) => [r.region_code, r.region_code + ' — ' + r.name])]);
  region.control.value = params.region;

  const dayOptions = [...new Set([...choices.days, params.date])].sort().map((d) => [d, formatDay(d)]);
  const day = field(t('exports.param.date'), { name: 'date', 'data-test': 'param-date' }, dayOptions);
  day.control.value = params.date;

  const estList = datalist('exports-establishments', []);
  const groupList = datalist('exports-groups', []);
  const actList = datalist('exports-activities', []);
  const text = (k, list) => {
    const f = field(t('exports.param.' + k), { name: k, value: params[k], list, autocomplete: 'off', 'data-test': 'param-' + k });
    f.control.addEventListener('input', () => { params[k] = f.control.value.trim(); if (k === 'establishment') fillGroups(); });
    return f;
  };
  const est = text('establishment', 'exports-establishments');
  const group = text('group', 'exports-groups');
  const activity = text('activity', 'exports-activities');
  const trainee = text('trainee', null);

  const fillEstablishments = () => {
    const ests = choices.establishments.filter((x) => !params.region || x.region_code === params.region);
    replace(estList, ests.map((x) => h('option', { value: x.code }, x.name)));
  };
  const fillGroups = () => {
    const x = choices.establishments.find((y) => y.code === params.establishment);
    replace(groupList, (x ? x.groups : []).map((g) => h('option', { value: g })));
  };
  const fillActivities = async () => {
    try {
      const r = await getJSON('/api/v1/review/activities?date=' + e(params.date));
      const acts = r.activities.filter((a) => !params.region || a.region_code === params.region);
      replace(actList, acts.map((a) => h('option', { value: a.activity_id }, `${a.start_time} ${a.title}`)));
    } catch (err) { replace(actList); }
  };
  region.control.addEventListener('change', () => { params.region = region.control.value; fillEstablishments(); fillActivities(); });
  day.control.addEventListener('change', () => { params.date = day.control.value; fillActivities(); });
  fillEstablishments();
  fillGroups();
  await fillActivities();

  replace(root, h('h1', {}, t('exports.title')),
    loadError ? h('p', { class: 'msg', role: 'alert', 'data-test': 'console-msg' }, loadError) : null,
    h('fieldset', { class: 'card params', 'data-test': 'export-params' }, h('legend', {}, t('exports.params')),
      region.el, day.el, est.el, group.el, activity.el, trainee.el),
    estList, groupList, actList,
    sections().map(([head, items, note]) => h('section', { class: 'export-section' },
      h('h2', {}, t(head)),
      note ? h('p', { class: 'muted', 'data-test': 'csv-note' }, t(note)) : null,
      h('ul', { class: 'list exports' }, items.map(([key, url]) => button(key, url))))));
}
