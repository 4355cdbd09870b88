// Duplicate detection against real PostgreSQL: pairs by normalised email, E.164 phone and similar
// names, with scores and reasons; only live customers of the caller's business; a stable order
// paged with a keyset cursor; one customer's candidates; the email key SQL and TypeScript agree.
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/db.client.js';
import { emailMatchKeySql } from '../../src/db/schema/index.js';
import { DUPLICATE_WEIGHTS } from '../../src/identity/duplicates.repository.js';
import { emailMatchKey } from '../../src/identity/email-match-key.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let b: { id: string; token: string };
const auth = (token = b.token) => ({ Authorization: `Bearer ${token}` });

type Pair = { customerIds: [string, string]; score: number; reasons: { rule: string; detail: string; similarity?: number }[]; customers: { id: string }[] };

async function create(overrides: Record<string, unknown>, business = b): Promise<string> {
  // No sources, addresses or IPs: only what a test names can make two customers alike.
  const body = buildCustomer({ sources: [], addresses: [], ipAddresses: [], activities: [], phone: null, ...overrides });
  const res = await request(t.app).post('/api/v1/customers').set(auth(business.token)).send(body).expect(201);
  return res.body.data.id as string;
}

const pairOf = (x: string, y: string): [string, string] => (x < y ? [x, y] : [y, x]);

async function listAll(query: string, limit = 200): Promise<Pair[]> {
  const res = await request(t.app).get(`/api/v1/customers/duplicates?limit=${limit}${query}`).set(auth()).expect(200);
  return res.body.data as Pair[];
}

const find = (pairs: Pair[], x: string, y: string) => pairs.find((p) => p.customerIds.join() === pairOf(x, y).join());

let ids: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp();
  b = await t.newBusiness('Duplicates');
  ids = {
    // Same Gmail address once with dots and once with a +tag: one person.
    annA: await create({ email: 'ann.lee@gmail.com', firstName: 'Ann', lastName: 'Lee' }),
    annB: await create({ email: 'annlee+shop@gmail.com', firstName: 'Ann', lastName: 'Lee' }),
    // Same phone, similar names.
    bobA: await create({ phone: '+14155550111', firstName: 'Robert', lastName: 'Brownfield', email: null }),
    bobB: await create({ phone: '+14155550111', firstName: 'Roberta', lastName: 'Brownfield', email: 'rb@example.com' }),
    // Same phone, nothing alike in the names (a household): a weaker pair.
    homeA: await create({ phone: '+14155550122', firstName: 'Xavier', lastName: 'Quint', email: null }),
    homeB: await create({ phone: '+14155550122', firstName: 'Mildred', lastName: 'Okafor', email: null }),
    // Only the names are alike.
    kateA: await create({ firstName: 'Katherine', lastName: 'Johansson', email: null }),
    kateB: await create({ firstName: 'Katharine', lastName: 'Johansson', email: null }),
    // Deleted: shares Ann's normalised email but must not appear.
    deleted: await create({ email: 'a.n.n.lee@gmail.com', firstName: 'Zed', lastName: 'Deleted' }),
    loner: await create({ email: 'someone.else@example.org', firstName: 'Unique', lastName: 'Person' }),
  };
  await request(t.app).delete(`/api/v1/customers/${ids.deleted}`).set(auth()).expect(200);
  // Another business's customer with Ann's email and Bob's phone: never paired with ours.
  const other = await t.newBusiness('Elsewhere');
  ids.foreign = await create({ email: 'ann.lee@gmail.com', phone: '+14155550111', firstName: 'Ann', lastName: 'Lee' }, other);
});
afterAll(() => t.close());

describe('GET /customers/duplicates', () => {
  it('pairs customers by normalised email and E.164 phone with scores and reasons, never the values', async () => {
    const pairs = await listAll('');
    const ann = find(pairs, ids.annA!, ids.annB!)!;
    expect(ann.reasons).toEqual([
      { rule: 'email', detail: 'same normalised email (case, +tag or Gmail dots)' },
      { rule: 'name', similarity: 1, detail: 'same name' },
    ]);
    expect(ann.score).toBeCloseTo(1 - (1 - DUPLICATE_WEIGHTS.email) * (1 - DUPLICATE_WEIGHTS.name), 3);
    expect(ann.customers.map((c) => c.id)).toEqual(pairOf(ids.annA!, ids.annB!));

    const bob = find(pairs, ids.bobA!, ids.bobB!)!;
    expect(bob.reasons[0]).toEqual({ rule: 'phone', detail: 'same E.164 phone' });
    expect(bob.reasons[1]).toMatchObject({ rule: 'name', detail: 'similar names' });
    expect(bob.score).toBeGreaterThan(DUPLICATE_WEIGHTS.phone);
    expect(bob.score).toBeLessThan(ann.score);

    // A household sharing a phone: found, but the different names lower the score below the default floor.
    expect(find(pairs, ids.homeA!, ids.homeB!)).toBeUndefined();
    const household = find(await listAll('&minScore=0.5'), ids.homeA!, ids.homeB!)!;
    expect(household.reasons).toEqual([
      { rule: 'phone', detail: 'same E.164 phone' },
      expect.objectContaining({ rule: 'name', detail: 'names differ (lowers the score)' }),
    ]);
    expect(household.score).toBeLessThan(DUPLICATE_WEIGHTS.phone);

    const body = JSON.stringify(pairs.map((p) => p.reasons));
    expect(body).not.toMatch(/gmail|@|\+1415/);
  });

  it('finds customers alike by name only when minScore lets a name likeness count', async () => {
    expect(find(await listAll(''), ids.kateA!, ids.kateB!)).toBeUndefined();
    const kate = find(await listAll('&minScore=0.3'), ids.kateA!, ids.kateB!)!;
    expect(kate.reasons).toEqual([expect.objectContaining({ rule: 'name', detail: 'similar names' })]);
    const similarity = kate.reasons[0]!.similarity!;
    expect(similarity).toBeGreaterThan(0.5);
    expect(similarity).toBeLessThan(1);
    expect(kate.score).toBeCloseTo(DUPLICATE_WEIGHTS.name * similarity, 2);
  });

  it('leaves out deleted customers, merged ones and other businesses’ customers', async () => {
    const everything = await listAll('&minScore=0.25');
    const seen = new Set(everything.flatMap((p) => p.customerIds));
    expect(seen.has(ids.deleted!)).toBe(false);
    expect(seen.has(ids.foreign!)).toBe(false);
    expect(seen.has(ids.loner!)).toBe(false);

    // A merged pair disappears: the merged-away customer is gone.
    const x = await create({ email: 'twin.one@example.net', firstName: 'Twin', lastName: 'Onesie' });
    const y = await create({ email: 'Twin.One+x@example.net', firstName: 'Twin', lastName: 'Onesie' });
    expect(find(await listAll(''), x, y)).toBeDefined();
    await request(t.app).post(`/api/v1/customers/${x}/merge`).set(auth()).send({ sourceId: y }).expect(201);
    const after = await listAll('&minScore=0.25');
    expect(after.flatMap((p) => p.customerIds)).not.toContain(y);
  });

  it('orders by score, then ids, and pages through the same pairs with the cursor', async () => {
    const whole = await listAll('&minScore=0.25');
    expect(whole.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < whole.length; i++) {
      const [p, c] = [whole[i - 1]!, whole[i]!];
      expect(p.score > c.score || (p.score === c.score && p.customerIds.join() < c.customerIds.join())).toBe(true);
    }
    const paged: Pair[] = [];
    let cursor: string | null = null;
    do {
      const res = await request(t.app)
        .get(`/api/v1/customers/duplicates?minScore=0.25&limit=1${cursor ? `&cursor=${cursor}` : ''}`)
        .set(auth())
        .expect(200);
      expect(res.body.data.length).toBeLessThanOrEqual(1);
      paged.push(...(res.body.data as Pair[]));
      cursor = res.body.meta.nextCursor as string | null;
    } while (cursor);
    expect(paged).toEqual(whole);
  });

  it('lists one customer’s candidates', async () => {
    const pairs = await listAll(`&customerId=${ids.annB}&minScore=0.25`);
    expect(pairs.map((p) => p.customerIds)).toEqual([pairOf(ids.annA!, ids.annB!)]);
    const whole = find(await listAll(''), ids.annA!, ids.annB!)!;
    expect(pairs[0]).toEqual(whole);
    const foreign = await request(t.app).get(`/api/v1/customers/duplicates?customerId=${ids.foreign}`).set(auth()).expect(404);
    expect(foreign.body.details[0].field).toBe('query.customerId');
  });

  it('refuses bad input naming the field, and is not taken for a customer id', async () => {
    for (const [query, field] of [
      ['minScore=2', 'query.minScore'],
      ['minScore=0.1', 'query.minScore'],
      ['limit=0', 'query.limit'],
      ['cursor=bm9wZQ', 'query.cursor'],
      ['customerId=nope', 'query.customerId'],
      ['colour=red', 'query.colour'],
    ]) {
      const res = await request(t.app).get(`/api/v1/customers/duplicates?${query}`).set(auth()).expect(400);
      expect(res.body.details[0].field).toBe(field);
    }
    await request(t.app).get('/api/v1/customers/duplicates').expect(401);
  });

  it('is documented in the OpenAPI document with the merge routes', async () => {
    const doc = (await request(t.app).get('/api/v1/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/customers/duplicates', '/customers/{id}/merge', '/merges', '/merges/{id}', '/merges/{id}/undo']));
    expect(doc.paths['/merges/{id}/undo']).toHaveProperty('post');
  });

  it('folds emails in SQL exactly as in TypeScript (the index expression and its mirror)', async () => {
    const emails = ['Ann.Lee+shop@Example.com', 'ann.lee@gmail.com', 'A.nn.Lee+x@googlemail.com', '+tag@example.com', 'plain@example.org', 'a+b+c@x.io', 'no-at-sign'];
    for (const email of emails) {
      const [row] = await queryRows<{ key: string }>(t.database.handle.db, sql`SELECT ${emailMatchKeySql(sql`${email}::text`)} AS key`);
      expect(row!.key).toBe(emailMatchKey(email));
    }
  });
});
