// views/admin/audit.js — the audit log, newest first, filtered by user,
// action (exact, or a prefix ending in ".") and date.

import { h, replace } from '../../dom.js';
import { t } from '../../i18n.js';
import { getJSON } from '../console/api.js';
import { errorText, when, field, table } from '../console/ui.js';

const filters = { username: '', action: '', date: '' };

/** render shows the filters and the entries. */
export async function render(root) {
  const user = field(t('audit.user'), { name: 'username', value: filters.username });
  const action = field(t('audit.action'), { name: 'action', value: filters.action, placeholder: 'review.' });
  const date = field(t('audit.date'), { name: 'date', type: 'date', value: filters.date });
  const out = h('div', {});
  const form = h('form', { class: 'card filters', 'data-test': 'audit-form' }, user.el, action.el, date.el,
    h('button', { type: 'submit', class: 'primary' }, t('audit.filter')));
  const load = async () => {
    const q = new URLSearchParams();
    if (filters.username) q.set('username', filters.username);
    if (filters.action) q.set('action', filters.action);
    if (filters.date) {
      const next = new Date(filters.date + 'T00:00:00Z');
      next.setUTCDate(next.getUTCDate() + 1);
      q.set('from', filters.date);
      q.set('to', next.toISOString().slice(0, 10));
    }
    replace(out, h('p', { class: 'muted', role: 'status' }, t('console.loading')));
    try {
      const { entries } = await getJSON('/api/v1/admin/audit?' + q);
      replace(out, entries.length ? table(t('audit.caption'), [t('audit.at'), t('audit.user'), t('audit.action'), t('audit.target')],
        entries.map((e) => h('tr', { 'data-test': 'audit-entry' }, h('td', {}, when(e.at)), h('td', {}, h('bdi', {}, e.username)),
          h('td', {}, h('code', {}, e.action)), h('td', {}, h('bdi', {}, e.target || ''),
            e.detail ? h('div', { class: 'muted small-text' }, h('bdi', {}, JSON.stringify(e.detail))) : null)))) : h('p', { class: 'muted' }, t('audit.none')));
    } catch (e) {
      replace(out, h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    filters.username = user.control.value.trim();
    filters.action = action.control.value.trim();
    filters.date = date.control.value;
    load();
  });
  replace(root, h('h1', {}, t('audit.title')), form, out);
  await load();
}
