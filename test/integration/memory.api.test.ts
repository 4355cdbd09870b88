// The memory API end to end against real PostgreSQL, Redis and the PostgreSQL warehouse: learn
// (durable at once, loaded into the warehouse once), purchases outside the POS systems (metrics
// through the outbox, idempotent by order id), the unified profile and context (cached in Redis,
// dropped on writes), forget (PostgreSQL, warehouse and cache; nobody else's memory), predict,
// permissions, tenancy, and bad input that leaves every table as it was.
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerPrediction } from '../../src/memory/predictions/predictor.js';
import { buildCustomer } from '../support/builders.js';
import { TEST_REDIS_URL } from '../support/env.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
let t: TestApp;
let redis: Redis;
let business: { id: string; token: string };
let other: { id: string; token: string };

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  t = await createTestApp({ redis });
  business = await t.newBusiness('Memory shop');
  other = await t.newBusiness('Other shop');
});
afterAll(async () => {
  for (const b of [business, other]) {
    const keys = await redis.keys(`c360:memory:profile:${b.id}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
  await t.close();
});

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows as T[];
const count = async (text: string, params: unknown[] = []) => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM ${text}`, params))[0]!.n;
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const profileKey = (businessId: string, customerId: string) => `c360:memory:profile:${businessId}:${customerId}`;

async function newCustomer(businessId = business.id, overrides: Record<string, unknown> = {}): Promise<string> {
  return (await t.customers.create(businessId, buildCustomer(overrides))).customer.id;
}

function learn(body: Record<string, unknown>, token = business.token) {
  return request(t.app).post('/api/memory/learn').set(auth(token)).send(body);
}

function purchase(customerId: string, body: Record<string, unknown>, token = business.token) {
  return request(t.app).post(`/api/memory/purchase/${customerId}`).set(auth(token)).send(body);
}

const message = (customerId: string, overrides: Record<string, unknown> = {}) => ({
  customerId,
  sessionId: 'sess-1',
  message: 'Do you still have the blue teapot?',
  response: 'Yes, two left in store.',
  intent: 'availability',
  sentiment: 0.5,
  entities: { product: 'blue teapot', quantity: 1 },
  channel: 'chat',
  ...overrides,
});

const order = (orderId: string, overrides: Record<string, unknown> = {}) => ({
  orderId,
  amount: 42.5,
  currency: 'usd',
  purchasedAt: '2026-04-01T10:00:00Z',
  items: [
    { itemId: 'teapot-1', sku: 'TP1', name: 'Blue teapot', category: 'Tea', quantity: 1, unitPrice: 30 },
    { itemId: 'cup-2', name: 'Cup', category: 'Cups', quantity: 2, unitPrice: 6.25 },
  ],
  ...overrides,
});

describe('POST /api/memory/learn', () => {
  it('stores the interaction at once, answers 201 with its id, and leaves it for the loader', async () => {
    const customer = await newCustomer();
    const res = await learn(message(customer, { occurredAt: '2026-04-02T09:30:00+02:00' })).expect(201);

    expect(res.body.data).toEqual({ id: expect.any(String), customerId: customer, occurredAt: '2026-04-02T07:30:00.000Z' });
    const [row] = await q('SELECT * FROM memory_interactions WHERE id = $1', [res.body.data.id]);
    expect(row).toMatchObject({
      business_id: business.id,
      customer_id: customer,
      session_id: 'sess-1',
      message: 'Do you still have the blue teapot?',
      intent: 'availability',
      sentiment: 0.5,
      entities: { product: 'blue teapot', quantity: 1 },
      channel: 'chat',
      warehouse_loaded_at: null,
    });
    expect(await count('warehouse.interactions WHERE interaction_id = $1', [res.body.data.id])).toBe(0);
  });

  it('loads interactions into the warehouse once, however often the loader runs', async () => {
    const customer = await newCustomer();
    const ids: string[] = [];
    for (const channel of ['chat', 'email', 'voice']) ids.push((await learn(message(customer, { channel })).expect(201)).body.data.id as string);

    const first = await t.interactionsLoader.loadAll();
    expect(first.ran).toBe(true);
    expect(first.loaded).toBeGreaterThanOrEqual(3);
    const loaded = await q<{ interaction_id: string; ingested_at: Date; channel: string; customer_id: string; entities: unknown }>(
      'SELECT interaction_id, ingested_at, channel, customer_id, entities FROM warehouse.interactions WHERE customer_id = $1 ORDER BY interaction_id',
      [customer],
    );
    expect(loaded.map((r) => r.interaction_id)).toEqual([...ids].sort());
    expect(loaded.find((r) => r.interaction_id === ids[1])).toMatchObject({ channel: 'email', entities: { product: 'blue teapot', quantity: 1 } });
    expect(await count('memory_interactions WHERE customer_id = $1 AND warehouse_loaded_at IS NULL', [customer])).toBe(0);

    expect(await t.interactionsLoader.loadBatch()).toEqual({ ran: true, loaded: 0, rejected: 0, erased: 0 });
    const again = await q('SELECT interaction_id, ingested_at FROM warehouse.interactions WHERE customer_id = $1 ORDER BY interaction_id', [customer]);
    expect(again).toEqual(loaded.map((r) => ({ interaction_id: r.interaction_id, ingested_at: r.ingested_at })));
  });

  it('refuses bad input naming the field, and stores nothing', async () => {
    const customer = await newCustomer();
    const stranger = await newCustomer(other.id);
    const before = await count('memory_interactions');
    const cases: [Record<string, unknown>, number, string][] = [
      [message(customer, { sentiment: 2 }), 400, 'body.sentiment'],
      [message(customer, { channel: 'fax' }), 400, 'body.channel'],
      [message(customer, { message: '   ' }), 400, 'body.message'],
      [message(customer, { entities: ['not', 'an', 'object'] }), 400, 'body.entities'],
      [message(customer, { occurredAt: 'yesterday' }), 400, 'body.occurredAt'],
      [message('not-a-uuid'), 400, 'body.customerId'],
      [{ ...message(customer), surprise: true }, 400, 'body.surprise'],
    ];
    for (const [body, status, field] of cases) {
      const res = await learn(body).expect(status);
      expect(res.body).toMatchObject({ success: false, code: 'INVALID_INPUT' });
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
      expect(res.body.error).toContain(field);
    }
    const missing = await learn(message('0b6f1a52-0000-4000-8000-0000000000ff')).expect(404);
    const foreign = await learn(message(stranger)).expect(404);
    // Another business's customer is indistinguishable from a missing one.
    expect(foreign.body.code).toBe('NOT_FOUND');
    expect(foreign.body.error).toBe(`Customer ${stranger} not found`);
    expect(missing.body.error).toBe('Customer 0b6f1a52-0000-4000-8000-0000000000ff not found');
    expect(await count('memory_interactions')).toBe(before);
  });

  it('needs a token, and a role that may write memory', async () => {
    const customer = await newCustomer();
    await request(t.app).post('/api/memory/learn').send(message(customer)).expect(401);
    const res = await learn(message(customer), t.tokenFor(business.id, 'analyst')).expect(403);
    expect(res.body.code).toBe('FORBIDDEN');
    await learn(message(customer), t.tokenFor(business.id, 'staff')).expect(201);
  });
});

describe('POST /api/memory/purchase/:customerId', () => {
  it('records the purchase in PostgreSQL and the warehouse and refreshes the metrics through the outbox', async () => {
    const customer = await newCustomer();
    const outboxBefore = await count('sync_logs WHERE entity_id = $1', [customer]);

    const res = await purchase(customer, order('web-1001')).expect(201);

    expect(res.body.data).toEqual({ orderId: 'web-1001', customerId: customer, status: 'created', metricsChanged: true });
    const [tx] = await q('SELECT source, customer_id, status, amount::text, currency, item_count, categories FROM customer_transactions WHERE transaction_id = $1', ['web-1001']);
    expect(tx).toEqual({ source: 'memory', customer_id: customer, status: 'completed', amount: '42.50', currency: 'USD', item_count: 3, categories: ['Tea', 'Cups'] });
    const [wh] = await q('SELECT source, customer_id, order_id, amount::float8 AS amount, item_count::int AS item_count, items FROM warehouse.purchases WHERE transaction_id = $1', ['web-1001']);
    expect(wh).toMatchObject({ source: 'memory', customer_id: customer, order_id: 'web-1001', amount: 42.5, item_count: 3 });
    expect((wh!.items as unknown[])[0]).toEqual({ itemId: 'teapot-1', sku: 'TP1', name: 'Blue teapot', category: 'Tea', quantity: 1, unitPrice: 30 });
    const [metrics] = await q('SELECT total_orders, total_spent::text, favorite_category, last_order_date::text FROM customer_metrics WHERE customer_id = $1', [customer]);
    expect(metrics).toEqual({ total_orders: 1, total_spent: '42.50', favorite_category: 'Cups', last_order_date: '2026-04-01' });
    expect(await count('sync_logs WHERE entity_id = $1', [customer])).toBe(outboxBefore + 1);
    expect(await count('customer_metrics_pending WHERE customer_id = $1', [customer])).toBe(0);
  });

  it('is idempotent by order id: a replay changes nothing, a correction updates, another customer is refused', async () => {
    const customer = await newCustomer();
    await purchase(customer, order('web-2001')).expect(201);
    const snapshot = async () => ({
      tx: await q('SELECT amount::text, source_updated_at FROM customer_transactions WHERE transaction_id = $1', ['web-2001']),
      wh: await count('warehouse.purchases WHERE transaction_id = $1', ['web-2001']),
      metrics: await q('SELECT total_orders, total_spent::text FROM customer_metrics WHERE customer_id = $1', [customer]),
      outbox: await count('sync_logs WHERE entity_id = $1', [customer]),
    });
    const before = await snapshot();

    const replay = await purchase(customer, order('web-2001')).expect(200);
    expect(replay.body.data).toMatchObject({ status: 'unchanged', metricsChanged: false });
    expect(await snapshot()).toEqual(before);

    const corrected = await purchase(customer, order('web-2001', { amount: 50 })).expect(200);
    expect(corrected.body.data).toMatchObject({ status: 'updated', metricsChanged: true });
    expect((await q('SELECT total_orders, total_spent::text FROM customer_metrics WHERE customer_id = $1', [customer]))[0]).toEqual({ total_orders: 1, total_spent: '50.00' });
    expect(await count('warehouse.purchases WHERE transaction_id = $1', ['web-2001'])).toBe(1);

    const someoneElse = await newCustomer();
    const conflict = await purchase(someoneElse, order('web-2001')).expect(409);
    expect(conflict.body.details).toEqual([{ field: 'body.orderId', message: 'is already recorded for another customer' }]);
    expect((await q('SELECT customer_id FROM customer_transactions WHERE transaction_id = $1', ['web-2001']))[0]).toEqual({ customer_id: customer });
  });

  it('refuses bad purchases naming the field and writes nothing', async () => {
    const customer = await newCustomer();
    const stranger = await newCustomer(other.id);
    const before = [await count('customer_transactions'), await count('warehouse.purchases')];
    const cases: [Record<string, unknown>, string][] = [
      [order('bad-1', { amount: 10.005 }), 'body.amount'],
      [order('bad-2', { items: [] }), 'body.items'],
      [order('bad-3', { currency: 'dollars' }), 'body.currency'],
      [order('bad-4', { items: [{ itemId: 'x', quantity: 0, unitPrice: 1 }] }), 'body.items.0.quantity'],
      [order('bad-5', { purchasedAt: '2026-13-01T00:00:00Z' }), 'body.purchasedAt'],
    ];
    for (const [body, field] of cases) {
      const res = await purchase(customer, body).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const badParam = await purchase('nope', order('bad-6')).expect(400);
    expect(badParam.body.details[0].field).toBe('params.customerId');
    await purchase(stranger, order('bad-7')).expect(404);
    expect([await count('customer_transactions'), await count('warehouse.purchases')]).toEqual(before);
  });
});

describe('GET /api/memory/profile/:customerId and /context/:customerId', () => {
  it('builds the unified profile: identity, ranked categories, behaviour, the last 10 interactions newest first, membership', async () => {
    const customer = await newCustomer(business.id, { firstName: 'Ada', email: 'ada.memory@example.com' });
    const last = new Date(Date.now() - 10 * DAY - 3_600_000);
    const first = new Date(last.getTime() - 30 * DAY);
    await purchase(customer, order('prof-1', { purchasedAt: first.toISOString(), amount: 20, items: [
      { itemId: 'a', category: 'Mugs', quantity: 1, unitPrice: 5 },
      { itemId: 'b', category: 'Tea', quantity: 1, unitPrice: 5 },
      { itemId: 'c', category: 'Tea', quantity: 1, unitPrice: 10 },
    ] })).expect(201);
    await purchase(customer, order('prof-2', { purchasedAt: last.toISOString(), amount: 40, items: [
      { itemId: 'd', category: 'Tea', quantity: 1, unitPrice: 20 },
      { itemId: 'e', category: 'Plates', quantity: 2, unitPrice: 10 },
    ] })).expect(201);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const body = message(customer, {
        occurredAt: new Date(Date.UTC(2026, 3, 1, 9, i)).toISOString(),
        channel: i % 3 === 0 ? 'email' : 'chat',
        sentiment: i % 2 === 0 ? 1 : 0,
        intent: i < 8 ? 'availability' : 'returns',
      });
      ids.push((await learn(body).expect(201)).body.data.id as string);
    }

    const res = await request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);
    const p = res.body.data;

    expect(p.identity).toMatchObject({ id: customer, firstName: 'Ada', email: 'ada.memory@example.com' });
    expect(p.preferences).toEqual({
      categories: [
        { category: 'Tea', lines: 3 },
        { category: 'Mugs', lines: 1 },
        { category: 'Plates', lines: 1 },
      ],
      favoriteCategory: 'Tea',
    });
    expect(p.behavioral).toEqual({
      totalPurchases: 2,
      totalSpent: 60,
      averageOrderValue: 30,
      firstPurchaseDate: first.toISOString(),
      lastPurchaseDate: last.toISOString(),
      daysSinceLastPurchase: 10,
      averageDaysBetweenPurchases: 30,
      purchaseFrequency: 'monthly',
    });
    expect(p.conversationHistory.totalInteractions).toBe(12);
    expect(p.conversationHistory.topics).toEqual(['availability', 'returns']);
    expect(p.conversationHistory.recentConversations.map((c: { id: string }) => c.id)).toEqual(ids.slice(2).reverse());
    expect(p.conversationHistory.lastInteractionDate).toBe(new Date(Date.UTC(2026, 3, 1, 9, 11)).toISOString());
    expect(p.communication).toEqual({
      channels: [
        { channel: 'chat', interactions: 8 },
        { channel: 'email', interactions: 4 },
      ],
      preferredChannel: 'chat',
      averageSentiment: 0.5,
      lastInteractionDate: p.conversationHistory.lastInteractionDate,
    });
    expect(p.predictions).toBeNull();
    expect(p.membership).toEqual({ loyaltyMember: true, tier: 'gold', points: 450, lifetimePoints: 0 });

    const ctx = await request(t.app).get(`/api/memory/context/${customer}`).set(auth(t.tokenFor(business.id, 'analyst'))).expect(200);
    expect(ctx.body.data.recentInteractions).toEqual(p.conversationHistory.recentConversations);
    expect(ctx.body.data).toMatchObject({ predictions: null, recommendations: [] });
    expect(ctx.body.data.profile.behavioral).toEqual(p.behavioral);
  });

  it('answers 404 for another business’s customer and 400 for a malformed id', async () => {
    const stranger = await newCustomer(other.id);
    const res = await request(t.app).get(`/api/memory/profile/${stranger}`).set(auth(business.token)).expect(404);
    expect(res.body).toMatchObject({ success: false, code: 'NOT_FOUND', requestId: expect.any(String) });
    await request(t.app).get(`/api/memory/context/${stranger}`).set(auth(business.token)).expect(404);
    const bad = await request(t.app).get('/api/memory/profile/123').set(auth(business.token)).expect(400);
    expect(bad.body.details[0].field).toBe('params.customerId');
  });

  it('serves the second read from Redis for at most 5 minutes and drops it when the customer learns or buys', async () => {
    const customer = await newCustomer();
    const [learned] = [(await learn(message(customer)).expect(201)).body.data.id as string];
    const read = () => request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);

    expect((await read()).body.meta).toEqual({ cache: 'miss' });
    const ttl = await redis.ttl(profileKey(business.id, customer));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);

    // Changed behind the API's back: only a cached answer still shows the interaction.
    await q('DELETE FROM memory_interactions WHERE id = $1', [learned]);
    const cached = await read();
    expect(cached.body.meta).toEqual({ cache: 'hit' });
    expect(cached.body.data.conversationHistory.totalInteractions).toBe(1);

    await learn(message(customer, { message: 'And a matching cup?' })).expect(201);
    expect(await redis.exists(profileKey(business.id, customer))).toBe(0);
    const fresh = await read();
    expect(fresh.body.meta).toEqual({ cache: 'miss' });
    expect(fresh.body.data.conversationHistory.recentConversations.map((c: { message: string }) => c.message)).toEqual(['And a matching cup?']);

    await purchase(customer, order('cache-1')).expect(201);
    const afterPurchase = await read();
    expect(afterPurchase.body.meta).toEqual({ cache: 'miss' });
    expect(afterPurchase.body.data.behavioral.totalPurchases).toBe(1);
  });

  it('never serves a profile built before a write that invalidated it', async () => {
    const customer = await newCustomer();
    // A reader notes the generation, then a write lands before it stores what it built.
    const before = await t.profileCache.get(business.id, customer);
    await learn(message(customer)).expect(201);
    const stale = (await t.memory.profile(business.id, customer)).profile;
    await t.profileCache.set(business.id, customer, before.generation, { ...stale, customerId: 'stale' });
    const res = await request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);
    expect(res.body.data.customerId).toBe(customer);
  });
});

describe('DELETE /api/memory/forget/:customerId', () => {
  async function remember(customer: string, businessId = business.id, token = business.token): Promise<void> {
    await learn(message(customer), token).expect(201);
    await learn(message(customer, { channel: 'voice' }), token).expect(201);
    await t.interactionsLoader.loadAll();
    await q(
      `INSERT INTO customer_predictions (customer_id, business_id, model_version, computed_at, churn_risk, expected_purchases_30d,
         expected_purchases_90d, expected_spend, predicted_clv_12m, engagement_score, confidence)
       VALUES ($1, $2, 'test-v1', now(), 0.2, 0.5, 1.2, 30, 120, 0.6, 0.4)`,
      [customer, businessId],
    );
    await t.warehouse.upsert('predictions', [
      {
        business_id: businessId,
        prediction_id: `${customer}:churn`,
        customer_id: customer,
        timestamp: new Date(),
        prediction_type: 'churn_risk',
        prediction_value: 0.2,
        confidence: 0.4,
        model_version: 'test-v1',
        updated_at: new Date(),
      },
    ]);
    await request(t.app).get(`/api/memory/profile/${customer}`).set(auth(token)).expect(200);
  }

  const memoryOf = async (customer: string) => ({
    interactions: await count('memory_interactions WHERE customer_id = $1', [customer]),
    predictions: await count('customer_predictions WHERE customer_id = $1', [customer]),
    warehouseInteractions: await count('warehouse.interactions WHERE customer_id = $1', [customer]),
    warehousePredictions: await count('warehouse.predictions WHERE customer_id = $1', [customer]),
  });

  it('removes the customer’s memory from PostgreSQL, the warehouse and the cache, and nobody else’s', async () => {
    const customer = await newCustomer();
    const neighbour = await newCustomer();
    await remember(customer);
    await remember(neighbour);
    expect(await memoryOf(customer)).toEqual({ interactions: 2, predictions: 1, warehouseInteractions: 2, warehousePredictions: 1 });
    expect(await redis.exists(profileKey(business.id, customer))).toBe(1);

    const res = await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(business.token)).expect(200);

    expect(res.body.data).toEqual({
      deleted: { interactions: 2, predictions: 1, warehouseInteractions: 2, warehousePredictions: 1 },
      warehousePending: false,
    });
    expect(await memoryOf(customer)).toEqual({ interactions: 0, predictions: 0, warehouseInteractions: 0, warehousePredictions: 0 });
    expect(await redis.exists(profileKey(business.id, customer))).toBe(0);
    expect(await memoryOf(neighbour)).toEqual({ interactions: 2, predictions: 1, warehouseInteractions: 2, warehousePredictions: 1 });
    expect(await redis.exists(profileKey(business.id, neighbour))).toBe(1);
    // The customer aggregate itself stays.
    await request(t.app).get(`/api/v1/customers/${customer}`).set(auth(business.token)).expect(200);
    const profile = await request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);
    expect(profile.body.data.conversationHistory.totalInteractions).toBe(0);
    expect(profile.body.data.predictions).toBeNull();
  });

  it('is for admin and service roles, and 404 for another business’s customer', async () => {
    const customer = await newCustomer();
    await remember(customer);
    for (const role of ['staff', 'analyst'] as const) {
      const res = await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(t.tokenFor(business.id, role))).expect(403);
      expect(res.body.code).toBe('FORBIDDEN');
    }
    await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(other.token)).expect(404);
    expect((await memoryOf(customer)).interactions).toBe(2);
    await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(t.tokenFor(business.id, 'service'))).expect(200);
    expect(await memoryOf(customer)).toEqual({ interactions: 0, predictions: 0, warehouseInteractions: 0, warehousePredictions: 0 });
  });
});

describe('OpenAPI', () => {
  it('documents the memory routes under /api/memory', async () => {
    const doc = (await request(t.app).get('/api/v1/openapi.json').expect(200)).body;
    for (const path of ['/memory/learn', '/memory/purchase/{customerId}', '/memory/profile/{customerId}', '/memory/context/{customerId}', '/memory/predict/{customerId}', '/memory/forget/{customerId}']) {
      expect(doc.paths[path]?.servers).toEqual([{ url: '/api' }]);
    }
    expect(Object.keys(doc.paths['/memory/forget/{customerId}'])).toContain('delete');
  });
});

describe('POST /api/memory/predict/:customerId', () => {
  it('returns the engine’s prediction, shows it in the profile, and answers 404 for another business’s customer', async () => {
    const customer = await newCustomer();
    await purchase(customer, order('pred-1', { purchasedAt: new Date(Date.now() - 40 * DAY).toISOString() })).expect(201);
    await purchase(customer, order('pred-2', { purchasedAt: new Date(Date.now() - 5 * DAY).toISOString() })).expect(201);
    await request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);

    const res = await request(t.app).post(`/api/memory/predict/${customer}`).set(auth(business.token)).expect(200);
    const prediction = res.body.data as CustomerPrediction;
    expect(prediction).toMatchObject({ customerId: customer, churnRisk: expect.any(Number), confidence: expect.any(Number) });

    // The cached profile was dropped, so the stored prediction shows at once.
    const profile = await request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);
    expect(profile.body.meta).toEqual({ cache: 'miss' });
    expect(profile.body.data.predictions).toMatchObject({ customerId: customer, modelVersion: prediction.modelVersion, churnRisk: prediction.churnRisk });

    const stranger = await newCustomer(other.id);
    await request(t.app).post(`/api/memory/predict/${stranger}`).set(auth(business.token)).expect(404);
  });
});
