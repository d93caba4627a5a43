// views/admin/charts.js — horizontal SVG bar charts built with DOM APIs:
// geometry and colours are SVG presentation attributes set through
// setAttribute (allowed by the CSP, unlike inline styles). Bars are
// mirrored for right-to-left pages by the caller's direction.

const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * barChart draws rows [{label, parts: [value…]}] as stacked bars (one
 * colour class per part) with the total at the end of each bar. opts:
 * title (accessible name), rtl, format (number formatter).
 */
export function barChart(rows, opts) {
  const labelW = 120, barW = 360, gap = 8, rowH = 28, pad = 4;
  const width = labelW + barW + 70;
  const height = rows.length * (rowH + gap) + pad * 2;
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((a, b) => a + b, 0)));
  // direction ltr: the geometry is mirrored here, so text-anchor must not flip again.
  const svg = el('svg', { direction: 'ltr', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': opts.title, class: 'chart', preserveAspectRatio: 'xMinYMin meet' });
  svg.append(el('title', {}, opts.title));
  const x = (v, w) => (opts.rtl ? width - labelW - v - w : labelW + v);
  rows.forEach((r, i) => {
    const y = pad + i * (rowH + gap);
    svg.append(el('text', { x: opts.rtl ? width - labelW + 6 : labelW - 6, y: y + rowH / 2, 'text-anchor': opts.rtl ? 'start' : 'end', 'dominant-baseline': 'middle', class: 'chart-label' }, r.label));
    let at = 0;
    r.parts.forEach((v, k) => {
      const w = (v / max) * barW;
      if (w > 0) svg.append(el('rect', { x: x(at, w), y, width: w, height: rowH, class: 'bar bar-' + k, rx: 2 }));
      at += w;
    });
    const total = r.parts.reduce((a, b) => a + b, 0);
    svg.append(el('text', { x: opts.rtl ? x(at, 0) - 6 : x(at, 0) + 6, y: y + rowH / 2, 'text-anchor': opts.rtl ? 'end' : 'start', 'dominant-baseline': 'middle', class: 'chart-value' }, opts.format(total)));
  });
  return svg;
}
