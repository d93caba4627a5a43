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
 * keyed makes el's children the nodes of items ([key, make] pairs): a child
 * of the same data-key is kept as it is, only the others are built (make)
 * and nothing that stays is removed or moved. A list re-rendered under the
 * user's finger thus keeps the element the finger is on: a click needs the
 * same element under the press and the release, and a replaced button
 * never gets it.
 */
export function keyed(el, items) {
  const old = new Map();
  for (const c of el.children) if (c.dataset.key) old.set(c.dataset.key, c);
  const nodes = items.map(([key, make]) => {
    const kept = old.get(key);
    if (kept) { old.delete(key); return kept; }
    const n = make();
    n.dataset.key = key;
    return n;
  });
  const keep = new Set(nodes);
  for (const c of [...el.childNodes]) if (!keep.has(c)) c.remove();
  let cur = el.firstChild;
  for (const n of nodes) {
    if (n === cur) cur = cur.nextSibling;
    else el.insertBefore(n, cur);
  }
  return el;
}

/**
 * frenchSpacing returns s with no-break spaces before : ; ! ? » and after «,
 * so that a line never starts with the punctuation of a French title.
 */
export function frenchSpacing(s) {
  return String(s).replace(/ ([:;!?»])/g, '\u00a0$1').replace(/« /g, '«\u00a0');
}
