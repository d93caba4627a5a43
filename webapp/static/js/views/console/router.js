// views/console/router.js — the screens of supervisors and admins (the
// same PWA, online-first): which screens a role has, the navigation bar
// (a row of links; on phones a compact <details> menu instead, by CSS),
// and the dispatch of a hash to its screen. Staff never get here.

import { h, replace } from '../../dom.js';
import { t } from '../../i18n.js';
import * as auth from '../../auth.js';
import { setMeta } from '../../db.js';
import * as review from '../supervisor/review.js';
import * as devices from '../supervisor/devices.js';
import * as activities from '../supervisor/activities.js';
import * as upload from '../supervisor/upload.js';
import * as imports from '../admin/imports.js';
import * as users from '../admin/users.js';
import * as audit from '../admin/audit.js';
import * as exportsView from '../admin/exports.js';
import * as bilan from '../admin/bilan.js';
import * as editions from '../admin/editions.js';

const SUPERVISOR = [
  ['#/review', 'nav.review', review],
  ['#/activities', 'nav.activities', activities],
  ['#/devices', 'nav.devices', devices],
  ['#/upload', 'nav.upload', upload],
  ['#/exports', 'nav.exports', exportsView],
];
const ADMIN = [
  ['#/bilan', 'nav.bilan', bilan],
  ...SUPERVISOR,
  ['#/imports', 'nav.imports', imports],
  ['#/editions', 'nav.editions', editions],
  ['#/users', 'nav.users', users],
  ['#/audit', 'nav.audit', audit],
];

/** isConsole reports whether user gets the console screens. */
export function isConsole(user) {
  return !!user && (user.role === 'supervisor' || user.role === 'admin');
}

function screensOf(user) { return user.role === 'admin' ? ADMIN : SUPERVISOR; }

/** render draws the navigation and the screen of hash (the role's first by default). */
export async function render(root, ctx, hash) {
  const user = ctx.user();
  const screens = screensOf(user);
  const path = hash.split('?')[0];
  const current = screens.find(([href]) => href === path) || screens[0];
  const links = (prefix) => h('ul', {}, screens.map(([href, key]) => h('li', {},
    h('a', { href, class: 'button', 'aria-current': href === current[0] ? 'page' : null, 'data-test': prefix + href.slice(2) }, t(key)))));
  const nav = h('nav', { class: 'console-nav', 'aria-label': t('nav.label') },
    h('div', { class: 'nav-wide' }, links('nav-')),
    h('details', { class: 'nav-compact', 'data-test': 'nav-menu' },
      h('summary', { class: 'button' }, t('nav.menu', { screen: t(current[1]) })), links('menu-')),
    h('button', { type: 'button', class: 'secondary', 'data-test': 'console-logout', onclick: () => logout(ctx) }, t('home.logout')));
  const screen = h('section', { class: 'console', 'data-test': 'screen-' + current[0].slice(2) });
  replace(root,
    h('p', { class: 'muted console-who' }, t('console.who', { name: user.full_name || user.username, role: t('role.' + user.role) })),
    nav, screen);
  document.body.classList.add('console-mode');
  await current[2].render(screen, ctx);
}

async function logout(ctx) {
  await auth.logout();
  await setMeta('user', null);
  ctx.setUser(null);
  ctx.go('#/login');
}
