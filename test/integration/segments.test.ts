// Segments against real PostgreSQL and the in-process Firestore emulator: validated criteria,
// set-based recalculation with entered/exited customers and events, incremental membership in
// every customer write, the schedule for time-relative criteria, and the projection.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };
const auth = (token = business.token) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness();
});
afterAll(() => t.close());
afterEach(() => vi.useRealTimers());

async function createCustomer(b: { token: string }, overrides: Record<string, unknown>) {
  const res = await request(t.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer(overrides)).expect(201);
  return res.body.data.id as string;
}
async function members(b: { token: string }, segmentId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(t.app)
      .get(`/api/v1/segments/${segmentId}/customers?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      .set(auth(b.token))
      .expect(200);
    ids.push(...(res.body.data as { id: string }[]).map((m) => m.id));
    cursor = res.body.meta.nextCursor as string | null;
  } while (cursor);
  return ids.sort();
}
async function eventTypes(customerId: string) {
  const { rows } = await t.database.pool.query("SELECT event_type FROM domain_events WHERE customer_id = $1 AND event_type LIKE 'customers.segment.%' ORDER BY id", [customerId]);
  return rows.map((r: { event_type: string }) => r.event_type);
}
const version = async (id: string) => Number((await t.database.pool.query('SELECT version FROM customers WHERE id = $1', [id])).rows[0].version);

const highValue = {
  operator: 'AND',
  rules: [
    { field: 'totalSpent', operator: 'greater_than', value: 500 },
    { operator: 'OR', rules: [{ field: 'tags', operator: 'contains', value: 'vip' }, { field: 'country', operator: 'in', value: ['fr', 'DE'] }] },
  ],
};
const address = (countryCode: string) => [{ addressType: 'shipping', isDefault: true, addressLine1: '1 Rue', city: 'Paris', country: 'X', countryCode }];

describe('segments', () => {
  it('refuses bad criteria with the rule named, and stores nothing', async () => {
    const cases: [unknown, string][] = [
      [{ operator: 'AND', rules: [{ field: 'favouriteColour', operator: 'equals', value: 'red' }] }, 'body.criteria.rules[0].field'],
      [{ operator: 'AND', rules: [{ field: 'totalSpent', operator: 'contains', value: 5 }] }, 'body.criteria.rules[0].operator'],
      [{ operator: 'OR', rules: [{ operator: 'AND', rules: [{ field: 'visitCount', operator: 'between', value: [5, 1] }] }] }, 'body.criteria.rules[0].rules[0].value'],
      [{ operator: 'AND', rules: [{ field: 'loyaltyTier', operator: 'equals', value: 'GOLD', timeframe: 'last_30_days' }] }, 'body.criteria.rules[0].timeframe'],
    ];
    for (const [criteria, field] of cases) {
      const res = await request(t.app).post('/api/v1/segments').set(auth()).send({ name: 'Bad', criteria }).expect(400);
      expect(res.body.code).toBe('INVALID_INPUT');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const list = await request(t.app).get('/api/v1/segments').set(auth()).expect(200);
    expect(list.body.data).toEqual([]);
    const { rows } = await t.database.pool.query("SELECT count(*)::int AS n FROM domain_events WHERE business_id = $1 AND event_type LIKE 'customers.segment.%'", [business.id]);
    expect(rows[0].n).toBe(0);
  });

  it('assigns matching customers on create, keeps membership current on every write, and follows criteria changes and deletion', async () => {
    const b = await t.newBusiness('Segments');
    const vip = await createCustomer(b, { tags: ['vip'], metrics: { totalSpent: 900 } });
    const french = await createCustomer(b, { tags: [], metrics: { totalSpent: 600 }, addresses: address('FR') });
    const cheap = await createCustomer(b, { tags: ['vip'], metrics: { totalSpent: 100 } });
    const american = await createCustomer(b, { tags: [], metrics: { totalSpent: 800 }, addresses: address('US') });
    const other = await t.newBusiness('Someone else');
    const foreign = await createCustomer(other, { tags: ['vip'], metrics: { totalSpent: 900 } });

    const created = await request(t.app).post('/api/v1/segments').set(auth(b.token)).send({ name: 'High value', criteria: highValue }).expect(201);
    const segmentId = created.body.data.id as string;
    expect(created.body.meta.recalculation).toMatchObject({ status: 'completed', entered: 2, exited: 0 });
    expect(created.body.data).toMatchObject({ name: 'High value', customerCount: 2, timeRelative: false, isActive: true });
    expect(await members(b, segmentId)).toEqual([vip, french].sort());
    expect(await eventTypes(vip)).toEqual(['customers.segment.assigned']);
    expect(await eventTypes(foreign)).toEqual([]);

    // The member's aggregate changed: a new version, projected with the segment id.
    await t.projector.drain();
    const doc = await t.firestore.db.doc(`customers/${vip}`).get();
    expect(doc.get(`businesses.${b.id}.segmentIds`)).toEqual([segmentId]);
    expect(doc.get('_sync.version')).toBe(await version(vip));

    // Incremental: the write that makes a customer qualify assigns them in the same version.
    const patched = await request(t.app).patch(`/api/v1/customers/${cheap}`).set(auth(b.token)).send({ metrics: { totalSpent: 700 } }).expect(200);
    expect(patched.body.data.standing[0].segmentIds).toEqual([segmentId]);
    await request(t.app).patch(`/api/v1/customers/${vip}`).set(auth(b.token)).send({ tags: [] }).expect(200);
    expect(await members(b, segmentId)).toEqual([french, cheap].sort());
    expect(await eventTypes(vip)).toEqual(['customers.segment.assigned', 'customers.segment.unassigned']);

    // New criteria: recalculated at once.
    const updated = await request(t.app)
      .put(`/api/v1/segments/${segmentId}`)
      .set(auth(b.token))
      .send({ criteria: { operator: 'AND', rules: [{ field: 'country', operator: 'not_in', value: ['FR'] }, { field: 'totalSpent', operator: 'between', value: [650, 800] }] } })
      .expect(200);
    expect(updated.body.meta.recalculation).toMatchObject({ entered: 1, exited: 1 });
    expect(await members(b, segmentId)).toEqual([american, cheap].sort());

    const again = await request(t.app).post(`/api/v1/segments/${segmentId}/recalculate`).set(auth(b.token)).expect(200);
    expect(again.body.data).toMatchObject({ entered: 0, exited: 0 });

    // Another business sees nothing of it.
    await request(t.app).get(`/api/v1/segments/${segmentId}`).set(auth(other.token)).expect(404);
    await request(t.app).post(`/api/v1/segments/${segmentId}/recalculate`).set(auth(other.token)).expect(404);

    await request(t.app).post('/api/v1/segments').set(auth(b.token)).send({ name: 'high VALUE', criteria: highValue }).expect(409);

    const deleted = await request(t.app).delete(`/api/v1/segments/${segmentId}`).set(auth(b.token)).expect(200);
    expect(deleted.body.meta.recalculation).toMatchObject({ exited: 2 });
    await request(t.app).get(`/api/v1/segments/${segmentId}`).set(auth(b.token)).expect(404);
    const left = await t.database.pool.query('SELECT count(*)::int AS n FROM customer_segment_assignments WHERE segment_id = $1', [segmentId]);
    expect(left.rows[0].n).toBe(0);
    await t.projector.drain();
    expect((await t.firestore.db.doc(`customers/${cheap}`).get()).get(`businesses.${b.id}.segmentIds`)).toEqual([]);
  });

  it('a soft-deleted customer leaves its segments', async () => {
    const b = await t.newBusiness('Deletion');
    const id = await createCustomer(b, { tags: ['vip'], metrics: { totalSpent: 900 } });
    const seg = await request(t.app).post('/api/v1/segments').set(auth(b.token)).send({ name: 'HV', criteria: highValue }).expect(201);
    expect(seg.body.data.customerCount).toBe(1);
    await request(t.app).delete(`/api/v1/customers/${id}`).set(auth(b.token)).expect(200);
    expect(await members(b, seg.body.data.id)).toEqual([]);
  });

  it('re-evaluates time-relative criteria on the schedule', async () => {
    const b = await t.newBusiness('Recency');
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-10T08:00:00Z') });
    const recent = await createCustomer(b, { metrics: { totalSpent: 10, lastOrderDate: '2026-03-01' } });
    const old = await createCustomer(b, { metrics: { totalSpent: 10, lastOrderDate: '2025-12-01' } });
    const seg = await request(t.app)
      .post('/api/v1/segments')
      .set(auth(b.token))
      .send({ name: 'Active', criteria: { operator: 'AND', rules: [{ field: 'daysSinceLastVisit', operator: 'less_than', value: 30 }] } })
      .expect(201);
    expect(seg.body.data.timeRelative).toBe(true);
    expect(await members(b, seg.body.data.id)).toEqual([recent]);

    vi.setSystemTime(new Date('2026-04-05T08:00:00Z'));
    expect(await t.standingJob.runOnce()).toBe(true);
    expect(await members(b, seg.body.data.id)).toEqual([]);
    expect(await eventTypes(recent)).toEqual(['customers.segment.assigned', 'customers.segment.unassigned']);
    expect(await eventTypes(old)).toEqual([]);
    const runs = await request(t.app).get('/api/v1/recalculations').set(auth(b.token)).expect(200);
    expect(runs.body.data[0]).toMatchObject({ kind: 'segment', trigger: 'schedule', status: 'succeeded', exited: 1 });
  });

  it('staff may manage segments, analysts only read them', async () => {
    const staff = t.tokenFor(business.id, 'staff');
    const analyst = t.tokenFor(business.id, 'analyst');
    const res = await request(t.app).post('/api/v1/segments').set(auth(staff)).send({ name: 'Staff made', criteria: highValue }).expect(201);
    await request(t.app).get(`/api/v1/segments/${res.body.data.id}`).set(auth(analyst)).expect(200);
    await request(t.app).delete(`/api/v1/segments/${res.body.data.id}`).set(auth(analyst)).expect(403);
  });
});
