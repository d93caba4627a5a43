// views/supervisor/upload.js — upload of an outbox file saved from a phone
// ("Enregistrer les pointages en attente dans un fichier"): it is applied
// on behalf of the phone by POST /api/v1/review/outbox-upload, and the
// result of each action is shown.

import { h, replace } from '../../dom.js';
import { t } from '../../i18n.js';
import { send } from '../console/api.js';
import { errorText, table, message } from '../console/ui.js';
import { reasonText } from '../../reasons.js';

/** render shows the upload form. */
export async function render(root) {
  const msg = message();
  const out = h('div', { 'data-test': 'upload-result' });
  const input = h('input', { type: 'file', id: 'outbox-file', name: 'file', accept: 'application/json,.json', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('upload.submit'));
  const form = h('form', { class: 'card', 'data-test': 'upload-form' },
    h('label', { for: 'outbox-file' }, t('upload.file')), input, submit, msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!input.files.length) { msg.textContent = t('upload.pick'); return; }
    submit.disabled = true;
    msg.textContent = '';
    const fd = new FormData();
    fd.append('file', input.files[0]);
    try {
      const r = await send('POST', '/api/v1/review/outbox-upload', fd);
      const counts = {};
      for (const x of r.results) counts[x.status] = (counts[x.status] || 0) + 1;
      replace(out,
        h('p', { class: 'notice ok', role: 'status' }, t('upload.done', { user: r.username, n: r.results.length })),
        table(t('upload.caption'), [t('upload.id'), t('upload.status'), t('upload.code')],
          r.results.map((x) => h('tr', {}, h('td', {}, h('bdi', {}, x.id.slice(0, 13) + '…')), h('td', {}, t('upload.st.' + x.status)), h('td', { 'data-test': 'reason', 'data-code': x.code || '' }, x.code ? reasonText(x.code, x.message) : x.outcome ? t('upload.st.' + x.outcome) : '')))));
    } catch (e) {
      msg.textContent = errorText(e);
    }
    submit.disabled = false;
  });
  replace(root, h('h1', {}, t('upload.title')), h('p', { class: 'muted' }, t('upload.help')), form, out);
}
