// views/login.js — the login screen (online), then the download of the
// user's scope into the phone, ending with "ready to work offline".

import { h, replace } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import * as auth from '../auth.js';
import * as sync from '../sync.js';
import * as roster from '../roster.js';
import { getMeta, setMeta } from '../db.js';
import { HttpError } from '../http.js';
import { reasonText } from '../reasons.js';

function errorText(e) {
  if (e instanceof HttpError) {
    if (e.code === 'invalid_credentials') return t('login.invalid');
    if (e.status === 429) return t('login.rate_limited', { s: e.retryAfter ?? 60 });
    return t('login.failed', { detail: reasonText(e.code, e.message) });
  }
  return t('login.offline');
}

/** render shows the login form. */
export async function render(root, ctx) {
  const prev = await getMeta('user');
  const msg = h('p', { class: 'msg', role: 'alert', 'data-test': 'login-msg' });
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', value: prev ? prev.username : '' });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
  const form = h('form', { class: 'card', 'data-test': 'login-form' },
    h('label', { for: 'username' }, t('login.username')), user,
    h('label', { for: 'password' }, t('login.password')), pass,
    submit, msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    msg.textContent = t('login.signing_in');
    try {
      const u = await auth.login(user.value.trim(), pass.value);
      pass.value = '';
      await setMeta('user', u);
      ctx.setUser(u);
      if (u.role === 'supervisor' || u.role === 'admin') { ctx.go('#/'); return; } // online screens, no download
      sync.loggedIn();
      if (!(await getMeta('cursor')) || !(await getMeta('roster_at'))) {
        await download(root, ctx);
      } else {
        sync.syncNow();
        ctx.go('#/');
      }
    } catch (e) {
      msg.textContent = errorText(e);
      submit.disabled = false;
    }
  });
  replace(root,
    h('h1', {}, t('login.title')),
    prev ? h('p', { class: 'notice' }, t('login.again', { name: prev.full_name || prev.username })) : h('p', { class: 'muted' }, t('login.intro')),
    form);
  (prev ? pass : user).focus();
}

/** download pulls the scope with progress, then says the phone is ready. */
async function download(root, ctx) {
  const progress = h('p', { role: 'status', 'data-test': 'download-progress' }, t('download.starting'));
  replace(root, h('h1', {}, t('download.title')), progress);
  try {
    performance.mark('download:start');
    await sync.pull((n) => { progress.textContent = t('download.progress', { n }); });
    performance.mark('download:pulled');
    await roster.reload();
    performance.mark('download:roster');
    await ctx.persist();
    performance.mark('download:persisted');
    sync.syncNow();
    const n = roster.data.trainees.size;
    replace(root,
      h('h1', {}, t('download.title')),
      h('p', { class: 'notice ok', 'data-test': 'ready' },
        t('download.ready', { date: formatDateTime(roster.data.rosterAt), count: t('count.trainees', { n }) })),
      h('button', { type: 'button', class: 'primary', 'data-test': 'continue', onclick: () => ctx.go('#/') }, t('download.continue')));
  } catch (e) {
    replace(root,
      h('h1', {}, t('download.title')),
      h('p', { class: 'notice bad', role: 'alert' }, t('download.failed', { detail: reasonText(e.code, e.message) })),
      h('button', { type: 'button', class: 'primary', onclick: () => download(root, ctx) }, t('download.retry')));
  }
}
