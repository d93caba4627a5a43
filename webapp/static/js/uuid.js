// uuid.js — identifiers made on the phone: time-ordered UUIDv7 (RFC 9562)
// for mutation ids and walk-in trainees, and the installation's device
// secret.

function hex(b) {
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += b[i].toString(16).padStart(2, '0');
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

/** uuidv7 returns a UUIDv7: 48 bits of Unix milliseconds, then random bits. */
export function uuidv7(now = Date.now()) {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let ts = now;
  for (let i = 5; i >= 0; i--) {
    b[i] = ts % 256;
    ts = Math.floor(ts / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  return hex(b);
}

/**
 * randomSecret returns 256 random bits in unpadded base64url (43
 * characters): the installation's device_secret (sync protocol 1.1, Device
 * binding), made once beside its device_id.
 */
export function randomSecret() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
