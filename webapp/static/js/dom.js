// dom.js — building the page safely: h() creates elements with text
// (never HTML strings, so names from the roster are always escaped) and
// event handlers as properties (no inline script, CSP-safe).

/**
 * h creates an element: attrs sets attributes (on* keys set handlers,
 * "class" the class, booleans toggle), children are nodes or text.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** clear empties el and appends children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * frenchSpacing returns s with no-break spaces before : ; ! ? » and after «,
 * so that a line never starts with the punctuation of a French title.
 */
export function frenchSpacing(s) {
  return String(s).replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0');
}
