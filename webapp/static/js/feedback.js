// feedback.js — what a door scan sounds and feels like: short tones made
// with Web Audio (no audio file) and a vibration where the phone has one.

/**
 * TONES are the sounds, as [frequency Hz, duration ms] notes played in
 * turn: 'ok' a badge accepted (one high beep), 'again' a badge already
 * checked in (a soft low blip), 'error' a code that is not a badge or a
 * person outside the roster (two low buzzes).
 */
export const TONES = {
  ok: { wave: 'sine', gain: 0.25, notes: [[1320, 120]] },
  again: { wave: 'sine', gain: 0.12, notes: [[660, 60]] },
  error: { wave: 'square', gain: 0.12, notes: [[220, 140], [0, 70], [220, 140]] },
};

/** VIBRATIONS are the navigator.vibrate patterns (ms) of the same events. */
export const VIBRATIONS = { ok: 80, again: 0, error: [120, 60, 120] };

/**
 * createFeedback returns {play(kind), close()}. Call it from a tap (the
 * browser lets audio start only after a user gesture); play never throws:
 * without Web Audio or a vibrator it does what it can.
 */
export function createFeedback() {
  let ctx = null;
  try {
    const AC = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (AC) ctx = new AC();
  } catch (e) { ctx = null; }
  return {
    play(kind) {
      const tone = TONES[kind];
      if (!tone) return;
      try {
        if (ctx) {
          if (ctx.state === 'suspended') ctx.resume();
          let at = ctx.currentTime + 0.01;
          for (const [freq, ms] of tone.notes) {
            if (freq > 0) {
              const osc = ctx.createOscillator();
              const gain = ctx.createGain();
              osc.type = tone.wave;
              osc.frequency.value = freq;
              // A short fade in and out: no click at either end.
              gain.gain.setValueAtTime(0, at);
              gain.gain.linearRampToValueAtTime(tone.gain, at + 0.01);
              gain.gain.setValueAtTime(tone.gain, at + ms / 1000 - 0.02);
              gain.gain.linearRampToValueAtTime(0, at + ms / 1000);
              osc.connect(gain).connect(ctx.destination);
              osc.start(at);
              osc.stop(at + ms / 1000);
            }
            at += ms / 1000;
          }
        }
      } catch (e) { /* no sound: the screen still says it */ }
      const v = VIBRATIONS[kind];
      if (v && navigator.vibrate) {
        try { navigator.vibrate(v); } catch (e) { /* no vibrator */ }
      }
    },
    close() {
      if (ctx) ctx.close().catch(() => {});
      ctx = null;
    },
  };
}
