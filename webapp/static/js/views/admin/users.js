// views/admin/users.js — the accounts: search and pages (hundreds of
// accounts), create, disable and re-enable (disabling asks first), reset a
// password (a labelled form, at least 10 characters), and a user's devices
// (revoke one, after a confirmation), shown where the admin is looking.

import { h, replace } from '../../dom.js';
import { t, formatNumber } from '../../i18n.js';
import { getJSON, send } from '../console/api.js';
import { errorText, when, shortId, field, table, message, confirmIn } from '../console/ui.js';

const ROLES = ['staff', 'supervisor', 'admin'];
const MIN_PASSWORD = 10;
/** PAGE is the number of accounts per page. */
const PAGE = 50;

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
  box.scrollIntoView({ block: 'nearest' });
  try {
    const { devices } = await getJSON(`/api/v1/admin/users/${encodeURIComponent(username)}/devices`);
    const msg = message();
    const ask = h('div', { 'data-test': 'revoke-confirm' });
    replace(box, devices.length ? table(t('users.devices_of', { user: username }),
      [t('review.device'), t('devices.last_sync'), t('devices.version'), ''],
      devices.map((d) => h('tr', { 'data-test': 'user-device' },
        h('td', {}, h('bdi', { title: d.device_id }, shortId(d.device_id))), h('td', {}, when(d.last_push_at || d.last_seen_at)), h('td', {}, d.app_version || '—'),
        h('td', {}, d.revoked_at ? t('devices.revoked') : h('button', { type: 'button', class: 'secondary small', 'data-test': 'revoke', onclick: () =>
          confirmIn(ask, t('users.revoke_confirm', { device: shortId(d.device_id), user: username }), t('users.revoke'), async () => {
            await send('POST', `/api/v1/admin/devices/${encodeURIComponent(d.device_id)}/revoke`);
            showDevices(box, username);
          }) }, t('users.revoke')))))) : h('p', { class: 'muted' }, t('devices.none')), ask, msg);
    box.scrollIntoView({ block: 'nearest' });
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

/**
 * render lists the users matching the search (server side, q: username or
 * full name), PAGE at a time, with the page's place (state.page).
 */
export async function render(root, ctx, notice = '', state = { q: '', page: 0 }) {
  const reload = (m) => render(root, ctx, m, state);
  replace(root, h('h1', {}, t('users.title')), h('p', { class: 'muted', role: 'status' }, t('console.loading')));
  let users;
  try { users = (await getJSON('/api/v1/admin/users' + (state.q ? '?q=' + encodeURIComponent(state.q) : ''))).users; } catch (e) {
    replace(root, h('h1', {}, t('users.title')), h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
    return;
  }
  const pages = Math.max(1, Math.ceil(users.length / PAGE));
  const page = Math.min(state.page, pages - 1);
  const devicesBox = h('div', { 'data-test': 'user-devices' });
  const passwordBox = h('div', { 'data-test': 'user-password' });
  const askBox = h('div', { 'data-test': 'user-confirm' });
  const msg = message();
  const setDisabled = (u, disabled) => async () => {
    await send('PATCH', `/api/v1/admin/users/${encodeURIComponent(u.username)}`, { disabled });
    reload(t(disabled ? 'users.disabled_done' : 'users.enabled_done', { user: u.username }));
  };
  const rows = users.slice(page * PAGE, (page + 1) * PAGE).map((u) => h('tr', { 'data-test': 'user', 'data-id': u.username, class: u.disabled ? 'revoked' : null },
    h('td', {}, h('bdi', {}, u.username), h('div', { class: 'muted' }, h('bdi', {}, u.full_name))),
    h('td', {}, t('role.' + u.role), h('div', { class: 'muted' }, u.establishment_code || u.region_code || '')),
    h('td', {}, u.disabled ? t('users.disabled') : t('users.active')),
    h('td', { class: 'cell-actions' },
      h('button', { type: 'button', class: 'secondary small', 'data-test': 'devices', onclick: () => showDevices(devicesBox, u.username) }, t('users.devices')),
      u.disabled
        ? h('button', { type: 'button', class: 'secondary small', 'data-test': 'enable', onclick: async () => {
          try { await setDisabled(u, false)(); } catch (e) { msg.textContent = errorText(e); }
        } }, t('users.enable'))
        : h('button', { type: 'button', class: 'secondary small', 'data-test': 'disable', onclick: () =>
          confirmIn(askBox, t('users.disable_confirm', { user: u.username }), t('users.disable'), setDisabled(u, true)) }, t('users.disable')),
      h('button', { type: 'button', class: 'secondary small', 'data-test': 'reset', onclick: () => passwordForm(passwordBox, u.username, reload) }, t('users.reset')))));
  const search = field(t('users.search'), { type: 'search', name: 'q', value: state.q, autocomplete: 'off', 'data-test': 'user-search' });
  const form = h('form', { class: 'filters', role: 'search', 'data-test': 'user-search-form' }, search.el,
    h('button', { type: 'submit', class: 'secondary' }, t('users.search_submit')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    render(root, ctx, '', { q: search.control.value.trim(), page: 0 });
  });
  const go = (p) => render(root, ctx, '', { ...state, page: p });
  const pager = h('nav', { class: 'actions pager', 'aria-label': t('users.pages') },
    h('button', { type: 'button', class: 'secondary small', 'data-test': 'page-prev', disabled: page === 0 ? '' : null, onclick: () => go(page - 1) }, t('users.prev')),
    h('span', { 'data-test': 'page-of' }, t('users.page_of', { page: formatNumber(page + 1), pages: formatNumber(pages), n: users.length })),
    h('button', { type: 'button', class: 'secondary small', 'data-test': 'page-next', disabled: page >= pages - 1 ? '' : null, onclick: () => go(page + 1) }, t('users.next')));
  replace(root, h('h1', {}, t('users.title')),
    notice ? h('p', { class: 'notice ok', role: 'status' }, notice) : null, msg, form,
    askBox, passwordBox, devicesBox,
    table(t('users.caption'), [t('login.username'), t('users.role'), t('users.state'), ''], rows, { class: 'stacked', 'data-test': 'users-table', 'data-total': String(users.length) }),
    pager, createForm(reload));
}
