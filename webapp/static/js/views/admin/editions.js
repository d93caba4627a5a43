// views/admin/editions.js — the editions (name, theme, first and last
// day): list, create, edit (GET, POST, PATCH /api/v1/admin/editions), and
// each edition's bilan PDF, whose header carries its name and dates.

import { h, replace } from '../../dom.js';
import { t, formatDay } from '../../i18n.js';
import { getJSON, send, download } from '../console/api.js';
import { errorText, field, table, message } from '../console/ui.js';

/** editionForm returns a form for ed (null: a new edition) that runs save(body). */
function editionForm(ed, save, cancel) {
  const msg = message();
  const f = {
    name: field(t('editions.name'), { name: 'name', required: true, value: ed ? ed.name : '', autocomplete: 'off' }),
    theme: field(t('editions.theme'), { name: 'theme', value: ed ? ed.theme : '', autocomplete: 'off' }),
    start_date: field(t('editions.start'), { name: 'start_date', type: 'date', required: true, value: ed ? ed.start_date : '' }),
    end_date: field(t('editions.end'), { name: 'end_date', type: 'date', required: true, value: ed ? ed.end_date : '' }),
  };
  const form = h('form', { class: 'card', 'data-test': ed ? 'edition-edit' : 'edition-form' },
    h('h2', {}, ed ? t('editions.edit_title', { name: ed.name }) : t('editions.create')),
    h('div', { class: 'params' }, Object.values(f).map((x) => x.el)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-test': 'edition-submit' }, ed ? t('editions.save') : t('editions.create_submit')),
      cancel ? h('button', { type: 'button', class: 'secondary', onclick: cancel }, t('users.cancel')) : null), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [k, x] of Object.entries(f)) body[k] = x.control.value.trim();
    if (!body.name || !body.start_date || !body.end_date) { msg.textContent = t('editions.required'); return; }
    if (body.end_date < body.start_date) { msg.textContent = t('editions.order'); return; }
    try { await save(body); } catch (e) { msg.textContent = errorText(e); }
  });
  return form;
}

/** render lists the editions, latest first, with the creation form. */
export async function render(root, ctx, notice = '') {
  const reload = (m) => render(root, ctx, m);
  replace(root, h('h1', {}, t('editions.title')), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let editions;
  try { editions = (await getJSON('/api/v1/admin/editions')).editions; } catch (e) {
    replace(root, h('h1', {}, t('editions.title')), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const editBox = h('div', { 'data-test': 'edition-edit-box' });
  const msg = message();
  const rows = editions.map((ed) => {
    const result = h('span', { class: 'dl-result' });
    return h('tr', { 'data-test': 'edition', 'data-id': String(ed.id) },
      h('td', {}, h('bdi', {}, ed.name), ed.theme ? h('div', { class: 'muted' }, h('bdi', {}, ed.theme)) : null),
      h('td', {}, t('editions.from_to', { start: formatDay(ed.start_date), end: formatDay(ed.end_date) })),
      h('td', { class: 'cell-actions' },
        h('button', { type: 'button', class: 'secondary small', 'data-test': 'edition-edit-open', onclick: () => {
          replace(editBox, editionForm(ed, async (body) => {
            await send('PATCH', `/api/v1/admin/editions/${ed.id}`, body);
            reload(t('editions.saved', { name: body.name }));
          }, () => replace(editBox)));
          editBox.scrollIntoView({ block: 'nearest' });
        } }, t('editions.edit')),
        h('button', { type: 'button', class: 'secondary small', 'data-test': 'edition-bilan', onclick: async () => {
          try {
            const r = await download(`/api/v1/exports/bilan.pdf?edition=${ed.id}`);
            result.dataset.size = String(r.size);
            result.textContent = r.name;
          } catch (e) { result.textContent = errorText(e); }
        } }, t('editions.bilan')), result));
  });
  replace(root, h('h1', {}, t('editions.title')),
    notice ? h('p', { class: 'notice ok', role: 'status', 'data-test': 'editions-notice' }, notice) : null, msg,
    h('p', { class: 'muted' }, t('editions.help')),
    editBox,
    editions.length ? table(t('editions.caption'), [t('editions.name'), t('editions.dates'), ''], rows, { class: 'stacked', 'data-test': 'editions-table' })
      : h('p', { class: 'muted' }, t('editions.none')),
    editionForm(null, async (body) => {
      await send('POST', '/api/v1/admin/editions', body);
      reload(t('editions.created', { name: body.name }));
    }));
}
