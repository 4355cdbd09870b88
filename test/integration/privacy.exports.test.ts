// GDPR/CCPA data exports end to end, against real PostgreSQL, Redis, the in-process Firestore
// emulator, the PostgreSQL warehouse and a real storage directory: one customer seeded in every
// store and table of the customer data map, a second unrelated one; every record of the first
// appears in the archive (compared with what the stores hold, not with fixtures) and nothing of
// the second does. Also: the basic and analytics types, retries after a real storage fault,
// FAILED after the last attempt, expiry after 30 days, tenancy, permissions and events.
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { unzipSync, strFromU8 } from 'fflate';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  FIRESTORE_CUSTOMER_PATHS,
  PG_CUSTOMER_TABLES,
  WAREHOUSE_CUSTOMER_TABLES,
  memoryProfileCacheKeys,
  readFirestoreDocs,
  readPgRows,
  readWarehouseRows,
} from '../../src/privacy/customer-data-map.js';
import { EXPORT_QUEUE_SPEC } from '../../src/privacy/exports/export-job.js';
import { WAREHOUSE_TABLES } from '../../src/warehouse/warehouse-tables.js';
import { TEST_REDIS_URL } from '../support/env.js';
import { NOT_SEEDED, quarantineRecord, seedEverywhere, type SeededCustomer } from '../support/seed-everywhere.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
let t: TestApp;
let redis: Redis;
let business: { id: string; token: string };
let other: { id: string; token: string };
let alice: SeededCustomer;
let bob: SeededCustomer;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  t = await createTestApp({ redis });
  business = await t.newBusiness('Export shop');
  other = await t.newBusiness('Other shop');
  alice = await seedEverywhere(t, business);
  bob = await seedEverywhere(t, business);
}, 120_000);

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  for (const b of [business, other].filter(Boolean)) {
    const keys = await redis.keys(`c360:memory:profile:${b.id}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
  await t?.close();
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows as T[];

describe('the customer data map and the seed', () => {
  it('lists every PostgreSQL table that has a column naming a customer', async () => {
    const rows = await q<{ table_name: string }>(
      `SELECT DISTINCT table_name FROM information_schema.columns
       WHERE table_schema = current_schema() AND column_name IN ('customer_id', 'survivor_id', 'merged_id', 'entity_id')`,
    );
    const mapped = new Set(PG_CUSTOMER_TABLES.map((e) => e.table));
    // customer_import_rejections and bulk_operations name no customer column; imports hold files, not rows of one.
    expect(rows.map((r) => r.table_name).filter((n) => !mapped.has(n))).toEqual([]);
    for (const table of mapped) expect((await q(`SELECT to_regclass($1) AS t`, [table]))[0]!.t, table).not.toBeNull();
  });

  it('seeds the customer in every table, warehouse table, Firestore path and the profile cache', async () => {
    const pg = await readPgRows(t.database.handle.db, alice.customerId, business.id);
    for (const entry of PG_CUSTOMER_TABLES) {
      if (entry.table in NOT_SEEDED) continue;
      expect(pg[entry.table]!.length, entry.table).toBeGreaterThan(0);
    }
    const wh = await readWarehouseRows(t.warehouse, alice.customerId, business.id);
    for (const entry of WAREHOUSE_CUSTOMER_TABLES) expect(wh[entry.table]!.length, entry.table).toBeGreaterThan(0);
    const docs = await readFirestoreDocs(t.firestore.db, alice.customerId);
    for (const p of FIRESTORE_CUSTOMER_PATHS) {
      const pattern = new RegExp(`^${p.path.replace('{id}', alice.customerId).replace('{docId}', '[^/]+')}$`);
      expect(docs.some((d) => pattern.test(d.path)), p.path).toBe(true);
    }
    expect(await redis.exists(memoryProfileCacheKeys(business.id, alice.customerId)[0])).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
interface Unzipped {
  files: Record<string, string>;
  json: Json;
  bytes: Buffer;
}

/** supertest's parser for a binary body (its type says Response; at run time it is the response stream). */
const binary = ((res: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}) as unknown as Parameters<request.Test['parse']>[0];

async function requestExport(customerId: string, type: string, token = business.token) {
  const res = await request(t.app).post(`/api/v1/customers/${customerId}/export`).set(auth(token)).send({ type, reason: 'Customer asked by email' }).expect(202);
  return res.body.data as { id: string; status: string; type: string; downloadUrl: string | null; expiresAt: string; createdAt: string };
}

const exportOf = async (id: string, token = business.token) => (await request(t.app).get(`/api/v1/exports/${id}`).set(auth(token)).expect(200)).body.data as Json;

async function download(id: string, token = business.token): Promise<Unzipped> {
  const res = await request(t.app).get(`/api/v1/exports/${id}/download`).set(auth(token)).buffer(true).parse(binary).expect(200);
  expect(res.headers['content-type']).toBe('application/zip');
  const bytes = res.body as Buffer;
  const files = Object.fromEntries(Object.entries(unzipSync(new Uint8Array(bytes))).map(([name, data]) => [name, strFromU8(data)]));
  return { files, json: JSON.parse(files['export.json']!) as Json, bytes };
}

const keyOf = (row: Json, columns: string[]) => columns.map((c) => String(row[c])).join('|');
const csvRows = (text: string) => parse<Record<string, string>>(text, { columns: true, skip_empty_lines: true });

/** Values of a seeded customer that must appear nowhere in another customer's export. */
const traces = (c: SeededCustomer) => [c.customerId, ...(c.mergedAwayId ? [c.mergedAwayId] : []), c.segmentId, c.squarePaymentId, c.squareRefundId, c.lightspeedAccountId, c.orderId, ...c.identifying];

describe('GDPR_FULL export', () => {
  let exportId: string;
  let archive: Unzipped;
  // What the stores hold before the request: all of it must be in the archive.
  let pgBefore: Awaited<ReturnType<typeof readPgRows>>;
  let whBefore: Awaited<ReturnType<typeof readWarehouseRows>>;
  let docsBefore: Awaited<ReturnType<typeof readFirestoreDocs>>;

  beforeAll(async () => {
    pgBefore = await readPgRows(t.database.handle.db, alice.customerId, business.id);
    whBefore = await readWarehouseRows(t.warehouse, alice.customerId, business.id);
    docsBefore = await readFirestoreDocs(t.firestore.db, alice.customerId);
  });

  it('answers 202 with a PENDING export that expires 30 days after the request, then the worker completes it', async () => {
    const created = await requestExport(alice.customerId, 'GDPR_FULL');
    exportId = created.id;
    expect(created).toMatchObject({ status: 'PENDING', type: 'GDPR_FULL', downloadUrl: null });
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(30 * DAY);
    await request(t.app).get(`/api/v1/exports/${exportId}/download`).set(auth(business.token)).expect(409);

    await t.queueWorker.drain();
    const done = await exportOf(exportId);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 1, lastError: null, downloadUrl: `/api/v1/exports/${exportId}/download` });
    archive = await download(exportId);
    expect(done.sizeBytes).toBe(archive.bytes.length);
    expect(done.checksum).toBe(createHash('sha256').update(archive.bytes).digest('hex'));
  });

  it('holds every row of the customer in every PostgreSQL table of the data map, with a CSV per table', () => {
    const postgres = archive.json.postgres as Record<string, Json[]>;
    expect(Object.keys(postgres).sort()).toEqual(PG_CUSTOMER_TABLES.map((e) => e.table).sort());
    for (const entry of PG_CUSTOMER_TABLES) {
      const exported = new Set(postgres[entry.table]!.map((r) => keyOf(r, entry.key)));
      const held = pgBefore[entry.table]!.map((r) => keyOf(r, entry.key));
      expect(held.filter((k) => !exported.has(k)), entry.table).toEqual([]);
      const csv = archive.files[`csv/${entry.table}.csv`];
      expect(csv, entry.table).toBeDefined();
      const rows = csvRows(csv!);
      expect(rows.length, entry.table).toBe(postgres[entry.table]!.length);
      expect(rows.map((r) => keyOf(r, entry.key)).sort(), entry.table).toEqual([...exported].sort());
    }
    // The request itself is in it (PROCESSING when the archive was made).
    expect(postgres.customer_data_exports!.map((r) => r.id)).toContain(exportId);
    // Values, not only keys: the profile's contact data as stored.
    expect(postgres.customers!.find((r) => r.id === alice.customerId)).toMatchObject({ email: alice.email, phone: alice.phone, first_name: alice.firstName, last_name: alice.lastName });
  });

  it('holds every Firestore document of the customer and every warehouse row linked to them', () => {
    const firestore = archive.json.firestore as { path: string; data: Json }[];
    expect(firestore.map((d) => d.path).sort()).toEqual(docsBefore.map((d) => d.path).sort());
    expect(firestore.length).toBeGreaterThanOrEqual(5);
    expect(csvRows(archive.files['csv/firestore.csv']!).length).toBe(firestore.length);
    const pii = firestore.find((d) => d.path.endsWith('/private/pii'))!;
    expect(pii.data).toMatchObject({ email: alice.email, firstName: alice.firstName });

    const warehouse = archive.json.warehouse as Record<string, Json[]>;
    for (const entry of WAREHOUSE_CUSTOMER_TABLES) {
      const key = [...WAREHOUSE_TABLES[entry.table].key];
      const exported = new Set(warehouse[entry.table]!.map((r) => keyOf(r, key)));
      const held = whBefore[entry.table]!.map((r) => keyOf(r as Json, key));
      expect(held.length, entry.table).toBeGreaterThan(0);
      expect(held.filter((k) => !exported.has(k)), entry.table).toEqual([]);
      expect(csvRows(archive.files[`csv/warehouse/${entry.table}.csv`]!).length, entry.table).toBe(warehouse[entry.table]!.length);
    }
  });

  it('explains purposes, categories, sources, recipients, retention and the logic of the predictions', () => {
    const art15 = archive.json.art15 as { purposes: string[]; categories: Json[]; automatedDecisions: { logic: string[] } };
    expect(art15.purposes.length).toBeGreaterThan(0);
    expect(art15.automatedDecisions.logic.join(' ')).toMatch(/BG\/NBD/);
    expect(art15.automatedDecisions.logic.join(' ')).toMatch(/Gamma-Gamma/);
    const named = art15.categories.map((c) => `${String(c.store)}:${String(c.name)}`);
    for (const e of PG_CUSTOMER_TABLES) expect(named).toContain(`postgresql:${e.table}`);
    for (const e of WAREHOUSE_CUSTOMER_TABLES) expect(named).toContain(`warehouse:${e.table}`);
    for (const c of art15.categories) for (const field of ['category', 'purpose', 'source', 'recipients', 'retention']) expect(String(c[field]).length, `${String(c.name)}.${field}`).toBeGreaterThan(10);
  });

  it('holds nothing of another customer', () => {
    const text = Object.values(archive.files).join('\n');
    for (const value of traces(bob)) expect(text.includes(value), value).toBe(false);
    for (const value of alice.identifying) expect(text.includes(value), value).toBe(true);
  });

  it('records requested and completed events without personal data', async () => {
    const events = await q<{ event_type: string; payload: Json }>(
      `SELECT event_type, payload FROM domain_events WHERE business_id = $1 AND payload->>'exportId' = $2 ORDER BY id`,
      [business.id, exportId],
    );
    expect(events.map((e) => e.event_type)).toEqual(['customers.data_export.requested', 'customers.data_export.completed']);
    const text = JSON.stringify(events);
    for (const value of alice.identifying) expect(text.includes(value), value).toBe(false);
  });

  it('lists the customer’s exports, newest first, and no one else’s', async () => {
    const res = await request(t.app).get(`/api/v1/customers/${alice.customerId}/exports`).set(auth(business.token)).expect(200);
    const ids = (res.body.data as { id: string; customerId: string }[]).map((e) => e.id);
    expect(ids[0]).toBe(exportId);
    expect(ids).toContain(alice.exportId);
    expect(ids).not.toContain(bob.exportId);
  });
});

type Profile = { customerId: string; mergedIntoId?: string | null; postgres: Record<string, Json[]>; warehouse: Record<string, Json[]> };

describe('the person’s merged-away duplicate (merged through the merge API)', () => {
  let archive: Unzipped;
  /** Rows naming the customer or its duplicate, selected straight from the database (not through the data map). */
  const held = new Map<string, string[]>();
  const heldWarehouse = new Map<string, string[]>();

  beforeAll(async () => {
    const ids = [alice.customerId, alice.mergedAwayId!];
    const columns = await q<{ table_name: string; column_name: string; has_business: boolean }>(
      `SELECT c.table_name, c.column_name,
              EXISTS (SELECT 1 FROM information_schema.columns b WHERE b.table_schema = c.table_schema AND b.table_name = c.table_name AND b.column_name = 'business_id') AS has_business
       FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.column_name IN ('customer_id', 'survivor_id', 'merged_id', 'entity_id')`,
    );
    expect(columns.length).toBeGreaterThan(15);
    for (const c of columns) {
      const rows = await q<{ row: Json }>(
        `SELECT to_jsonb(t) AS row FROM "${c.table_name}" t WHERE t."${c.column_name}"::text = ANY($1::text[]) ${c.has_business ? 'AND t.business_id = $2' : 'AND $2::uuid IS NOT NULL'}`,
        [ids, business.id],
      );
      held.set(c.table_name, [...(held.get(c.table_name) ?? []), ...rows.map((r) => JSON.stringify(r.row))]);
    }
    // The customers rows themselves (their id column is `id`).
    held.set('customers', (await q<{ row: Json }>(`SELECT to_jsonb(t) AS row FROM customers t WHERE t.id = ANY($1::uuid[])`, [ids])).map((r) => JSON.stringify(r.row)));
    // Warehouse rows linked to either profile, from the warehouse schema directly.
    for (const entry of WAREHOUSE_CUSTOMER_TABLES) {
      const rows = await q<Json>(`SELECT * FROM warehouse."${entry.table}" WHERE business_id = $1 AND "${entry.linkColumn}"::text = ANY($2::text[])`, [business.id, ids]);
      heldWarehouse.set(entry.table, rows.map((r) => keyOf(r, [...WAREHOUSE_TABLES[entry.table].key])));
    }
    const { id } = await requestExport(alice.customerId, 'GDPR_FULL');
    await t.queueWorker.drain();
    archive = await download(id);
  });

  it('exports every row that names the customer or the duplicate, in every table with a customer column', () => {
    const profiles = [archive.json as unknown as Profile, ...((archive.json.mergedAwayProfiles as Profile[] | undefined) ?? [])];
    const exported = new Set(profiles.flatMap((p) => Object.values(p.postgres).flat().map((r) => JSON.stringify(r))));
    const missing = [...held].flatMap(([table, rows]) => rows.filter((r) => !exported.has(r)).map((r) => `${table}: ${r.slice(0, 120)}`));
    expect(missing).toEqual([]);
    // Rows of the duplicate that a merge leaves with it: its profile, link, metrics, outbox rows, events.
    for (const table of ['customers', 'business_customers', 'customer_metrics', 'sync_logs', 'domain_events']) {
      expect(held.get(table)!.filter((r) => r.includes(alice.mergedAwayId!)).length, table).toBeGreaterThan(0);
    }
    const warehouse = new Set(profiles.flatMap((p) => Object.entries(p.warehouse).flatMap(([table, rows]) => rows.map((r) => `${table}:${keyOf(r, [...WAREHOUSE_TABLES[table as keyof typeof WAREHOUSE_TABLES].key])}`))));
    const missingWarehouse = [...heldWarehouse].flatMap(([table, keys]) => keys.filter((k) => !warehouse.has(`${table}:${k}`)).map((k) => `${table}:${k}`));
    expect(missingWarehouse).toEqual([]);
  });

  it('labels the duplicate’s rows as a merged-away profile, in JSON and in its own CSV folder', () => {
    const [dup, ...more] = archive.json.mergedAwayProfiles as Profile[];
    expect(more).toEqual([]);
    expect(dup).toMatchObject({ customerId: alice.mergedAwayId, mergedIntoId: alice.customerId });
    expect(dup!.postgres.customers!.map((r) => r.id)).toEqual([alice.mergedAwayId]);
    expect(dup!.postgres.customers![0]!.email).toBe(alice.otherEmails[0]);
    expect(dup!.postgres.customer_metrics!.length).toBe(1);
    // Its warehouse rows (an old Square record, a purchase) and the quarantined record naming its email.
    expect(dup!.warehouse.square_customers!.map((r) => r.email_address)).toEqual([alice.otherEmails[0]]);
    expect(dup!.warehouse.purchases!.length).toBe(1);
    expect(dup!.postgres.ingest_quarantine!.length).toBe(1);
    // The top level is the customer's own: no row of the duplicate there.
    expect((archive.json.postgres as Record<string, Json[]>).customers!.map((r) => r.id)).toEqual([alice.customerId]);
    const csv = csvRows(archive.files[`csv/merged-away/${alice.mergedAwayId}/customer_metrics.csv`]!);
    expect(csv.map((r) => r.customer_id)).toEqual([alice.mergedAwayId]);
    expect(csvRows(archive.files['csv/customer_metrics.csv']!).map((r) => r.customer_id)).toEqual([alice.customerId]);
  });
});

describe('quarantined records are matched by whole values', () => {
  it('exports the record that names the customer’s email or phone, not one whose email or phone merely contains it', async () => {
    const tag = randomUUID().slice(0, 8);
    const an = (await t.customers.create(business.id, { email: `an.${tag}@shop.example.com`, phone: '+14155550123', firstName: 'An' })).customer;
    const exact = await quarantineRecord(t, business.id, `SQ-A-${tag}`, { email_address: `AN.${tag}@shop.example.com`, note: 'exact email, other case' });
    const byPhone = await quarantineRecord(t, business.id, `SQ-P-${tag}`, { phone_number: '(415) 555-0123' });
    const nearEmail = await quarantineRecord(t, business.id, `SQ-J-${tag}`, { email_address: `jan.${tag}@shop.example.com`, given_name: 'Jan' });
    const nearPhone = await quarantineRecord(t, business.id, `SQ-Q-${tag}`, { phone_number: '+141555501234', email_address: `an.${tag}@shop.example.com.au` });
    const { id } = await requestExport(an.id, 'GDPR_FULL');
    await t.queueWorker.drain();
    const { json } = await download(id);
    const ids = (json.postgres as Record<string, Json[]>).ingest_quarantine!.map((r) => r.id);
    expect(ids.sort()).toEqual([exact, byPhone].sort());
    expect(ids).not.toContain(nearEmail);
    expect(ids).not.toContain(nearPhone);
  });
});

describe('GDPR_BASIC and BUSINESS_ANALYTICS', () => {
  it('GDPR_BASIC holds the profile and transactions only', async () => {
    const { id } = await requestExport(alice.customerId, 'GDPR_BASIC');
    await t.queueWorker.drain();
    const { json, files } = await download(id);
    const basicTables = PG_CUSTOMER_TABLES.filter((e) => e.basic).map((e) => e.table);
    const postgres = json.postgres as Record<string, Json[]>;
    expect(Object.keys(postgres).sort()).toEqual([...basicTables].sort());
    expect(basicTables).toEqual(expect.arrayContaining(['customers', 'customer_transactions', 'customer_addresses']));
    expect(basicTables).not.toContain('memory_interactions');
    const held = await readPgRows(t.database.handle.db, alice.customerId, business.id, PG_CUSTOMER_TABLES.filter((e) => e.basic));
    expect(postgres.customer_transactions!.map((r) => r.transaction_id).sort()).toEqual(held.customer_transactions!.map((r) => r.transaction_id).sort());
    expect((json.warehouse as Record<string, Json[]>).purchases!.length).toBeGreaterThan(0);
    expect(json.firestore).toBeUndefined();
    expect(Object.keys(files).filter((f) => /^csv\/[^/]+\.csv$/.test(f)).sort()).toEqual(basicTables.map((n) => `csv/${n}.csv`).sort());
    // The merged-away duplicate's part, basic tables only, in its own folder.
    const dupFiles = Object.keys(files).filter((f) => f.startsWith(`csv/merged-away/${alice.mergedAwayId}/`) && !f.includes('/warehouse/'));
    expect(dupFiles.sort()).toEqual(basicTables.map((n) => `csv/merged-away/${alice.mergedAwayId}/${n}.csv`).sort());
    const text = Object.values(files).join('\n');
    expect(files['csv/memory_interactions.csv']).toBeUndefined();
    expect(text).not.toContain('Hi, this is');
    for (const value of traces(bob)) expect(text.includes(value), value).toBe(false);
  });

  it('BUSINESS_ANALYTICS holds aggregates and none of the person’s identifying values', async () => {
    const { id } = await requestExport(alice.customerId, 'BUSINESS_ANALYTICS');
    await t.queueWorker.drain();
    const { json, files } = await download(id);
    const summary = json.summary as { loyalty: Json; segments: Json; transactions: Json; interactions: Json; addresses: Json };
    const held = await readPgRows(t.database.handle.db, alice.customerId, business.id);
    expect(summary.loyalty).toMatchObject({ tier: 'GOLD', tierOverridden: true });
    expect(summary.segments).toEqual({ count: held.customer_segment_assignments!.length });
    expect(summary.transactions.count).toBe(held.customer_transactions!.length);
    expect(summary.interactions.count).toBe(held.memory_interactions!.length);
    expect(summary.addresses).toEqual({ count: held.customer_addresses!.length, countries: 2 });
    expect(csvRows(files['csv/summary.csv']!).length).toBeGreaterThan(10);
    const text = Object.values(files).join('\n');
    const address = String(held.customer_addresses!.find((a) => a.is_default)!.address_line1);
    for (const value of [...traces(alice), alice.squareCustomerId, address, String(held.customer_ip_addresses![0]!.ip_address)]) expect(text.includes(value), value).toBe(false);
  });
});

describe('access', () => {
  it('refuses bad input naming the field, and stores nothing', async () => {
    const before = await q(`SELECT id FROM customer_data_exports`);
    const cases: [string, unknown, string][] = [
      [alice.customerId, { type: 'EVERYTHING' }, 'body.type'],
      [alice.customerId, {}, 'body.type'],
      [alice.customerId, { type: 'GDPR_FULL', reason: '' }, 'body.reason'],
      [alice.customerId, { type: 'GDPR_FULL', format: 'pdf' }, 'body.format'],
      ['not-a-uuid', { type: 'GDPR_FULL' }, 'params.id'],
    ];
    for (const [id, body, field] of cases) {
      const res = await request(t.app).post(`/api/v1/customers/${id}/export`).set(auth(business.token)).send(body as object).expect(400);
      expect(res.body.code).toBe('INVALID_INPUT');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    await request(t.app).get('/api/v1/exports/nope').set(auth(business.token)).expect(400);
    expect(await q(`SELECT id FROM customer_data_exports`)).toEqual(before);
  });

  it('answers 404 to another business, exactly as for a missing export or customer', async () => {
    const exportId = alice.exportId!;
    await request(t.app).get(`/api/v1/exports/${exportId}`).set(auth(other.token)).expect(404);
    await request(t.app).get(`/api/v1/exports/${exportId}/download`).set(auth(other.token)).expect(404);
    await request(t.app).post(`/api/v1/customers/${alice.customerId}/export`).set(auth(other.token)).send({ type: 'GDPR_FULL' }).expect(404);
    await request(t.app).get(`/api/v1/customers/${alice.customerId}/exports`).set(auth(other.token)).expect(404);
    await request(t.app).get(`/api/v1/exports/${randomUUID()}`).set(auth(business.token)).expect(404);
  });

  it('lets admin and service follow and download exports; staff and analysts get 403', async () => {
    const exportId = alice.exportId!;
    for (const role of ['staff', 'analyst'] as const) {
      const token = t.tokenFor(business.id, role);
      await request(t.app).get(`/api/v1/exports/${exportId}/download`).set(auth(token)).expect(403);
      await request(t.app).get(`/api/v1/exports/${exportId}`).set(auth(token)).expect(403);
      await request(t.app).post(`/api/v1/customers/${alice.customerId}/export`).set(auth(token)).send({ type: 'GDPR_FULL' }).expect(403);
    }
    const service = t.tokenFor(business.id, 'service');
    expect((await exportOf(exportId, service)).status).toBe('COMPLETED');
    await download(exportId, service);
  });
});

describe('failures, retries and expiry', () => {
  let faulty: { id: string; token: string };
  let customerId: string;
  /** A file where the business's export directory should be: a real write failure, even for root. */
  let blocker: string;

  beforeAll(async () => {
    faulty = await t.newBusiness('Faulty storage');
    customerId = (await t.customers.create(faulty.id, { email: `faulty.${Date.now()}@example.com`, firstName: 'Fay' })).customer.id;
    blocker = path.join(t.config.jobs.storageDir, 'exports', faulty.id);
  });

  const statusOf = async (id: string) => (await q<{ status: string; attempts: number; last_error: string | null }>(`SELECT status, attempts, last_error FROM customer_data_exports WHERE id = $1`, [id]))[0]!;

  it('retries a failed attempt after its backoff and then completes', async () => {
    await mkdir(path.dirname(blocker), { recursive: true });
    await writeFile(blocker, 'in the way');
    const { id } = await requestExport(customerId, 'GDPR_FULL', faulty.token);
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    await t.queueWorker.drain();
    const failed = await statusOf(id);
    expect(failed).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect(failed.last_error).toBeTruthy();
    // Not due again before its backoff.
    await rm(blocker);
    await t.queueWorker.drain();
    expect((await statusOf(id)).attempts).toBe(1);
    vi.setSystemTime(start + EXPORT_QUEUE_SPEC.baseBackoffMs * 1.25 + 1_000);
    await t.queueWorker.drain();
    expect(await statusOf(id)).toMatchObject({ status: 'COMPLETED', attempts: 2, last_error: null });
    vi.useRealTimers();
    await download(id, faulty.token);
  });

  it('ends FAILED after the last attempt, with one failed event', async () => {
    // The directory the last test's archive went to becomes a file again.
    await rm(blocker, { recursive: true, force: true });
    await writeFile(blocker, 'in the way');
    const { id } = await requestExport(customerId, 'GDPR_BASIC', faulty.token);
    let now = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now });
    for (let attempt = 1; attempt <= EXPORT_QUEUE_SPEC.maxAttempts; attempt++) {
      await t.queueWorker.drain();
      expect((await statusOf(id)).attempts).toBe(attempt);
      now += 2 * 3_600_000;
      vi.setSystemTime(now);
    }
    await t.queueWorker.drain();
    expect(await statusOf(id)).toMatchObject({ status: 'FAILED', attempts: EXPORT_QUEUE_SPEC.maxAttempts });
    vi.useRealTimers();
    await rm(blocker, { force: true });
    const res = await request(t.app).get(`/api/v1/exports/${id}/download`).set(auth(faulty.token)).expect(409);
    expect(res.body.details).toEqual({ status: 'FAILED' });
    const events = await q<{ event_type: string; payload: Json }>(`SELECT event_type, payload FROM domain_events WHERE payload->>'exportId' = $1 ORDER BY id`, [id]);
    expect(events.map((e) => e.event_type)).toEqual(['customers.data_export.requested', 'customers.data_export.failed']);
    expect(events[1]!.payload).toMatchObject({ attempts: EXPORT_QUEUE_SPEC.maxAttempts });
  });

  it('deletes the archive 30 days after the request: EXPIRED, file gone, download refused', async () => {
    // Tokens are signed before the clock moves (they would expire otherwise).
    const token = t.tokens.sign({ subject: 'test-admin', role: 'admin', businessId: business.id }, '90d');
    const { id } = await requestExport(alice.customerId, 'GDPR_BASIC', token);
    await t.queueWorker.drain();
    const row = (await q<{ storage_key: string; created_at: Date }>(`SELECT storage_key, created_at FROM customer_data_exports WHERE id = $1`, [id]))[0]!;
    const file = path.join(t.config.jobs.storageDir, row.storage_key);
    await access(file);

    vi.useFakeTimers({ toFake: ['Date'], now: row.created_at.getTime() + 29 * DAY });
    await t.queueWorker.drain();
    expect((await exportOf(id, token)).status).toBe('COMPLETED');

    vi.setSystemTime(row.created_at.getTime() + 30 * DAY + 1_000);
    await t.queueWorker.drain();
    const expired = await exportOf(id, token);
    expect(expired).toMatchObject({ status: 'EXPIRED', downloadUrl: null });
    expect((await q(`SELECT storage_key FROM customer_data_exports WHERE id = $1`, [id]))[0]).toEqual({ storage_key: null });
    await expect(access(file)).rejects.toThrow();
    const res = await request(t.app).get(`/api/v1/exports/${id}/download`).set(auth(token)).expect(409);
    expect(res.body.details).toEqual({ status: 'EXPIRED' });
  });
});
