// Tiers against real PostgreSQL and the in-process Firestore emulator: the audited configuration,
// evaluation on every metrics change and for everyone on a threshold change, upgrades at once,
// downgrades one tier at a time after the grace period, manual overrides, rolling windows.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { refreshTierStatistics } from '../../src/tiers/tiers.repository.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };
const auth = (token = business.token) => ({ Authorization: `Bearer ${token}` });

const LADDER = {
  silver: { spendingThreshold: 100, visitThreshold: 5, evaluationPeriod: 'lifetime' },
  gold: { spendingThreshold: 500, visitThreshold: 10, evaluationPeriod: 'lifetime' },
  platinum: { spendingThreshold: 1000, evaluationPeriod: 'lifetime' },
};

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness();
});
afterAll(() => t.close());
afterEach(() => vi.useRealTimers());

async function createCustomer(metrics: Record<string, unknown>, b = business) {
  const res = await request(t.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer({ metrics })).expect(201);
  return res.body.data.id as string;
}
type Loyalty = { tier: string; override: unknown; pendingDowngrade: unknown; progress: unknown };
const tierOf = async (id: string): Promise<Loyalty> => (await request(t.app).get(`/api/v1/customers/${id}`).set(auth()).expect(200)).body.data.loyalty as Loyalty;
const spend = (netRevenue: number, completedOrders = 1) => ({ totalSpent: netRevenue, netRevenue, completedOrders, totalOrders: completedOrders });
async function history(customerId: string) {
  const { rows } = await t.database.pool.query<{ previous_tier: string; new_tier: string; reason: string; changed_by: string | null; note: string | null }>(
    'SELECT previous_tier, new_tier, reason, changed_by, note FROM customer_tier_history WHERE customer_id = $1 ORDER BY id',
    [customerId],
  );
  return rows;
}
async function events(customerId: string, type: string) {
  const { rows } = await t.database.pool.query('SELECT payload FROM domain_events WHERE customer_id = $1 AND event_type = $2 ORDER BY id', [customerId, type]);
  return rows.map((r: { payload: unknown }) => r.payload);
}
const versionOf = async (id: string) => Number((await t.database.pool.query('SELECT version FROM customers WHERE id = $1', [id])).rows[0].version);

describe('tier configuration', () => {
  it('serves the defaults until a business sets its own, and refuses thresholds that are out of order, naming the field', async () => {
    const fresh = await t.newBusiness('Tier defaults');
    const res = await request(t.app).get('/api/v1/tiers/configuration').set(auth(fresh.token)).expect(200);
    expect(res.body.data).toMatchObject({ isDefault: true, downgradeGraceDays: 90 });

    const bad = await request(t.app)
      .put('/api/v1/tiers/configuration')
      .set(auth(fresh.token))
      .send({ thresholds: { ...LADDER, gold: { ...LADDER.gold, spendingThreshold: 80 } }, reason: 'oops' })
      .expect(400);
    expect(bad.body.code).toBe('INVALID_INPUT');
    expect(bad.body.details).toContainEqual(expect.objectContaining({ field: 'body.thresholds.gold.spendingThreshold' }));

    const noReason = await request(t.app).put('/api/v1/tiers/configuration').set(auth(fresh.token)).send({ thresholds: LADDER }).expect(400);
    expect(noReason.body.details).toContainEqual(expect.objectContaining({ field: 'body.reason' }));

    const longer = await request(t.app)
      .put('/api/v1/tiers/configuration')
      .set(auth(fresh.token))
      .send({ thresholds: { ...LADDER, platinum: { spendingThreshold: 2000, evaluationPeriod: 'lifetime' }, gold: { ...LADDER.gold, evaluationPeriod: 'yearly' } }, reason: 'x' })
      .expect(400);
    expect(longer.body.details).toContainEqual(expect.objectContaining({ field: 'body.thresholds.platinum.evaluationPeriod' }));

    // Nothing was stored by the refused requests.
    const audits = await request(t.app).get('/api/v1/tiers/audits').set(auth(fresh.token)).expect(200);
    expect(audits.body.data).toEqual([]);
    expect((await request(t.app).get('/api/v1/tiers/configuration').set(auth(fresh.token))).body.data.isDefault).toBe(true);
  });

  it('only admins change thresholds; staff may read them', async () => {
    await request(t.app).get('/api/v1/tiers/configuration').set(auth(t.tokenFor(business.id, 'staff'))).expect(200);
    await request(t.app).put('/api/v1/tiers/configuration').set(auth(t.tokenFor(business.id, 'staff'))).send({ thresholds: LADDER, reason: 'x' }).expect(403);
  });
});

describe('tier evaluation', () => {
  it('re-evaluates everyone when thresholds change, audits who, when, what and why, and projects the tier to Firestore', async () => {
    const b = await t.newBusiness('Threshold change');
    const bronze = await createCustomer(spend(50), b);
    const silver = await createCustomer(spend(120), b);
    const gold = await createCustomer(spend(40, 12), b); // visits alone qualify for gold
    const platinum = await createCustomer(spend(1500), b);
    const put = await request(t.app).put('/api/v1/tiers/configuration').set(auth(b.token)).send({ thresholds: LADDER, downgradeGraceDays: 30, reason: 'launch the ladder' }).expect(200);
    expect(put.body.data).toMatchObject({ isDefault: false, downgradeGraceDays: 30, thresholds: LADDER });
    expect(put.body.meta.recalculation).toMatchObject({ status: 'completed', changed: 3, upgraded: 3, downgraded: 0 });

    const tiers = await t.database.pool.query('SELECT customer_id, loyalty_tier FROM business_customers WHERE business_id = $1', [b.id]);
    expect(Object.fromEntries(tiers.rows.map((r: { customer_id: string; loyalty_tier: string }) => [r.customer_id, r.loyalty_tier]))).toEqual({
      [bronze]: 'BRONZE',
      [silver]: 'SILVER',
      [gold]: 'GOLD',
      [platinum]: 'PLATINUM',
    });
    // Created under the default ladder (silver: 10 visits), moved up by the new thresholds.
    expect(await history(gold)).toEqual([
      { previous_tier: 'BRONZE', new_tier: 'SILVER', reason: 'qualified', changed_by: null, note: null },
      { previous_tier: 'SILVER', new_tier: 'GOLD', reason: 'qualified', changed_by: 'test-admin', note: null },
    ]);
    expect(await events(platinum, 'customers.tier.upgraded')).toEqual([
      { previousTier: 'BRONZE', newTier: 'SILVER', reason: 'qualified' },
      { previousTier: 'SILVER', newTier: 'PLATINUM', reason: 'qualified' },
    ]);

    const audits = await request(t.app).get('/api/v1/tiers/audits').set(auth(b.token)).expect(200);
    expect(audits.body.data).toHaveLength(1);
    expect(audits.body.data[0]).toMatchObject({ previousThresholds: null, newThresholds: LADDER, newGraceDays: 30, changedBy: 'test-admin', reason: 'launch the ladder' });

    // Raising gold audits the previous values and moves gold down only through the grace period.
    const raised = { ...LADDER, gold: { ...LADDER.gold, visitThreshold: 20 } };
    const second = await request(t.app).put('/api/v1/tiers/configuration').set(auth(b.token)).send({ thresholds: raised, reason: 'harder gold' }).expect(200);
    expect(second.body.meta.recalculation).toMatchObject({ changed: 0, downgraded: 0 });
    const latest = (await request(t.app).get('/api/v1/tiers/audits?limit=1').set(auth(b.token))).body;
    expect(latest.data[0]).toMatchObject({ previousThresholds: LADDER, newThresholds: raised, previousGraceDays: 30, newGraceDays: 30 });
    expect(latest.meta.nextCursor).toEqual(expect.any(String));
    const profile = (await request(t.app).get(`/api/v1/customers/${gold}`).set(auth(b.token))).body.data.loyalty;
    expect(profile.tier).toBe('GOLD');
    expect(profile.pendingDowngrade).toMatchObject({ to: 'SILVER' });

    await t.projector.drain();
    const doc = await t.firestore.db.doc(`customers/${platinum}`).get();
    expect(doc.get(`businesses.${b.id}.tier`)).toBe('PLATINUM');
    expect(doc.get('_sync.version')).toBe(await versionOf(platinum));
  });

  it('upgrades at once when metrics change, in the same version as the change', async () => {
    const id = await createCustomer(spend(20));
    const v = await versionOf(id);
    await request(t.app).put('/api/v1/tiers/configuration').set(auth()).send({ thresholds: LADDER, reason: 'ladder' }).expect(200);
    const patched = await request(t.app).patch(`/api/v1/customers/${id}`).set(auth()).send({ metrics: spend(600) }).expect(200);
    expect(patched.body.meta.version).toBe(v + 1);
    expect(patched.body.data.standing[0]).toMatchObject({ businessId: business.id, loyaltyTier: 'GOLD' });
    const loyalty = await tierOf(id);
    expect(loyalty).toMatchObject({ tier: 'GOLD', pendingDowngrade: null, progress: { nextTier: 'PLATINUM', progressPercent: 60, remaining: { spend: 400 } } });
  });

  it('waits out the grace period before a downgrade, then drops one tier at a time', async () => {
    // Tokens are signed before the clock moves, so they stay valid whatever the test's date.
    const b = await t.newBusiness('Grace');
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T12:00:00Z') });
    await request(t.app).put('/api/v1/tiers/configuration').set(auth(b.token)).send({ thresholds: LADDER, downgradeGraceDays: 90, reason: 'ladder' }).expect(200);
    const id = await createCustomer(spend(1500), b);
    expect((await t.database.pool.query('SELECT loyalty_tier FROM business_customers WHERE customer_id = $1', [id])).rows[0].loyalty_tier).toBe('PLATINUM');

    await request(t.app).patch(`/api/v1/customers/${id}`).set(auth(b.token)).send({ metrics: spend(10) }).expect(200);
    const standing = async () =>
      (await t.database.pool.query('SELECT loyalty_tier, downgrade_due_at FROM business_customers WHERE customer_id = $1', [id])).rows[0] as { loyalty_tier: string; downgrade_due_at: Date | null };
    expect(await standing()).toEqual({ loyalty_tier: 'PLATINUM', downgrade_due_at: new Date('2026-04-01T12:00:00Z') });

    vi.setSystemTime(new Date('2026-03-31T12:00:00Z'));
    await request(t.app).post('/api/v1/tiers/recalculate').set(auth(b.token)).expect(200);
    expect((await standing()).loyalty_tier).toBe('PLATINUM');

    vi.setSystemTime(new Date('2026-04-01T13:00:00Z'));
    const run = await request(t.app).post('/api/v1/tiers/recalculate').set(auth(b.token)).expect(200);
    expect(run.body.data).toMatchObject({ changed: 1, downgraded: 1 });
    expect(await standing()).toEqual({ loyalty_tier: 'GOLD', downgrade_due_at: new Date('2026-06-30T13:00:00Z') });
    expect(await events(id, 'customers.tier.downgraded')).toEqual([{ previousTier: 'PLATINUM', newTier: 'GOLD', reason: 'grace_period_expired' }]);

    // Qualifying again during the grace period cancels the pending downgrade.
    await request(t.app).patch(`/api/v1/customers/${id}`).set(auth(b.token)).send({ metrics: spend(700) }).expect(200);
    expect(await standing()).toEqual({ loyalty_tier: 'GOLD', downgrade_due_at: null });
    expect((await history(id)).map((h) => `${h.previous_tier}>${h.new_tier}`)).toEqual(['BRONZE>PLATINUM', 'PLATINUM>GOLD']);

    const runs = await request(t.app).get('/api/v1/recalculations').set(auth(b.token)).expect(200);
    expect(runs.body.data[0]).toMatchObject({ kind: 'tiers', trigger: 'api', status: 'succeeded', downgraded: 1 });
  });

  it('pins a manual override with its reason, and hands the tier back to evaluation when cleared', async () => {
    const id = await createCustomer(spend(150));
    await request(t.app).put('/api/v1/tiers/configuration').set(auth()).send({ thresholds: LADDER, reason: 'ladder' }).expect(200);
    expect((await tierOf(id)).tier).toBe('SILVER');

    const bad = await request(t.app).put(`/api/v1/customers/${id}/tier-override`).set(auth()).send({ tier: 'DIAMOND' }).expect(400);
    expect(bad.body.details.map((d: { field: string }) => d.field).sort()).toEqual(['body.reason', 'body.tier']);

    const set = await request(t.app).put(`/api/v1/customers/${id}/tier-override`).set(auth()).send({ tier: 'PLATINUM', reason: 'VIP guest of the owner' }).expect(200);
    expect(set.body.meta.changed).toBe(true);
    expect(await tierOf(id)).toMatchObject({ tier: 'PLATINUM', override: { tier: 'PLATINUM', reason: 'VIP guest of the owner' } });
    expect((await history(id)).at(-1)).toEqual({ previous_tier: 'SILVER', new_tier: 'PLATINUM', reason: 'manual_override', changed_by: 'test-admin', note: 'VIP guest of the owner' });
    const again = await request(t.app).put(`/api/v1/customers/${id}/tier-override`).set(auth()).send({ tier: 'PLATINUM', reason: 'VIP guest of the owner' }).expect(200);
    expect(again.body.meta.changed).toBe(false);

    await request(t.app).post('/api/v1/tiers/recalculate').set(auth()).expect(200);
    await request(t.app).patch(`/api/v1/customers/${id}`).set(auth()).send({ metrics: spend(160) }).expect(200);
    expect((await tierOf(id)).tier).toBe('PLATINUM');

    await request(t.app).delete(`/api/v1/customers/${id}/tier-override`).set(auth()).expect(200);
    const after = await tierOf(id);
    expect(after).toMatchObject({ tier: 'PLATINUM', override: null, pendingDowngrade: { to: 'GOLD' } });
  });

  it('evaluates rolling windows from this business’s purchases', async () => {
    const b = await t.newBusiness('Windows');
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-05-20T12:00:00Z') });
    const monthly = {
      silver: { spendingThreshold: 100, evaluationPeriod: 'monthly' },
      gold: { spendingThreshold: 300, evaluationPeriod: 'monthly' },
      platinum: { spendingThreshold: 900, evaluationPeriod: 'monthly' },
    };
    await request(t.app).put('/api/v1/tiers/configuration').set(auth(b.token)).send({ thresholds: monthly, downgradeGraceDays: 0, reason: 'monthly' }).expect(200);
    const id = await createCustomer(spend(5000, 40), b); // lifetime metrics do not count for a monthly period
    expect((await tierOf2(b, id)).tier).toBe('BRONZE');
    const buy = (orderId: string, amount: number, purchasedAt: string) =>
      request(t.app)
        .post(`/api/memory/purchase/${id}`)
        .set(auth(b.token))
        .send({ orderId, amount, currency: 'USD', purchasedAt, items: [{ itemId: 'p1', name: 'Coffee', quantity: 1, unitPrice: amount }] })
        .expect((r) => expect(r.status).toBeLessThan(300));
    await buy('old', 400, '2026-03-01T10:00:00Z'); // outside the month
    expect((await tierOf2(b, id)).tier).toBe('BRONZE');
    await buy('recent', 350, '2026-05-10T10:00:00Z');
    expect((await tierOf2(b, id)).tier).toBe('GOLD');

    // A month later the purchase has left the window; with no grace the scheduled job drops one tier.
    vi.setSystemTime(new Date('2026-06-15T12:00:00Z'));
    await t.standingJob.runOnce();
    expect((await tierOf2(b, id)).tier).toBe('SILVER');
  });

  it('refreshes the planner’s tier statistics on demand (after a recalculation that moved many customers)', async () => {
    const tiers = async () =>
      (await t.database.pool.query<{ tiers: string | null }>(
        `SELECT most_common_vals::text AS tiers FROM pg_stats WHERE tablename = 'business_customers' AND attname = 'loyalty_tier'`,
      )).rows[0]?.tiers ?? null;
    // Every BRONZE customer GOLD for a moment (put back below, so the file's other tests are not disturbed).
    const moved = await t.database.pool.query<{ business_id: string; customer_id: string }>(
      `UPDATE business_customers SET loyalty_tier = 'GOLD' WHERE loyalty_tier = 'BRONZE' RETURNING business_id, customer_id`,
    );
    expect(moved.rowCount).toBeGreaterThan(0);
    await refreshTierStatistics(t.database.handle.db);
    expect(await tiers()).toContain('GOLD');
    expect(await tiers()).not.toContain('BRONZE');
    await t.database.pool.query(
      `UPDATE business_customers bc SET loyalty_tier = 'BRONZE' FROM unnest($1::uuid[], $2::uuid[]) AS m(b, c) WHERE bc.business_id = m.b AND bc.customer_id = m.c`,
      [moved.rows.map((r) => r.business_id), moved.rows.map((r) => r.customer_id)],
    );
  });
});

async function tierOf2(b: { id: string; token: string }, id: string): Promise<Loyalty> {
  return (await request(t.app).get(`/api/v1/customers/${id}`).set(auth(b.token)).expect(200)).body.data.loyalty as Loyalty;
}
