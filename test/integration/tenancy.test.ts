// Tenancy over HTTP: a business sees and changes only the customers linked to it. Another
// business's customer answers exactly like a missing one, on every route, and stays unchanged;
// a customer linked to two businesses is visible to both.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCustomer } from '../support/builders.js';
import { AGGREGATE_TABLES } from '../support/aggregate-tables.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let a: { id: string; token: string };
let b: { id: string; token: string };
const as = (business: { token: string }) => ({ Authorization: `Bearer ${business.token}` });

beforeAll(async () => {
  t = await createTestApp();
  a = await t.newBusiness('Business A');
  b = await t.newBusiness('Business B');
});
afterAll(async () => {
  await t.projector.stop();
  await t.close();
});

/** Every row of the customer's aggregate, hashed, so "unchanged" covers every part of it. */
async function aggregateFingerprint(customerId: string) {
  const tables = AGGREGATE_TABLES;
  const result: Record<string, string> = {};
  for (const table of tables) {
    const column = table === 'customers' ? 'id' : 'customer_id';
    const { rows } = await t.database.pool.query<{ hash: string }>(
      `SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS hash FROM ${table} r WHERE ${column} = $1`,
      [customerId],
    );
    result[table] = rows[0]!.hash;
  }
  const outbox = await t.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_logs WHERE entity_id = $1', [customerId]);
  result.outboxRows = String(outbox.rows[0]!.n);
  return result;
}

function expectNotFound(res: Response, id: string): void {
  expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(404);
  expect(res.body).toMatchObject({ success: false, code: 'NOT_FOUND', requestId: expect.any(String) });
  expect(res.body).not.toHaveProperty('data');
  expect(res.body).not.toHaveProperty('details');
  // No version ETag ("v1"): Express's own weak content ETag is all an error may carry.
  expect(String(res.headers.etag ?? '')).not.toMatch(/"v\d+"/);
  expect(res.headers['x-request-id']).toBe(res.body.requestId);
  // The same words as for an id nobody holds.
  expect(res.body.error).toBe(`Customer ${id} not found`);
}

const ids = (res: Response) => (res.body.data as { id: string }[]).map((c) => c.id);

describe("another business's customer", () => {
  let customer: { id: string; email: string; firstName: string; phone: string };
  let original: Response;

  beforeAll(async () => {
    const body = buildCustomer({ firstName: 'Tenantina' });
    const created = await request(t.app).post('/api/v1/customers').set(as(a)).send(body).expect(201);
    customer = { id: created.body.data.id as string, email: body.email as string, firstName: 'Tenantina', phone: body.phone as string };
    original = await request(t.app).get(`/api/v1/customers/${customer.id}`).set(as(a)).expect(200);
    // B has customers of its own, so its list is not empty by accident.
    await request(t.app).post('/api/v1/customers').set(as(b)).send(buildCustomer({ firstName: 'Bertha' })).expect(201);
  });

  type Call = (id: string) => request.Test;
  const CALLS: [string, Call][] = [
    ['GET one', (id) => request(t.app).get(`/api/v1/customers/${id}`).set(as(b))],
    ['GET one with includeDeleted', (id) => request(t.app).get(`/api/v1/customers/${id}?includeDeleted=true`).set(as(b))],
    ['PUT', (id) => request(t.app).put(`/api/v1/customers/${id}`).set(as(b)).send(buildCustomer({ firstName: 'Hijacked' }))],
    ['PUT with the right If-Match', (id) => request(t.app).put(`/api/v1/customers/${id}`).set(as(b)).set('If-Match', '"v1"').send(buildCustomer())],
    // A wrong version must not answer 409 with the current version: that would reveal the customer.
    ['PATCH with a stale If-Match', (id) => request(t.app).patch(`/api/v1/customers/${id}`).set(as(b)).set('If-Match', '"v7"').send({ firstName: 'Hijacked' })],
    ['PATCH', (id) => request(t.app).patch(`/api/v1/customers/${id}`).set(as(b)).send({ firstName: 'Hijacked', tags: ['stolen'] })],
    ['PATCH that changes nothing', (id) => request(t.app).patch(`/api/v1/customers/${id}`).set(as(b)).send({})],
    ['DELETE', (id) => request(t.app).delete(`/api/v1/customers/${id}`).set(as(b))],
  ];

  it.each(CALLS)('%s with B\'s token answers 404 like a missing id and leaves the customer unchanged', async (_name, call) => {
    const before = await aggregateFingerprint(customer.id);
    const res = await call(customer.id);
    expectNotFound(res, customer.id);
    expect(JSON.stringify(res.body)).not.toContain(customer.email);
    expect(JSON.stringify(res.body)).not.toContain(customer.firstName);

    // Indistinguishable from an id that does not exist at all.
    const missing = randomUUID();
    const control = await call(missing);
    expectNotFound(control, missing);

    expect(await aggregateFingerprint(customer.id)).toEqual(before);
    const read = await request(t.app).get(`/api/v1/customers/${customer.id}`).set(as(a)).expect(200);
    expect(read.body.data).toEqual(original.body.data);
  });

  it("is not in B's list, however B searches", async () => {
    const queries = [
      '',
      `?q=${encodeURIComponent(customer.email)}`,
      `?q=${encodeURIComponent(customer.email.toUpperCase())}`,
      `?q=${customer.firstName.toLowerCase()}`,
      `?q=${customer.phone.replace(/\D/g, '').slice(-7)}`,
      '?tag=loyal',
      '?status=active',
      '?includeDeleted=true',
      '?limit=200',
    ];
    for (const query of queries) {
      const res = await request(t.app).get(`/api/v1/customers${query}`).set(as(b)).expect(200);
      expect(ids(res), query).not.toContain(customer.id);
      expect(JSON.stringify(res.body), query).not.toContain(customer.email);
    }
    // B's own customer does show up, so the list itself works.
    const own = await request(t.app).get('/api/v1/customers?q=bertha').set(as(b)).expect(200);
    expect(own.body.data).toHaveLength(1);
  });

  it('is still seen by A, in the list and by search', async () => {
    const list = await request(t.app).get('/api/v1/customers').set(as(a)).expect(200);
    expect(ids(list)).toContain(customer.id);
    const found = await request(t.app).get(`/api/v1/customers?q=${encodeURIComponent(customer.email)}`).set(as(a)).expect(200);
    expect(ids(found)).toEqual([customer.id]);
    const read = await request(t.app).get(`/api/v1/customers/${customer.id}`).set(as(a)).expect(200);
    expect(read.body.data).toMatchObject({ version: 1, firstName: 'Tenantina', deletedAt: null, businessIds: [a.id] });
  });

  it('keeps the business filter when a cursor is given (keyset paging must not widen the scope)', async () => {
    // A cursor from the future (microsecond format, as the API issues them): every row is "after" it, so only the business filter holds A's rows back.
    const cursor = Buffer.from(JSON.stringify([new Date(Date.now() + 60_000).toISOString().replace('Z', '000Z'), 'ffffffff-ffff-ffff-ffff-ffffffffffff'])).toString('base64url');
    const res = await request(t.app).get(`/api/v1/customers?cursor=${cursor}&limit=200`).set(as(b)).expect(200);
    expect(ids(res)).not.toContain(customer.id);
    expect(ids(res).length).toBeGreaterThan(0);
    const byA = await request(t.app).get(`/api/v1/customers?cursor=${cursor}&limit=200`).set(as(a)).expect(200);
    expect(ids(byA)).toContain(customer.id);
  });
});

describe('a customer linked to two businesses', () => {
  let shared: { id: string; email: string };
  let c: { id: string; token: string };

  beforeAll(async () => {
    c = await t.newBusiness('Business C');
    const body = buildCustomer({ firstName: 'Sharon' });
    const created = await request(t.app).post('/api/v1/customers').set(as(a)).send(body).expect(201);
    shared = { id: created.body.data.id as string, email: body.email as string };
    await t.database.pool.query('INSERT INTO business_customers (business_id, customer_id, email_lowercase) VALUES ($1, $2, $3)', [
      b.id,
      shared.id,
      shared.email.toLowerCase(),
    ]);
  });

  it('is visible to both, in reads, lists and searches', async () => {
    for (const business of [a, b]) {
      const read = await request(t.app).get(`/api/v1/customers/${shared.id}`).set(as(business)).expect(200);
      expect(read.body.data.businessIds.slice().sort()).toEqual([a.id, b.id].sort());
      const list = await request(t.app).get('/api/v1/customers?limit=200').set(as(business)).expect(200);
      expect(ids(list)).toContain(shared.id);
      const found = await request(t.app).get(`/api/v1/customers?q=${encodeURIComponent(shared.email)}`).set(as(business)).expect(200);
      expect(ids(found)).toEqual([shared.id]);
    }
  });

  it('can be changed by either business, and each sees the other\'s change', async () => {
    const patched = await request(t.app).patch(`/api/v1/customers/${shared.id}`).set(as(b)).send({ notes: 'seen by B' }).expect(200);
    expect(patched.body.data.version).toBe(2);
    const readByA = await request(t.app).get(`/api/v1/customers/${shared.id}`).set(as(a)).expect(200);
    expect(readByA.body.data).toMatchObject({ version: 2, notes: 'seen by B' });
    // The email change keeps both links' per-business copies in step.
    const newEmail = `shared.${randomUUID()}@example.com`;
    await request(t.app).patch(`/api/v1/customers/${shared.id}`).set(as(a)).send({ email: newEmail }).expect(200);
    const { rows } = await t.database.pool.query<{ email_lowercase: string }>(
      'SELECT email_lowercase FROM business_customers WHERE customer_id = $1',
      [shared.id],
    );
    expect(rows.map((r) => r.email_lowercase)).toEqual([newEmail, newEmail]);
    const foundByB = await request(t.app).get(`/api/v1/customers?q=${encodeURIComponent(newEmail)}`).set(as(b)).expect(200);
    expect(ids(foundByB)).toEqual([shared.id]);
  });

  it('stays invisible to a third business', async () => {
    const res = await request(t.app).get(`/api/v1/customers/${shared.id}`).set(as(c));
    expectNotFound(res, shared.id);
    const list = await request(t.app).get('/api/v1/customers?limit=200').set(as(c)).expect(200);
    expect(ids(list)).not.toContain(shared.id);
    const patch = await request(t.app).patch(`/api/v1/customers/${shared.id}`).set(as(c)).send({ notes: 'by C' });
    expectNotFound(patch, shared.id);
  });
});
