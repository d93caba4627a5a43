// i18n.js — the app's languages: loads a message file (French by default,
// Arabic right-to-left, English), formats messages with parameters and
// plural forms, and remembers the user's choice.

export const LANGS = ['fr', 'ar', 'en'];
export const DEFAULT_LANG = 'fr';
const LOCALES = { fr: 'fr-MA', ar: 'ar-MA', en: 'en-GB' };
const STORAGE_KEY = 'prodays.lang';

let lang = DEFAULT_LANG;
let messages = {};
let fallback = {};

/** dirOf returns the writing direction of a language. */
export function dirOf(l) { return l === 'ar' ? 'rtl' : 'ltr'; }

/** localeOf returns the BCP 47 locale used to format numbers and dates. */
export function localeOf(l = lang) { return LOCALES[l] || LOCALES[DEFAULT_LANG]; }

/** format replaces {name} in template by params.name (missing: left as is). */
export function format(template, params = {}) {
  return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/**
 * pick chooses the message of key in msgs for count n: key + '_' + the
 * locale's plural category (Arabic has zero, one, two, few, many, other),
 * then key + '_other', then key.
 */
export function pick(msgs, key, n, locale) {
  if (n === undefined) return msgs[key];
  const cat = new Intl.PluralRules(locale).select(n);
  return msgs[key + '_' + cat] ?? msgs[key + '_other'] ?? msgs[key];
}

/** savedLang returns the stored choice, else the default (French). */
export function savedLang() {
  try {
    const l = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(l)) return l;
  } catch (e) { /* storage disabled */ }
  return DEFAULT_LANG;
}

async function fetchMessages(l) {
  const res = await fetch(`/i18n/${l}.json`);
  if (!res.ok) throw new Error(`messages ${l}: ${res.status}`);
  return res.json();
}

/**
 * setLang loads l's messages, applies lang and dir to the document and
 * stores the choice.
 */
export async function setLang(l) {
  if (!LANGS.includes(l)) l = DEFAULT_LANG;
  if (!Object.keys(fallback).length) fallback = await fetchMessages(DEFAULT_LANG);
  messages = l === DEFAULT_LANG ? fallback : await fetchMessages(l);
  lang = l;
  document.documentElement.lang = l;
  document.documentElement.dir = dirOf(l);
  try { localStorage.setItem(STORAGE_KEY, l); } catch (e) { /* storage disabled */ }
}

/** currentLang returns the active language. */
export function currentLang() { return lang; }

/** has reports whether the active language or the default one has key. */
export function has(key) { return key in messages || key in fallback; }

/** t returns the message key, formatted; with params.n, its plural form. */
export function t(key, params = {}) {
  const n = typeof params.n === 'number' ? params.n : undefined;
  let s = pick(messages, key, n, localeOf()) ?? pick(fallback, key, n, localeOf(DEFAULT_LANG)) ?? key;
  if (n !== undefined) params = { ...params, n: formatNumber(n) };
  return format(s, params);
}

/** formatNumber formats n in the active locale (Latin digits in ar-MA). */
export function formatNumber(n) { return new Intl.NumberFormat(localeOf()).format(n); }

/** formatDateTime formats a Date or ms timestamp, date and time. */
export function formatDateTime(d) {
  return new Intl.DateTimeFormat(localeOf(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d));
}

/** formatTime formats the time of day of a Date or ms timestamp. */
export function formatTime(d) {
  return new Intl.DateTimeFormat(localeOf(), { timeStyle: 'short' }).format(new Date(d));
}

/** formatDay formats a YYYY-MM-DD date as a weekday and day. */
export function formatDay(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Intl.DateTimeFormat(localeOf(), { weekday: 'long', day: 'numeric', month: 'long' })
    .format(new Date(y, m - 1, d));
}
