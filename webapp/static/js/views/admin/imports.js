// views/admin/imports.js — import of an office file (kind + CSV/XLSX) by
// POST /api/v1/admin/import/:kind: the report on success, each error line
// (file, line, column, message) when the file is refused (422).

import { h, replace } from '../../dom.js';
import { t, formatNumber, formatDay } from '../../i18n.js';
import { authFetch } from '../../auth.js';
import { problemOf, getJSON } from '../console/api.js';
import { errorText, field, table, message } from '../console/ui.js';
import { reasonText } from '../../reasons.js';

const KINDS = ['regions', 'establishments', 'organizations', 'companies', 'trainees', 'speakers', 'activities', 'users'];

function issues(caption, list) {
  return table(caption, [t('imports.file'), t('imports.line'), t('imports.column'), t('imports.message')],
    list.map((i) => h('tr', { 'data-test': 'import-error', 'data-code': i.code || '' }, h('td', {}, i.file), h('td', {}, i.line ?? ''), h('td', {}, i.column ?? ''),
      // A coded issue in the user's language, the server's exact words below (values, lines).
      h('td', {}, i.code ? [h('span', { 'data-test': 'issue-text' }, reasonText(i.code, i.message)), h('div', { class: 'muted small-text', dir: 'ltr' }, i.message)] : i.message))), { class: 'stacked' });
}

/** render shows the import form. */
export async function render(root) {
  const msg = message();
  const out = h('div', { 'data-test': 'import-result' });
  const kind = field(t('imports.kind'), { name: 'kind' }, KINDS.map((k) => [k, t('imports.kind.' + k)]));
  const file = field(t('imports.file_label'), { type: 'file', name: 'file', accept: '.csv,.xlsx', required: true });
  const skip = h('input', { type: 'checkbox', id: 'skip-invalid', name: 'skip_invalid', class: 'check' });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('imports.submit'));
  // Activities: the latest edition's dates, for the admin to check the file against.
  const dates = h('p', { class: 'muted', 'data-test': 'import-edition-dates' });
  const showDates = async () => {
    dates.textContent = '';
    if (kind.control.value !== 'activities') return;
    try {
      const [ed] = (await getJSON('/api/v1/admin/editions')).editions;
      if (ed && kind.control.value === 'activities') {
        dates.textContent = t('imports.edition_dates', { name: ed.name, start: formatDay(ed.start_date), end: formatDay(ed.end_date) });
      }
    } catch (e) { /* the hint is optional */ }
  };
  kind.control.addEventListener('change', showDates);
  const form = h('form', { class: 'card', 'data-test': 'import-form' }, kind.el, dates, file.el,
    h('label', { class: 'check-row', 'data-test': 'skip-label' }, skip, h('span', {}, t('imports.skip'))), submit, msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!file.control.files.length) { msg.textContent = t('imports.pick'); return; }
    const fd = new FormData();
    fd.append('file', file.control.files[0]);
    if (skip.checked) fd.append('skip_invalid', 'true');
    submit.disabled = true;
    msg.textContent = t('imports.running');
    try {
      const res = await authFetch('/api/v1/admin/import/' + kind.control.value, { method: 'POST', body: fd, headers: { Accept: 'application/json' } });
      const body = await problemOf(res);
      msg.textContent = '';
      if (res.ok) {
        const rows = Object.entries(body.counts || {}).map(([k, c]) => h('tr', {}, h('td', {}, t('imports.kind.' + k)),
          h('td', {}, formatNumber(c.inserted)), h('td', {}, formatNumber(c.updated)), h('td', {}, formatNumber(c.unchanged)), h('td', {}, formatNumber(c.skipped))));
        replace(out, h('p', { class: 'notice ok', role: 'status' }, t('imports.done')),
          table(t('imports.report'), [t('imports.kind'), t('imports.inserted'), t('imports.updated'), t('imports.unchanged'), t('imports.skipped')], rows),
          body.errors && body.errors.length ? issues(t('imports.skipped_lines'), body.errors) : null,
          body.warnings && body.warnings.length ? issues(t('imports.warnings'), body.warnings) : null);
      } else if (res.status === 422 && body) {
        replace(out, h('p', { class: 'notice bad', role: 'alert' }, t('imports.refused', { n: (body.errors || []).length })),
          issues(t('imports.errors'), body.errors || []));
      } else {
        replace(out, h('p', { class: 'notice bad', role: 'alert' }, t('console.failed', { detail: body && (body.code || body.detail) ? reasonText(body.code, body.detail) : res.status })));
      }
    } catch (e) {
      msg.textContent = errorText(e);
    }
    submit.disabled = false;
  });
  replace(root, h('h1', {}, t('imports.title')), h('p', { class: 'muted' }, t('imports.help')), form, out);
}
