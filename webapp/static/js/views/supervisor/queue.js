// views/supervisor/queue.js — the review queue at size (issue #18, finding
// 5): filters (kind, activity, device, staff member, day, search by name or
// matricule) over GET /api/v1/review/items, the total and the counts per
// kind, pages ("more"), a selection and bulk decisions (one reason, a
// confirmation saying how many) through POST /api/v1/review/items/decide,
// cancelling pairs (a refused check-in and its refused undo) settled with
// one decision, and a mistyped matricule attached to the right trainee
// (GET /api/v1/review/trainees, POST /api/v1/review/quarantine/{id}/attach).
// review.js draws the cards; this module decides which, in which order,
// and adds the selection, pair and attach controls to them.

import { h, replace } from '../../dom.js';
import { t, has, formatNumber } from '../../i18n.js';
import { getJSON, send } from '../console/api.js';
import { errorText, field, message } from '../console/ui.js';
import { reasonText } from '../../reasons.js';

const PAGE = 50;
const FILTERS = ['kind', 'activity', 'device', 'user', 'day', 'q'];

/** state is the queue's filters, pages shown and selection; it outlives a redraw. */
export const state = { filter: {}, pages: 1, selected: new Set(), all: false };

/** kindText names a kind of item (a flag's kind or a refusal code). */
export function kindText(kind) {
  return has('queue.kind.' + kind) ? t('queue.kind.' + kind) : reasonText(kind, kind);
}

function query(extra = {}) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (state.filter[k]) q.set(k, state.filter[k]);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

/**
 * load fetches the pages shown of the filtered queue: {total, counts,
 * items, next, byRef}. Items selected but no longer listed leave the
 * selection.
 */
export async function load() {
  const page = await getJSON('/api/v1/review/items?' + query({ limit: String(Math.min(PAGE * state.pages, 500)) }));
  page.byRef = new Map(page.items.map((it) => [it.ref, it]));
  for (const ref of state.selected) if (!page.byRef.has(ref)) state.selected.delete(ref);
  return page;
}

/** order keeps the rows whose ref is in the page, in the queue's order, each pair's items together. */
export function order(page, rows, refOf) {
  const byRef = new Map(rows.map((r) => [refOf(r), r]));
  const out = [];
  const seen = new Set();
  for (const it of page.items) {
    for (const ref of [it.ref, it.pair]) {
      if (ref && !seen.has(ref) && byRef.has(ref) && page.byRef.has(ref)) {
        seen.add(ref);
        out.push(byRef.get(ref));
      }
    }
  }
  return out;
}

/** bar draws the filter bar, the total and counts per kind, and the bulk decision. */
export function bar(page, reload) {
  const f = state.filter;
  const apply = () => { state.pages = 1; state.selected.clear(); state.all = false; reload('', false); };
  const kinds = Object.keys(page.counts).sort();
  const ctl = (key, label, attrs, options) => {
    const x = field(label, { name: key, 'data-test': 'filter-' + key, value: f[key] || '', ...attrs }, options);
    if (options) x.control.value = f[key] || '';
    return x;
  };
  const kind = ctl('kind', t('queue.filter.kind'), {}, [['', t('queue.all_kinds')], ...kinds.map((k) => [k, kindText(k)])]);
  const datalist = (id, values) => h('datalist', { id }, [...new Set(values.filter(Boolean))].sort().map((v) => h('option', { value: v })));
  const activity = ctl('activity', t('queue.filter.activity'), { list: 'dl-activity', autocomplete: 'off' });
  const device = ctl('device', t('queue.filter.device'), { list: 'dl-device', autocomplete: 'off' });
  const user = ctl('user', t('queue.filter.user'), { list: 'dl-user', autocomplete: 'off' });
  const day = ctl('day', t('queue.filter.day'), { type: 'date' });
  const search = field(t('queue.search'), { type: 'search', name: 'q', 'data-test': 'review-search', value: f.q || '', autocomplete: 'off' });
  const controls = [kind, activity, device, user, day, search];
  // On a phone the filters fold away unless one is set.
  const active = FILTERS.filter((k) => f[k]).length;
  const form = h('form', {
    class: 'card', 'data-test': 'review-filters', role: 'search',
    onsubmit: (ev) => {
      ev.preventDefault();
      for (const c of controls) state.filter[c.control.name] = c.control.value.trim();
      apply();
    },
  }, h('details', { class: 'filter-fold', open: active > 0 || window.matchMedia('(min-width: 40rem)').matches },
    h('summary', { 'data-test': 'filter-toggle' }, t('queue.filters', { n: formatNumber(active) })),
    h('div', { class: 'filter-grid' }, controls.map((c) => c.el))),
  datalist('dl-activity', page.items.map((it) => it.activity_id)),
  datalist('dl-device', page.items.map((it) => it.device_id)),
  datalist('dl-user', page.items.map((it) => it.username)),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', class: 'primary', 'data-test': 'filter-apply' }, t('queue.filter.apply')),
    FILTERS.some((k) => f[k]) ? h('button', {
      type: 'button', class: 'secondary', 'data-test': 'filter-clear',
      onclick: () => { state.filter = {}; apply(); },
    }, t('queue.filter.clear')) : null));
  kind.control.addEventListener('change', () => form.requestSubmit());
  day.control.addEventListener('change', () => form.requestSubmit());

  const counts = h('p', { class: 'counts' },
    h('strong', { 'data-test': 'review-total', 'data-value': String(page.total) }, t('queue.total', { n: formatNumber(page.total) })), ' ',
    kinds.map((k) => h('button', {
      type: 'button', class: 'pill' + (f.kind === k ? ' ok' : ''), 'data-test': 'review-count-' + k, 'data-value': String(page.counts[k]),
      'aria-pressed': f.kind === k ? 'true' : 'false',
      onclick: () => { state.filter.kind = f.kind === k ? '' : k; apply(); },
    }, kindText(k), ' ', h('bdi', {}, formatNumber(page.counts[k])))));
  return h('section', { class: 'queue', 'data-test': 'review-queue', 'aria-label': t('queue.title') },
    form, counts, bulk(page, reload));
}

/** bulk draws the selection and the bulk decision with its confirmation. */
function bulk(page, reload) {
  const msg = message();
  const n = () => (state.all ? page.total : state.selected.size);
  const count = h('span', { 'data-test': 'bulk-count' });
  const all = h('input', {
    type: 'checkbox', id: 'bulk-all', 'data-test': 'bulk-select-all', checked: state.all,
    onchange: () => {
      state.all = all.checked;
      document.querySelectorAll('[data-test=bulk-item]').forEach((b) => { b.checked = state.all || state.selected.has(b.value); b.disabled = state.all; });
      update();
    },
  });
  const action = field(t('queue.bulk.action'), { name: 'action', 'data-test': 'bulk-action' },
    [['dismiss', t('queue.bulk.dismiss')], ['accept', t('queue.bulk.accept')]]);
  const reason = field(t('queue.bulk.reason'), { name: 'reason', 'data-test': 'bulk-reason', autocomplete: 'off' });
  const confirm = h('div', { class: 'confirm', hidden: true });
  const applyBtn = h('button', {
    type: 'button', class: 'primary', 'data-test': 'bulk-apply',
    onclick: () => {
      msg.textContent = '';
      if (!n()) { msg.textContent = t('queue.bulk.none'); return; }
      if (action.control.value === 'accept' && !reason.control.value.trim()) { msg.textContent = t('queue.bulk.reason_needed'); return; }
      replace(confirm,
        h('p', { 'data-test': 'bulk-question' }, t('queue.bulk.question', { n: formatNumber(n()), action: t('queue.bulk.' + action.control.value) })),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', 'data-test': 'bulk-confirm', onclick: decide }, t('queue.bulk.confirm')),
          h('button', { type: 'button', class: 'secondary', 'data-test': 'bulk-cancel', onclick: () => { confirm.hidden = true; } }, t('queue.bulk.cancel'))));
      confirm.hidden = false;
    },
  }, t('queue.bulk.apply'));
  async function decide(ev) {
    ev.currentTarget.disabled = true;
    const body = { action: action.control.value, reason: reason.control.value.trim() };
    if (state.all) body.filter = Object.fromEntries(FILTERS.map((k) => [k, state.filter[k] || '']));
    else body.refs = [...state.selected];
    try {
      const res = await send('POST', '/api/v1/review/items/decide', body);
      state.selected.clear();
      state.all = false;
      await reload(t('queue.bulk.done', { n: formatNumber(res.decided.length) }), true);
    } catch (e) {
      confirm.hidden = true;
      msg.textContent = errorText(e);
    }
  }
  function update() {
    count.textContent = t('queue.bulk.selected', { n: formatNumber(n()) });
  }
  state.update = update;
  update();
  return h('div', { class: 'card bulk', 'data-test': 'review-bulk' },
    h('label', { class: 'check', for: 'bulk-all' }, all, ' ', t('queue.bulk.all', { n: formatNumber(page.total) })),
    count, h('div', { class: 'filter-grid' }, action.el, reason.el), h('div', { class: 'actions' }, applyBtn), confirm, msg);
}

/**
 * decorate adds to a card of item ref: the selection box, the pair it
 * settles with, and for a mistyped matricule the search to attach it.
 */
export function decorate(card, page, ref, reload) {
  const it = page.byRef.get(ref);
  if (!it) return card;
  const box = h('input', {
    type: 'checkbox', 'data-test': 'bulk-item', value: ref, checked: state.all || state.selected.has(ref), disabled: state.all,
    'aria-label': t('queue.select'),
    onchange: () => {
      for (const r of [ref, it.pair]) if (r) { if (box.checked) state.selected.add(r); else state.selected.delete(r); }
      document.querySelectorAll('[data-test=bulk-item]').forEach((b) => { b.checked = state.all || state.selected.has(b.value); });
      if (state.update) state.update();
    },
  });
  card.prepend(h('label', { class: 'check select' }, box, ' ', t('queue.select')));
  card.dataset.ref = ref;
  if (it.pair) {
    card.classList.add('paired');
    card.dataset.pair = it.pair;
    page.paired = page.paired || new Set();
    page.paired.add(ref);
    // The second card of a pair only points at the first, which settles both.
    if (page.paired.has(it.pair)) card.append(h('p', { class: 'muted', 'data-test': 'pair-second' }, t('queue.pair_second')));
    else card.append(h('div', { class: 'notice', 'data-test': 'pair' },
      h('p', {}, t('queue.pair')),
      h('button', {
        type: 'button', class: 'secondary', 'data-test': 'act-pair',
        onclick: async (ev) => {
          ev.currentTarget.disabled = true;
          try {
            await send('POST', '/api/v1/review/items/decide', { refs: [ref], action: 'dismiss', reason: t('queue.pair_reason') });
            state.selected.delete(ref);
            state.selected.delete(it.pair);
            await reload(t('queue.pair_done'), true);
          } catch (e) {
            ev.currentTarget.disabled = false;
            card.append(h('p', { class: 'notice bad', role: 'alert' }, errorText(e)));
          }
        },
      }, t('queue.pair_settle'))));
  }
  // A check-in undone by the same phone (a pair) is not attached: it nets to nothing.
  if (it.kind === 'unknown_trainee' && !it.pair && ref.startsWith('mutation:')) card.append(attach(ref.slice('mutation:'.length), it, reload));
  return card;
}

/** attach is the search that names the right trainee of a mistyped matricule. */
function attach(id, it, reload) {
  const msg = message();
  const results = h('ul', { class: 'list', 'data-test': 'attach-results' });
  const search = field(t('queue.attach.search'), { type: 'search', 'data-test': 'attach-search', autocomplete: 'off', value: (it.person_id || '').slice(0, 8) });
  const find = async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    try {
      const { trainees } = await getJSON('/api/v1/review/trainees?' + new URLSearchParams({ q: search.control.value.trim() }));
      replace(results, trainees.length ? trainees.map((tr) => h('li', { class: 'row' },
        h('div', { class: 'grow' }, h('strong', {}, h('bdi', {}, `${tr.last_name} ${tr.first_name}`)), ' ',
          h('bdi', { class: 'muted' }, tr.trainee_id), h('div', { class: 'muted small-text' }, [tr.establishment_code, tr.group_name].filter(Boolean).join(' · '))),
        h('button', {
          type: 'button', class: 'primary', 'data-test': 'attach-pick', 'data-id': tr.trainee_id,
          onclick: async (e) => {
            e.currentTarget.disabled = true;
            try {
              await send('POST', `/api/v1/review/quarantine/${encodeURIComponent(id)}/attach`, { trainee_id: tr.trainee_id, reason: t('queue.attach.reason', { typed: it.person_id }) });
              await reload(t('queue.attach.done', { name: `${tr.last_name} ${tr.first_name}` }), true);
            } catch (err) {
              msg.textContent = errorText(err);
              e.currentTarget.disabled = false;
            }
          },
        }, t('queue.attach.pick')))) : h('li', { class: 'muted' }, t('queue.attach.none')));
    } catch (e) {
      msg.textContent = errorText(e);
    }
  };
  return h('details', { class: 'attach', 'data-test': 'attach' },
    h('summary', {}, t('queue.attach.title')),
    h('form', { class: 'inline', onsubmit: find }, search.el,
      h('button', { type: 'submit', class: 'secondary', 'data-test': 'attach-find' }, t('queue.attach.find'))),
    results, msg);
}

/** more asks for the next page of the filtered queue. */
export function more(page, reload) {
  if (!page.next) return null;
  return h('p', {}, h('button', {
    type: 'button', class: 'secondary', 'data-test': 'review-more',
    onclick: () => { state.pages += 1; reload('', true); },
  }, t('queue.more', { shown: formatNumber(page.items.length), total: formatNumber(page.total) })));
}
