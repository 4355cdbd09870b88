// The analytics overview over HTTP against real PostgreSQL: every figure of a small seeded
// business computed by hand (tiers, segments, CLV by tier, churn against dates relative to today,
// new customers per day with zero days, upgrade rate), other businesses and soft-deleted
// customers left out, and who may read it.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let a: { id: string; token: string };
let b: { id: string; token: string };
const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

const DAY = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
/** The UTC day `n` days before today, as YYYY-MM-DD. */
const daysAgo = (n: number) => new Date(Date.parse(today()) - n * DAY).toISOString().slice(0, 10);
/** Noon UTC of that day: far from either midnight. */
const noonDaysAgo = (n: number) => `${daysAgo(n)}T12:00:00Z`;

const c: Record<string, string> = {};
let alpha: string;
let beta: string;

async function createCustomer(token: string, metrics?: Record<string, unknown>): Promise<string> {
  const res = await request(t.app)
    .post('/api/v1/customers')
    .set(auth(token))
    .send({ email: `an.${randomUUID()}@example.com`, ...(metrics ? { metrics } : {}) })
    .expect(201);
  return res.body.data.id as string;
}

async function query(text: string, values: unknown[]) {
  return t.database.pool.query(text, values);
}

async function setStanding(businessId: string, customerId: string, tier: string, joinedDaysAgo: number) {
  // Tiers and join dates come from tier evaluation and the clock; the figures need fixed ones.
  await query(`UPDATE business_customers SET loyalty_tier = $3, created_at = $4 WHERE business_id = $1 AND customer_id = $2`, [businessId, customerId, tier, noonDaysAgo(joinedDaysAgo)]);
}

async function tierChange(businessId: string, customerId: string, previous: string, next: string, changedDaysAgo: number) {
  // Tier history rows are written by tier evaluation; these fix their times.
  await query(
    `INSERT INTO customer_tier_history (business_id, customer_id, previous_tier, new_tier, reason, changed_at) VALUES ($1, $2, $3, $4, 'qualified', $5)`,
    [businessId, customerId, previous, next, noonDaysAgo(changedDaysAgo)],
  );
}

beforeAll(async () => {
  t = await createTestApp();
  a = await t.newBusiness('Analytics A');
  b = await t.newBusiness('Analytics B');

  // Business A: seven live customers and one soft-deleted.
  c.c1 = await createCustomer(a.token, { lifetimeValue: 100, predictedLifetimeValue: 150, lastOrderDate: daysAgo(10) });
  c.c2 = await createCustomer(a.token, { lifetimeValue: 200, lastOrderDate: daysAgo(91) });
  c.c3 = await createCustomer(a.token, { lifetimeValue: 300, predictedLifetimeValue: 400, lastOrderDate: daysAgo(90) });
  c.c4 = await createCustomer(a.token);
  c.c5 = await createCustomer(a.token, { lifetimeValue: 1000, predictedLifetimeValue: 1200, lastOrderDate: daysAgo(400) });
  c.c6 = await createCustomer(a.token, { lifetimeValue: 500, predictedLifetimeValue: 600 });
  c.c7 = await createCustomer(a.token, { lifetimeValue: 9999, predictedLifetimeValue: 9999, lastOrderDate: daysAgo(200) });
  c.c8 = await createCustomer(a.token);
  await request(t.app).delete(`/api/v1/customers/${c.c7}`).set(auth(a.token)).expect(200);
  // Business B: customers that would change every figure of A if they leaked into it.
  c.b1 = await createCustomer(b.token, { lifetimeValue: 7000, predictedLifetimeValue: 8000, lastOrderDate: daysAgo(500) });
  c.b2 = await createCustomer(b.token);

  await setStanding(a.id, c.c1, 'BRONZE', 0);
  await setStanding(a.id, c.c2, 'BRONZE', 1);
  await setStanding(a.id, c.c3, 'SILVER', 1);
  await setStanding(a.id, c.c4, 'SILVER', 3);
  await setStanding(a.id, c.c5, 'GOLD', 6);
  await setStanding(a.id, c.c6, 'GOLD', 7);
  await setStanding(a.id, c.c7, 'PLATINUM', 2);
  await setStanding(a.id, c.c8, 'BRONZE', 0);
  await setStanding(b.id, c.b1, 'PLATINUM', 2);
  await setStanding(b.id, c.b2, 'PLATINUM', 4);

  await tierChange(a.id, c.c1, 'BRONZE', 'SILVER', 2);
  await tierChange(a.id, c.c1, 'SILVER', 'GOLD', 1); // a second upgrade of the same customer
  await tierChange(a.id, c.c2, 'GOLD', 'SILVER', 1); // a downgrade
  await tierChange(a.id, c.c3, 'BRONZE', 'SILVER', 10); // outside a 7-day window, inside 30
  await tierChange(a.id, c.c5, 'SILVER', 'PLATINUM', 3);
  await tierChange(a.id, c.c7, 'BRONZE', 'GOLD', 0); // soft-deleted customer
  await tierChange(b.id, c.b1, 'BRONZE', 'PLATINUM', 0); // another business

  // Segments are created by the segments API; plain rows keep the test independent of criteria.
  const segs = await query(
    `INSERT INTO customer_segments (business_id, name, criteria, is_active, deleted_at) VALUES
       ($1, 'alpha', '{}', true, NULL), ($1, 'Beta', '{}', true, NULL), ($1, 'Gamma', '{}', false, NULL),
       ($1, 'Delta', '{}', true, now()), ($2, 'Other', '{}', true, NULL)
     RETURNING id::text, name`,
    [a.id, b.id],
  );
  const id = (name: string) => (segs.rows as { id: string; name: string }[]).find((s) => s.name === name)!.id;
  alpha = id('alpha');
  beta = id('Beta');
  // Assignments are written by segment evaluation (which never keeps a soft-deleted customer).
  await query(
    `INSERT INTO customer_segment_assignments (segment_id, customer_id, business_id) VALUES
       ($1, $2, $4), ($1, $3, $4), ($5, $6, $7), ($8, $2, $4)`,
    [alpha, c.c1, c.c2, a.id, id('Other'), c.b1, b.id, id('Gamma')],
  );
});
afterAll(() => t.close());

function overview(token: string, q = '') {
  return request(t.app).get(`/api/v1/analytics/overview${q}`).set(auth(token));
}

describe('GET /analytics/overview', () => {
  it('computes every figure of the business exactly', async () => {
    const res = await overview(a.token, '?days=7').expect(200);
    const d = res.body.data;
    expect(d.asOf).toBe(today());
    expect(d.days).toBe(7);
    expect(d.totals).toEqual({ customers: 7 });
    expect(d.tierDistribution).toEqual([
      { tier: 'BRONZE', count: 3, percent: 42.86 },
      { tier: 'SILVER', count: 2, percent: 28.57 },
      { tier: 'GOLD', count: 2, percent: 28.57 },
      { tier: 'PLATINUM', count: 0, percent: 0 },
    ]);
    expect(d.segments).toEqual([
      { id: alpha, name: 'alpha', size: 2 },
      { id: beta, name: 'Beta', size: 0 },
    ]);
    expect(d.averageClvByTier).toEqual([
      { tier: 'BRONZE', customersWithMetrics: 2, averageLifetimeValue: 150, averagePredictedLifetimeValue: 150 },
      { tier: 'SILVER', customersWithMetrics: 1, averageLifetimeValue: 300, averagePredictedLifetimeValue: 400 },
      { tier: 'GOLD', customersWithMetrics: 2, averageLifetimeValue: 750, averagePredictedLifetimeValue: 900 },
      { tier: 'PLATINUM', customersWithMetrics: 0, averageLifetimeValue: null, averagePredictedLifetimeValue: null },
    ]);
    // Last orders 10, 90, 91 and 400 days ago: only 91 and 400 are more than 90 days.
    expect(d.churnRate).toEqual({ inactiveDays: 90, customersWithLastOrder: 4, churned: 2, percent: 50 });
    expect(d.newCustomersPerDay).toEqual([
      { date: daysAgo(6), count: 1 },
      { date: daysAgo(5), count: 0 },
      { date: daysAgo(4), count: 0 },
      { date: daysAgo(3), count: 1 },
      { date: daysAgo(2), count: 0 },
      { date: daysAgo(1), count: 2 },
      { date: daysAgo(0), count: 2 },
    ]);
    // c1 (twice) and c5 upgraded within 7 days; c2 was downgraded; c3's upgrade is older.
    expect(d.upgradeRate).toEqual({ customers: 7, upgraded: 2, percent: 28.57 });
  });

  it('widens the per-day and upgrade figures with days, defaulting to 30', async () => {
    const res = await overview(a.token).expect(200);
    const d = res.body.data;
    expect(d.days).toBe(30);
    expect(d.newCustomersPerDay).toHaveLength(30);
    expect(d.newCustomersPerDay[0].date).toBe(daysAgo(29));
    expect(d.newCustomersPerDay.reduce((sum: number, day: { count: number }) => sum + day.count, 0)).toBe(7);
    expect(d.upgradeRate).toEqual({ customers: 7, upgraded: 3, percent: 42.86 });

    const oneDay = (await overview(a.token, '?days=1').expect(200)).body.data;
    expect(oneDay.newCustomersPerDay).toEqual([{ date: today(), count: 2 }]);
    expect(oneDay.upgradeRate.upgraded).toBe(0);
  });

  it('counts only the business’s own customers', async () => {
    const d = (await overview(b.token, '?days=7').expect(200)).body.data;
    expect(d.totals).toEqual({ customers: 2 });
    expect(d.tierDistribution.find((x: { tier: string }) => x.tier === 'PLATINUM')).toEqual({ tier: 'PLATINUM', count: 2, percent: 100 });
    expect(d.segments.map((s: { name: string }) => s.name)).toEqual(['Other']);
    expect(d.churnRate).toEqual({ inactiveDays: 90, customersWithLastOrder: 1, churned: 1, percent: 100 });
    expect(d.upgradeRate).toEqual({ customers: 2, upgraded: 1, percent: 50 });
  });

  it('answers with zeros and null rates for a business without customers', async () => {
    const empty = await t.newBusiness('Empty');
    const d = (await overview(empty.token, '?days=3').expect(200)).body.data;
    expect(d.totals).toEqual({ customers: 0 });
    expect(d.tierDistribution.map((x: { count: number; percent: number | null }) => [x.count, x.percent])).toEqual([
      [0, null],
      [0, null],
      [0, null],
      [0, null],
    ]);
    expect(d.segments).toEqual([]);
    expect(d.churnRate).toEqual({ inactiveDays: 90, customersWithLastOrder: 0, churned: 0, percent: null });
    expect(d.newCustomersPerDay).toEqual([daysAgo(2), daysAgo(1), daysAgo(0)].map((date) => ({ date, count: 0 })));
    expect(d.upgradeRate).toEqual({ customers: 0, upgraded: 0, percent: null });
  });

  it('lets an analyst read and forbids staff and service', async () => {
    await overview(t.tokenFor(a.id, 'analyst')).expect(200);
    expect((await overview(t.tokenFor(a.id, 'staff')).expect(403)).body.code).toBe('FORBIDDEN');
    await overview(t.tokenFor(a.id, 'service')).expect(403);
  });

  it('refuses days outside 1..365, naming query.days', async () => {
    for (const days of ['0', '366', 'x']) {
      expect((await overview(a.token, `?days=${days}`).expect(400)).body.details[0].field).toBe('query.days');
    }
  });
});
