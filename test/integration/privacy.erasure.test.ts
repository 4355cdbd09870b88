// GDPR/CCPA erasure end to end, against real PostgreSQL, Redis, the in-process Firestore emulator,
// the PostgreSQL warehouse and a real storage directory. One customer is seeded in every store and
// table (with a duplicate merged into it), a second one likewise; the first is erased, the
// projector and the work queue drained; then EVERY text-like column of EVERY table of the test
// database (warehouse schema included), every Firestore document from the root, every warehouse
// table and Redis are searched for the person's email, phone and names: none remains. The second
// customer is untouched. Also: a shared customer (another business keeps its part), the record
// holds no PII, authorization, input that writes nothing, tenancy and a repeated request.
import { FirestoreServer } from '@firestore-emulator/server';
import { Redis } from 'ioredis';
import { parsePhoneNumberWithError } from 'libphonenumber-js';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { findFreePort } from '../../src/firestore/embedded-emulator.js';
import { connectToEmulator } from '../../src/firestore/firestore.client.js';
import { memoryProfileCacheKeys, readFirestoreDocs, readPgRows, readWarehouseRows } from '../../src/privacy/customer-data-map.js';
import { buildCustomer } from '../support/builders.js';
import { TEST_REDIS_URL } from '../support/env.js';
import { redisKeysNaming, scanFirestore, scannedColumns, scanPostgres, scanWarehouse } from '../support/pii-scan.js';
import { quarantineRecord, seedEverywhere, type SeededCustomer } from '../support/seed-everywhere.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let redis: Redis;
/** Our own in-process Firestore emulator, so the scan can enumerate its whole state. */
let emulator: FirestoreServer;
let business: { id: string; token: string };
let rival: { id: string; token: string };
let alice: SeededCustomer;
let bob: SeededCustomer;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  emulator = new FirestoreServer();
  const port = await findFreePort();
  await emulator.start(port);
  t = await createTestApp({ redis, firestore: connectToEmulator(`127.0.0.1:${port}`, 'demo-test', undefined, { onClose: () => emulator.stop() }) });
  business = await t.newBusiness('Erasure shop');
  rival = await t.newBusiness('Rival shop');
  alice = await seedEverywhere(t, business);
  bob = await seedEverywhere(t, business);
}, 180_000);

afterAll(async () => {
  for (const b of [business, rival].filter(Boolean)) {
    const keys = await redis.keys(`c360:memory:profile:${b.id}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
  await t?.close();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows as T[];
/** `body: null` sends no body at all. */
const erase = (customerId: string, token: string, body: object | null = { reason: 'Data subject request, ticket 4411' }) => {
  const req = request(t.app).delete(`/api/v1/customers/${customerId}?erase=true`).set(auth(token));
  return body === null ? req : req.send(body);
};

/** What identifies the person: emails, the phone as given, in E.164 and national digits, names, the Square customer id. */
function needlesOf(c: SeededCustomer): string[] {
  const parsed = parsePhoneNumberWithError(c.phone);
  return [...new Set([c.email, ...c.otherEmails, c.phone, parsed.number, String(parsed.nationalNumber), c.firstName, c.lastName, c.squareCustomerId])];
}

/** Everything of a customer the stores hold, to compare before and after. */
async function snapshot(c: SeededCustomer) {
  const pg = await readPgRows(t.database.handle.db, c.customerId, c.businessId);
  return {
    pg,
    firestore: await readFirestoreDocs(t.firestore.db, c.customerId),
    warehouse: await readWarehouseRows(t.warehouse, c.customerId, c.businessId),
    cache: await redis.exists(memoryProfileCacheKeys(c.businessId, c.customerId)[0]),
  };
}

async function customerUnchanged(customerId: string): Promise<{ version: number; erased: boolean }> {
  const [row] = await q<{ version: string; erased_at: Date | null }>('SELECT version, erased_at FROM customers WHERE id = $1', [customerId]);
  return { version: Number(row!.version), erased: row!.erased_at !== null };
}

describe('who may erase, and input that changes nothing', () => {
  it('refuses staff (403), a missing reason (400 naming body.reason), a reason that names the person (400), another business (404)', async () => {
    const before = await customerUnchanged(alice.customerId);

    const staff = await erase(alice.customerId, t.tokenFor(business.id, 'staff')).expect(403);
    expect(staff.body).toMatchObject({ success: false, code: 'FORBIDDEN' });
    await erase(alice.customerId, t.tokenFor(business.id, 'service')).expect(403);

    const missing = await erase(alice.customerId, business.token, null).expect(400);
    expect(missing.body.code).toBe('INVALID_INPUT');
    expect(missing.body.details).toEqual([expect.objectContaining({ field: 'body.reason' })]);
    const blank = await erase(alice.customerId, business.token, { reason: '   ' }).expect(400);
    expect(blank.body.details).toEqual([expect.objectContaining({ field: 'body.reason' })]);

    const personal = await erase(alice.customerId, business.token, { reason: `Asked by ${alice.email.toUpperCase()}` }).expect(400);
    expect(personal.body.details).toEqual([expect.objectContaining({ field: 'body.reason' })]);
    expect(JSON.stringify(personal.body).toLowerCase()).not.toContain(alice.email.toLowerCase());
    await erase(alice.customerId, business.token, { reason: `Call from ${alice.lastName}` }).expect(400);

    const wrongFlag = await request(t.app).delete(`/api/v1/customers/${alice.customerId}?erase=yes`).set(auth(business.token)).send({ reason: 'x' }).expect(400);
    expect(wrongFlag.body.details).toEqual([expect.objectContaining({ field: 'query.erase' })]);

    const foreign = await erase(alice.customerId, rival.token).expect(404);
    expect(foreign.body.code).toBe('NOT_FOUND');

    expect(await customerUnchanged(alice.customerId)).toEqual(before);
    expect(await q('SELECT 1 FROM customer_erasures')).toEqual([]);
  });
});

describe('erasure of a customer seeded in every store', () => {
  let erasureId: string;
  let bobBefore: Awaited<ReturnType<typeof snapshot>>;
  let exportKey: string;
  /** Rows of the person (the customer and the duplicate merged into it) per table, as the data map finds them before erasure. */
  const pgBefore = new Map<string, Set<string>>();
  const warehouseBefore = new Map<string, number>();

  beforeAll(async () => {
    bobBefore = await snapshot(bob);
    for (const id of [alice.customerId, alice.mergedAwayId!]) {
      for (const [table, rows] of Object.entries(await readPgRows(t.database.handle.db, id, business.id))) {
        const seen = pgBefore.get(table) ?? new Set<string>();
        rows.forEach((r) => seen.add(JSON.stringify(r)));
        pgBefore.set(table, seen);
      }
      for (const [table, rows] of Object.entries(await readWarehouseRows(t.warehouse, id, business.id))) {
        warehouseBefore.set(table, (warehouseBefore.get(table) ?? 0) + rows.length);
      }
    }
    const [exp] = await q<{ storage_key: string }>('SELECT storage_key FROM customer_data_exports WHERE id = $1', [alice.exportId]);
    exportKey = exp!.storage_key;
    expect(await t.fileStorage.get(exportKey)).toBeDefined();
  }, 60_000);

  it('answers 202 with the record, PostgreSQL done and the other stores pending, and a Location', async () => {
    const res = await erase(alice.customerId, business.token).expect(202);
    const record = res.body.data;
    erasureId = record.id;
    expect(res.headers.location).toBe(`/api/v1/erasures/${erasureId}`);
    expect(record).toMatchObject({ customerId: alice.customerId, scope: 'person', status: 'PENDING', requestedBy: 'test-admin', reason: 'Data subject request, ticket 4411' });
    expect(record.pendingSteps).toEqual(['files', 'cache', 'warehouse', 'firestore']);
    const postgres = record.steps.find((s: { name: string }) => s.name === 'postgres');
    expect(postgres.status).toBe('done');
    // Every table the data map erases, with exactly the rows it held for the person.
    const tables = postgres.detail.tables as Record<string, { action: string; rows: number }>;
    for (const [table, { rows }] of Object.entries(tables)) expect({ table, rows }).toEqual({ table, rows: pgBefore.get(table)?.size ?? 0 });
    expect(Object.keys(tables).sort()).toEqual([...pgBefore.keys()].filter((t) => !['customer_erasures', 'domain_events', 'sync_logs'].includes(t)).sort());
    expect(tables).toMatchObject({
      customers: { action: 'overwrite', rows: 2 },
      business_customers: { action: 'overwrite', rows: 2 },
      customer_transactions: { action: 'unlink' },
      customer_addresses: { action: 'delete' },
      customer_merges: { action: 'delete', rows: 1 },
      customer_data_exports: { action: 'delete', rows: 1 },
      // One naming the customer, one naming only the duplicate's old email (matched before any customers row is overwritten).
      ingest_quarantine: { action: 'delete', rows: 2 },
    });
    // The PostgreSQL part is already done: a tombstone with erased_at and deleted_at, no child rows.
    const [row] = await q<{ email: string; first_name: string; erased_at: Date; deleted_at: Date; date_of_birth: string | null; tags: string[] }>(
      'SELECT email, first_name, erased_at, deleted_at, date_of_birth, tags FROM customers WHERE id = $1',
      [alice.customerId],
    );
    expect(row!.erased_at).not.toBeNull();
    expect(row!.deleted_at).not.toBeNull();
    expect(row!.email).toMatch(/^erased-[0-9a-f]{24}$/);
    expect(row!.first_name).toMatch(/^erased-[0-9a-f]{24}$/);
    expect(row!.first_name).not.toBe(row!.email); // tokens are random per column, not derived from anything
    expect(row!.date_of_birth).toBeNull();
    expect(row!.tags).toEqual([]);
  });

  it('reports the erasure through the customer API as gone, and once as an event without PII', async () => {
    await request(t.app).get(`/api/v1/customers/${alice.customerId}`).set(auth(business.token)).expect(404);
    const events = await q<{ business_id: string; customer_id: string; payload: Record<string, unknown> }>(
      "SELECT business_id::text, customer_id::text, payload FROM domain_events WHERE customer_id = ANY($1) AND event_type = 'customers.customer.erased' ORDER BY id",
      [[alice.customerId, alice.mergedAwayId]],
    );
    // One per profile (the customer and its merged-away duplicate), one shape: ids and field names.
    expect(events.map((e) => e.customer_id).sort()).toEqual([alice.customerId, alice.mergedAwayId].sort());
    for (const e of events) {
      expect(e.business_id).toBe(business.id);
      expect(e.payload).toEqual({ erasureId, scope: 'person', changedFields: ['erasedAt', 'deletedAt'] });
    }
    const text = JSON.stringify(events).toLowerCase();
    for (const needle of needlesOf(alice)) expect(text).not.toContain(needle.toLowerCase());
  });

  it('completes once the projector has purged Firestore and the queue has run every step', async () => {
    // Before the projector ran, the job finds the documents and waits (nothing is written to Firestore by it).
    await t.queueWorker.drain();
    let res = await request(t.app).get(`/api/v1/erasures/${erasureId}`).set(auth(business.token)).expect(200);
    expect(res.body.data.status).toBe('PENDING');
    expect(res.body.data.pendingSteps).toEqual(['firestore']);
    expect(res.body.data.steps.find((s: { name: string }) => s.name === 'firestore').detail.documentsLeft).toBeGreaterThan(0);

    await t.projector.drain();
    // The recheck is due after FIRESTORE_RECHECK_MS; make it due now.
    await q("UPDATE customer_erasures SET next_attempt_at = now() - interval '1 second' WHERE id = $1", [erasureId]);
    await t.queueWorker.drain();
    res = await request(t.app).get(`/api/v1/erasures/${erasureId}`).set(auth(business.token)).expect(200);
    expect(res.body.data).toMatchObject({ status: 'COMPLETED', pendingSteps: [], lastError: null });
    expect(res.body.data.completedAt).not.toBeNull();
    const warehouse = res.body.data.steps.find((s: { name: string }) => s.name === 'warehouse').detail.tables as Record<string, { status: string; rows: number }>;
    expect(Object.keys(warehouse).sort()).toEqual([...warehouseBefore.keys()].sort());
    for (const [table, step] of Object.entries(warehouse)) expect({ table, ...step }).toMatchObject({ table, status: 'done', rows: warehouseBefore.get(table) });
    expect(warehouse).toMatchObject({ square_customers: { action: 'delete' }, square_payments: { action: 'deidentify' }, purchases: { action: 'deidentify' }, interactions: { action: 'delete' } });
    expect(Object.values(warehouse).every((s) => s.rows > 0)).toBe(true);
  });

  it('leaves the email, phone and names nowhere in PostgreSQL: every text-like column of every table, warehouse schema included', async () => {
    const covered = await scannedColumns(t.database.pool);
    expect(covered.schemas).toEqual(expect.arrayContaining(['public', 'warehouse']));
    expect(covered.tables).toBeGreaterThan(40);
    // The scan finds the other customer, so it would find this one.
    expect((await scanPostgres(t.database.pool, [bob.email, bob.lastName])).length).toBeGreaterThan(5);
    expect(await scanPostgres(t.database.pool, needlesOf(alice))).toEqual([]);
  });

  it('leaves nothing in Firestore: no document under the ids, none holding the values', async () => {
    const ids = [alice.customerId, alice.mergedAwayId!];
    const scan = await scanFirestore(t.firestore.db, emulator.state, needlesOf(alice), ids);
    expect(scan.paths).toContain(`customers/${bob.customerId}/private/pii`);
    expect(scan.named).toEqual([]);
    expect(scan.hits).toEqual([]);
  });

  it('leaves nothing in the warehouse; rows kept for accounting are there, unlinked', async () => {
    expect(await scanWarehouse(t.warehouse, [...needlesOf(alice), alice.customerId])).toEqual([]);
    const payments = [];
    for await (const row of t.warehouse.read('square_payments', { business_id: business.id, id: alice.squarePaymentId })) payments.push(row);
    expect(payments).toEqual([expect.objectContaining({ amount: 4_500, status: 'COMPLETED', profile_id: null, customer_id: null, card_last4: null, raw: null })]);
    const purchases = [];
    for await (const row of t.warehouse.read('purchases', { business_id: business.id, transaction_id: alice.squarePaymentId })) purchases.push(row);
    expect(purchases).toEqual([expect.objectContaining({ amount: 45, customer_id: null, source_customer_id: null })]);
  });

  it('keeps the transactions for accounting, unlinked from the person', async () => {
    const rows = await q<{ customer_id: string | null; source_customer_id: string | null; amount: string }>(
      'SELECT customer_id, source_customer_id, amount FROM customer_transactions WHERE business_id = $1 AND transaction_id = ANY($2) ORDER BY transaction_id',
      [business.id, [alice.squarePaymentId, alice.orderId, `${alice.lightspeedAccountId}:${alice.lightspeedSaleId}`]],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatchObject({ customer_id: null, source_customer_id: null });
  });

  it('clears Redis and deletes the export archive', async () => {
    expect(await redisKeysNaming(redis, [alice.customerId, alice.mergedAwayId!])).toEqual([]);
    expect(await t.fileStorage.get(exportKey)).toBeUndefined();
    // The memory API no longer knows the customer (no cached profile is served).
    await request(t.app).get(`/api/memory/profile/${alice.customerId}`).set(auth(business.token)).expect(404);
  });

  it('keeps an erasure record without PII: who, why, when, what each store did', async () => {
    const [record] = await q<{ row: Record<string, unknown> }>('SELECT to_jsonb(e) AS row FROM customer_erasures e WHERE id = $1', [erasureId]);
    const text = JSON.stringify(record!.row).toLowerCase();
    for (const needle of needlesOf(alice)) expect(text).not.toContain(needle.toLowerCase());
    expect(record!.row).toMatchObject({ customer_id: alice.customerId, requested_by: 'test-admin', status: 'COMPLETED' });
    const list = await request(t.app).get('/api/v1/erasures').set(auth(business.token)).expect(200);
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([erasureId]);
    await request(t.app).get('/api/v1/erasures').set(auth(rival.token)).expect(200).expect((r) => expect(r.body.data).toEqual([]));
    await request(t.app).get(`/api/v1/erasures/${erasureId}`).set(auth(rival.token)).expect(404);
    await request(t.app).get(`/api/v1/erasures/${erasureId}`).set(auth(t.tokenFor(business.id, 'staff'))).expect(403);
  });

  it('leaves the other customer untouched: record, Firestore documents, warehouse rows, cache', async () => {
    expect(await snapshot(bob)).toEqual(bobBefore);
    expect(bobBefore.firestore.length).toBeGreaterThan(3);
    expect(Object.values(bobBefore.warehouse).flat().length).toBeGreaterThan(5);
  });

  it('answers 409 naming the erasure when the customer is erased again', async () => {
    const again = await erase(alice.customerId, business.token).expect(409);
    expect(again.body).toMatchObject({ code: 'CONFLICT', details: { erasureId } });
    expect(await q('SELECT 1 FROM customer_erasures WHERE customer_id = $1', [alice.customerId])).toHaveLength(1);
  });

  it('keeps the plain soft delete when erase is not asked for', async () => {
    const id = (await t.customers.create(business.id, buildCustomer())).customer.id;
    await request(t.app).delete(`/api/v1/customers/${id}`).set(auth(business.token)).expect(200);
    const [row] = await q<{ email: string; erased_at: Date | null; deleted_at: Date | null }>('SELECT email, erased_at, deleted_at FROM customers WHERE id = $1', [id]);
    expect(row).toMatchObject({ erased_at: null });
    expect(row!.deleted_at).not.toBeNull();
    expect(row!.email).toContain('@');
    // A soft-deleted customer can still be erased.
    await erase(id, business.token, null).query({ reason: 'Retention period over' }).expect(202);
  });
});

describe('duplicates merged into the customer', () => {
  it('erases a chain of merged-away duplicates (A into B, B into C) with the survivor', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(async () => (await t.customers.create(business.id, buildCustomer())).customer));
    await q('UPDATE customers SET merged_into_id = $1, deleted_at = now() WHERE id = $2', [c!.id, b!.id]);
    await q('UPDATE customers SET merged_into_id = $1, deleted_at = now() WHERE id = $2', [b!.id, a!.id]);

    const res = await erase(c!.id, business.token).expect(202);
    expect(res.body.data.steps.find((s: { name: string }) => s.name === 'postgres').detail.tables.customers.rows).toBe(3);
    const rows = await q<{ id: string; email: string; erased_at: Date | null }>('SELECT id, email, erased_at FROM customers WHERE id = ANY($1)', [[a!.id, b!.id, c!.id]]);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.erased_at).not.toBeNull();
      expect([a!.email, b!.email, c!.email]).not.toContain(row.email);
    }
  });
});

describe('a customer shared with another business', () => {
  it("erases this business's part and leaves the person, and the other business's data, to the other business", async () => {
    const shared = await seedEverywhere(t, business, { merge: false, exportRequest: false });
    await q('INSERT INTO business_customers (business_id, customer_id, email_lowercase) VALUES ($1, $2, $3)', [rival.id, shared.customerId, shared.email.toLowerCase()]);
    await q("INSERT INTO customer_communication_preferences (customer_id, business_id, timezone) VALUES ($1, $2, 'Asia/Tokyo')", [shared.customerId, rival.id]);
    await t.warehouse.upsert('purchases', [
      { business_id: rival.id, source: 'memory', transaction_id: `rival-${shared.orderId}`, customer_id: shared.customerId, purchased_at: new Date(), status: 'completed', amount: 10, refunded_amount: 0, currency: 'USD', item_count: 1, updated_at: new Date(), ingested_at: new Date() },
    ]);
    await t.projector.drain();

    const res = await erase(shared.customerId, business.token).expect(202);
    expect(res.body.data.scope).toBe('business');
    await t.projector.drain();
    await t.queueWorker.drain();
    const done = await request(t.app).get(`/api/v1/erasures/${res.body.data.id}`).set(auth(business.token)).expect(200);
    expect(done.body.data).toMatchObject({ status: 'COMPLETED', pendingSteps: [] });

    // This business: no link, no data, 404 for the customer, 409 when asked again.
    await request(t.app).get(`/api/v1/customers/${shared.customerId}`).set(auth(business.token)).expect(404);
    expect(await q('SELECT 1 FROM business_customers WHERE business_id = $1 AND customer_id = $2', [business.id, shared.customerId])).toEqual([]);
    expect(Object.values(await readWarehouseRows(t.warehouse, shared.customerId, business.id)).flat()).toEqual([]);
    expect(await redisKeysNaming(redis, [`${business.id}:${shared.customerId}`])).toEqual([]);
    await erase(shared.customerId, business.token).expect(409);
    const events = await q<{ business_id: string; payload: Record<string, unknown> }>(
      "SELECT business_id::text, payload FROM domain_events WHERE customer_id = $1 AND event_type = 'customers.customer.erased'",
      [shared.customerId],
    );
    // The same shape as a person erasure's event.
    expect(events).toEqual([{ business_id: business.id, payload: { erasureId: res.body.data.id, scope: 'business', changedFields: expect.any(Array) } }]);

    // The other business: the person, its preferences, its warehouse rows and the Firestore document (without this business) stay.
    const profile = await request(t.app).get(`/api/v1/customers/${shared.customerId}`).set(auth(rival.token)).expect(200);
    expect(profile.body.data.email).toBe(shared.email);
    expect(await q('SELECT 1 FROM customer_communication_preferences WHERE business_id = $1 AND customer_id = $2', [rival.id, shared.customerId])).toHaveLength(1);
    expect(Object.values(await readWarehouseRows(t.warehouse, shared.customerId, rival.id)).flat()).toHaveLength(1);
    const [main] = (await readFirestoreDocs(t.firestore.db, shared.customerId)).filter((d) => d.path === `customers/${shared.customerId}`);
    expect(main!.data.businessIds).toEqual([rival.id]);
  });
});

describe('a shared customer with a duplicate of this business alone merged into it (through the merge API)', () => {
  it('erases the duplicate as a person although the customer is erased for this business only', async () => {
    const tag = randomUUID().slice(0, 8);
    const xEmail = `shared.${tag}@example.com`;
    const yEmail = `dup.${tag}@example.org`;
    const yLast = `Dupington${tag}`;
    const created = await request(t.app).post('/api/v1/customers').set(auth(business.token)).send(buildCustomer({ email: xEmail })).expect(201);
    const x = created.body.data.id as string;
    await q('INSERT INTO business_customers (business_id, customer_id, email_lowercase) VALUES ($1, $2, $3)', [rival.id, x, xEmail]);
    const dup = await request(t.app)
      .post('/api/v1/customers')
      .set(auth(business.token))
      .send(buildCustomer({ email: yEmail, firstName: 'Dorothea', lastName: yLast, phone: undefined, sources: [], addresses: [], ipAddresses: [], activities: [] }))
      .expect(201);
    const y = dup.body.data.id as string;
    const at = new Date();
    await t.warehouse.upsert('square_customers', [
      { business_id: business.id, id: `SQY${tag}`, given_name: 'Dorothea', family_name: yLast, email_address: yEmail, created_at: at, updated_at: at, version: 1, profile_id: y, raw: { email_address: yEmail }, ingested_at: at },
    ]);
    const quarantined = await quarantineRecord(t, business.id, `SQQ${tag}`, { email_address: yEmail, created_at: 'soon' });
    // Allowed: the merged-away customer belongs to this business alone (only the survivor is shared).
    await request(t.app)
      .post(`/api/v1/customers/${x}/merge`)
      .set(auth(business.token))
      .send({ sourceId: y, sourceRanking: ['square', 'lightspeed', 'import', 'manual'] })
      .expect(201);
    await t.projector.drain();

    const res = await erase(x, business.token).expect(202);
    expect(res.body.data.scope).toBe('business');
    const tables = res.body.data.steps.find((s: { name: string }) => s.name === 'postgres').detail.tables;
    expect(tables).toMatchObject({ customers: { action: 'overwrite', rows: 1 }, customer_merges: { rows: 1 }, ingest_quarantine: { rows: 1 } });
    await t.projector.drain();
    await t.queueWorker.drain();
    const done = await request(t.app).get(`/api/v1/erasures/${res.body.data.id}`).set(auth(business.token)).expect(200);
    expect(done.body.data).toMatchObject({ status: 'COMPLETED', pendingSteps: [] });

    // The duplicate: a tombstone, its warehouse rows, quarantined record and documents gone; its values nowhere.
    const [row] = await q<{ email: string; erased_at: Date | null }>('SELECT email, erased_at FROM customers WHERE id = $1', [y]);
    expect(row!.erased_at).not.toBeNull();
    expect(row!.email).toMatch(/^erased-/);
    expect(await q('SELECT 1 FROM ingest_quarantine WHERE id = $1', [quarantined])).toEqual([]);
    expect(await scanPostgres(t.database.pool, [yEmail, yLast])).toEqual([]);
    expect(await scanWarehouse(t.warehouse, [yEmail, yLast, y])).toEqual([]);
    expect(await readFirestoreDocs(t.firestore.db, y)).toEqual([]);
    const events = await q<{ payload: Record<string, unknown> }>("SELECT payload FROM domain_events WHERE customer_id = $1 AND event_type = 'customers.customer.erased'", [y]);
    expect(events).toEqual([{ payload: { erasureId: res.body.data.id, scope: 'person', changedFields: ['erasedAt', 'deletedAt'] } }]);
    // The shared customer stays for the other business.
    const profile = await request(t.app).get(`/api/v1/customers/${x}`).set(auth(rival.token)).expect(200);
    expect(profile.body.data.email).toBe(xEmail);
  });
});

describe('quarantined records are matched by whole values', () => {
  it('deletes the records naming the customer’s email or phone and keeps those of someone whose email or phone merely contains them', async () => {
    const tag = randomUUID().slice(0, 8);
    const an = (await t.customers.create(business.id, { email: `an.${tag}@shop.example.com`, phone: '+14155550123', firstName: 'An' })).customer;
    const exact = await quarantineRecord(t, business.id, `SQ-A-${tag}`, { email_address: `AN.${tag}@shop.example.com` });
    const byPhone = await quarantineRecord(t, business.id, `SQ-P-${tag}`, { phone_number: '(415) 555-0123' });
    const nearEmail = await quarantineRecord(t, business.id, `SQ-J-${tag}`, { email_address: `jan.${tag}@shop.example.com`, given_name: 'Jan' });
    const nearPhone = await quarantineRecord(t, business.id, `SQ-Q-${tag}`, { phone_number: '+141555501234', email_address: `an.${tag}@shop.example.com.au` });
    const res = await erase(an.id, business.token).expect(202);
    expect(res.body.data.steps.find((s: { name: string }) => s.name === 'postgres').detail.tables.ingest_quarantine.rows).toBe(2);
    const left = await q<{ id: string }>('SELECT id::text FROM ingest_quarantine WHERE id = ANY($1)', [[exact, byPhone, nearEmail, nearPhone]]);
    expect(left.map((r) => r.id).sort()).toEqual([nearEmail, nearPhone].sort());
  });
});

describe('an erasure never gives up', () => {
  const view = async (id: string, token: string) => (await request(t.app).get(`/api/v1/erasures/${id}`).set(auth(token)).expect(200)).body.data as Record<string, unknown> & { pendingSteps: string[]; steps: { name: string; detail: Record<string, unknown> }[] };

  it('keeps retrying at the capped backoff past any attempt limit, showing the failures and the last error, then completes', async () => {
    // Signed before the clock moves (it would expire otherwise).
    const token = t.tokens.sign({ subject: 'test-admin', role: 'admin', businessId: business.id }, '90d');
    const c = (await t.customers.create(business.id, buildCustomer())).customer;
    const fault = vi.spyOn(t.warehouse, 'deleteRows').mockRejectedValue(new Error('warehouse unreachable (test)'));
    const res = await erase(c.id, token).expect(202);
    await t.projector.drain();
    let now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    const failures = 15;
    for (let i = 0; i < failures; i++) {
      await t.queueWorker.drain();
      // Past the capped backoff (an hour, +25 % jitter).
      now += 2 * 3_600_000;
      vi.setSystemTime(now);
    }
    const stuck = await view(res.body.data.id, token);
    expect(stuck).toMatchObject({ status: 'PENDING', failures, lastFailure: { error: 'warehouse unreachable (test)' } });
    expect(stuck.pendingSteps).toEqual(['warehouse', 'firestore']);
    expect(stuck.nextAttemptAt).not.toBeNull();

    fault.mockRestore();
    await t.queueWorker.drain();
    const done = await view(res.body.data.id, token);
    expect(done).toMatchObject({ status: 'COMPLETED', pendingSteps: [], failures });
  });

  it('asks the projector again when it had given up on the customer (outbox row dead), and says so', async () => {
    const c = (await t.customers.create(business.id, buildCustomer())).customer;
    await t.projector.drain();
    expect((await readFirestoreDocs(t.firestore.db, c.id)).length).toBeGreaterThan(0);
    const res = await erase(c.id, business.token).expect(202);
    // The projector gave up on the erasure's outbox row, as after its last attempt.
    await q("UPDATE sync_logs SET firestore_status = 'dead', retry_count = 10, error_message = 'firestore unavailable (test)' WHERE entity_id = $1 AND firestore_status IN ('pending', 'failed')", [c.id]);
    await t.projector.drain();
    expect((await readFirestoreDocs(t.firestore.db, c.id)).length).toBeGreaterThan(0);

    await t.queueWorker.drain();
    const waiting = await view(res.body.data.id, business.token);
    expect(waiting.pendingSteps).toEqual(['firestore']);
    expect(waiting.steps.find((s: { name: string }) => s.name === 'firestore')?.detail).toMatchObject({ requeuedDeadProjections: 1 });
    const [latest] = await q<{ operation: string; firestore_status: string }>(
      'SELECT operation, firestore_status FROM sync_logs WHERE entity_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1',
      [c.id],
    );
    expect(latest).toEqual({ operation: 'repair', firestore_status: 'pending' });

    await t.projector.drain();
    expect(await readFirestoreDocs(t.firestore.db, c.id)).toEqual([]);
    await q("UPDATE customer_erasures SET next_attempt_at = now() - interval '1 second' WHERE id = $1", [res.body.data.id]);
    await t.queueWorker.drain();
    expect(await view(res.body.data.id, business.token)).toMatchObject({ status: 'COMPLETED', pendingSteps: [] });
  });
});
