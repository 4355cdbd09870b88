// BigQuery-specific behaviour of BigQueryWarehouse over the fake BigQuery REST server: the
// tables and views ensureSchema builds, deterministic insertIds, request splitting under the
// insertAll limits, partial failures (invalid rows rejected, transient ones resent alone) and
// bounded retries of whole requests. Waits between attempts go to a recorder instead of a timer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { latestViewSql } from '../../src/warehouse/bigquery-codec.js';
import { BigQueryRetryExhaustedError, BigQueryWarehouse, DEFAULT_LIMITS } from '../../src/warehouse/bigquery-warehouse.js';
import { WAREHOUSE_TABLE_NAMES, type WarehouseTableName } from '../../src/warehouse/warehouse-tables.js';
import { insertIdOf, tableDef, type Warehouse, type WarehouseRow } from '../../src/warehouse/warehouse.port.js';
import { INSERT_ALL_MAX_BYTES, startBigQueryFake, type BigQueryFake } from '../fakes/bigquery.fake.js';
import { interaction, payment, purchase } from '../support/warehouse-contract.js';

const DATASET = 'warehouse_faults';
const RETRY = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };
const LEGACY_TYPES: Record<string, string> = { INT64: 'INTEGER', FLOAT64: 'FLOAT', BOOL: 'BOOLEAN' };

let fake: BigQueryFake;
let warehouse: BigQueryWarehouse;
const sleeps: number[] = [];

function openWarehouse(datasetId: string): BigQueryWarehouse {
  return new BigQueryWarehouse({
    bigquery: fake.client(),
    datasetId,
    retry: RETRY,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
}

async function all(w: Warehouse, table: WarehouseTableName, where: Record<string, string | number | boolean>): Promise<WarehouseRow[]> {
  const rows: WarehouseRow[] = [];
  for await (const row of w.read(table, where)) rows.push(row);
  return rows;
}

const insertAlls = (table: string) => fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/tables/${table}/insertAll`));
const storedIds = (table: string, ids: string[]) =>
  fake
    .storedRows(DATASET, table)
    .map((r) => r.insertId)
    .filter((id): id is string => id !== undefined && ids.includes(id));

beforeAll(async () => {
  fake = await startBigQueryFake();
  warehouse = openWarehouse(DATASET);
  await warehouse.ensureSchema();
});

afterEach(() => {
  fake.control.clear();
  fake.requests.length = 0;
  sleeps.length = 0;
});

afterAll(async () => {
  await warehouse.close();
  await fake.close();
});

describe('BigQueryWarehouse schema', () => {
  it('creates each table with its columns, DAY partitioning on its event timestamp and its clustering (customer, then profile)', () => {
    expect(fake.dataset(DATASET)).toBeDefined();
    for (const name of WAREHOUSE_TABLE_NAMES) {
      const def = tableDef(name);
      const table = fake.table(DATASET, name);
      expect(table?.type, name).toBe('TABLE');
      expect(table?.description).toBe(def.description);
      expect(table?.schema?.fields).toEqual(
        def.columns.map((c) => ({
          name: c.name,
          type: LEGACY_TYPES[c.type] ?? c.type,
          mode: c.mode ?? 'NULLABLE',
          ...(c.description ? { description: c.description } : {}),
        })),
      );
      if (def.partitionColumn) {
        expect(table?.timePartitioning, name).toEqual({ type: 'DAY', field: def.partitionColumn });
      } else {
        expect(table?.timePartitioning, name).toBeUndefined();
      }
      expect(table?.clustering, name).toEqual(def.clusterBy ? { fields: def.clusterBy } : undefined);
    }
    expect(fake.table(DATASET, 'square_payments')?.timePartitioning).toEqual({ type: 'DAY', field: 'created_at' });
    expect(fake.table(DATASET, 'purchases')?.timePartitioning).toEqual({ type: 'DAY', field: 'purchased_at' });
    expect(fake.table(DATASET, 'square_payments')?.clustering).toEqual({ fields: ['customer_id', 'profile_id'] });
    expect(fake.table(DATASET, 'square_customers')?.clustering).toEqual({ fields: ['profile_id'] });
  });

  it('creates a _latest view per table keeping the newest version per natural key', () => {
    for (const name of WAREHOUSE_TABLE_NAMES) {
      const view = fake.table(DATASET, `${name}_latest`);
      expect(view?.type, name).toBe('VIEW');
      expect(view?.view?.query).toBe(latestViewSql(tableDef(name), `${fake.projectId}.${DATASET}.${name}`));
    }
    expect(fake.table(DATASET, 'square_payments_latest')?.view?.query).toBe(
      'SELECT * EXCEPT(_rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY business_id, id ORDER BY updated_at DESC, ingested_at DESC) AS _rn ' +
        `FROM \`${fake.projectId}.${DATASET}.square_payments\`) WHERE _rn = 1`,
    );
  });

  it('changes nothing when run again', async () => {
    await warehouse.ensureSchema();
    expect(fake.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('adds columns missing from an existing table as NULLABLE and refreshes its view', async () => {
    const client = fake.client();
    await client.createDataset('warehouse_evolve');
    const old = ['business_id', 'source', 'transaction_id', 'updated_at', 'ingested_at'];
    const def = tableDef('purchases');
    await client.dataset('warehouse_evolve').createTable('purchases', {
      schema: { fields: def.columns.filter((c) => old.includes(c.name)).map((c) => ({ name: c.name, type: c.type, mode: 'REQUIRED' })) },
    });
    const evolving = openWarehouse('warehouse_evolve');

    await evolving.ensureSchema();

    const fields = fake.table('warehouse_evolve', 'purchases')?.schema?.fields ?? [];
    expect(fields.map((f) => f.name)).toEqual([...old, ...def.columns.map((c) => c.name).filter((n) => !old.includes(n))]);
    expect(fields.find((f) => f.name === 'amount')?.mode).toBe('NULLABLE'); // REQUIRED in the definition
    expect(fields.find((f) => f.name === 'business_id')?.mode).toBe('REQUIRED');
    expect(fake.table('warehouse_evolve', 'purchases_latest')?.schema?.fields?.map((f) => f.name)).toEqual(fields.map((f) => f.name));
    await evolving.upsert('purchases', [purchase('S-evolved')]);
    const [row] = await all(evolving, 'purchases', { transaction_id: 'S-evolved' });
    expect(row).toMatchObject({ transaction_id: 'S-evolved', amount: 317.1, item_count: 2 });
  });
});

describe('BigQueryWarehouse inserts', () => {
  it('sends the same insertId for the same row version and a new one for a new version', async () => {
    const def = tableDef('square_payments');
    const v1 = payment('BQ-id');
    const v2 = payment('BQ-id', { status: 'REFUNDED', updated_at: new Date('2026-03-09T00:00:00Z') });
    await warehouse.upsert('square_payments', [v1]);
    await warehouse.upsert('square_payments', [v1]);
    await warehouse.upsert('square_payments', [v2]);

    const sent = insertAlls('square_payments').map((r) => r.insertIds);
    expect(sent).toEqual([[insertIdOf(def, v1)], [insertIdOf(def, v1)], [insertIdOf(def, v2)]]);
    expect(insertIdOf(def, v1)).not.toBe(insertIdOf(def, v2));
    // The resend of v1 fell inside the de-dup window: stored once.
    expect(storedIds('square_payments', [insertIdOf(def, v1), insertIdOf(def, v2)])).toEqual([insertIdOf(def, v1), insertIdOf(def, v2)]);
  });

  it('splits 1,200 rows into insertAll requests of at most 500 rows', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => purchase(`S-split-${String(i).padStart(4, '0')}`, { business_id: 'bq-split' }));
    const result = await warehouse.upsert('purchases', rows);

    expect(result).toEqual({ written: 1200, rejected: [] });
    expect(insertAlls('purchases').map((r) => r.insertIds?.length)).toEqual([500, 500, 200]);
    expect(await all(warehouse, 'purchases', { business_id: 'bq-split' })).toHaveLength(1200);
  });

  it('splits big rows so each request stays under the 10 MB limit', async () => {
    const blob = 'x'.repeat(1_000_000);
    const rows = Array.from({ length: 24 }, (_, i) => payment(`BQ-big-${String(i).padStart(2, '0')}`, { business_id: 'bq-big', raw: { blob } }));
    const result = await warehouse.upsert('square_payments', rows);

    expect(result.written).toBe(24);
    const requests = insertAlls('square_payments');
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const r of requests) {
      expect(r.status).toBe(200);
      expect(r.bytes).toBeLessThanOrEqual(DEFAULT_LIMITS.bytesPerRequest);
    }
    expect(requests.flatMap((r) => r.insertIds)).toHaveLength(24);
    const read = await all(warehouse, 'square_payments', { business_id: 'bq-big' });
    expect(read.map((r) => (r.raw as { blob: string }).blob.length)).toEqual(rows.map(() => 1_000_000));
  });

  it('rejects a single row too big for any request and stores the others', async () => {
    const huge = payment('BQ-huge', { business_id: 'bq-huge', raw: { blob: 'y'.repeat(INSERT_ALL_MAX_BYTES) } });
    const result = await warehouse.upsert('square_payments', [payment('BQ-small', { business_id: 'bq-huge' }), huge]);

    expect(result.written).toBe(1);
    expect(result.rejected.map((r) => r.key)).toEqual(['bq-huge:BQ-huge']);
    expect(result.rejected[0]?.reason).toMatch(/over the \d+-byte insertAll request budget/);
    expect((await all(warehouse, 'square_payments', { business_id: 'bq-huge' })).map((r) => r.id)).toEqual(['BQ-small']);
  });

  it('is up against a fake that enforces the insertAll limits (10 MB, 50,000 rows)', async () => {
    const table = fake.client().dataset(DATASET).table('square_payments');
    const big = Array.from({ length: 11 }, (_, i) => ({ insertId: `limit-${i}`, json: { id: 'x'.repeat(1_000_000) } }));
    await expect(table.insert(big, { raw: true, partialRetries: 0 })).rejects.toMatchObject({ code: 400, message: expect.stringMatching(/payload size exceeds the limit/) });
    const many = Array.from({ length: 50_001 }, (_, i) => ({ insertId: `n-${i}`, json: {} }));
    await expect(table.insert(many, { raw: true, partialRetries: 0 })).rejects.toMatchObject({ code: 400, message: expect.stringMatching(/too many rows/) });
  });
});

describe('BigQueryWarehouse partial failures and retries', () => {
  const B = 'bq-partial';

  it('rejects rows BigQuery calls invalid and resends only the stopped ones, storing each once', async () => {
    fake.control.dedupWindowMs = 0; // a wrongly stored first attempt would show up as a duplicate
    const def = tableDef('purchases');
    const good1 = purchase('PF-good-1', { business_id: B });
    const tooBig = purchase('PF-numeric', { business_id: B, amount: 1e30 }); // NUMERIC holds 29 integer digits
    const good2 = purchase('PF-good-2', { business_id: B });
    const farFuture = purchase('PF-time', { business_id: B, purchased_at: '+010000-01-01T00:00:00.000Z' }); // past 9999-12-31
    const result = await warehouse.upsert('purchases', [good1, tooBig, good2, farFuture]);

    expect(result.written).toBe(2);
    expect(result.rejected.map((r) => [r.key, r.reason])).toEqual([
      [`${B}:lightspeed:PF-numeric`, 'amount: Invalid NUMERIC value.'],
      [`${B}:lightspeed:PF-time`, "purchased_at: Couldn't convert value to timestamp."],
    ]);
    const sent = insertAlls('purchases').map((r) => r.insertIds);
    expect(sent).toEqual([[good1, tooBig, good2, farFuture].map((r) => insertIdOf(def, r)), [insertIdOf(def, good1), insertIdOf(def, good2)]]);
    expect(sleeps).toHaveLength(1);
    expect(storedIds('purchases', sent[0] as string[])).toEqual([insertIdOf(def, good1), insertIdOf(def, good2)]);
    expect((await all(warehouse, 'purchases', { business_id: B })).map((r) => r.transaction_id)).toEqual(['PF-good-1', 'PF-good-2']);
  });

  it('resends exactly the rows that failed with backendError, with the same insertIds', async () => {
    fake.control.dedupWindowMs = 0;
    const def = tableDef('purchases');
    const rows = ['PF-be-1', 'PF-be-2', 'PF-be-3'].map((id) => purchase(id, { business_id: B }));
    const ids = rows.map((r) => insertIdOf(def, r));
    fake.control.failRows([ids[1]!], 'backendError');

    expect(await warehouse.upsert('purchases', rows)).toEqual({ written: 3, rejected: [] });
    expect(insertAlls('purchases').map((r) => r.insertIds)).toEqual([ids, [ids[1]]]);
    expect(storedIds('purchases', ids).sort()).toEqual([...ids].sort());
  });

  it('reads one row per key when a retried row was stored twice (the view de-duplicates, not only insertIds)', async () => {
    fake.control.dedupWindowMs = 0;
    const row = purchase('PF-timeout', { business_id: B });
    const id = insertIdOf(tableDef('purchases'), row);
    fake.control.failRows([id], 'timeout', { stored: true });

    await warehouse.upsert('purchases', [row]);

    expect(storedIds('purchases', [id])).toEqual([id, id]);
    expect(await all(warehouse, 'purchases', { business_id: B, transaction_id: 'PF-timeout' })).toHaveLength(1);
  });

  it('retries a request failing with 503 and succeeds, backing off between attempts', async () => {
    const row = purchase('PF-503', { business_id: B });
    fake.control.failNext('insertAll', 2, 503);

    expect(await warehouse.upsert('purchases', [row])).toEqual({ written: 1, rejected: [] });

    const requests = insertAlls('purchases');
    expect(requests.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(requests.map((r) => JSON.stringify(r.insertIds))).size).toBe(1);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(50);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeGreaterThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
    expect(await all(warehouse, 'purchases', { business_id: B, transaction_id: 'PF-503' })).toHaveLength(1);
  });

  it('gives up with a clear error after the retry bound when the request keeps failing', async () => {
    const row = purchase('PF-down', { business_id: B });
    fake.control.failNext('insertAll', 99, 500, 'backendError');

    const failure = warehouse.upsert('purchases', [row]);
    await expect(failure).rejects.toBeInstanceOf(BigQueryRetryExhaustedError);
    await expect(failure).rejects.toThrow(/purchases: 1 row\(s\) still failing after 4 attempts \(last: HTTP 500/);
    expect(insertAlls('purchases')).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    expect(storedIds('purchases', [insertIdOf(tableDef('purchases'), row)])).toEqual([]);
  });

  it('gives up after the retry bound when the same row keeps failing, having stored the others', async () => {
    const def = tableDef('purchases');
    const ok = purchase('PF-row-ok', { business_id: B });
    const stuck = purchase('PF-row-stuck', { business_id: B });
    fake.control.failRows([insertIdOf(def, stuck)], 'backendError', { times: 99 });

    await expect(warehouse.upsert('purchases', [ok, stuck])).rejects.toThrow(/1 row\(s\) still failing after 4 attempts \(last: insertErrors with reasons backendError\)/);
    expect(insertAlls('purchases').map((r) => r.insertIds)).toEqual([[insertIdOf(def, ok), insertIdOf(def, stuck)], ...Array(3).fill([insertIdOf(def, stuck)])]);
    expect(storedIds('purchases', [insertIdOf(def, ok), insertIdOf(def, stuck)])).toEqual([insertIdOf(def, ok)]);
  });

  it('does not retry what BigQuery refuses for good (a table that does not exist)', async () => {
    const missing = openWarehouse('warehouse_never_created');
    await expect(missing.upsert('purchases', [purchase('PF-404')])).rejects.toThrow(/insertAll into warehouse_never_created\.purchases failed: HTTP 404/);
    expect(insertAlls('purchases')).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe('BigQueryWarehouse reads', () => {
  it('queries the _latest view with typed parameters, in natural-key order', async () => {
    await warehouse.upsert('square_payments', [payment('BQ-read-2', { business_id: 'bq-read' }), payment('BQ-read-1', { business_id: 'bq-read', amount: 99 })]);
    fake.requests.length = 0;

    const rows = await all(warehouse, 'square_payments', { business_id: 'bq-read', created_at: '2026-03-01T10:00:00.000Z', amount: 1250 });

    expect(rows.map((r) => r.id)).toEqual(['BQ-read-2']);
    expect(fake.requests.find((r) => r.query)?.query).toBe(
      `SELECT * FROM \`${fake.projectId}.${DATASET}.square_payments_latest\` WHERE business_id = @business_id AND created_at = @created_at AND amount = @amount ORDER BY business_id, id`,
    );
    expect((await all(warehouse, 'square_payments', { business_id: 'bq-read' })).map((r) => r.id)).toEqual(['BQ-read-1', 'BQ-read-2']);
  });

  it('retries a query page that fails with 503', async () => {
    await warehouse.upsert('square_payments', [payment('BQ-read-retry', { business_id: 'bq-read-retry' })]);
    fake.control.failNext('query', 1, 503);

    expect((await all(warehouse, 'square_payments', { business_id: 'bq-read-retry' })).map((r) => r.id)).toEqual(['BQ-read-retry']);
    expect(sleeps).toHaveLength(1);
  });

  it('refuses a filter on a column that does not exist or has no equality', async () => {
    await expect(all(warehouse, 'square_payments', { nope: 'x' })).rejects.toThrow('nope is not a column of square_payments');
    await expect(all(warehouse, 'square_payments', { raw: 'x' })).rejects.toThrow(/cannot be filtered on/);
  });

  it('is up against a fake that refuses SQL it does not implement', async () => {
    const client = fake.client();
    await expect(client.query('SELECT 1')).rejects.toThrow(/unsupported by the fake/);
    await expect(client.query(`SELECT * FROM \`${fake.projectId}.${DATASET}.purchases\` ORDER BY transaction_id`)).rejects.toThrow(/only de-dup views can be queried/);
  });
});

describe('BigQueryWarehouse deletes', () => {
  const customer = '0b6f1a52-0000-4000-8000-00000000e001';

  it('runs a parameterised DML DELETE on the base table, removing every stored version', async () => {
    const v1 = interaction('BQ-del-1', customer, { business_id: 'bq-del' });
    const v2 = interaction('BQ-del-1', customer, { business_id: 'bq-del', ingested_at: new Date('2026-03-04T00:00:00Z') });
    await warehouse.upsert('interactions', [v1]);
    await warehouse.upsert('interactions', [v2]);
    fake.requests.length = 0;

    expect(await warehouse.deleteRows('interactions', { business_id: 'bq-del', customer_id: customer })).toEqual({ deleted: 2, pending: false });

    expect(fake.requests.find((r) => r.query)?.query).toBe(
      `DELETE FROM \`${fake.projectId}.${DATASET}.interactions\` WHERE business_id = @business_id AND customer_id = @customer_id`,
    );
    expect(fake.storedRows(DATASET, 'interactions').filter((r) => r.json.business_id === 'bq-del')).toEqual([]);
  });

  it('answers pending, deleting nothing, while the rows are in the streaming buffer; deletes them once they are out', async () => {
    await warehouse.upsert('interactions', [interaction('BQ-buf-1', customer, { business_id: 'bq-buf' })]);
    fake.control.streamingBufferMs = 30 * 60_000;

    expect(await warehouse.deleteRows('interactions', { business_id: 'bq-buf', customer_id: customer })).toEqual({ deleted: 0, pending: true });
    expect((await all(warehouse, 'interactions', { business_id: 'bq-buf' })).map((r) => r.interaction_id)).toEqual(['BQ-buf-1']);
    expect(sleeps).toEqual([]); // a refusal for now is not retried in a loop

    fake.control.streamingBufferMs = 0;
    expect(await warehouse.deleteRows('interactions', { business_id: 'bq-buf', customer_id: customer })).toEqual({ deleted: 1, pending: false });
  });

  it('fails on any other refusal and retries a DELETE that fails with 503', async () => {
    await warehouse.upsert('interactions', [interaction('BQ-del-retry', customer, { business_id: 'bq-del-retry' })]);
    fake.control.failNext('query', 1, 503);
    expect(await warehouse.deleteRows('interactions', { business_id: 'bq-del-retry' })).toEqual({ deleted: 1, pending: false });
    expect(sleeps).toHaveLength(1);

    fake.control.failNext('query', 1, 403, 'accessDenied');
    await expect(warehouse.deleteRows('interactions', { business_id: 'bq-del-retry' })).rejects.toThrow(/accessDenied/);
  });

  it('is up against a fake that refuses DML it does not implement', async () => {
    const client = fake.client();
    await expect(client.query(`DELETE FROM \`${fake.projectId}.${DATASET}.interactions\` WHERE true`)).rejects.toThrow(/unsupported by the fake/);
    await expect(client.query({ query: `DELETE FROM \`${fake.projectId}.${DATASET}.interactions_latest\` WHERE business_id = @b`, params: { b: 'x' } })).rejects.toThrow(
      /Cannot run DML on view/,
    );
  });
});

