// views/console/ui.js — small building blocks shared by the supervisor and
// admin screens: error messages, times, definition lists, tables and a
// labelled field (every input has its label).

import { h } from '../../dom.js';
import { t, formatDateTime } from '../../i18n.js';
import { HttpError } from '../../http.js';
import { reasonText } from '../../reasons.js';

let fieldSeq = 0;

/**
 * errorText turns a failure into a sentence for the screen: the text of the
 * problem's code in the user's language (reasons.js).
 */
export function errorText(e) {
  if (e instanceof HttpError) {
    if (e.status === 403) return t('console.forbidden');
    return t('console.failed', { detail: reasonText(e.code, e.message) });
  }
  return t('console.offline');
}

/** when formats an RFC 3339 time (empty: a dash). */
export function when(s) {
  if (!s) return '—';
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? s : formatDateTime(ms);
}

/**
 * whenEl formats an RFC 3339 time as one isolated element: a <time> in a
 * <bdi>, so that in Arabic the date's digits and separators are never
 * reordered with the words around them (empty: a dash).
 */
export function whenEl(s) {
  const ms = s ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) return h('span', {}, s || '—');
  return h('bdi', {}, h('time', { datetime: s, 'data-test': 'at' }, formatDateTime(ms)));
}

/** shortId returns the first 8 characters of a device id (a UUID's first block). */
export function shortId(id) {
  return String(id || '').slice(0, 8);
}

/**
 * who shows a name with an id in small print beside it (the name alone
 * when both are the same; the id alone when the name is unknown).
 */
export function who(name, id, test = 'who') {
  return h('span', { 'data-test': test },
    h('bdi', { class: 'who-name' }, name || id || '—'),
    name && id && name !== id ? [' ', h('small', { class: 'muted', dir: 'ltr' }, id)] : null);
}

/** dl builds a definition list from [label, value] pairs (null values skipped). */
export function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter((p) => p && p[1] !== null && p[1] !== undefined && p[1] !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v instanceof Node ? v : h('bdi', {}, String(v)))]));
}

/** table builds a table with a caption, headers and rows of cells. */
export function table(caption, headers, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
}

/** field returns a labelled input (or select when options are given) and the control. */
export function field(label, attrs = {}, options = null) {
  const id = attrs.id || 'f' + (++fieldSeq);
  const control = options
    ? h('select', { ...attrs, id }, options.map(([v, txt]) => h('option', { value: v }, txt)))
    : h('input', { type: 'text', ...attrs, id });
  return { el: h('div', { class: 'field' }, h('label', { for: id }, label), control), control };
}

/** message returns an alert paragraph, empty until set. */
export function message() {
  return h('p', { class: 'msg', role: 'alert', 'data-test': 'console-msg' });
}

/**
 * confirmIn fills box with a question and two buttons (data-test
 * confirm-yes, confirm-no); yes runs onYes, no empties the box. The box is
 * scrolled into view and its yes button focused.
 */
export function confirmIn(box, question, yes, onYes) {
  const msg = message();
  const card = h('div', { class: 'card confirm', role: 'alertdialog', 'aria-label': question, 'data-test': 'confirm' },
    h('p', {}, question), h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', 'data-test': 'confirm-yes', onclick: async (ev) => {
        ev.currentTarget.disabled = true;
        try { await onYes(); } catch (e) { msg.textContent = errorText(e); ev.target.disabled = false; }
      } }, yes),
      h('button', { type: 'button', class: 'secondary', 'data-test': 'confirm-no', onclick: () => box.replaceChildren() }, t('users.cancel'))), msg);
  box.replaceChildren(card);
  card.scrollIntoView({ block: 'nearest' });
  card.querySelector('button').focus();
}
