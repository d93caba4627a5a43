// http.js — errors of the server's API: reads application/problem+json
// (code, detail, Retry-After) into an HttpError the rest of the app can
// reason about.

/** HttpError is an answer of the server that is not a success. */
export class HttpError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && problem.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (problem && problem.code) || '';
    this.retryAfter = retryAfter; // seconds, or null
  }

  /** transient reports whether the same request may succeed later. */
  get transient() {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** LoginRequired means the session is over: the user must log in again. */
export class LoginRequired extends Error {
  constructor() { super('login required'); this.code = 'login_required'; }
}

/** retryAfterSeconds parses Retry-After (seconds or an HTTP date). */
export function retryAfterSeconds(v, now = Date.now()) {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, Math.round((t - now) / 1000));
}

/** errorOf reads a failed response into an HttpError. */
export async function errorOf(res) {
  let problem = null;
  try { problem = await res.json(); } catch (e) { /* not JSON */ }
  return new HttpError(res.status, problem, retryAfterSeconds(res.headers.get('Retry-After')));
}
