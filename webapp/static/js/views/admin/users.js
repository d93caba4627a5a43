// views/admin/users.js — the accounts: list, create, disable, reset a
// password (a labelled form, at least 10 characters), and a user's devices
// (revoke one).

import { h, replace } from '../../dom.js';
import { t } from '../../i18n.js';
import { getJSON, send } from '../console/api.js';
import { errorText, when, field, table, message } from '../console/ui.js';

const ROLES = ['staff', 'supervisor', 'admin'];
const MIN_PASSWORD = 10;

/** passwordForm fills box with the new-password form of username. */
function passwordForm(box, username, reload) {
  const msg = message();
  const pw = field(t('users.new_password', { user: username }), {
    name: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: String(MIN_PASSWORD), 'data-test': 'new-password',
  });
  const hint = h('p', { class: 'muted small-text' }, t('users.password_hint', { n: MIN_PASSWORD }));
  const form = h('form', { class: 'card', 'data-test': 'password-form', novalidate: '' }, h('h2', {}, t('users.reset_title', { user: username })),
    pw.el, hint, h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', 'data-test': 'password-submit' }, t('users.reset_submit')),
      h('button', { type: 'button', class: 'secondary', onclick: () => replace(box) }, t('users.cancel'))), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = pw.control.value;
    if ([...value].length < MIN_PASSWORD) {
      msg.textContent = t('users.password_short', { n: MIN_PASSWORD });
      pw.control.setAttribute('aria-invalid', 'true');
      pw.control.focus();
      return;
    }
    pw.control.removeAttribute('aria-invalid');
    try {
      await send('PUT', `/api/v1/admin/users/${encodeURIComponent(username)}/password`, { password: value });
      reload(t('users.password_done', { user: username }));
    } catch (e) { msg.textContent = errorText(e); }
  });
  replace(box, form);
  pw.control.focus();
}

async function showDevices(box, username) {
  replace(box, h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  try {
    const { devices } = await getJSON(`/api/v1/admin/users/${encodeURIComponent(username)}/devices`);
    const msg = message();
    replace(box, devices.length ? table(t('users.devices_of', { user: username }),
      [t('review.device'), t('devices.last_sync'), t('devices.version'), ''],
      devices.map((d) => h('tr', { 'data-test': 'user-device' },
        h('td', {}, h('bdi', {}, d.device_id)), h('td', {}, when(d.last_push_at || d.last_seen_at)), h('td', {}, d.app_version || '—'),
        h('td', {}, d.revoked_at ? t('devices.revoked') : h('button', { type: 'button', class: 'secondary small', 'data-test': 'revoke', onclick: async () => {
          try { await send('POST', `/api/v1/admin/devices/${encodeURIComponent(d.device_id)}/revoke`); showDevices(box, username); } catch (e) { msg.textContent = errorText(e); }
        } }, t('users.revoke')))))) : h('p', { class: 'muted' }, t('devices.none')), msg);
  } catch (e) {
    replace(box, h('p', { class: 'notice bad' }, errorText(e)));
  }
}

function createForm(reload) {
  const msg = message();
  const f = {
    username: field(t('login.username'), { name: 'username', required: true, autocomplete: 'off' }),
    full_name: field(t('users.full_name'), { name: 'full_name', required: true }),
    role: field(t('users.role'), { name: 'role' }, ROLES.map((r) => [r, t('role.' + r)])),
    establishment_code: field(t('users.establishment'), { name: 'establishment_code' }),
    region_code: field(t('users.region'), { name: 'region_code' }),
    password: field(t('login.password'), { name: 'password', type: 'password', autocomplete: 'new-password' }),
  };
  const form = h('form', { class: 'card', 'data-test': 'user-form' }, h('h2', {}, t('users.create')), Object.values(f).map((x) => x.el),
    h('button', { type: 'submit', class: 'primary' }, t('users.create_submit')), msg);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const [k, x] of Object.entries(f)) body[k] = x.control.value.trim();
    try { await send('POST', '/api/v1/admin/users', body); reload(t('users.created', { user: body.username })); } catch (e) { msg.textContent = errorText(e); }
  });
  return form;
}

/** render lists the users. */
export async function render(root, ctx, notice = '') {
  const reload = (m) => render(root, ctx, m);
  replace(root, h('h1', {}, t('users.title')), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let users;
  try { users = (await getJSON('/api/v1/admin/users')).users; } catch (e) {
    replace(root, h('h1', {}, t('users.title')), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const devicesBox = h('div', { 'data-test': 'user-devices' });
  const passwordBox = h('div', { 'data-test': 'user-password' });
  const msg = message();
  const rows = users.map((u) => h('tr', { 'data-test': 'user', 'data-id': u.username, class: u.disabled ? 'revoked' : null },
    h('td', {}, h('bdi', {}, u.username), h('div', { class: 'muted' }, h('bdi', {}, u.full_name))),
    h('td', {}, t('role.' + u.role), h('div', { class: 'muted' }, u.establishment_code || u.region_code || '')),
    h('td', {}, u.disabled ? t('users.disabled') : t('users.active')),
    h('td', { class: 'cell-actions' },
      h('button', { type: 'button', class: 'secondary small', onclick: () => showDevices(devicesBox, u.username) }, t('users.devices')),
      u.disabled ? null : h('button', { type: 'button', class: 'secondary small', 'data-test': 'disable', onclick: async () => {
        try { await send('PATCH', `/api/v1/admin/users/${encodeURIComponent(u.username)}`, { disabled: true }); reload(t('users.disabled_done', { user: u.username })); } catch (e) { msg.textContent = errorText(e); }
      } }, t('users.disable')),
      h('button', { type: 'button', class: 'secondary small', 'data-test': 'reset', onclick: () => passwordForm(passwordBox, u.username, reload) }, t('users.reset')))));
  replace(root, h('h1', {}, t('users.title')),
    notice ? h('p', { class: 'notice ok', role: 'status' }, notice) : null, msg,
    table(t('users.caption'), [t('login.username'), t('users.role'), t('users.state'), ''], rows),
    passwordBox, devicesBox, createForm(reload));
}
