// scanner.js — badge codes: parses a QR payload or a typed matricule,
// decides what a camera frame's codes mean (pure functions, unit-tested),
// and drives the camera through BarcodeDetector where the browser has it.

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

/** cameraSupported reports whether QR scanning with the camera can work. */
export function cameraSupported() {
  return 'BarcodeDetector' in globalThis && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

/**
 * startCamera shows the back camera in video and calls onDecision with
 * each frame's decision other than 'none' (about 4 frames a second). It
 * returns a stop function that releases the camera.
 */
export async function startCamera(video, onDecision) {
  const detector = new globalThis.BarcodeDetector({ formats: ['qr_code'] });
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
      if (d.kind !== 'none' && !stopped) onDecision(d);
    } catch (e) { /* a frame that cannot be read is skipped */ }
    if (!stopped) timer = setTimeout(tick, 250);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    for (const t of stream.getTracks()) t.stop();
    video.srcObject = null;
  };
}
