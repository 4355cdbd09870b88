// Customer CRUD through HTTP against real PostgreSQL: round trips, versions, and the outbox row
// written in the same transaction as the aggregate.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };
const auth = () => ({ Authorization: `Bearer ${business.token}` });

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness();
});
afterAll(() => t.close());

async function outboxRows(customerId: string) {
  const { rows } = await t.database.pool.query<{
    operation: string;
    entity_version: string;
    firestore_status: string;
    content_hash: string;
    changed_fields: string[];
  }>('SELECT operation, entity_version, firestore_status, content_hash, changed_fields FROM sync_logs WHERE entity_id = $1 ORDER BY entity_version', [customerId]);
  return rows;
}

describe('customer CRUD over HTTP', () => {
  it('creates a customer with its whole aggregate and reads it back', async () => {
    const body = buildCustomer({ phone: '+1 (415) 555-0199' });
    const created = await request(t.app).post('/api/v1/customers').set(auth()).send(body).expect(201);
    const id = created.body.data.id as string;
    expect(created.headers.location).toBe(`/api/v1/customers/${id}`);
    expect(created.body.meta).toMatchObject({ version: 1, changed: true, sync: 'pending' });

    const read = await request(t.app).get(`/api/v1/customers/${id}`).set(auth()).expect(200);
    const c = read.body.data;
    expect(c).toMatchObject({
      id,
      version: 1,
      email: body.email,
      emailLowercase: (body.email as string).toLowerCase(),
      phoneNormalized: '+14155550199',
      fullName: `Pauline ${String(body.lastName)}`,
      businessIds: [business.id],
      tags: ['loyal'],
    });
    expect(c.sources).toHaveLength(1);
    expect(c.metrics).toMatchObject({ totalOrders: 3, totalSpent: 120.5, churnProbability: 0.2 });
    expect(c.demographics).toMatchObject({ gender: 'female', interests: ['fashion'] });
    expect(c.engagement).toMatchObject({ loyaltyTier: 'gold', loyaltyPoints: 450 });
    expect(c.risk).toMatchObject({ riskScore: 15, riskLevel: 'low' });
    expect(c.addresses).toHaveLength(1);
    expect(c.ipAddresses[0]).toMatchObject({ ipAddress: '173.252.84.123', ipVersion: 4 });
    expect(c.activities).toHaveLength(1);
    expect(read.headers.etag).toBe('"v1"');
  });

  it('bumps the version on every change and writes one outbox row per committed change', async () => {
    const created = await request(t.app).post('/api/v1/customers').set(auth()).send(buildCustomer()).expect(201);
    const id = created.body.data.id as string;

    const patched = await request(t.app)
      .patch(`/api/v1/customers/${id}`)
      .set(auth())
      .send({ firstName: 'Paula', metrics: { totalSpent: 200 } })
      .expect(200);
    expect(patched.body.data).toMatchObject({ version: 2, firstName: 'Paula' });
    // A patch merges into a section: other metric fields are kept.
    expect(patched.body.data.metrics).toMatchObject({ totalSpent: 200, totalOrders: 3 });

    const replaced = await request(t.app)
      .put(`/api/v1/customers/${id}`)
      .set(auth())
      .send({ email: 'replaced@example.com', firstName: 'Only' })
      .expect(200);
    expect(replaced.body.data).toMatchObject({ version: 3, email: 'replaced@example.com', lastName: null });
    // PUT replaces the whole aggregate: sections left out are cleared, activities are kept.
    expect(replaced.body.data.metrics).toBeNull();
    expect(replaced.body.data.addresses).toEqual([]);
    expect(replaced.body.data.sources).toEqual([]);
    expect(replaced.body.data.activities).toHaveLength(1);

    const deleted = await request(t.app).delete(`/api/v1/customers/${id}`).set(auth()).expect(200);
    expect(deleted.body.data.version).toBe(4);
    expect(deleted.body.data.deletedAt).not.toBeNull();
    await request(t.app).get(`/api/v1/customers/${id}`).set(auth()).expect(404);
    const withDeleted = await request(t.app).get(`/api/v1/customers/${id}?includeDeleted=true`).set(auth()).expect(200);
    expect(withDeleted.body.data.version).toBe(4);

    const rows = await outboxRows(id);
    expect(rows.map((r) => [r.operation, Number(r.entity_version)])).toEqual([
      ['create', 1],
      ['update', 2],
      ['update', 3],
      ['delete', 4],
    ]);
    expect(rows.every((r) => r.firestore_status === 'pending' && /^[0-9a-f]{64}$/.test(r.content_hash))).toBe(true);
    expect(rows[1]!.changed_fields).toEqual(['firstName', 'fullName', 'metrics.totalSpent']);
  });

  it('keeps no PII values in the outbox, only field names and a hash', async () => {
    const body = buildCustomer({ email: 'secret.person@example.com', firstName: 'Secretname' });
    const created = await request(t.app).post('/api/v1/customers').set(auth()).send(body).expect(201);
    const { rows } = await t.database.pool.query('SELECT row_to_json(s)::text AS j FROM sync_logs s WHERE entity_id = $1', [created.body.data.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].j).not.toContain('secret.person');
    expect(rows[0].j).not.toContain('Secretname');
    expect(rows[0].j).not.toContain('5551');
  });

  it('does not bump the version or write the outbox when an update changes nothing', async () => {
    const body = buildCustomer();
    const created = await request(t.app).post('/api/v1/customers').set(auth()).send(body).expect(201);
    const id = created.body.data.id as string;
    const again = await request(t.app).put(`/api/v1/customers/${id}`).set(auth()).send(body).expect(200);
    expect(again.body.meta).toMatchObject({ version: 1, changed: false });
    expect(await outboxRows(id)).toHaveLength(1);
  });

  it('refuses a write whose If-Match version is stale, and changes nothing', async () => {
    const created = await request(t.app).post('/api/v1/customers').set(auth()).send(buildCustomer()).expect(201);
    const id = created.body.data.id as string;
    await request(t.app).patch(`/api/v1/customers/${id}`).set(auth()).set('If-Match', '"v1"').send({ notes: 'a' }).expect(200);
    const stale = await request(t.app).patch(`/api/v1/customers/${id}`).set(auth()).set('If-Match', '"v1"').send({ notes: 'b' }).expect(409);
    expect(stale.body).toMatchObject({ success: false, code: 'CONFLICT', details: { currentVersion: 2 } });
    const read = await request(t.app).get(`/api/v1/customers/${id}`).set(auth()).expect(200);
    expect(read.body.data.notes).toBe('a');
  });

  it('appends activities and never rewrites an existing one', async () => {
    const activityId = randomUUID();
    const created = await request(t.app)
      .post('/api/v1/customers')
      .set(auth())
      .send(buildCustomer({ activities: [{ id: activityId, activityType: 'page_view', occurredAt: '2025-01-01T00:00:00Z' }] }))
      .expect(201);
    const id = created.body.data.id as string;
    const res = await request(t.app)
      .patch(`/api/v1/customers/${id}`)
      .set(auth())
      .send({ activities: [{ id: activityId, activityType: 'purchase' }, { activityType: 'add_to_cart' }] })
      .expect(200);
    const types = (res.body.data.activities as { id: string; activityType: string }[]).map((a) => [a.id === activityId, a.activityType]);
    expect(types).toContainEqual([true, 'page_view']);
    expect(types).toContainEqual([false, 'add_to_cart']);
    expect(types).toHaveLength(2);
  });

  it('rejects a second customer with the same email in the same business, case-insensitively', async () => {
    await request(t.app).post('/api/v1/customers').set(auth()).send(buildCustomer({ email: 'dup@example.com' })).expect(201);
    const dup = await request(t.app).post('/api/v1/customers').set(auth()).send(buildCustomer({ email: 'DUP@Example.com' })).expect(409);
    expect(dup.body.error).toMatch(/email/);
    // Another business may hold a customer with the same email.
    const other = await t.newBusiness('Other');
    await request(t.app)
      .post('/api/v1/customers')
      .set({ Authorization: `Bearer ${other.token}` })
      .send(buildCustomer({ email: 'dup@example.com' }))
      .expect(201);
  });

  it('lists customers newest first with cursor pagination and filters', async () => {
    const b = await t.newBusiness('Lister');
    const h = { Authorization: `Bearer ${b.token}` };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(t.app)
        .post('/api/v1/customers')
        .set(h)
        .send(buildCustomer({ firstName: i === 2 ? 'Zebulon' : 'Ann', status: i % 2 ? 'vip' : 'active', tags: i === 4 ? ['vip-list'] : [] }))
        .expect(201);
      ids.push(res.body.data.id as string);
    }
    const first = await request(t.app).get('/api/v1/customers?limit=2').set(h).expect(200);
    expect(first.body.data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    const second = await request(t.app).get(`/api/v1/customers?limit=2&cursor=${first.body.meta.nextCursor}`).set(h).expect(200);
    expect(second.body.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    const third = await request(t.app).get(`/api/v1/customers?limit=2&cursor=${second.body.meta.nextCursor}`).set(h).expect(200);
    expect(third.body.data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(third.body.meta.nextCursor).toBeNull();

    const vip = await request(t.app).get('/api/v1/customers?status=vip').set(h).expect(200);
    expect(vip.body.data.map((c: { id: string }) => c.id).sort()).toEqual([ids[1], ids[3]].sort());
    const tagged = await request(t.app).get('/api/v1/customers?tag=vip-list').set(h).expect(200);
    expect(tagged.body.data.map((c: { id: string }) => c.id)).toEqual([ids[4]]);
    const found = await request(t.app).get('/api/v1/customers?q=zebu').set(h).expect(200);
    expect(found.body.data.map((c: { id: string }) => c.id)).toEqual([ids[2]]);
  });
});

describe('the create path', () => {
  it('answers with exactly the aggregate a fresh read returns', async () => {
    const b = await t.newBusiness('Create path');
    const h = { Authorization: `Bearer ${b.token}` };
    const body = buildCustomer({
      sources: [
        { source: 'square', externalId: `sq-b-${randomUUID()}` },
        { source: 'lightspeed', externalId: `ls-${randomUUID()}`, data: { shopId: 2 } },
      ],
      addresses: [
        { addressLine1: '1 A St', city: 'Paris', country: 'France', countryCode: 'FR', latitude: 48.8566, longitude: 2.3522 },
        { addressLine1: '2 B St', city: 'Lyon', country: 'France', countryCode: 'FR', isDefault: true },
      ],
      ipAddresses: [{ ipAddress: '2001:0db8::0001' }, { ipAddress: '10.0.0.1', isVpn: true }],
      activities: [
        { activityType: 'page_view', occurredAt: '2025-01-01T00:00:00Z' },
        { activityType: 'purchase', occurredAt: '2025-03-01T00:00:00Z', eventData: { total: 12.5 } },
        { activityType: 'signup', occurredAt: '2024-12-01T00:00:00Z' },
      ],
    });
    const created = await request(t.app).post('/api/v1/customers').set(h).send(body).expect(201);
    const read = await request(t.app).get(`/api/v1/customers/${created.body.data.id}`).set(h).expect(200);
    // The read adds the profile's insights to the aggregate; the aggregate itself is identical.
    const { loyalty: _l, clv: _c, segments: _s, lastVisit: _v, daysSinceLastVisit: _d, isAtRisk: _r, ...aggregate } = read.body.data;
    expect(created.body.data).toEqual(aggregate);
    expect(read.body.data.ipAddresses.map((ip: { ipAddress: string }) => ip.ipAddress)).toContain('2001:db8::1');
  });
});
