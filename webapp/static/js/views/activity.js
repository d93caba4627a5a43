// views/activity.js — the activity screen: search and one-tap check-in,
// QR scan or typed matricule with confirmation, recent check-ins with
// undo, the speakers of a meeting, and walk-in registration.

import { h, replace, keyed, frenchSpacing } from '../dom.js';
import { t, formatNumber, formatTime, formatDay } from '../i18n.js';
import * as roster from '../roster.js';
import { search } from '../search.js';
import { parseCode, parseMatricule, cameraSupported, warmScanner } from '../scanner.js';
import * as scan from './scan.js';
import * as actions from '../actions.js';
import { reasonText } from '../reasons.js';
import { localDate } from '../time.js';
import { getMeta, setMeta } from '../db.js';

/** render draws the screen of activity id; it returns an update function. */
export function render(root, ctx, id) {
  const a = roster.data.activities.find((x) => x.activity_id === id);
  if (!a) {
    replace(root, h('p', { class: 'notice warn' }, t('activity.unknown')),
      h('a', { class: 'button', href: '#/' }, t('nav.back')));
    return () => {};
  }
  let tab = 'trainee';
  const count = h('p', { class: 'count big', 'data-test': 'count' });
  const input = h('input', { id: 'q', type: 'search', class: 'search', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', enterkeyhint: 'search', 'data-test': 'search' });
  const label = h('label', { for: 'q' });
  const results = h('ul', { class: 'list', 'data-test': 'results', 'aria-live': 'off' });
  const recentList = h('ul', { class: 'list', 'data-test': 'recent' });
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'dlg-title' });

  const who = (rec) => `${rec.data.last_name} ${rec.data.first_name}`;
  const estName = (code) => (roster.data.establishments.get(code) || {}).name || code || '';
  const orgName = (idv) => (roster.data.organizations.get(idv) || {}).name || '';
  const detailOf = (rec, kind) => kind === 'speaker'
    ? [rec.data.title, orgName(rec.data.organization_id)].filter(Boolean).join(' · ')
    : [rec.id.length === 13 ? rec.id : t('walkin.badge'), estName(rec.data.establishment_code), rec.data.group].filter(Boolean).join(' · ');

  // An activity whose date is not today on the phone's clock: the screen
  // says which day it is, and the first check-in there asks once (the
  // answer is kept per activity, in meta.other_day_ok).
  const otherDay = a.date !== localDate();
  async function mayRecord() {
    if (!otherDay) return true;
    const ok = (await getMeta('other_day_ok')) || [];
    if (ok.includes(a.activity_id)) return true;
    const yes = await new Promise((resolve) => {
      const done = (v) => { dialog.removeEventListener('close', onClose); dialog.close(); resolve(v); };
      const onClose = () => resolve(false);
      replace(dialog,
        h('h2', { id: 'dlg-title' }, t('activity.other_day', { day: formatDay(a.date) })),
        h('p', {}, t('activity.other_day_ask')),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'primary', 'data-test': 'other-day-confirm', onclick: () => done(true) }, t('activity.other_day_confirm')),
          h('button', { type: 'button', class: 'secondary', 'data-test': 'other-day-cancel', onclick: () => done(false) }, t('confirm.cancel'))));
      dialog.addEventListener('close', onClose, { once: true });
      if (!dialog.open) dialog.showModal();
    });
    if (yes) await setMeta('other_day_ok', [...ok, a.activity_id]);
    return yes;
  }

  async function doCheckIn(person, method, name) {
    if (!(await mayRecord())) return;
    await actions.checkIn(a.activity_id, person, method);
    ctx.announce(t('checkin.done', { name }));
    update();
  }
  async function doUndo(person, name) {
    const method = roster.lastMethod(a.activity_id, person);
    await actions.undo(a.activity_id, person);
    // The undo toast has its own colour and a way back: "Rétablir"
    // records the check-in again.
    ctx.announce(t('checkin.undone', { name }), { kind: 'undo',
      action: { label: t('checkin.restore'), test: 'restore', run: () => doCheckIn(person, method, name) } });
    update();
  }

  // The rows carry who they are (data-id, data-kind, data-name) and their
  // buttons what they do (data-action); one listener on each list, which
  // the screen never replaces, acts on them. With keyed() re-rendering,
  // a row that did not change stays the same element.
  function row(rec, kind) {
    const st = roster.state(a.activity_id, { kind, id: rec.id });
    const name = who(rec);
    const detail = detailOf(rec, kind);
    const held = st.held ? st.held.code : '';
    return [[kind, rec.id, st.present ? 1 : 0, held, name, detail].join('|'), () =>
      h('li', { class: 'row' + (st.present ? ' present' : held ? ' held' : ''), 'data-id': rec.id, 'data-kind': kind, 'data-name': name },
        h('div', { class: 'grow' }, h('strong', {}, h('bdi', {}, name)), h('div', { class: 'muted' }, h('bdi', {}, detail)), heldReason(st.held)),
        st.present || held
          ? [st.present ? h('span', { class: 'tag ok' }, t('checkin.present')) : heldTag(st.held),
            h('button', { type: 'button', class: 'secondary', 'data-test': 'undo', 'data-action': 'undo', 'aria-label': t('checkin.undo_for', { name }) }, t('checkin.undo'))]
          : h('button', { type: 'button', class: 'primary', 'data-test': 'check-in', 'data-action': 'check-in', 'aria-label': t('checkin.do_for', { name }) }, t('checkin.do')))];
  }
  // A check-in the server holds for review: a tag and its reason.
  const heldTag = (held) => h('span', { class: 'tag held', 'data-test': 'held', 'data-code': held.code }, t('checkin.held'));
  const heldReason = (held) => held ? h('div', { class: 'muted', 'data-test': 'held-reason' }, reasonText(held.code)) : null;
  const note = (text) => ['note|' + text, () => h('li', { class: 'muted' }, text)];

  // busy holds the persons whose action is being written: a second tap
  // on the same button meanwhile does not record it twice.
  const busy = new Set();
  async function onListClick(ev) {
    const b = ev.target.closest('button[data-action]');
    const li = b && b.closest('li[data-id]');
    if (!li || !ev.currentTarget.contains(li)) return;
    const person = { kind: li.dataset.kind, id: li.dataset.id };
    const k = person.kind + '|' + person.id;
    if (busy.has(k)) return;
    busy.add(k);
    try {
      if (b.dataset.action === 'undo') {
        await doUndo(person, li.dataset.name);
      } else {
        await doCheckIn(person, 'search', li.dataset.name);
        input.value = '';
        showResults();
        input.focus();
      }
    } finally {
      busy.delete(k);
    }
  }
  results.addEventListener('click', onListClick);
  recentList.addEventListener('click', onListClick);

  function showResults() {
    const q = input.value;
    if (tab === 'speaker') {
      let list;
      if (q.trim()) list = search(roster.data.speakerIndex, q, 30).map((e) => e.item);
      else list = (a.speaker_ids || []).map((sid) => roster.data.speakers.get(sid)).filter(Boolean);
      keyed(results, list.length ? list.map((r) => row(r, 'speaker')) : [note(q.trim() ? t('search.none') : t('speakers.none'))]);
      return;
    }
    if (!q.trim()) { keyed(results, []); return; }
    // Every match is counted; the first `shown` are drawn, and a last row
    // says how many there are and draws more on demand (never a silent cap).
    const { items, total } = roster.traineeResults(q, (ctx.user() || {}).establishment_code, shown);
    keyed(results, items.length ? [...items.map((e) => row(e.item, 'trainee')), ...moreRow(total, items.length)] : [note(t('search.none'))]);
  }
  const PAGE = 12;
  let shown = PAGE;
  function moreRow(total, n) {
    if (total <= n) return [];
    return [['more|' + total + '|' + n, () => h('li', { class: 'more', 'data-test': 'search-more-row' },
      h('span', { class: 'muted', 'data-test': 'search-count' }, t('search.count', { n: total })),
      h('button', { type: 'button', class: 'secondary', 'data-test': 'search-more', onclick: () => {
        shown += PAGE * 2;
        showResults();
        // The focus goes to the first row drawn (the button is gone).
        const first = results.querySelectorAll('li[data-id]')[n];
        if (first) first.querySelector('button').focus();
      } },
        t('search.more', { n: Math.min(PAGE * 2, total - n) })))]];
  }
  input.addEventListener('input', () => { shown = PAGE; showResults(); });
  // Enter checks in the only match (keyboard and hardware-scanner use).
  input.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    const buttons = results.querySelectorAll('[data-test=check-in]');
    if (buttons.length === 1) { ev.preventDefault(); buttons[0].click(); }
  });

  function update() {
    const n = roster.presentCount(a.activity_id);
    const sp = roster.presentCount(a.activity_id, 'speaker');
    const held = roster.heldCount(a.activity_id) + roster.heldCount(a.activity_id, 'speaker');
    count.dataset.present = String(n);
    count.dataset.held = String(held);
    count.textContent = (a.capacity ? t('activity.count_cap', { n, cap: formatNumber(a.capacity) }) : t('activity.count', { n })) +
      (held ? ' · ' + t('activity.held_count', { n: held }) : '') +
      (a.kind === 'meeting' ? ' · ' + t('activity.speakers_count', { n: sp }) : '');
    const rec = roster.recent(a.activity_id);
    keyed(recentList, rec.length ? rec.map((e) => {
      const p = roster.person(e.person);
      const name = p ? who(p) : e.person.id;
      const st = roster.state(a.activity_id, e.person);
      return [[e.person.kind, e.person.id, e.id, name, st.held ? st.held.code : ''].join('|'), () =>
        h('li', { class: 'row' + (st.held ? ' held' : ''), 'data-id': e.person.id, 'data-kind': e.person.kind, 'data-name': name },
          h('div', { class: 'grow' }, h('strong', {}, h('bdi', {}, name)), h('div', { class: 'muted' }, formatTime(Date.parse(e.recorded_at))), heldReason(st.held)),
          st.held ? heldTag(st.held) : null,
          h('button', { type: 'button', class: 'secondary', 'data-test': 'recent-undo', 'data-action': 'undo', 'aria-label': t('checkin.undo_for', { name }) }, t('checkin.undo')))];
    }) : [note(t('recent.none'))]);
    showResults();
  }

  function setTab(k) {
    tab = k;
    label.textContent = k === 'speaker' ? t('search.label_speaker') : t('search.label');
    for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.tab === k));
    showResults();
  }
  const tabs = h('div', { class: 'tabs', role: 'group', 'aria-label': t('activity.who') },
    h('button', { type: 'button', 'data-tab': 'trainee', onclick: () => setTab('trainee') }, t('tab.trainees')),
    h('button', { type: 'button', 'data-tab': 'speaker', 'data-test': 'tab-speakers', onclick: () => setTab('speaker') }, t('tab.speakers')));

  // Confirmation of a scanned or typed code: name and establishment first.
  function confirmPerson(person, method, onClose = () => {}) {
    const rec = roster.person(person);
    const close = () => { dialog.close(); onClose(); };
    const st = rec ? roster.state(a.activity_id, person) : { present: false };
    const body = rec
      ? [h('p', { class: 'big' }, h('strong', {}, h('bdi', {}, who(rec)))), h('p', {}, h('bdi', {}, detailOf(rec, person.kind)))]
      : [h('p', { class: 'big' }, h('strong', {}, person.id)), h('p', { class: 'notice warn' }, t('confirm.unknown'))];
    const name = rec ? who(rec) : person.id;
    replace(dialog,
      h('h2', { id: 'dlg-title' }, t('confirm.title')),
      body,
      st.present ? h('p', { class: 'notice ok' }, t('confirm.already')) : null,
      h('div', { class: 'actions' },
        st.present ? null : h('button', { type: 'button', class: 'primary', 'data-test': 'confirm', onclick: async () => { dialog.close(); await doCheckIn(person, method, name); onClose(); } },
          rec ? t('confirm.ok') : t('confirm.anyway')),
        h('button', { type: 'button', class: 'secondary', onclick: close }, t('confirm.cancel'))));
    if (!dialog.open) dialog.showModal();
  }

  // Typed matricule: always available.
  const matInput = h('input', { id: 'matricule', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', maxlength: '40', 'data-test': 'matricule' });
  const matMsg = h('p', { class: 'msg', role: 'alert' });
  const matForm = h('form', { class: 'inline', 'data-test': 'matricule-form' },
    h('label', { for: 'matricule' }, t('manual.label')), h('div', { class: 'row' }, matInput, h('button', { type: 'submit' }, t('manual.submit'))), matMsg);
  matForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    matMsg.textContent = '';
    const person = parseCode(matInput.value);
    if (!person) {
      const m = parseMatricule(matInput.value);
      matMsg.textContent = m.error === 'check_letter' ? t('manual.bad_check') : t('manual.bad_format');
      return;
    }
    confirmPerson(person, 'manual', () => { matInput.value = ''; });
  });

  // Door scanning: the browser's BarcodeDetector or the vendored polyfill
  // (views/scan.js); the scanner stays open across badges.
  function openScanner() {
    scan.open(root, {
      lookup(person) {
        const rec = roster.person(person);
        return rec && { name: who(rec), detail: detailOf(rec, person.kind), present: roster.state(a.activity_id, person).present };
      },
      record: (person, name) => doCheckIn(person, 'qr', name),
    });
  }
  if (cameraSupported()) warmScanner().catch(() => {});

  // Walk-in registration.
  function openWalkIn() {
    const f = (name, labelKey, attrs = {}) => [h('label', { for: 'w-' + name }, t(labelKey)), h('input', { id: 'w-' + name, name, ...attrs })];
    const user = ctx.user() || {};
    const ests = [...roster.data.establishments.values()];
    const estField = user.establishment_code
      ? h('input', { type: 'hidden', name: 'establishment_code', value: user.establishment_code })
      : [h('label', { for: 'w-est' }, t('walkin.establishment')),
        h('select', { id: 'w-est', name: 'establishment_code', required: true }, ests.map((e) => h('option', { value: e.code }, `${e.name} (${e.code})`)))];
    const form = h('form', { 'data-test': 'walkin-form' },
      h('h2', { id: 'dlg-title' }, t('walkin.title')),
      h('p', { class: 'muted' }, t('walkin.help')),
      f('last_name', 'walkin.last_name', { required: true, autocomplete: 'off' }),
      f('first_name', 'walkin.first_name', { required: true, autocomplete: 'off' }),
      f('program', 'walkin.program', { autocomplete: 'off' }),
      f('group', 'walkin.group', { autocomplete: 'off' }),
      h('label', { for: 'w-gender' }, t('walkin.gender')),
      h('select', { id: 'w-gender', name: 'gender' }, h('option', { value: '' }, '—'), h('option', { value: 'F' }, t('walkin.female')), h('option', { value: 'M' }, t('walkin.male'))),
      estField,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, t('walkin.submit')),
        h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, t('confirm.cancel'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fields = Object.fromEntries(new FormData(form));
      dialog.close();
      if (!(await mayRecord())) return;
      await actions.registerWalkIn(a.activity_id, fields);
      ctx.announce(t('checkin.done', { name: `${fields.last_name} ${fields.first_name}` }));
      update();
    });
    replace(dialog, form);
    dialog.showModal();
    form.querySelector('input').focus();
  }

  replace(root,
    h('a', { class: 'link', href: '#/' }, t('nav.back')),
    h('h1', {}, h('bdi', {}, frenchSpacing(a.title))),
    h('p', { class: 'muted' }, formatDay(a.date), ' · ', h('bdi', { dir: 'ltr' }, `${a.start_time}–${a.end_time}`), ' · ', a.kind === 'company_visit' ? t('kind.company_visit') : t('kind.meeting')),
    a.status === 'closed' ? h('p', { class: 'notice warn' }, t('activity.closed_help')) : null,
    otherDay ? h('p', { class: 'notice warn', 'data-test': 'other-day' }, t('activity.other_day', { day: formatDay(a.date) })) : null,
    count,
    a.kind === 'meeting' ? tabs : null,
    label, input,
    results,
    h('div', { class: 'stack' },
      cameraSupported() ? h('button', { type: 'button', class: 'primary', 'data-test': 'scan', onclick: openScanner }, t('scan.open'))
        : h('p', { class: 'muted', 'data-test': 'scan-unsupported' }, t('scan.unsupported')),
      matForm,
      h('button', { type: 'button', 'data-test': 'walkin', onclick: openWalkIn }, t('walkin.open'))),
    h('h2', {}, t('recent.title')),
    recentList,
    dialog);
  setTab('trainee');
  update();
  input.focus();
  return update;
}
