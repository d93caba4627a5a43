// views/issues.js — the lists of actions the server refused (with the
// reason, in the user's language: reasons.js) or holds for a supervisor's
// review.

import { h, replace } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { getAll } from '../db.js';
import { person } from '../roster.js';
import { reasonText } from '../reasons.js';

function describe(m) {
  if (m.type === 'trainee.register') return `${m.trainee.last_name} ${m.trainee.first_name}`;
  if (!m.person) return m.type;
  const rec = person(m.person);
  const name = rec ? `${rec.data.last_name} ${rec.data.first_name}` : m.person.id;
  return `${name} · ${m.activity_id}`;
}

/** render shows the refused and awaiting-review lists. */
export async function render(root, ctx) {
  const issues = (await getAll('issues')).sort((a, b) => b.at - a.at);
  const list = (which) => {
    const items = issues.filter((i) => i.list === which);
    if (!items.length) return h('p', { class: 'muted' }, t('issues.none'));
    return h('ul', { class: 'list' }, items.map((i) => h('li', { class: 'row' },
      h('div', { class: 'grow' },
        h('strong', {}, h('bdi', {}, describe(i.mutation))),
        h('div', { class: 'muted' }, t('type.' + i.mutation.type), ' · ', formatDateTime(Date.parse(i.mutation.recorded_at) || i.at)),
        h('div', { 'data-test': 'reason', 'data-code': i.code || '' }, reasonText(i.code, i.message))))));
  };
  replace(root,
    h('button', { type: 'button', class: 'link', onclick: () => ctx.go('#/') }, t('nav.back')),
    h('h1', {}, t('issues.title')),
    h('h2', {}, t('issues.refused')), h('p', { class: 'muted' }, t('issues.refused_help')), list('refused'),
    h('h2', {}, t('issues.review')), h('p', { class: 'muted' }, t('issues.review_help')), list('review'));
}
