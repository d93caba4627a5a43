// views/scan.js — the door scanner: a camera overlay that stays open across
// badges. Each accepted badge is recorded at once with a beep, a vibration
// and the name in large; the same badge again within a few seconds is
// ignored ("déjà pointé"); a code that is not a badge buzzes; a person
// outside the phone's roster stops the scan for a decision.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { startCamera, createGate } from '../scanner.js';
import { createFeedback } from '../feedback.js';

/** AGAIN_MS: a badge read again within this many ms is not taken again. */
export const AGAIN_MS = 4000;
/** SHOW_MS: how long a result stays on screen when nothing else comes. */
const SHOW_MS = 5000;

/**
 * open shows the scanner over host and returns its close function.
 * opts:
 *   lookup(person) → {name, detail, present} or null (not in the roster)
 *   record(person, name) → Promise, settled when the check-in is stored
 *   onClose()      called once the scanner is closed
 * The overlay's result (data-test=scan-confirmation) carries data-state
 * (ok, again, invalid, ambiguous, unknown, failed) and data-seq (one more at each
 * result shown); the dialog carries data-tone, the last sound played.
 */
export function open(host, opts) {
  const feedback = createFeedback();
  const gate = createGate(AGAIN_MS);
  const video = h('video', { class: 'camera', muted: true, 'aria-label': t('scan.video') });
  const info = h('p', { class: 'muted', role: 'status' }, t('scan.aim'));
  const result = h('div', { class: 'scan-result', 'data-test': 'scan-confirmation', 'aria-live': 'assertive', hidden: true });
  const counter = h('p', { class: 'muted', 'data-test': 'scan-count' });
  const closeBtn = h('button', { type: 'button', class: 'secondary', 'data-test': 'scan-close', onclick: () => close() }, t('scan.close'));
  const dlg = h('dialog', { class: 'dialog scanner', 'data-test': 'scanner', 'aria-labelledby': 'scan-title' },
    h('h2', { id: 'scan-title' }, t('scan.title')), video, info, result, counter,
    h('div', { class: 'actions' }, closeBtn));

  let stop = () => {};
  let closed = false;
  let busy = false; // a check-in being written or a decision on screen
  let accepted = 0;
  let seq = 0;
  let hideTimer = 0;

  const showCount = () => { counter.textContent = accepted ? t('scan.count', { n: accepted }) : ''; };
  function show(state, tone, ...children) {
    clearTimeout(hideTimer);
    result.dataset.state = state;
    result.dataset.seq = String(++seq);
    result.className = 'scan-result ' + state;
    replace(result, children);
    result.hidden = false;
    if (tone) {
      dlg.dataset.tone = tone;
      feedback.play(tone);
    }
    if (state !== 'unknown') hideTimer = setTimeout(() => { result.hidden = true; }, SHOW_MS);
  }
  const big = (text) => h('p', { class: 'scan-name' }, h('bdi', {}, text));

  async function onDecision(d) {
    // The screen under the scanner was replaced (back button, language):
    // the camera goes with it.
    if (!dlg.isConnected) { close(); return; }
    if (closed || busy) return;
    if (d.kind === 'none') { gate.gap(); return; }
    if (d.kind === 'ambiguous') { gate.gap(); show('ambiguous', null, h('p', {}, t('scan.ambiguous'))); return; }
    const seen = gate.see(d.raw, Date.now());
    if (seen === 'same') return;
    if (d.kind === 'invalid') {
      if (seen === 'new') show('invalid', 'error', h('p', {}, t('scan.invalid')));
      return;
    }
    const found = opts.lookup(d.person);
    if (seen === 'again' || (found && found.present)) {
      show('again', 'again', big(found ? found.name : d.person.id), h('p', {}, t('scan.again')));
      return;
    }
    busy = true;
    if (!found) { decideUnknown(d.person); return; }
    await recordAndShow(d.person, found.name, found.detail);
    busy = false;
  }

  // recordAndShow writes the check-in and says so; a failed write (the
  // phone's storage) says that nothing was recorded and forgets the badge,
  // so that showing it again retries.
  async function recordAndShow(person, name, detail) {
    try {
      await opts.record(person, name);
    } catch (e) {
      gate.forget();
      show('failed', 'error', big(name), h('p', {}, t('scan.not_saved')));
      return;
    }
    accepted++;
    showCount();
    show('ok', 'ok', big(name), detail ? h('p', { class: 'muted' }, h('bdi', {}, detail)) : null, h('p', { class: 'scan-ok' }, t('scan.accepted')));
  }

  // A badge of someone this phone does not know: the staff member decides,
  // as before the door mode (the server checks the check-in).
  function decideUnknown(person) {
    const skip = () => { busy = false; result.hidden = true; };
    show('unknown', 'error', big(person.id), h('p', { class: 'notice warn' }, t('confirm.unknown')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', 'data-test': 'scan-confirm', onclick: async () => {
          await recordAndShow(person, person.id, '');
          busy = false;
        } }, t('confirm.anyway')),
        h('button', { type: 'button', class: 'secondary', 'data-test': 'scan-skip', onclick: skip }, t('scan.skip'))));
  }

  function close() {
    if (closed) return;
    closed = true;
    clearTimeout(hideTimer);
    stop();
    feedback.close();
    if (dlg.open) dlg.close();
    dlg.remove();
    opts.onClose && opts.onClose();
  }
  dlg.addEventListener('close', close);

  host.append(dlg);
  dlg.showModal();
  startCamera(video, onDecision).then((s) => {
    if (closed) s(); else stop = s;
  }).catch((e) => {
    info.textContent = e && e.name === 'DecoderUnavailable' ? t('scan.no_decoder') : t('scan.no_camera');
  });
  return close;
}
