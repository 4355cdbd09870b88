// Customer search and the profile view over HTTP against real PostgreSQL (pg_trgm): typo-tolerant
// free text, every filter, keyset pages that neither skip nor repeat, and the profile's insights.
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { searchCustomers, type CustomerSearch } from '../../src/customers/customer-search.repository.js';
import { foldName } from '../../src/customers/name-spelling.js';
import { queryRows, textArray } from '../../src/db/db.client.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };
const auth = (token = business.token) => ({ Authorization: `Bearer ${token}` });
const ids: Record<string, string> = {};

async function create(key: string, overrides: Record<string, unknown>, b = business) {
  const res = await request(t.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer(overrides)).expect(201);
  ids[key] = res.body.data.id as string;
}
async function search(query: string, token = business.token) {
  const res = await request(t.app).get(`/api/v1/customers?${query}`).set(auth(token)).expect(200);
  return res.body as { data: { id: string; loyaltyTier: string }[]; meta: { nextCursor: string | null } };
}
const found = async (query: string) => (await search(query)).data.map((c) => c.id);

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness();
  await create('john', { firstName: 'John', lastName: 'Smith', email: 'john.smith@example.com', phone: '+14155550101', tags: ['vip'], metrics: { totalSpent: 1200, netRevenue: 1200, lastOrderDate: '2026-01-10' } });
  await create('jane', { firstName: 'Jane', lastName: 'Smithers', email: 'jane@shop.example', phone: '+14155550102', tags: [], metrics: { totalSpent: 300, lastOrderDate: '2025-06-01' } });
  await create('maria', { firstName: 'María', lastName: 'García', email: 'maria.garcia@example.org', phone: '+34915550103', tags: ['vip'], metrics: { totalSpent: 50 } });
  await create('noName', { firstName: null, lastName: null, email: 'anon@example.net', phone: '+442071838750', tags: [], metrics: null });
  for (let i = 0; i < 7; i++) await create(`smith${i}`, { firstName: `Alex${i}`, lastName: 'Smith', email: `alex${i}@example.com`, phone: `+1415555020${i}`, tags: [], metrics: { totalSpent: 20 } });
  const other = await t.newBusiness('Other');
  await create('foreignSmith', { firstName: 'John', lastName: 'Smith', email: 'john.smith@other.example' }, other);
});
afterAll(() => t.close());
afterEach(() => vi.useRealTimers());

describe('customer search', () => {
  it('finds names despite typos, by email and by phone digits, and only in the caller’s business', async () => {
    expect(await found('q=jon%20smith&limit=50')).toContain(ids.john);
    expect(await found('q=john%20smtih&limit=50')).toContain(ids.john);
    // Names containing the text come before names spelt like it.
    expect((await found('q=john%20smith'))[0]).toBe(ids.john);
    expect(await found('q=%40example.org')).toEqual([ids.maria]);
    expect(await found('q=maria.garcia')).toEqual([ids.maria]);
    expect(await found('q=garcia.maria')).toEqual([]);
    expect(await found('q=john.smith%40')).toEqual([ids.john]);
    expect(await found('q=garcia')).toEqual([ids.maria]); // close enough to García
    expect(await found('q=garc%C3%ADa')).toEqual([ids.maria]);
    expect(await found('q=2071838750')).toEqual([ids.noName]);
    const smiths = await found('q=smith&limit=50');
    expect(smiths).not.toContain(ids.foreignSmith);
    // The exact last name first, newest first; then names containing "smith" (Smithers); then
    // names only spelt like it.
    const exact = [ids.john, ...Array.from({ length: 7 }, (_, i) => ids[`smith${i}`])];
    expect(smiths.slice(0, exact.length)).toEqual([...exact].reverse());
    expect(smiths[exact.length]).toBe(ids.jane);
    // A first name exactly, and a full name exactly (several words), before containing matches.
    expect((await found('q=alex3'))[0]).toBe(ids.smith3);
    expect((await found('q=jane%20smithers'))[0]).toBe(ids.jane);
  });

  it('finds the last digits of a phone before numbers that only contain them', async () => {
    // 0203 ends Alex3's +14155550203 only; 5550 is inside every +1415555… number and ends none.
    expect(await found('q=0203')).toEqual([ids.smith3]);
    expect(await found('q=8750')).toEqual([ids.noName]);
    const containing = await found('q=5550&limit=50');
    expect(containing.length).toBeGreaterThan(8);
  });

  it('finds a similarly spelt name of a customer who has no email, and a number ending with the digits before one containing them', async () => {
    // A business of its own, so the other tests' customers stay as they are.
    const own = await t.newBusiness('No email');
    const res = await request(t.app).post('/api/v1/customers').set(auth(own.token)).send(buildCustomer({ firstName: 'Bartholomew', lastName: 'Quigley', email: null, phone: '+14155550999' })).expect(201);
    expect((await search('q=bartholomew%20quigly', own.token)).data.map((c) => c.id)).toEqual([res.body.data.id]);
    // A newer number that only contains 0999 comes after the older one that ends with it.
    const newer = await request(t.app).post('/api/v1/customers').set(auth(own.token)).send(buildCustomer({ email: null, phone: '+14152099912' })).expect(201);
    expect((await search('q=0999', own.token)).data.map((c) => c.id)).toEqual([res.body.data.id, newer.body.data.id]);
    // Six digits and more: the number ending with them, then one containing them (one statement).
    const containing = await request(t.app).post('/api/v1/customers').set(auth(own.token)).send(buildCustomer({ email: null, phone: '+14155509991' })).expect(201);
    expect((await search('q=550999', own.token)).data.map((c) => c.id)).toEqual([res.body.data.id, containing.body.data.id]);
    expect((await search('q=550999&limit=1', own.token)).data.map((c) => c.id)).toEqual([res.body.data.id]);
  });

  it('finds names one edit per word away, the exact names first, and does not edit words of two letters', async () => {
    const own = await t.newBusiness('Spelling');
    const make = async (firstName: string, lastName: string) =>
      (await request(t.app).post('/api/v1/customers').set(auth(own.token)).send(buildCustomer({ firstName, lastName })).expect(201)).body.data.id as string;
    const wojcik = await make('Zofia', 'Wójcik');
    const thorne = await make('Evander', 'Thorne');
    const thorn = await make('Evander', 'Thorn');
    const ng = await make('Ada', 'Ng');
    const thornbury = await make('Evander', 'Thornbury');
    const spelled = async (q: string) => (await search(`q=${encodeURIComponent(q)}&limit=50`, own.token)).data.map((c) => c.id);
    // A letter dropped, added, changed, neighbours swapped; accents folded either way.
    expect(await spelled('wojcik')).toEqual([wojcik]);
    expect(await spelled('wjcik')).toEqual([wojcik]);
    expect(await spelled('wojciik')).toEqual([wojcik]);
    expect(await spelled('wojcak')).toEqual([wojcik]);
    expect(await spelled('zofia wjócik')).toEqual([wojcik]);
    expect(await spelled('zfoia wojcki')).toEqual([wojcik]);
    // Two edits in one word are too far.
    expect(await spelled('wjocki')).toEqual([]);
    // One word: the exact last name, then names containing it (newest first), then names one edit away.
    expect(await spelled('thorn')).toEqual([thorn, thornbury, thorne]);
    expect(await spelled('thorne')).toEqual([thorne, thorn]);
    expect(await spelled('thron')).toEqual([thorn]);
    // Several words: the exact full name, then full names an edit away, then longer ones containing the text.
    expect(await spelled('evander thorn')).toEqual([thorn, thorne, thornbury]);
    expect(await spelled('evander thor')).toEqual([thorn, thornbury, thorne]);
    // Two letters are looked up as typed: "ng" is not "nig" or "n".
    expect(await spelled('ada ng')).toEqual([ng]);
    expect(await spelled('ada nh')).toEqual([]);
    // A first name of two words, which the vocabulary holds whole, with a misspelt last name.
    const maryAnn = await make('Mary Ann', 'Thorne');
    expect(await spelled('mary ann throne')).toEqual([maryAnn]);
    // The whole text as a last name or a first name, right after an exact full name, before names containing it.
    const rosa = await make('Rosa', 'De La Cruz');
    const juan = await make('Juan', 'Perez de la Cruz');
    expect(await spelled('de la cruz')).toEqual([rosa, juan]);
    expect(await spelled('mary ann')).toEqual([maryAnn]);
    // A page at a time, through every group of one statement and the next: the same customers in the same order.
    for (const q of ['evander thorn', 'de la cruz', 'thorn']) {
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await search(`q=${encodeURIComponent(q)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`, own.token);
        paged.push(...page.data.map((c) => c.id));
        cursor = page.meta.nextCursor;
      } while (cursor);
      expect(paged, q).toEqual(await spelled(q));
    }
    // A word being typed: names starting with it (newest first), then names only containing it, however new.
    const marsh = await make('Bob', 'Marsh');
    const delmar = await make('Ann', 'Delmar');
    expect(await spelled('mar')).toEqual([marsh, maryAnn, delmar]);
    // Many long words: fewer candidates each, the rest as typed; still one answer, and nothing found.
    expect(await spelled(Array.from({ length: 12 }, (_, i) => `wojcik${'abcdefghijkl'[i]}`).join(' '))).toEqual([]);
    expect(await spelled('zofia wojcik zofia wojcik zofia wojcik zofia wojcik')).toEqual([]);
  });

  it('keeps the name vocabulary with the customers: new names in, names no live customer has any more out', async () => {
    const own = await t.newBusiness('Vocabulary');
    const vocabulary = async (...names: string[]) =>
      (await queryRows<{ name: string }>(t.database.handle.db, sql`SELECT name FROM customer_name_vocabulary WHERE name = ANY(${textArray(names)}) ORDER BY name`)).map((r) => r.name);
    const a = (await request(t.app).post('/api/v1/customers').set(auth(own.token)).send(buildCustomer({ firstName: 'Orsolya', lastName: 'Quennell' })).expect(201)).body.data;
    await request(t.app).post('/api/v1/customers').set(auth(own.token)).send(buildCustomer({ firstName: 'Ignatius', lastName: 'Quennell' })).expect(201);
    expect(await vocabulary('orsolya', 'quennell', 'ignatius')).toEqual(['ignatius', 'orsolya', 'quennell']);
    // A rename brings the new name in; the old first name goes, the last name another customer has stays.
    await request(t.app).patch(`/api/v1/customers/${a.id as string}`).set(auth(own.token)).send({ firstName: 'Orsola', lastName: 'Quenell' }).expect(200);
    expect(await vocabulary('orsolya', 'orsola', 'quennell', 'quenell')).toEqual(['orsola', 'quenell', 'quennell']);
    // The accent fold is the same in SQL (name_fold) and in the search (foldName).
    const letters = 'ÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚÌÍÎÏĪĮŁÑŃŇÒÓÔÕÖØŌŐŚŠŞÙÚÛÜŪŮŰŲÝŸŹŻŽàáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőśšşùúûüūůűųýÿźżžßæ Müller-Lüdenscheidt';
    const [folded] = await queryRows<{ f: string }>(t.database.handle.db, sql`SELECT name_fold(${letters}) AS f`);
    expect(folded!.f).toBe(foldName(letters));
  });

  it('pages a search, every match exactly once and in the same order as one page', async () => {
    const all = await found('q=smith&limit=50');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(`q=smith&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((c) => c.id));
      cursor = page.meta.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("lists a business's own customers newest first by their creation time, however they joined it", async () => {
    const own = await t.newBusiness('Newest first');
    const elsewhere = await t.newBusiness('Elsewhere');
    const listed = async (query = 'limit=50') => (await search(query, own.token)).data.map((c) => c.id);
    const make = async (b: { token: string }) =>
      (await request(t.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer({})).expect(201)).body.data.id as string;
    const first = await make(own);
    const second = await make(own);
    // Another business's customer, created between ours and newer than the first, joins ours later.
    const joiner = await make(elsewhere);
    const third = await make(own);
    expect(await listed()).toEqual([third, second, first]);
    await t.database.pool.query('INSERT INTO business_customers (business_id, customer_id) VALUES ($1, $2)', [own.id, joiner]);
    // In the order of its creation, not of joining (the link copies the customer's created_at).
    expect(await listed()).toEqual([third, joiner, second, first]);
    // A customer's creation time changed in place moves it in every business's list.
    await t.database.pool.query(`UPDATE customers SET created_at = created_at - interval '1 day' WHERE id = $1`, [third]);
    expect(await listed()).toEqual([joiner, second, first, third]);
    // A page at a time: the same customers in the same order, each once.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await search(`limit=1${cursor ? `&cursor=${cursor}` : ''}`, own.token);
      paged.push(...page.data.map((c) => c.id));
      cursor = page.meta.nextCursor;
    } while (cursor);
    expect(paged).toEqual([joiner, second, first, third]);
    // Every link's copy matches its customer, whichever way it was written in this file.
    const [drift] = await queryRows<{ n: number }>(
      t.database.handle.db,
      sql`SELECT count(*)::int AS n FROM business_customers bc JOIN customers c ON c.id = bc.customer_id WHERE bc.customer_created_at <> c.created_at`,
    );
    expect(drift!.n).toBe(0);
  });

  it('finds the same customers in the same order, page by page, in one pass over a small business as through the indexes', async () => {
    const db = t.database.handle.db;
    // Names, emails and phones that fall into every group, and a neighbour whose customers match too.
    const own = await t.newBusiness('One pass');
    const neighbour = await t.newBusiness('Neighbour');
    const people: [string | null, string | null, string | null, string][] = [
      ['John', 'Smith', 'jsmith@example.com', '+14155550301'],
      ['Johnny', 'Smith', 'johnny.smith@example.com', '+14155550302'],
      ['Smith', 'Jones', 'smith.jones@example.net', '+14155550303'],
      ['Alice', 'Smithson', 'alice@smithson.example', '+14155550304'],
      ['Jon', 'Smyth', null, '+14155550305'],
      ['Mary Ann', 'De La Cruz', 'mac@example.org', '+34915550306'],
      [null, null, 'nobody@example.com', '+14155030599'],
      ['Jane', 'Smith', 'jane.s@example.com', '+14155550307'],
      ['Ko', 'Oda', 'jo.ko@example.com', '+14155550308'],
      ['Lo', 'Oda', 'jo.lo@example.com', '+14155550309'],
      ['Mo', 'Oda', 'jo.mo@example.com', '+14155550310'],
    ];
    for (const b of [own, neighbour]) {
      for (const [firstName, lastName, email, phone] of people) {
        const res = await request(t.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer({ firstName, lastName, email: email && `${b === own ? '' : 'n.'}${email}`, phone, metrics: { totalSpent: 150 } }));
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }
    }
    const queries: Omit<CustomerSearch, 'businessId' | 'limit'>[] = [
      ...['smith', 'smiht', 'smi', 'john smith', 'jon smith', 'john smtih', 'mary ann', 'de la cruz', 'mary ann de la cruz', 'jsmith', 'jsmith@', 'jo.', 'jo.l', '@example.org', '0305', '5550', '555030', 'zzz'].map((q) => ({ q })),
      { q: 'smith', minSpent: 100 },
      { q: 'smith', tier: 'BRONZE' },
      { q: 'smith', tag: 'none-has-it' },
    ];
    for (const businessId of [own.id, business.id]) {
      for (const query of queries) {
        const run = async (smallBusiness: boolean, limit: number) => {
          const all: string[] = [];
          let after: CustomerSearch['after'];
          for (;;) {
            const rows = await searchCustomers(db, { businessId, ...query, limit, smallBusiness, after });
            all.push(...rows.slice(0, limit).map((r) => `${r.group}:${r.id}`));
            const last = rows[limit - 1];
            if (rows.length <= limit || !last) return all;
            after = { group: last.group, at: last.cursorAt, id: last.id };
          }
        };
        const whole = await run(false, 50);
        const label = JSON.stringify(query);
        expect(await run(true, 50), label).toEqual(whole);
        expect(await run(true, 2), label).toEqual(whole);
        expect(await run(false, 2), label).toEqual(whole);
      }
    }
    // The text is really matched in both ways: a common name finds several groups' customers, an
    // email prefix its addresses newest first.
    expect((await searchCustomers(db, { businessId: own.id, q: 'smith', limit: 50, smallBusiness: true })).length).toBeGreaterThan(5);
    const emails = async (smallBusiness: boolean) => (await searchCustomers(db, { businessId: own.id, q: 'jo.', limit: 50, smallBusiness })).map((r) => r.email);
    expect(await emails(false)).toEqual(['jo.mo@example.com', 'jo.lo@example.com', 'jo.ko@example.com']);
    expect(await emails(true)).toEqual(['jo.mo@example.com', 'jo.lo@example.com', 'jo.ko@example.com']);
  });

  it('filters by tag, tier, segment, spend and last visit', async () => {
    expect((await found('tag=vip')).sort()).toEqual([ids.john, ids.maria].sort());
    expect((await found('minSpent=200&maxSpent=1200')).sort()).toEqual([ids.john, ids.jane].sort());
    expect(await found('lastVisitFrom=2025-12-01&lastVisitTo=2026-02-01')).toEqual([ids.john]);
    // Default ladder: 1,200 spent is SILVER.
    expect(await found('tier=SILVER')).toEqual([ids.john]);
    const seg = await request(t.app)
      .post('/api/v1/segments')
      .set(auth())
      .send({ name: 'Spenders', criteria: { operator: 'AND', rules: [{ field: 'totalSpent', operator: 'greater_than', value: 100 }] } })
      .expect(201);
    expect((await found(`segmentId=${seg.body.data.id}`)).sort()).toEqual([ids.john, ids.jane].sort());
    expect((await found(`segmentId=${seg.body.data.id}&q=jane`))).toEqual([ids.jane]);
  });

  it('refuses inverted ranges and foreign cursors, naming the field', async () => {
    const res = await request(t.app).get('/api/v1/customers?minSpent=10&maxSpent=5').set(auth()).expect(400);
    expect(res.body.details).toContainEqual(expect.objectContaining({ field: 'query.maxSpent' }));
    const bad = await request(t.app).get('/api/v1/customers?q=smith&cursor=WzAsIm5vIl0').set(auth()).expect(400);
    expect(bad.body.details).toContainEqual(expect.objectContaining({ field: 'query.cursor' }));
    await request(t.app).get('/api/v1/customers?tier=DIAMOND').set(auth()).expect(400);
  });
});

describe('customer profile', () => {
  it('adds loyalty status, progress to the next tier, CLV, segments, recency and the at-risk flag', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-05-01T10:00:00Z') });
    const res = await request(t.app).get(`/api/v1/customers/${ids.john}`).set(auth()).expect(200);
    const p = res.body.data;
    expect(p.loyalty).toMatchObject({
      tier: 'SILVER',
      override: null,
      pendingDowngrade: null,
      points: 450,
      // Default gold: 2,000 spent or 25 visits; 1,200 of 2,000 is the best ratio.
      progress: { nextTier: 'GOLD', progressPercent: 60, remaining: { spend: 800, visits: 25 }, evaluationPeriod: 'lifetime' },
    });
    expect(p.clv).toEqual({ current: 0, predicted: null });
    expect(p.segments).toEqual([expect.objectContaining({ name: 'Spenders' })]);
    expect(p).toMatchObject({ lastVisit: '2026-01-10', daysSinceLastVisit: 111, isAtRisk: true });
    const none = (await request(t.app).get(`/api/v1/customers/${ids.noName}`).set(auth()).expect(200)).body.data;
    expect(none).toMatchObject({ lastVisit: null, daysSinceLastVisit: null, isAtRisk: false, segments: [] });
  });
});
