// The prediction engine against real PostgreSQL and the PostgreSQL warehouse: the CDNOW sample,
// loaded as purchases through the Warehouse port, fits back to the published estimates; a run
// scores every customer and stores predictions in the warehouse, customer_predictions and
// customer_metrics (through the outbox); too little data keeps the previous parameters; and
// the accuracy job compares earlier predictions with what happened.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCdnowTransactions } from '../../src/memory/models/cdnow-format.js';
import { PredictionService } from '../../src/memory/predictions/prediction.service.js';
import type { WarehouseRow } from '../../src/warehouse/warehouse.port.js';
import request from 'supertest';
import { ADVISORY_LOCKS } from '../../src/db/advisory-locks.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { buildCustomer } from '../support/builders.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const DAY = 86_400_000;
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows as T[];

function engine(now: Date) {
  return new PredictionService({
    db: t.database.handle.db,
    warehouse: t.warehouse,
    sync: t.sync,
    config: { monthlyDiscountRate: 0.01, penalizer: 0 },
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
}

function purchase(businessId: string, customerId: string, id: string, at: Date, amount: number, items: { itemId: string; name: string }[] = []): WarehouseRow {
  return {
    business_id: businessId,
    source: 'square',
    transaction_id: id,
    order_id: null,
    customer_id: customerId,
    source_customer_id: null,
    purchased_at: at,
    status: 'completed',
    amount,
    refunded_amount: 0,
    currency: 'USD',
    item_count: items.length,
    items: items.map((i) => ({ ...i, sku: null, category: null, quantity: 1, unitPrice: amount })),
    location_id: null,
    updated_at: at,
    ingested_at: at,
  };
}

describe('prediction engine', () => {
  it('reproduces the published CDNOW estimates from the raw file loaded as warehouse purchases', async () => {
    const business = await t.newBusiness('CDNOW');
    const text = readFileSync(new URL('../../../shared/data/cdnow/CDNOW_sample.txt', import.meta.url), 'utf8');
    const events = parseCdnowTransactions(text);
    const rows = events.map((e, i) => purchase(business.id, e.customerId, `cdnow-${i}`, new Date((e.at) * DAY), e.amount));
    for (let i = 0; i < rows.length; i += 2000) await t.warehouse.upsert('purchases', rows.slice(i, i + 2000));
    const firstDay = Math.min(...events.map((e) => e.at));
    const report = await engine(new Date()).fit(business.id, { calibrationEnd: new Date((firstDay + 39 * 7 - 1) * DAY), unit: 'weeks' });
    const bg = report.models!.bgnbd;
    const gg = report.models!.gammaGamma!;
    const within = (value: number, published: number, tolerance: number) => expect(Math.abs(value / published - 1)).toBeLessThan(tolerance);
    within(bg.r, 0.243, 0.01);
    within(bg.alpha, 4.414, 0.01);
    within(bg.a, 0.793, 0.01);
    within(bg.b, 2.426, 0.01);
    within(bg.ll, -9582.4, 0.01);
    within(gg.p, 6.25, 0.02);
    within(gg.q, 3.74, 0.02);
    within(gg.gamma, 15.44, 0.02);
  });

  it('scores every customer of a business and stores the predictions in the warehouse, PostgreSQL and the outbox', async () => {
    const business = await t.newBusiness('Shop with history');
    const now = new Date('2026-10-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await t.sync.syncCustomer(null, buildCustomer(), { businessId: business.id })).customer.id);
    // 36 customers with purchase histories of varied frequency and recency; customer 36 has one
    // purchase, 37 bought only today, 38 and 39 nothing.
    const rows: WarehouseRow[] = [];
    let n = 0;
    for (let i = 0; i < 36; i++) {
      const every = 7 + (i % 9) * 6;
      const stop = i % 4 === 0 ? 200 : 0; // every fourth customer lapsed 200 days ago
      for (let day = 360 - (i % 5) * 20; day > stop; day -= every) {
        const items = i % 3 === 0 ? [{ itemId: 'mug', name: 'Mug' }, { itemId: 'tea', name: 'Tea' }] : [{ itemId: 'mug', name: 'Mug' }];
        rows.push(purchase(business.id, ids[i]!, `p${n++}`, new Date(now.getTime() - day * DAY), 20 + (i % 7) * 5, items));
      }
    }
    rows.push(purchase(business.id, ids[36]!, `p${n++}`, new Date(now.getTime() - 100 * DAY), 30));
    rows.push(purchase(business.id, ids[37]!, `p${n++}`, new Date(now.getTime() - 3_600_000), 30, [{ itemId: 'mug', name: 'Mug' }]));
    await t.warehouse.upsert('purchases', rows);

    const run = await engine(now).runForBusiness(business.id, 'test');
    expect(run).toMatchObject({ status: 'succeeded', customers: 40, converged: true, error: null });
    expect(run.modelVersion).toMatch(/^bgnbd-gg\//);

    const stored = await q<{ customer_id: string; churn_risk: string; expected_purchases_90d: string; predicted_clv_12m: string; confidence: string; recommendations: { itemId: string }[] }>(
      'SELECT customer_id, churn_risk, expected_purchases_90d, predicted_clv_12m, confidence, recommendations FROM customer_predictions WHERE business_id = $1',
      [business.id],
    );
    expect(stored).toHaveLength(40);
    for (const row of stored) {
      for (const value of [row.churn_risk, row.expected_purchases_90d, row.predicted_clv_12m, row.confidence]) expect(Number.isFinite(Number(value))).toBe(true);
    }
    const byId = new Map(stored.map((r) => [r.customer_id, r]));
    // A lapsed customer (0) is riskier than a regular one with the same rhythm (1 buys as often but recently).
    expect(Number(byId.get(ids[0]!)!.churn_risk)).toBeGreaterThan(Number(byId.get(ids[1]!)!.churn_risk));
    expect(Number(byId.get(ids[38]!)!.confidence)).toBe(0);
    // Customer 1 bought mugs often but never tea; tea-and-mug buyers make tea its recommendation.
    expect(byId.get(ids[1]!)!.recommendations.map((r) => r.itemId)).toEqual(['tea']);
    expect(byId.get(ids[0]!)!.recommendations).toEqual([]);

    const metrics = await q<{ n: number }>(
      'SELECT count(*)::int n FROM customer_metrics WHERE customer_id = ANY($1) AND churn_probability IS NOT NULL AND propensity_score IS NOT NULL',
      [ids],
    );
    expect(metrics[0]!.n).toBe(40);
    const outbox = await q<{ n: number }>(`SELECT count(DISTINCT entity_id)::int n FROM sync_logs WHERE entity_id = ANY($1) AND 'metrics' = ANY(changed_fields)`, [ids]);
    expect(outbox[0]!.n).toBe(40);
    const history = await q<{ n: number; types: number }>(
      'SELECT count(*)::int n, count(DISTINCT prediction_type)::int types FROM warehouse.predictions WHERE business_id = $1',
      [business.id],
    );
    expect(history[0]).toEqual({ n: 40 * 8, types: 8 });

    // Running again on the same day changes no metric: no new outbox rows.
    const before = await q<{ n: number }>('SELECT count(*)::int n FROM sync_logs');
    await engine(now).runForBusiness(business.id, 'test');
    expect(await q('SELECT count(*)::int n FROM sync_logs')).toEqual(before);

    // predictCustomer answers for one customer with the stored parameters, and 404s for a stranger.
    const one = await engine(now).predictCustomer(business.id, ids[5]!);
    expect(one).toMatchObject({ customerId: ids[5], modelVersion: run.modelVersion });
    const other = await t.newBusiness('Stranger');
    await expect(engine(now).predictCustomer(other.id, ids[5]!)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // 100 days on, the 30- and 90-day predictions are compared with what happened.
    const later = new Date(now.getTime() + 100 * DAY);
    await t.warehouse.upsert('purchases', [purchase(business.id, ids[1]!, 'after-1', new Date(now.getTime() + 10 * DAY), 25)]);
    const evaluated = await engine(later).evaluate(business.id);
    expect(evaluated).toBeGreaterThan(0);
    const churn = await q<{ actual_value: { value: number }; accuracy: number }>(
      `SELECT actual_value, accuracy FROM warehouse.predictions WHERE customer_id = $1 AND prediction_type = 'churn_risk' ORDER BY timestamp LIMIT 1`,
      [ids[1]],
    );
    expect(churn[0]!.actual_value).toEqual({ value: 0 });
    expect(churn[0]!.accuracy).toBeCloseTo(1 - Number(byId.get(ids[1]!)!.churn_risk), 3);
    const count30 = await q<{ actual_value: { value: number } }>(
      `SELECT actual_value FROM warehouse.predictions WHERE customer_id = $1 AND prediction_type = 'purchases_30d' ORDER BY timestamp LIMIT 1`,
      [ids[1]],
    );
    expect(count30[0]!.actual_value).toEqual({ value: 1 });
    expect(await engine(later).evaluate(business.id)).toBe(0);
  });

  it('counts the purchases of a customer merged into another for the survivor', async () => {
    const business = await t.newBusiness('Merged purchases');
    const auth = { authorization: `Bearer ${business.token}` };
    const create = async () => (await request(t.app).post('/api/v1/customers').set(auth).send(buildCustomer()).expect(201)).body.data.id as string;
    const [survivor, merged, other] = [await create(), await create(), await create()];
    const at = new Date('2026-06-01T10:00:00Z');
    await t.warehouse.upsert('purchases', [
      purchase(business.id, survivor, 'mp-1', at, 10),
      purchase(business.id, merged, 'mp-2', new Date(at.getTime() + DAY), 20),
      purchase(business.id, merged, 'mp-3', new Date(at.getTime() + 2 * DAY), 30),
      purchase(business.id, other, 'mp-4', at, 40),
    ]);
    const before = await engine(new Date('2026-07-01T00:00:00Z')).businessData(business.id);
    expect(before.events.filter((e) => e.customerId === merged)).toHaveLength(2);

    await request(t.app).post(`/api/v1/customers/${survivor}/merge`).set(auth).send({ sourceId: merged }).expect(201);
    const after = await engine(new Date('2026-07-01T00:00:00Z')).businessData(business.id);
    const amounts = (id: string) => after.events.filter((e) => e.customerId === id).map((e) => e.amount).sort((x, y) => x - y);
    expect(amounts(survivor)).toEqual([10, 20, 30]);
    expect(amounts(merged)).toEqual([]);
    expect(amounts(other)).toEqual([40]);
  });

  it('keeps the previous parameters when there is too little data to fit, and says so on the run', async () => {
    const business = await t.newBusiness('Tiny shop');
    const id = (await t.sync.syncCustomer(null, buildCustomer(), { businessId: business.id })).customer.id;
    const now = new Date('2026-10-01T00:00:00Z');
    await t.warehouse.upsert('purchases', [purchase(business.id, id, 'only', new Date(now.getTime() - 5 * DAY), 12)]);
    // No fit yet: the default prior, at half confidence.
    const first = await engine(now).runForBusiness(business.id, 'test');
    expect(first).toMatchObject({ status: 'succeeded', converged: false, modelVersion: 'bgnbd-gg/default-prior' });
    expect(first.note).toMatch(/too little data/);
    await q(
      `INSERT INTO memory_models (business_id, model_version, bgnbd, gamma_gamma, customers, repeat_buyers)
       VALUES ($1, 'bgnbd-gg/earlier', '{"r":0.3,"alpha":30,"a":0.8,"b":2.5,"ll":-100}', '{"p":6,"q":4,"gamma":15,"ll":-50}', 100, 40)`,
      [business.id],
    );
    const second = await engine(now).runForBusiness(business.id, 'test');
    expect(second).toMatchObject({ status: 'succeeded', converged: false, modelVersion: 'bgnbd-gg/earlier' });
    const [row] = await q<{ model_version: string }>('SELECT model_version FROM memory_models WHERE business_id = $1', [business.id]);
    expect(row!.model_version).toBe('bgnbd-gg/earlier');
  });

  it('runs nightly for every business once across instances and lists its runs through the API', async () => {
    const business = await t.newBusiness('Nightly shop');
    const client = await t.database.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.predictions]);
      expect(await t.predictionJob.runOnce('schedule')).toBe(false);
    } finally {
      await client.query('SELECT pg_advisory_unlock_all()');
      client.release();
    }
    expect(await t.predictionJob.runOnce('schedule')).toBe(true);
    const res = await request(t.app).get('/api/memory/predictions/runs?limit=5').set({ Authorization: `Bearer ${business.token}` }).expect(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({ businessId: business.id, trigger: 'schedule', status: 'succeeded', customers: 0 });
    await request(t.app).get('/api/memory/predictions/runs?limit=0').set({ Authorization: `Bearer ${business.token}` }).expect(400);
  });
});
