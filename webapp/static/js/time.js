// time.js — the phone's clock as the protocol writes it: RFC 3339 with the
// local offset and milliseconds, and local calendar dates.

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** isoLocal formats d as 2026-03-21T17:02:11.412+01:00 (local offset). */
export function isoLocal(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
    `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${off >= 0 ? '+' : '-'}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** localDate returns the phone's calendar date, YYYY-MM-DD. */
export function localDate(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
