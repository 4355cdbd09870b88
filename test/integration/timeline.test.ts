// The customer timeline over HTTP against real PostgreSQL: activities, purchases, tier changes,
// segment and preference events merged newest first, keyset pages that cover every item once
// (items sharing a microsecond included), the types filter, tenancy and cursor validation.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let a: { id: string; token: string };
let b: { id: string; token: string };
const auth = (biz: { token: string }) => ({ Authorization: `Bearer ${biz.token}` });

const SAME = '2025-03-03T12:00:00.000Z';
const ACT1 = randomUUID();
const ACT2 = randomUUID();
const ACT3 = randomUUID();
let customerId: string;
let deletedCustomerId: string;
let segmentId: string;
let deletedSegmentId: string;
let tierIds: { silver: string; gold: string };
let eventIds: { entered: string; exited: string; prefs: string };

interface Item {
  type: string;
  id: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

async function sqlRows<T>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await t.database.pool.query(text, values)).rows as T[];
}

async function createCustomer(biz: { token: string }, activities: Record<string, unknown>[] = []): Promise<string> {
  const res = await request(t.app)
    .post('/api/v1/customers')
    .set(auth(biz))
    .send({ email: `tl.${randomUUID()}@example.com`, firstName: 'Tim', activities })
    .expect(201);
  return res.body.data.id as string;
}

async function insertTransaction(businessId: string, source: string, transactionId: string, at: string, amount: number, extra: { refunded?: number; status?: string; categories?: string[]; items?: number } = {}) {
  // Transactions come from POS ingestion, which this test does not run.
  await t.database.pool.query(
    `INSERT INTO customer_transactions (business_id, source, transaction_id, customer_id, occurred_at, status, amount, refunded_amount, currency, item_count, categories, source_updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'USD', $9, $10, $5)`,
    [businessId, source, transactionId, customerId, at, extra.status ?? 'completed', amount, extra.refunded ?? 0, extra.items ?? 1, extra.categories ?? []],
  );
}

async function insertTierChange(businessId: string, previous: string, next: string, at: string, reason: string, changedBy: string | null = null, note: string | null = null) {
  // Tier history rows are written by tier evaluation; these fix the times the test needs.
  const rows = await sqlRows<{ id: string }>(
    `INSERT INTO customer_tier_history (business_id, customer_id, previous_tier, new_tier, reason, changed_by, note, changed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
    [businessId, customerId, previous, next, reason, changedBy, note, at],
  );
  return rows[0]!.id;
}

async function insertEvent(businessId: string, type: string, payload: Record<string, unknown>, at: string) {
  // Segment and preference events at fixed times (the write paths stamp them with the clock).
  const rows = await sqlRows<{ id: string }>(
    `INSERT INTO domain_events (business_id, event_type, customer_id, payload, occurred_at) VALUES ($1, $2, $3, $4, $5) RETURNING id::text`,
    [businessId, type, customerId, JSON.stringify(payload), at],
  );
  return rows[0]!.id;
}

function timeline(query: string, biz = a, id = customerId) {
  return request(t.app).get(`/api/v1/customers/${id}/timeline${query}`).set(auth(biz));
}

/** Follows nextCursor to the end; returns every item in the order served. */
async function walk(query: string, limit: number): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const sep = query ? '&' : '';
    const res = await timeline(`?limit=${limit}${sep}${query}${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
    const data = res.body.data as Item[];
    expect(data.length).toBeLessThanOrEqual(limit);
    items.push(...data);
    cursor = res.body.meta.nextCursor as string | null;
    if (!cursor) return items;
    expect(data).toHaveLength(limit);
  }
  throw new Error('too many pages');
}

beforeAll(async () => {
  t = await createTestApp();
  a = await t.newBusiness('Timeline A');
  b = await t.newBusiness('Timeline B');
  customerId = await createCustomer(a, [
    { id: ACT1, activityType: 'product_view', eventData: { productId: 'p-1' }, occurredAt: '2025-03-01T09:00:00.000Z' },
    { id: ACT2, activityType: 'page_view', activityCategory: 'web', occurredAt: SAME },
    { id: ACT3, activityType: 'add_to_cart', occurredAt: SAME },
  ]);
  deletedCustomerId = await createCustomer(a);
  await request(t.app).delete(`/api/v1/customers/${deletedCustomerId}`).set(auth(a)).expect(200);

  await insertTransaction(a.id, 'square', 'sq-1', '2025-03-02T10:00:00Z', 42.5, { categories: ['shoes', 'socks'], items: 2, refunded: 5 });
  await insertTransaction(a.id, 'square', 'sq-2', SAME, 10, { status: 'returned' });
  // Three purchases within one millisecond: two share the very same microsecond.
  await insertTransaction(a.id, 'lightspeed', 'acct:77', '2025-03-04T08:00:00.123456Z', 1);
  await insertTransaction(a.id, 'lightspeed', 'acct:78', '2025-03-04T08:00:00.123457Z', 2);
  await insertTransaction(a.id, 'lightspeed', 'acct:79', '2025-03-04T08:00:00.123456Z', 3);
  tierIds = {
    silver: await insertTierChange(a.id, 'BRONZE', 'SILVER', SAME, 'qualified'),
    gold: await insertTierChange(a.id, 'SILVER', 'GOLD', '2025-03-05T00:00:00Z', 'manual_override', 'admin@example.com', 'loyal regular'),
  };

  // Segments are created by the segments API; plain rows keep this test independent of criteria.
  const segs = await sqlRows<{ id: string; name: string }>(
    `INSERT INTO customer_segments (business_id, name, criteria, deleted_at) VALUES ($1, 'Big spenders', '{}', NULL), ($1, 'Old segment', '{}', now())
     RETURNING id::text, name`,
    [a.id],
  );
  segmentId = segs.find((s) => s.name === 'Big spenders')!.id;
  deletedSegmentId = segs.find((s) => s.name === 'Old segment')!.id;
  eventIds = {
    entered: await insertEvent(a.id, 'customers.segment.assigned', { segmentId }, '2025-03-06T00:00:00Z'),
    exited: await insertEvent(a.id, 'customers.segment.unassigned', { segmentId: deletedSegmentId }, '2025-03-07T00:00:00Z'),
    prefs: await insertEvent(a.id, 'customers.preferences.updated', { changedFields: ['emailMarketing', 'frequency'] }, SAME),
  };
  // Event types the timeline does not show.
  await insertEvent(a.id, 'customers.customer.updated', {}, '2025-03-08T00:00:00Z');

  // The same customer's rows recorded by another business: never in business A's timeline.
  await insertTransaction(b.id, 'square', 'sq-b', '2025-03-09T00:00:00Z', 99);
  await insertTierChange(b.id, 'BRONZE', 'PLATINUM', '2025-03-09T00:00:00Z', 'manual_override');
  await insertEvent(b.id, 'customers.preferences.updated', { changedFields: ['smsMarketing'] }, '2025-03-09T00:00:00Z');
  await insertEvent(b.id, 'customers.segment.assigned', { segmentId }, '2025-03-09T00:00:00Z');
});
afterAll(() => t.close());

/** The whole expected stream: time desc, then type desc, then id desc (ids in their own order). */
function expectedOrder(): [string, string][] {
  const [act2, act3] = [ACT2, ACT3].sort().reverse();
  return [
    ['segment_change', eventIds.exited],
    ['segment_change', eventIds.entered],
    ['tier_change', tierIds.gold],
    ['purchase', 'lightspeed:acct:78'],
    ['purchase', 'lightspeed:acct:79'],
    ['purchase', 'lightspeed:acct:77'],
    ['tier_change', tierIds.silver],
    ['purchase', 'square:sq-2'],
    ['preference_change', eventIds.prefs],
    ['activity', act2!],
    ['activity', act3!],
    ['purchase', 'square:sq-1'],
    ['activity', ACT1],
  ];
}

describe('GET /customers/:id/timeline', () => {
  it('merges every source newest first, with a stable order for items at the same instant', async () => {
    const res = await timeline('?limit=100').expect(200);
    const items = res.body.data as Item[];
    expect(items.map((i) => [i.type, i.id])).toEqual(expectedOrder());
    expect(res.body.meta).toEqual({ nextCursor: null, limit: 100 });

    const byId = new Map(items.map((i) => [i.id, i]));
    expect(byId.get('square:sq-1')).toEqual({
      type: 'purchase',
      id: 'square:sq-1',
      occurredAt: '2025-03-02T10:00:00.000Z',
      data: { source: 'square', transactionId: 'sq-1', status: 'completed', amount: 42.5, refundedAmount: 5, currency: 'USD', itemCount: 2, categories: ['shoes', 'socks'] },
    });
    expect(byId.get(tierIds.gold)!.data).toEqual({
      previousTier: 'SILVER',
      newTier: 'GOLD',
      direction: 'upgrade',
      reason: 'manual_override',
      changedBy: 'admin@example.com',
      note: 'loyal regular',
    });
    expect(byId.get(eventIds.entered)!.data).toEqual({ segmentId, segmentName: 'Big spenders', change: 'entered' });
    // The segment was deleted since: the item stays, without a name.
    expect(byId.get(eventIds.exited)!.data).toEqual({ segmentId: deletedSegmentId, segmentName: null, change: 'exited' });
    expect(byId.get(eventIds.prefs)!.data).toEqual({ changedFields: ['emailMarketing', 'frequency'] });
    expect(byId.get(ACT1)).toMatchObject({ occurredAt: '2025-03-01T09:00:00.000Z', data: { activityType: 'product_view', eventData: { productId: 'p-1' } } });
    expect(byId.get(ACT2)!.data).toMatchObject({ activityType: 'page_view', activityCategory: 'web' });
  });

  it('pages through every item exactly once at any page size, across items sharing a microsecond', async () => {
    const all = expectedOrder();
    for (const limit of [1, 2, 3, 5, 13]) {
      const items = await walk('', limit);
      expect(items.map((i) => [i.type, i.id]), `limit ${limit}`).toEqual(all);
    }
  });

  it('serves the default page size of 20', async () => {
    const res = await timeline('').expect(200);
    expect(res.body.meta.limit).toBe(20);
    expect(res.body.data).toHaveLength(13);
  });

  it('filters by types, paging within the filter', async () => {
    const wanted = new Set(['purchase', 'tier_change']);
    const expected = expectedOrder().filter(([type]) => wanted.has(type));
    const res = await timeline('?types=purchase,tier_change').expect(200);
    expect(res.body.data.map((i: Item) => [i.type, i.id])).toEqual(expected);
    expect((await walk('types=purchase,tier_change', 2)).map((i) => [i.type, i.id])).toEqual(expected);

    const segments = await timeline('?types=segment_change').expect(200);
    expect(segments.body.data.map((i: Item) => i.id)).toEqual([eventIds.exited, eventIds.entered]);
  });

  it('refuses an unknown type, naming query.types', async () => {
    const res = await timeline('?types=purchase,login').expect(400);
    expect(res.body.code).toBe('INVALID_INPUT');
    expect(res.body.details[0].field).toMatch(/^query\.types/);
  });

  it('shows none of the rows another business recorded for the customer', async () => {
    const res = await timeline('?limit=100').expect(200);
    const ids = (res.body.data as Item[]).map((i) => i.id);
    expect(ids).not.toContain('square:sq-b');
    expect((res.body.data as Item[]).every((i) => i.occurredAt < '2025-03-09')).toBe(true);
  });

  it('answers 404 for a customer of another business, an unknown id and a soft-deleted customer', async () => {
    expect((await timeline('', b).expect(404)).body.code).toBe('NOT_FOUND');
    await timeline('', a, randomUUID()).expect(404);
    await timeline('', a, deletedCustomerId).expect(404);
  });

  it('refuses a cursor it did not issue with 400 naming query.cursor', async () => {
    const forged = [
      'not-a-cursor',
      Buffer.from(JSON.stringify(['2025-02-31T00:00:00.000000Z', 'activity', 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify(['2025-03-01T00:00:00.000000Z', 'login', 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify(['2025-03-01T00:00:00.000Z', 'activity', 'x'])).toString('base64url'),
      Buffer.from(JSON.stringify({ at: '2025-03-01T00:00:00.000000Z' })).toString('base64url'),
    ];
    for (const cursor of forged) {
      const res = await timeline(`?cursor=${cursor}`).expect(400);
      expect(res.body.details).toEqual([{ field: 'query.cursor', message: 'is not a cursor this API returned' }]);
    }
    const badLimit = await timeline('?limit=101').expect(400);
    expect(badLimit.body.details[0].field).toBe('query.limit');
  });
});
