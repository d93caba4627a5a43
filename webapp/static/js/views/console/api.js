// views/console/api.js — the supervisor and admin screens' calls to the
// server (online-first): JSON with the bearer token, problem+json errors
// as HttpError, and downloads fetched as blobs (the token is not a cookie,
// so a plain link would not be authorised).

import { authFetch } from '../../auth.js';
import { errorOf } from '../../http.js';

/** getJSON fetches url and returns its JSON body, or throws an HttpError. */
export async function getJSON(url) {
  const res = await authFetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

/** send sends method url with a JSON body (or FormData) and returns the JSON answer (null for 204). */
export async function send(method, url, body) {
  const opts = { method, headers: { Accept: 'application/json' } };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await authFetch(url, opts);
  if (!res.ok) throw await errorOf(res);
  return res.status === 204 ? null : res.json();
}

/** problemOf returns the problem+json body of a failed response (or null). */
export async function problemOf(res) {
  try { return await res.json(); } catch (e) { return null; }
}

/**
 * download fetches url with the token, then saves the blob under the
 * server's file name (Content-Disposition) through an object URL. It
 * returns {type, size, name} for the screen (and the tests).
 */
export async function download(url) {
  const res = await authFetch(url);
  if (!res.ok) throw await errorOf(res);
  const blob = await res.blob();
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(cd);
  const name = m ? m[1] : url.split('/').pop().split('?')[0];
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
  return { type: blob.type, size: blob.size, name };
}
