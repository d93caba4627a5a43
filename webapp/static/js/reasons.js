// reasons.js — why the server refused or holds something, in the user's
// language. The server sends a stable code with an English message
// (refused or held actions, API problems); each code has its text under
// "reason.<code>" in the message files (a Go test, webapp/reasons_test.go,
// fails when a code the server can emit lacks one). An unknown code shows
// the server's message with the code. (The app's own login_required, a session
// that cannot be refreshed, has its text too.)

import { t, has } from './i18n.js';

/**
 * GENERIC are codes whose text says only the kind of failure: the server's
 * message names what failed (a field, a user, a row), so it is kept after
 * the text, in the server's words.
 */
const GENERIC = new Set(['invalid', 'invalid_mutation', 'conflict', 'not_found', 'forbidden']);

/**
 * reasonText returns the text of code (followed by the server's message
 * for a GENERIC code), else message (code).
 */
export function reasonText(code, message) {
  if (code && has('reason.' + code)) {
    const text = t('reason.' + code);
    return GENERIC.has(code) && message ? `${text} ${message}` : text;
  }
  if (code && message) return `${message} (${code})`;
  return message || code || '';
}

/**
 * MERGE_REASONS are the sentences the sync engine stores as the reason of
 * a merge proposal (sync/engine/trainee.go), by their code.
 */
export const MERGE_REASONS = {
  'same establishment and names as a roster trainee': 'merge_roster_same_establishment',
  'same names as a roster trainee of the region': 'merge_roster_same_region',
  'same establishment and names as another walk-in': 'merge_walk_ins',
};

/** mergeReasonText returns the text of a merge proposal's reason. */
export function mergeReasonText(reason) {
  const code = MERGE_REASONS[reason];
  return code ? reasonText(code, reason) : reason;
}
