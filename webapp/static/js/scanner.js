// scanner.js — badge codes: parses a QR payload or a typed matricule,
// decides what a camera frame's codes mean and whether a door scanner
// acts on them (pure functions, unit-tested), and drives the camera through
// BarcodeDetector: the browser's, or the vendored polyfill where it has none.

/** The check letters of a matricule: value of its 11 digits mod 23. */
const CHECK_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXY';

/**
 * matriculeCheck returns the check letter of the 11 digits of a matricule,
 * computed exactly (the value exceeds 2^53 only past 11 digits, not here).
 */
export function matriculeCheck(digits) {
  let r = 0;
  for (const d of digits) r = (r * 10 + Number(d)) % 23;
  return CHECK_LETTERS[r];
}

/**
 * parseMatricule validates a 13-character matricule (F + 11 digits + check
 * letter), case- and space-insensitive. It returns {id} or {error} with
 * 'format' or 'check_letter'.
 */
export function parseMatricule(text) {
  const s = String(text || '').replace(/\s+/g, '').toUpperCase();
  const m = /^F(\d{11})([A-Z])$/.exec(s);
  if (!m) return { error: 'format' };
  if (matriculeCheck(m[1]) !== m[2]) return { error: 'check_letter', id: s };
  return { id: s };
}

/**
 * parseCode reads one code: `PD1:T:<trainee_id>`, `PD1:S:<speaker_id>`
 * (badge payload v1), or a bare matricule. It returns
 * {kind:'trainee'|'speaker', id} or null.
 */
export function parseCode(raw) {
  const s = String(raw || '').trim();
  const m = /^PD1:([TS]):(\S{1,64})$/.exec(s);
  if (m) return { kind: m[1] === 'T' ? 'trainee' : 'speaker', id: m[2] };
  const mat = parseMatricule(s);
  if (mat.id && !mat.error) return { kind: 'trainee', id: mat.id };
  return null;
}

/**
 * decide turns the codes detected in one frame (strings, or objects with
 * rawValue) into a decision:
 *   {kind:'none'}                         nothing readable in view
 *   {kind:'one', person:{kind,id}, raw}   exactly one distinct code, a badge
 *   {kind:'invalid', raw}                 one distinct code, not a badge
 *   {kind:'ambiguous', codes:[raw…]}      two or more different codes: the
 *                                         app refuses to guess
 * The same code seen twice in a frame (a reflection) is one code.
 */
export function decide(detected) {
  const raws = [...new Set((detected || [])
    .map((d) => (typeof d === 'string' ? d : d && d.rawValue))
    .filter((r) => typeof r === 'string' && r.trim() !== '')
    .map((r) => r.trim()))];
  if (raws.length === 0) return { kind: 'none' };
  if (raws.length > 1) return { kind: 'ambiguous', codes: raws };
  const person = parseCode(raws[0]);
  return person ? { kind: 'one', person, raw: raws[0] } : { kind: 'invalid', raw: raws[0] };
}

/**
 * createGate keeps a door scanner from acting twice on one badge. see(raw,
 * now) answers, for a code read at now (ms):
 *   'new'    not seen within windowMs: act on it
 *   'same'   still in view since the last frame that read it (no empty
 *            frame between, within windowMs): ignore silently
 *   'again'  seen within windowMs but shown anew (an empty frame or
 *            another code between): ignore, saying "déjà pointé"
 * Every sighting restarts the code's window, so a badge held in view is
 * never taken twice. gap() records an empty frame; forget() drops every
 * code (a check-in that could not be written is taken again).
 */
export function createGate(windowMs = 4000) {
  const last = new Map(); // raw → ms of its last sighting
  let current = null; // the code of the previous frame, if any
  return {
    see(raw, now) {
      const t = last.get(raw);
      last.set(raw, now);
      for (const [k, v] of last) if (now - v > windowMs) last.delete(k);
      const prev = current;
      current = raw;
      if (t === undefined || now - t > windowMs) return 'new';
      return prev === raw ? 'same' : 'again';
    },
    gap() { current = null; },
    /** forget drops every code: the next sighting of any is 'new'. */
    forget() { last.clear(); current = null; },
  };
}

/** nativeDetector reports whether the browser's own BarcodeDetector reads QR codes. */
async function nativeDetector() {
  const BD = globalThis.BarcodeDetector;
  if (typeof BD !== 'function') return null;
  try {
    const formats = typeof BD.getSupportedFormats === 'function' ? await BD.getSupportedFormats() : ['qr_code'];
    return formats.includes('qr_code') ? BD : null;
  } catch (e) {
    return null;
  }
}

// The vendored polyfill (npm barcode-detector: ZXing-C++ in WebAssembly,
// webapp/vendor.sh), imported only where the browser lacks the API; its
// .wasm comes from our own origin, never from the package's default CDN.
const VENDOR = new URL('../vendor/barcode-detector/', import.meta.url);
let polyfill = null;
function loadPolyfill() {
  if (!polyfill) {
    polyfill = import('../vendor/barcode-detector/ponyfill.js').then(async (m) => {
      // fireImmediately: the wasm is fetched and compiled now, so that a
      // failure shows when the scanner opens, not as unreadable frames.
      await m.prepareZXingModule({
        overrides: { locateFile: (file, prefix) => (file.endsWith('.wasm') ? new URL(file, VENDOR).href : prefix + file) },
        fireImmediately: true,
      });
      return m.BarcodeDetector;
    });
    polyfill.catch(() => { polyfill = null; }); // offline before it was cached: try again later
  }
  return polyfill;
}

/**
 * detectorClass returns the BarcodeDetector to use: the browser's when it
 * reads QR codes, else the vendored polyfill (loaded on first use).
 */
export async function detectorClass() {
  return (await nativeDetector()) || loadPolyfill();
}

/**
 * warmScanner asks the service worker to cache the polyfill now when this
 * browser will need it, so that scanning works offline later.
 */
export async function warmScanner() {
  if (await nativeDetector()) return;
  const reg = navigator.serviceWorker && await navigator.serviceWorker.ready;
  if (reg && reg.active) reg.active.postMessage({ type: 'cache-lazy' });
}

/**
 * cameraSupported reports whether QR scanning with the camera can work:
 * a camera API, and a native BarcodeDetector or WebAssembly for the
 * polyfill.
 */
export function cameraSupported() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia) &&
    ('BarcodeDetector' in globalThis || typeof WebAssembly === 'object');
}

/**
 * startCamera shows the back camera in video and calls onDecision with
 * each frame's decision, 'none' included (a frame every periodMs, 200 by
 * default, after the previous one was read). It returns a stop function
 * that releases the camera. Errors: getUserMedia's (NotAllowedError,
 * NotFoundError…), or one named DecoderUnavailable when the polyfill
 * cannot be loaded (offline before it was cached).
 */
export async function startCamera(video, onDecision, periodMs = 200) {
  let Detector;
  try {
    Detector = await detectorClass();
  } catch (e) {
    throw Object.assign(new Error('QR decoder unavailable: ' + e), { name: 'DecoderUnavailable' });
  }
  const detector = new Detector({ formats: ['qr_code'] });
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  video.setAttribute('playsinline', '');
  await video.play();
  let stopped = false;
  let timer = 0;
  const tick = async () => {
    if (stopped) return;
    try {
      const d = decide(await detector.detect(video));
      if (!stopped) onDecision(d);
    } catch (e) { /* a frame that cannot be read is skipped */ }
    if (!stopped) timer = setTimeout(tick, periodMs);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const t of stream.getTracks()) t.stop();
    video.srcObject = null;
  };
}
