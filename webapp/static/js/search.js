// search.js — name and matricule search: folds text to a search key
// (case, accents, spaces and punctuation ignored; Arabic diacritics,
// tatweel and hamza/alef variants ignored) and finds people in a
// precomputed index fast enough for every keystroke.

const ARABIC_MAP = {
  '\u0671': '\u0627', // ٱ alef wasla → ا (أ إ آ decompose to ا + mark)
  '\u0649': '\u064A', // ى → ي
  '\u0629': '\u0647', // ة → ه
  '\u06CC': '\u064A', // ی (Persian yeh) → ي
  '\u06A9': '\u0643', // ک (keheh) → ك
};
const ARABIC_RE = /[\u0671\u0649\u0629\u06CC\u06A9]/g;
const LIGATURES = { 'œ': 'oe', 'æ': 'ae', 'ß': 'ss', 'ø': 'o', 'ł': 'l', 'đ': 'd', 'ı': 'i' };
const LIGATURE_RE = /[œæßøłđı]/g;
const ASCII_RE = /^[\x00-\x7f]*$/;
const NOT_ALNUM_RE = /[^a-z0-9]/g;

/**
 * fold returns the search key of s: compatibility decomposition, marks
 * removed (Latin accents, Arabic harakat and the hamza/madda of أ إ آ ؤ
 * ئ), lower case, tatweel removed, Arabic letter variants unified, and
 * everything that is not a letter or a digit (spaces, apostrophes,
 * hyphens, emoji) dropped.
 */
export function fold(s) {
  if (!s) return '';
  s = String(s);
  // Plain ASCII (most Latin-script names): nothing to decompose or unify,
  // the same result without the Unicode passes (a first download folds
  // every trainee's names).
  if (ASCII_RE.test(s)) return s.toLowerCase().replace(NOT_ALNUM_RE, '');
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(LIGATURE_RE, (c) => LIGATURES[c])
    .replace(ARABIC_RE, (c) => ARABIC_MAP[c])
    .replace(/[^\p{L}\p{N}]|\u0640/gu, '');
}

/** SEP separates the parts of a key; fold never leaves it in a part. */
const SEP = '\u0001';

/**
 * personKey is the stored search key of a person: last+first and
 * first+last names, so that "meryem errami" and "errami meryem" both match.
 */
export function personKey(p) {
  const last = fold(p.last_name);
  const first = fold(p.first_name);
  return SEP + last + first + SEP + first + last;
}

/** idQuery returns the matricule prefix a query may be, or ''. */
function idQuery(q) {
  const s = String(q).replace(/\s+/g, '').toUpperCase();
  return /^[A-Z]\d/.test(s) || /^[0-9A-F]{8}-/.test(s) ? s : '';
}

/**
 * digitQuery returns the query when it is 4 or more digits (spaces
 * ignored): a part of a matricule, found anywhere in it; '' otherwise.
 */
function digitQuery(q) {
  const s = String(q).replace(/\s+/g, '');
  return /^\d{4,}$/.test(s) ? s : '';
}

/**
 * buildIndex prepares entries {id, sk, item} from people ({id, data, sk?}
 * rows of the local database), sorted by name for display.
 */
export function buildIndex(rows, collator = new Intl.Collator('fr', { sensitivity: 'base' })) {
  const out = rows.map((r) => ({
    id: String(r.id).toUpperCase(),
    sk: r.sk || personKey(r.data || r),
    label: ((r.data || r).last_name || '') + ' ' + ((r.data || r).first_name || ''),
    item: r,
  }));
  out.sort((a, b) => collator.compare(a.label, b.label));
  return out;
}

/**
 * search returns up to limit index entries matching query, best first:
 * matricule prefix, then a name that starts with the query, then a name
 * that contains it; within each group the index's (name) order. It makes
 * one pass over the index and sorts nothing. (searchAll gives every
 * match and their count.)
 */
export function search(index, query, limit = 30) {
  return searchAll(index, query).slice(0, limit);
}

/**
 * searchAll returns every index entry matching query, best first: a
 * matricule that starts with the query or, for 4 or more digits, contains
 * them; then the names that start with the query, then those that contain
 * it. With first (an establishment code), the names of that establishment
 * (the user's own) come before the others, each part in that order.
 * Within a group the index's (name) order stays: one pass, no sort.
 */
export function searchAll(index, query, first = '') {
  const q = fold(query);
  const idq = idQuery(query);
  const dq = digitQuery(query);
  if (!q && !idq && !dq) return [];
  const byId = [], starts = [], contains = [], otherStarts = [], otherContains = [];
  const qs = SEP + q;
  for (let i = 0; i < index.length; i++) {
    const e = index[i];
    if ((idq && e.id.startsWith(idq)) || (dq && e.id.includes(dq))) {
      byId.push(e);
    } else if (q && !dq) {
      const own = !first || estOf(e) === first;
      if (e.sk.includes(qs)) (own ? starts : otherStarts).push(e);
      else if (e.sk.includes(q)) (own ? contains : otherContains).push(e);
    }
  }
  return byId.concat(starts, contains, otherStarts, otherContains);
}

function estOf(e) {
  const d = e.item && (e.item.data || e.item);
  return (d && d.establishment_code) || '';
}

/**
 * packIndex turns a trainee index into one string (JSON rows of id, search
 * key, last name, first name, establishment, group, registered here),
 * stored in one IndexedDB record: reading it back at start is one small
 * structured clone and one JSON.parse, instead of every trainee record.
 * The index keeps its (name) order.
 */
export function packIndex(index) {
  return JSON.stringify(index.map((e) => {
    const d = e.item.data || {};
    return [e.item.id, e.sk, d.last_name || '', d.first_name || '', d.establishment_code || '', d.group || '', e.item.local ? 1 : 0];
  }));
}

/**
 * unpackIndex is the inverse of packIndex: index entries whose item is the
 * part of the trainee the app shows ({id, sk, data: {trainee_id,
 * last_name, first_name, establishment_code, group}, local}).
 */
export function unpackIndex(packed) {
  return JSON.parse(packed).map(([id, sk, last, first, est, group, local]) => ({
    id: String(id).toUpperCase(),
    sk,
    label: last + ' ' + first,
    item: { id, sk, data: { trainee_id: id, last_name: last, first_name: first, establishment_code: est, group }, local: !!local },
  }));
}
