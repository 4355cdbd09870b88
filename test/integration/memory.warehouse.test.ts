// The memory API where the warehouse is BigQuery (the fake BigQuery REST server) and where the
// service runs without Redis or a prediction engine: the interactions loader survives a crash
// between the warehouse write and the mark without losing or duplicating a row, forget reports
// rows still in BigQuery's streaming buffer as pending and finishes when called again, the
// in-process profile cache behaves like the Redis one.
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InteractionsLoader } from '../../src/memory/interactions-loader.js';
import { BigQueryWarehouse } from '../../src/warehouse/bigquery-warehouse.js';
import type { Warehouse } from '../../src/warehouse/warehouse.port.js';
import { startBigQueryFake, type BigQueryFake } from '../fakes/bigquery.fake.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const DATASET = 'memory_test';
let fake: BigQueryFake;
let t: TestApp;
let business: { id: string; token: string };

beforeAll(async () => {
  fake = await startBigQueryFake();
  const warehouse = new BigQueryWarehouse({ bigquery: fake.client(), datasetId: DATASET, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  t = await createTestApp({ warehouse });
  business = await t.newBusiness('BigQuery shop');
});
afterEach(() => fake.control.clear());
afterAll(async () => {
  await t.close();
  await fake.close();
});

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows as T[];
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const newCustomer = async () => (await t.customers.create(business.id, buildCustomer())).customer.id;
const streamed = (customerId: string) => fake.storedRows(DATASET, 'interactions').filter((r) => r.json.customer_id === customerId);

async function learn(customerId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(t.app)
      .post('/api/memory/learn')
      .set(auth(business.token))
      .send({ customerId, sessionId: 's', message: `question ${i}`, channel: 'email', sentiment: -0.25 })
      .expect(201);
    ids.push(res.body.data.id as string);
  }
  return ids;
}

/** The real warehouse, except that the process "dies" right after the upsert returns. */
function crashingAfterUpsert(inner: Warehouse): Warehouse {
  return {
    describe: inner.describe,
    ensureSchema: () => inner.ensureSchema(),
    read: (table, where) => inner.read(table, where),
    deleteRows: (table, where) => inner.deleteRows(table, where),
    deidentifyRows: (table, where, columns) => inner.deidentifyRows(table, where, columns),
    close: () => inner.close(),
    upsert: async (table, rows) => {
      await inner.upsert(table, rows);
      throw new Error('simulated crash after the warehouse write, before the mark');
    },
  };
}

describe('interactions loader over BigQuery', () => {
  it('loses nothing and duplicates nothing when it dies between the warehouse write and the mark', async () => {
    const customer = await newCustomer();
    const ids = await learn(customer, 3);
    const crashing = new InteractionsLoader(t.database.handle, crashingAfterUpsert(t.warehouse), pino({ level: 'silent' }));

    await expect(crashing.loadBatch()).rejects.toThrow(/simulated crash/);
    expect(streamed(customer)).toHaveLength(3);
    expect((await q('SELECT count(*)::int AS n FROM memory_interactions WHERE customer_id = $1 AND warehouse_loaded_at IS NULL', [customer]))[0]).toEqual({ n: 3 });

    const resumed = await t.interactionsLoader.loadBatch();
    expect(resumed).toMatchObject({ ran: true, loaded: 3, rejected: 0, erased: 0 });
    // The resend carried the same insertIds, so BigQuery stored each row once.
    const rows = streamed(customer);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.insertId)).size).toBe(3);
    expect(rows.map((r) => r.json.interaction_id).sort()).toEqual([...ids].sort());
    expect((await q('SELECT count(*)::int AS n FROM memory_interactions WHERE customer_id = $1 AND warehouse_loaded_at IS NULL', [customer]))[0]).toEqual({ n: 0 });

    expect(await t.interactionsLoader.loadBatch()).toMatchObject({ loaded: 0 });
    expect(streamed(customer)).toHaveLength(3);
  });

  it('deletes again what it loaded for a customer forgotten while the batch travelled', async () => {
    const customer = await newCustomer();
    await learn(customer, 2);
    // The whole forget runs after the loader read the rows and before they reach the warehouse,
    // so its warehouse delete finds nothing and the rows land afterwards.
    const racing: Warehouse = {
      ...crashingAfterUpsert(t.warehouse),
      upsert: async (table, rows) => {
        const forgot = await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(business.token)).expect(200);
        expect(forgot.body.data.deleted).toMatchObject({ interactions: 2, warehouseInteractions: 0 });
        const result = await t.warehouse.upsert(table, rows);
        expect(streamed(customer)).toHaveLength(2);
        return result;
      },
    };
    const loader = new InteractionsLoader(t.database.handle, racing, pino({ level: 'silent' }));

    expect(await loader.loadBatch()).toMatchObject({ loaded: 0, erased: 2 });
    expect(streamed(customer)).toEqual([]);
  });
});

describe('forget over BigQuery', () => {
  it('reports rows still in the streaming buffer as pending, and finishes when called again', async () => {
    const customer = await newCustomer();
    await learn(customer, 2);
    await t.interactionsLoader.loadAll();
    fake.control.streamingBufferMs = 30 * 60_000;

    const first = await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(business.token)).expect(200);
    expect(first.body.data).toEqual({
      deleted: { interactions: 2, predictions: 0, warehouseInteractions: 0, warehousePredictions: 0 },
      warehousePending: true,
    });
    expect(streamed(customer)).toHaveLength(2);
    expect(fake.requests.some((r) => r.query?.startsWith(`DELETE FROM \`${fake.projectId}.${DATASET}.interactions\` WHERE`))).toBe(true);

    fake.control.streamingBufferMs = 0;
    const second = await request(t.app).delete(`/api/memory/forget/${customer}`).set(auth(business.token)).expect(200);
    expect(second.body.data).toEqual({
      deleted: { interactions: 0, predictions: 0, warehouseInteractions: 2, warehousePredictions: 0 },
      warehousePending: false,
    });
    expect(streamed(customer)).toEqual([]);
  });
});

describe('without Redis and without a prediction engine', () => {
  it('caches profiles in process and drops them on writes', async () => {
    const customer = await newCustomer();
    const read = () => request(t.app).get(`/api/memory/profile/${customer}`).set(auth(business.token)).expect(200);
    expect((await read()).body.meta).toEqual({ cache: 'miss' });
    const hit = await read();
    expect(hit.body.meta).toEqual({ cache: 'hit' });
    expect(hit.body.data.conversationHistory.totalInteractions).toBe(0);

    await learn(customer, 1);
    const fresh = await read();
    expect(fresh.body.meta).toEqual({ cache: 'miss' });
    expect(fresh.body.data.conversationHistory.totalInteractions).toBe(1);
    expect(fresh.body.data.communication.averageSentiment).toBe(-0.25);
  });
});
