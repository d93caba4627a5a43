// unit.js — unit tests of the PWA's pure modules (search, scanner, i18n,
// presence), run in the browser by e2e/unit_test.go, which reads
// window.unitResults: [{name, ok, got, want}].

import { fold, personKey, buildIndex, search, searchAll, packIndex, unpackIndex } from '/js/search.js';
import { parseCode, parseMatricule, decide, matriculeCheck, createGate } from '/js/scanner.js';
import { format, pick, dirOf, LANGS } from '/js/i18n.js';
import { pairState } from '/js/presence.js';
import { uuidv7, randomSecret } from '/js/uuid.js';
import { backoffMs, clockSkew } from '/js/sync.js';
import { retryAfterSeconds } from '/js/http.js';
import { lostRanges, keep, requeue, all as sentAll, RETENTION_MS, MAX_SENT } from '/js/sentlog.js';
import { tx, req } from '/js/db.js';
import { isoLocal, localDate } from '/js/time.js';

const results = [];
function eq(name, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  results.push({ name, ok: g === w, got: g, want: w });
}

const people = [
  { id: 'F25012400035S', data: { last_name: 'Aït Baha', first_name: 'Marouane' } },
  { id: 'F25012400012S', data: { last_name: 'Benaïssa', first_name: 'Salma' } },
  { id: 'F25012400101A', data: { last_name: "N'Diaye", first_name: 'Awa' } },
  { id: 'F25012400202B', data: { last_name: 'El  Ouardi', first_name: 'Hamza' } },
  { id: 'F25012400303C', data: { last_name: 'بنعيسى', first_name: 'أسماء' } },
  { id: 'F25012400404D', data: { last_name: 'الإدريسي', first_name: 'فاطمة' } },
  { id: 'F25012400505E', data: { last_name: 'Mouline', first_name: 'Mustapha' } },
  { id: 'F25167300328B', data: { last_name: 'Be\u0301naissa', first_name: 'Omar' } }, // decomposed é
];
const index = buildIndex(people);
const ids = (q) => search(index, q).map((e) => e.id).sort();

// Folding.
eq('fold accents and case', fold('Benaïssa'), 'benaissa');
eq('fold ASCII fast path', [fold("  O'Brien-SMITH  2nd\t_x"), fold('AbC09'), fold('--'), fold(12)], ['obriensmith2ndx', 'abc09', '', '12']);
eq('fold decomposed accents', fold('Be\u0301naissa'), 'benaissa');
eq('fold spaces and apostrophes', fold(" N'Diaye  El-Ouardi "), 'ndiayeelouardi');
eq('fold ligature', fold('Œuvre'), 'oeuvre');
eq('fold emoji dropped', fold('Ilham 🇲🇦'), 'ilham');
eq('fold arabic harakat', fold('مُحَمَّد'), 'محمد');
eq('fold arabic tatweel', fold('محـــمد'), 'محمد');
eq('fold hamza alef variants', [fold('أحمد'), fold('إدريس'), fold('آمنة'), fold('ٱلله')], ['احمد', 'ادريس', 'امنه', 'الله']);
eq('fold alef maqsura, teh marbuta, waw and yeh hamza', [fold('مصطفى'), fold('فاطمة'), fold('مؤمن'), fold('هانئ')], ['مصطفي', 'فاطمه', 'مومن', 'هاني']);
eq('fold arabic presentation forms', fold('\uFEE3\uFEA4\uFEE4\uFEAA'), 'محمد');

// The packed index (stored at start): same order, keys and answers.
const unpacked = unpackIndex(packIndex(index));
eq('packed index keeps order and keys', unpacked.map((e) => [e.id, e.sk, e.label]), index.map((e) => [e.id, e.sk, e.label]));
eq('packed index answers the same', search(unpacked, 'benaissa').map((e) => e.id), search(index, 'benaissa').map((e) => e.id));
eq('packed index items', unpackIndex(packIndex(buildIndex([{ id: 'x1', data: { last_name: 'A', first_name: 'B', establishment_code: 'E', group: 'G', program: 'P' }, local: true }])))[0].item,
  { id: 'x1', sk: personKey({ last_name: 'A', first_name: 'B' }), data: { trainee_id: 'x1', last_name: 'A', first_name: 'B', establishment_code: 'E', group: 'G' }, local: true });

// Search.
eq('ait finds Aït', ids('ait'), ['F25012400035S']);
eq('AIT B finds Aït Baha', ids('AIT B'), ['F25012400035S']);
eq('benaissa finds Benaïssa (composed and decomposed)', ids('benaissa'), ['F25012400012S', 'F25167300328B']);
eq('first name then last name', ids('salma benaissa'), ['F25012400012S']);
eq('apostrophe ignored', ids('ndiaye'), ['F25012400101A']);
eq('double space ignored', ids('el ouardi'), ['F25012400202B']);
eq('arabic without hamza finds أسماء', ids('اسماء'), ['F25012400303C']);
eq('arabic with ي finds بنعيسى', ids('بنعيسي'), ['F25012400303C']);
eq('arabic with harakat in the query', ids('فَاطِمَة'), ['F25012400404D']);
eq('arabic alef variant in the query', ids('الادريسي'), ['F25012400404D']);
eq('matricule prefix', ids('F2501240003'), ['F25012400035S']);
eq('matricule prefix lower case', ids('f2516'), ['F25167300328B']);
eq('4 digits of a matricule, anywhere in it', [ids('2400035'), ids('0303'), ids('24 00 40'), ids('2400')], [['F25012400035S'], ['F25012400303C'], ['F25012400404D'], ['F25012400012S', 'F25012400035S', 'F25012400101A', 'F25012400202B', 'F25012400303C', 'F25012400404D', 'F25012400505E']]);
eq('3 digits are not a matricule part', ids('035'), []);
{
  const own = buildIndex([
    { id: 'F25012400001A', data: { last_name: 'Saadi', first_name: 'Ali', establishment_code: 'EFP0200' } },
    { id: 'F25012400002B', data: { last_name: 'Saad', first_name: 'Nora', establishment_code: 'EFP0105' } },
    { id: 'F25012400003C', data: { last_name: 'Bensaad', first_name: 'Omar', establishment_code: 'EFP0105' } },
    { id: 'F25012400004D', data: { last_name: 'Abou', first_name: 'Saadia', establishment_code: 'EFP0200' } },
    { id: 'F25012400005E', data: { last_name: 'Rami', first_name: 'Imad', establishment_code: 'EFP0105' } },
  ]);
  eq('own establishment first, then the others', searchAll(own, 'saad', 'EFP0105').map((e) => e.item.data.last_name), ['Saad', 'Bensaad', 'Abou', 'Saadi']);
  eq('no establishment: name order, starts before contains', searchAll(own, 'saad').map((e) => e.item.data.last_name), ['Abou', 'Saad', 'Saadi', 'Bensaad']);
  eq('every match, no cap', searchAll(own, 'a').length, 5);
}
eq('empty query', ids('  '), []);
eq('prefix before substring', search(index, 'ma').map((e) => e.id)[0], 'F25012400035S');
eq('personKey', personKey({ last_name: 'Aït', first_name: 'Ali' }), '\u0001aitali\u0001aliait');

// Search speed on 9,000 trainees (reported, not asserted).
{
  const names = ['Aït Baha', 'Benaïssa', 'El Idrissi', 'Tahiri', 'Chraibi', 'Ouazzani', 'Lahlou', 'Bennani', 'Alaoui', 'Zerouali'];
  const firsts = ['Salma', 'Youssef', 'Meryem', 'Hamza', 'Imane', 'Omar', 'Khadija', 'Anas', 'Sanae', 'Badr'];
  const big = [];
  for (let i = 0; i < 9000; i++) big.push({ id: 'F25' + String(100000000 + i).slice(1) + 'A', data: { last_name: names[i % 10] + ' ' + (i % 97), first_name: firsts[(i * 7) % 10] } });
  const bigIndex = buildIndex(big);
  const times = [];
  for (const q of ['b', 'be', 'ben', 'bena', 'benai', 'benais', 'benaiss', 'benaissa', 'o', 'om', 'oma', 'omar', 'z', 'zz']) {
    const t0 = performance.now();
    search(bigIndex, q);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  results.push({ name: 'measure: search per keystroke, 9000 trainees, pure search (ms, median/max)', ok: true, measure: true, got: `${times[times.length >> 1].toFixed(2)} / ${times[times.length - 1].toFixed(2)}` });
}

// Scanner.
eq('check letter', matriculeCheck('25012400012'), 'S');
eq('badge trainee', parseCode('PD1:T:F25012400012S'), { kind: 'trainee', id: 'F25012400012S' });
eq('badge speaker', parseCode('PD1:S:SPK-0001'), { kind: 'speaker', id: 'SPK-0001' });
eq('badge walk-in uuid', parseCode('PD1:T:0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b'), { kind: 'trainee', id: '0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b' });
eq('bare matricule', parseCode(' f25012400012s '), { kind: 'trainee', id: 'F25012400012S' });
eq('bare matricule with wrong check letter', parseCode('F25012400012T'), null);
eq('unknown payload', parseCode('https://example.com'), null);
eq('unknown badge version', parseCode('PD2:T:F25012400012S'), null);
eq('matricule errors', [parseMatricule('F2501240001').error, parseMatricule('F25012400012T').error], ['format', 'check_letter']);
eq('decide none', decide([]), { kind: 'none' });
eq('decide one', decide([{ rawValue: 'PD1:T:F25012400012S' }]), { kind: 'one', person: { kind: 'trainee', id: 'F25012400012S' }, raw: 'PD1:T:F25012400012S' });
eq('decide same code twice is one', decide([{ rawValue: 'PD1:S:SPK-0001' }, { rawValue: 'PD1:S:SPK-0001' }]).kind, 'one');
eq('decide two different codes is ambiguous', decide([{ rawValue: 'PD1:T:F25012400012S' }, { rawValue: 'PD1:T:F25012400035S' }]),
  { kind: 'ambiguous', codes: ['PD1:T:F25012400012S', 'PD1:T:F25012400035S'] });
eq('decide badge beside a foreign code is ambiguous', decide([{ rawValue: 'PD1:T:F25012400012S' }, { rawValue: 'WIFI:S:x' }]).kind, 'ambiguous');
eq('decide foreign code', decide(['hello']), { kind: 'invalid', raw: 'hello' });
// The door gate: a badge held in view is taken once; shown anew within the
// window it is "déjà pointé"; past the window (from its last sighting) it is new.
{
  const g = createGate(4000);
  eq('gate first sighting', g.see('A', 0), 'new');
  eq('gate held in view', [g.see('A', 200), g.see('A', 400)], ['same', 'same']);
  g.gap();
  eq('gate shown again after an empty frame', g.see('A', 1500), 'again');
  eq('gate another badge', g.see('B', 1700), 'new');
  eq('gate back to the first within the window', g.see('A', 2000), 'again');
  eq('gate held for long is never new', [g.see('A', 5000), g.see('A', 8000), g.see('A', 11000)], ['same', 'same', 'same']);
  g.gap();
  eq('gate past the window from the last sighting', g.see('A', 15001), 'new');
  eq('gate forgets old codes', g.see('B', 15100), 'new');
  g.forget();
  eq('gate after forget', g.see('B', 15200), 'new');
}

// i18n.
eq('format', format('{n} / {cap} {x}', { n: 3, cap: 40 }), '3 / 40 {x}');
eq('dir', [dirOf('ar'), dirOf('fr'), dirOf('en')], ['rtl', 'ltr', 'ltr']);
const msgs = { k_one: 'un', k_other: 'plusieurs', a_zero: 'صفر', a_two: 'اثنان', a_few: 'بضعة', a_many: 'كثير', a_other: 'آخر', a_one: 'واحد' };
eq('plural fr', [pick(msgs, 'k', 0, 'fr'), pick(msgs, 'k', 1, 'fr'), pick(msgs, 'k', 2, 'fr')], ['un', 'un', 'plusieurs']);
eq('plural ar', [0, 1, 2, 5, 11, 100].map((n) => pick(msgs, 'a', n, 'ar')), ['صفر', 'واحد', 'اثنان', 'بضعة', 'كثير', 'آخر']);
const files = {};
for (const l of LANGS) files[l] = await (await fetch(`/i18n/${l}.json`)).json();
const base = (k) => k.replace(/_(zero|one|two|few|many|other)$/, '');
const covered = (m, b) => b in m || (b + '_other') in m;
for (const l of LANGS) {
  const missing = [];
  for (const other of LANGS) for (const k of Object.keys(files[other])) if (!covered(files[l], base(k))) missing.push(base(k));
  eq(`messages complete: ${l}`, [...new Set(missing)], []);
}

// Presence (observed-remove, as the phone sees it).
const P = { kind: 'trainee', id: 'T1' };
const ci = (id, seq, status = 'pending') => ({ id, seq, type: 'attendance.check_in', person: P, status, recorded_at: 'x' });
const un = (id, seq, undoes, status = 'pending') => ({ id, seq, type: 'attendance.undo', person: P, undoes, status });
eq('presence: none', pairState(undefined, []).present, false);
eq('presence: local check-in', pairState(undefined, [ci('a', 1)]).present, true);
eq('presence: check-in then undo', pairState(undefined, [ci('a', 1), un('u', 2, ['a'])]).present, false);
eq('presence: re-check-in after undo', pairState(undefined, [ci('a', 1), un('u', 2, ['a']), ci('b', 3)]).present, true);
const pulled = { data: { present: true, check_in_ids: ['x'], checked_in_at: 't' }, pulled_at: 10 };
eq('presence: pulled', pairState(pulled, []).present, true);
eq('presence: undo names pulled and own ids', pairState(pulled, [ci('a', 1)]).checkInIds.sort(), ['a', 'x']);
eq('presence: undo of a pulled check-in', pairState(pulled, [un('u', 1, ['x'])]).present, false);
eq('presence: rejected check-in does not count', pairState(undefined, [ci('a', 1, 'rejected')]).present, false);
eq('presence: applied check-in, later pull is the truth', pairState({ data: { present: false, check_in_ids: [] }, pulled_at: 20 }, [{ ...ci('a', 1, 'applied'), acked_at: 10 }]).present, false);

const fl = (id, seq, code) => ({ ...ci(id, seq, 'flagged'), code });
eq('presence: flagged check-in is held, not present', pairState(undefined, [fl('a', 1, 'out_of_window')]), { present: false, checkInIds: ['a'], at: null, held: { id: 'a', code: 'out_of_window', recorded_at: 'x' } });
eq('presence: held check-in undone', pairState(undefined, [fl('a', 1, 'late'), un('u', 2, ['a'])]).held, null);
eq('presence: held check-in undone by a held undo', pairState(undefined, [fl('a', 1, 'late'), un('u', 2, ['a'], 'flagged')]).held, null);
eq('presence: held check-in accepted (pulled present)', pairState({ data: { present: true, check_in_ids: ['a'] }, pulled_at: 20 }, [{ ...fl('a', 1, 'out_of_window'), acked_at: 10 }]), { present: true, checkInIds: ['a'], at: undefined, held: null });
eq('presence: rejected check-in is not held', pairState(undefined, [ci('a', 1, 'rejected')]).held, null);
{
  // A check-in recorded on a day more than 1 day from the activity's date
  // is held (out_of_window) from the start, not present; ± 1 day is in.
  const now = new Date();
  const rec = (id, seq) => ({ ...ci(id, seq), recorded_at: isoLocal(now) });
  const day = (n) => localDate(new Date(now.getFullYear(), now.getMonth(), now.getDate() + n, 12));
  eq('presence: other day, held from the start', pairState(undefined, [rec('a', 1)], day(-5)), { present: false, checkInIds: ['a'], at: null, held: { id: 'a', code: 'out_of_window', recorded_at: isoLocal(now), predicted: true } });
  eq('presence: other day, held not present counted', [pairState(undefined, [rec('a', 1)], day(2)).present, pairState(undefined, [rec('a', 1)], day(-1)).present, pairState(undefined, [rec('a', 1)], day(1)).present, pairState(undefined, [rec('a', 1)], day(0)).present], [false, true, true, true]);
  eq('presence: predicted held undone', pairState(undefined, [rec('a', 1), un('u', 2, ['a'])], day(-5)), { present: false, checkInIds: ['a'], at: null, held: null });
  eq('presence: the server\'s answer wins (applied)', pairState(undefined, [{ ...rec('a', 1), status: 'applied', acked_at: 1 }], day(-5)).present, true);
}
eq('clock skew', [clockSkew(0), clockSkew(300000), clockSkew(-300001), clockSkew(5 * 3600000), clockSkew(251 * 86400000 + 4000)], [null, null, { n: 5, unit: 'min' }, { n: 5, unit: 'h' }, { n: 251, unit: 'd' }]);

// Ids, backoff, Retry-After.
const u1 = uuidv7(1700000000000);
eq('uuidv7 shape', /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u1), true);
eq('uuidv7 time-ordered', uuidv7(1700000000000) < uuidv7(1700000000001), true);
eq('device secret: 256 bits in base64url', /^[A-Za-z0-9_-]{43}$/.test(randomSecret()), true);
eq('device secrets differ', randomSecret() !== randomSecret(), true);
eq('backoff grows and is capped', [backoffMs(1, null, () => 0.5), backoffMs(3, null, () => 0.5), backoffMs(30, null, () => 0.5)], [2000, 8000, 300000]);
eq('backoff honours Retry-After', backoffMs(1, 120, () => 0.5), 120000);
eq('retry-after', [retryAfterSeconds('30'), retryAfterSeconds(null), retryAfterSeconds(new Date(61000).toUTCString(), 1000)], [30, null, 60]);

// The sent log (sync protocol 1.1): what a device object says is lost, and
// the round trip through IndexedDB (keep, trim, requeue).
eq('sent log: no device object, nothing lost', [lostRanges(undefined), lostRanges({ epoch: 'e' })], [[], []]);
eq('sent log: above max_seq and the gaps', lostRanges({ epoch: 'e', max_seq: 7, gaps: [[2, 3], [5, 5]] }), [[2, 3], [5, 5], [8, Infinity]]);
eq('sent log: a malformed gap is ignored', lostRanges({ epoch: 'e', max_seq: 0, gaps: [[4, 2], [1]] }), [[1, Infinity]]);
eq('sent log: retention', [RETENTION_MS, MAX_SENT], [14 * 86400000, 100000]);
{
  const mk = (seq, type = 'attendance.check_in') => ({ id: 'sl-' + seq, seq: 9000 + seq, type, recorded_at: 'r' + seq, activity_id: 'A', person: { kind: 'trainee', id: 'T' + seq } });
  const now = Date.now();
  await tx(['sent', 'outbox', 'journal'], 'readwrite', async (t) => {
    await keep(t, [mk(4)], now - RETENTION_MS - 1); // too old at the next keep
    await keep(t, [mk(1), mk(2), mk(3, 'trainee.register')], now);
    t.objectStore('journal').put({ ...mk(2), status: 'applied', acked_at: now });
  });
  eq('sent log: kept, the too old trimmed', (await sentAll()).map((m) => m.seq), [9001, 9002, 9003]);
  const r = await requeue({ epoch: 'new', max_seq: 9001, gaps: [] });
  eq('sent log: requeue counts', r, { mutations: 2, checkIns: 1 });
  const back = await tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').index('seq').getAll()));
  eq('sent log: back in the outbox as they were', back, [mk(2), mk(3, 'trainee.register')]);
  eq('sent log: what the server holds stays', (await sentAll()).map((m) => m.id), ['sl-1']);
  eq('sent log: journal pending again', (await tx(['journal'], 'readonly', (t) => req(t.objectStore('journal').get('sl-2')))).status, 'pending');
  eq('sent log: nothing lost, nothing back', await requeue({ epoch: 'new', max_seq: 9003, gaps: [] }), { mutations: 0, checkIns: 0 });
  await tx(['sent', 'outbox', 'journal'], 'readwrite', (t) => { for (const s of ['sent', 'outbox', 'journal']) t.objectStore(s).clear(); });
}
{
  // A shared phone: the server lost both users' check-ins; only the
  // current user's (and an entry kept before usernames were) go back.
  const mk = (seq) => ({ id: 'su-' + seq, seq: 9100 + seq, type: 'attendance.check_in', recorded_at: 'r' + seq, activity_id: 'A', person: { kind: 'trainee', id: 'T' + seq } });
  await tx(['sent', 'outbox', 'journal'], 'readwrite', async (t) => {
    await keep(t, [mk(1), mk(2)], Date.now(), 'alice');
    await keep(t, [mk(3)], Date.now(), 'bob');
    await keep(t, [mk(4)], Date.now()); // kept before usernames were
  });
  eq('sent log: the user is not pushed', (await sentAll()).map((m) => 'user' in m), [false, false, false, false]);
  eq('sent log: only the current user\'s requeued', await requeue({ epoch: 'new', max_seq: 9100, gaps: [] }, 'bob'), { mutations: 2, checkIns: 2 });
  const back = await tx(['outbox'], 'readonly', (t) => req(t.objectStore('outbox').index('seq').getAll()));
  eq('sent log: bob\'s back as they were', back, [mk(3), mk(4)]);
  eq('sent log: alice\'s stay in the log', (await sentAll()).map((m) => m.id), ['su-1', 'su-2']);
  await tx(['outbox'], 'readwrite', (t) => t.objectStore('outbox').clear());
  eq('sent log: alice\'s go back at her sync', await requeue({ epoch: 'new', max_seq: 9100, gaps: [] }, 'alice'), { mutations: 2, checkIns: 2 });
  await tx(['sent', 'outbox', 'journal'], 'readwrite', (t) => { for (const s of ['sent', 'outbox', 'journal']) t.objectStore(s).clear(); });
}

window.unitResults = results;
