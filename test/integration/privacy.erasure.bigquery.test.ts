// Erasure where the warehouse is BigQuery (the fake BigQuery REST server): rows streamed less than
// the streaming-buffer window ago cannot be changed by DML, so the erasure stays PENDING with the
// warehouse step pending (and says so), the work queue retries it, and once the buffer has let
// the rows go (fixed clock moved past the window) it deletes and de-identifies them and the
// erasure is COMPLETED. Nothing of the person is then left in any warehouse table.
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { WAREHOUSE_CUSTOMER_TABLES } from '../../src/privacy/customer-data-map.js';
import { WAREHOUSE_RETRY_MS } from '../../src/privacy/erasure/erasure.service.js';
import { BigQueryWarehouse } from '../../src/warehouse/bigquery-warehouse.js';
import { startBigQueryFake, type BigQueryFake } from '../fakes/bigquery.fake.js';
import { scanWarehouse } from '../support/pii-scan.js';
import { seedEverywhere, type SeededCustomer } from '../support/seed-everywhere.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const DATASET = 'erasure_test';
const BUFFER_MS = 30 * 60_000;
let fake: BigQueryFake;
let t: TestApp;
let business: { id: string; token: string };
let alice: SeededCustomer;
let bob: SeededCustomer;

beforeAll(async () => {
  // The fake reads the clock through Date.now at each call, so a faked Date moves its buffer window too.
  fake = await startBigQueryFake({ now: () => Date.now() });
  const warehouse = new BigQueryWarehouse({ bigquery: fake.client(), datasetId: DATASET, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  t = await createTestApp({ warehouse });
  business = await t.newBusiness('BigQuery erasure shop');
  alice = await seedEverywhere(t, business, { exportRequest: false });
  bob = await seedEverywhere(t, business, { merge: false, exportRequest: false });
}, 180_000);
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const linkOf = (table: string) => WAREHOUSE_CUSTOMER_TABLES.find((e) => e.table === table)!.linkColumn;
/** Stored row versions of a customer in a table, as BigQuery holds them (every version, not the view). */
const storedOf = (table: string, customerId: string) => fake.storedRows(DATASET, table).filter((r) => r.json[linkOf(table)] === customerId);
interface ErasureBody {
  status: string;
  pendingSteps: string[];
  lastError: string | null;
  steps: { name: string; detail: { tables: Record<string, { status: string; rows: number; refusals: number }> } }[];
}
const erasure = async (id: string): Promise<ErasureBody> => {
  const res = await request(t.app).get(`/api/v1/erasures/${id}`).set(auth(business.token)).expect(200);
  return (res.body as { data: ErasureBody }).data;
};
const warehouseStep = (record: ErasureBody) => record.steps.find((s) => s.name === 'warehouse')!.detail.tables;

describe('erasure over BigQuery with rows in the streaming buffer', () => {
  it('stays PENDING with the warehouse step pending until the buffer lets the rows go, then completes', async () => {
    const ids = [alice.customerId, alice.mergedAwayId!];
    const before = Object.fromEntries(WAREHOUSE_CUSTOMER_TABLES.map((e) => [e.table, ids.flatMap((id) => storedOf(e.table, id)).length]));
    expect(before.square_payments).toBeGreaterThan(0);
    const bobBefore = Object.fromEntries(WAREHOUSE_CUSTOMER_TABLES.map((e) => [e.table, storedOf(e.table, bob.customerId)]));
    fake.control.streamingBufferMs = BUFFER_MS;
    const start = Date.now();

    const res = await request(t.app).delete(`/api/v1/customers/${alice.customerId}?erase=true`).set(auth(business.token)).send({ reason: 'Right to erasure' }).expect(202);
    const id = res.body.data.id as string;
    await t.projector.drain();
    await t.queueWorker.drain();

    // Refused by BigQuery: nothing changed there, the rest is done, and the record says what waits.
    let record = await erasure(id);
    expect(record.status).toBe('PENDING');
    expect(record.pendingSteps).toEqual(['warehouse']);
    expect(record.lastError).toMatch(/streaming buffer/);
    expect(Object.values(warehouseStep(record)).filter((s) => s.status === 'pending').length).toBeGreaterThan(0);
    // The customer's rows and its merged-away duplicate's (an old Square customer record).
    expect(ids.flatMap((cid) => storedOf('square_payments', cid))).toHaveLength(before.square_payments!);
    expect(ids.flatMap((cid) => storedOf('square_customers', cid))).toHaveLength(before.square_customers!);
    expect(before.square_customers).toBe(2);
    expect(fake.requests.some((r) => r.query?.startsWith(`UPDATE \`${fake.projectId}.${DATASET}.square_payments\` SET `) && r.status === 400)).toBe(true);

    // Still inside the window at the next attempt: refused again, still pending.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start + WAREHOUSE_RETRY_MS + 60_000);
    await t.queueWorker.drain();
    record = await erasure(id);
    expect(record.status).toBe('PENDING');
    expect(record.pendingSteps).toEqual(['warehouse']);
    expect(warehouseStep(record).square_payments!.refusals).toBe(2);

    // Past the window: the queue finishes the job.
    vi.setSystemTime(start + BUFFER_MS + WAREHOUSE_RETRY_MS);
    await t.queueWorker.drain();
    record = await erasure(id);
    expect(record).toMatchObject({ status: 'COMPLETED', pendingSteps: [], lastError: null });
    const tables = warehouseStep(record);
    for (const [table, count] of Object.entries(before)) expect({ table, ...tables[table] }).toMatchObject({ table, status: 'done', rows: count });

    // Rows describing the person are gone; those kept for accounting are there, unlinked.
    for (const entry of WAREHOUSE_CUSTOMER_TABLES) for (const cid of ids) expect(storedOf(entry.table, cid)).toEqual([]);
    const payment = fake.storedRows(DATASET, 'square_payments').filter((r) => r.json.id === alice.squarePaymentId);
    expect(payment.length).toBeGreaterThan(0);
    for (const row of payment) expect(row.json).toMatchObject({ profile_id: null, customer_id: null, card_last4: null, raw: null, amount: 4_500 });
    expect(await scanWarehouse(t.warehouse, [alice.email, alice.phone, alice.firstName, alice.lastName, alice.squareCustomerId, alice.customerId])).toEqual([]);

    // The other customer's rows are as they were.
    for (const entry of WAREHOUSE_CUSTOMER_TABLES) expect(storedOf(entry.table, bob.customerId)).toEqual(bobBefore[entry.table]);
  });

  it('refuses to clear a REQUIRED or key column, before sending anything', async () => {
    fake.requests.length = 0;
    await expect(t.warehouse.deidentifyRows('square_payments', { business_id: business.id }, ['amount'])).rejects.toThrow(/amount of square_payments cannot be cleared/);
    await expect(t.warehouse.deidentifyRows('square_payments', { business_id: business.id }, ['id'])).rejects.toThrow(/cannot be cleared/);
    await expect(t.warehouse.deidentifyRows('square_payments', {}, ['raw'])).rejects.toThrow(/at least one column/);
    expect(fake.requests).toEqual([]);
  });
});
