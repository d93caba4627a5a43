// auth.js — the session with the server: login, refresh through the
// HttpOnly cookie, logout, and fetch with the bearer access token. The
// access token lives in memory only; recording never needs it.

import { errorOf, LoginRequired } from './http.js';
import { setMeta } from './db.js';

let access = null;
let expiresAt = 0;
let device = '';
let secret = '';
let refreshing = null;

/**
 * setDevice sets the device_id sent at login and refresh, and the
 * device_secret sent at every login (sync protocol 1.1, Device binding).
 */
export function setDevice(id, deviceSecret) {
  device = id;
  secret = deviceSecret || '';
}

function take(body) {
  access = body.access_token;
  expiresAt = Date.now() + (body.expires_in || 900) * 1000;
  return body.user;
}

async function post(url, body) {
  return fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
}

/**
 * login opens a session; it returns the user or throws an HttpError
 * (403 device_taken: the device_id is bound to another installation). A
 * secret the answer carries (the server made one) replaces the one kept.
 */
export async function login(username, password) {
  const body = { username, password, device_id: device };
  if (secret) body.device_secret = secret;
  const res = await post('/api/v1/auth/login', body);
  if (!res.ok) throw await errorOf(res);
  const answer = await res.json();
  if (answer.device_secret && answer.device_secret !== secret) {
    secret = answer.device_secret;
    await setMeta('device_secret', secret);
  }
  return take(answer);
}

/**
 * refresh gets a new access token with the refresh cookie. A dead session
 * (401) throws LoginRequired; other failures throw as they are.
 */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const res = await post('/api/v1/auth/refresh', { device_id: device });
        if (res.status === 401) {
          access = null;
          throw new LoginRequired();
        }
        if (!res.ok) throw await errorOf(res);
        return take(await res.json());
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

/**
 * authFetch sends a request with the access token, refreshing it first when
 * missing or about to expire, and once more on a 401.
 */
export async function authFetch(url, opts = {}) {
  if (!access || Date.now() > expiresAt - 30000) await refresh();
  const send = () => fetch(url, {
    ...opts,
    credentials: 'same-origin',
    headers: { ...(opts.headers || {}), Authorization: 'Bearer ' + access },
  });
  let res = await send();
  if (res.status === 401) {
    await refresh();
    res = await send();
    if (res.status === 401) throw new LoginRequired();
  }
  return res;
}

/** logout ends the session on the server (best effort) and forgets the token. */
export async function logout() {
  try {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: access ? { Authorization: 'Bearer ' + access } : {},
    });
  } catch (e) { /* offline: the refresh token expires on its own */ }
  access = null;
  expiresAt = 0;
}
