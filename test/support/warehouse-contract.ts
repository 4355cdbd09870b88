// The contract every Warehouse adapter passes: the same tests run against PostgresWarehouse and
// BigQueryWarehouse (over the fake BigQuery REST server). A test that fails for one adapter
// shows the two stores behave differently where ingesters and the learning engine rely on them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarehouseTableName } from '../../src/warehouse/warehouse-tables.js';
import type { Warehouse, WarehouseRow } from '../../src/warehouse/warehouse.port.js';

export interface ContractSubject {
  warehouse: Warehouse;
  close(): Promise<void>;
}

const BUSINESS = '6f1c1a52-0000-4000-8000-000000000001';
const OTHER_BUSINESS = '6f1c1a52-0000-4000-8000-000000000002';

export function payment(id: string, overrides: WarehouseRow = {}): WarehouseRow {
  return {
    business_id: BUSINESS,
    id,
    created_at: new Date('2026-03-01T10:00:00.000Z'),
    updated_at: new Date('2026-03-01T10:00:00.000Z'),
    status: 'COMPLETED',
    amount: 1250,
    tip: 100,
    total: 1350,
    refunded: 0,
    currency: 'USD',
    source_type: 'CARD',
    card_brand: 'VISA',
    card_last4: '1111',
    location_id: 'L1',
    order_id: `order-${id}`,
    customer_id: 'SQC1',
    profile_id: null,
    refund_ids: [],
    receipt_number: id.slice(0, 4),
    raw: { id, nested: { ok: true } },
    ingested_at: new Date('2026-03-01T10:05:00.000Z'),
    ...overrides,
  };
}

export function purchase(id: string, overrides: WarehouseRow = {}): WarehouseRow {
  return {
    business_id: BUSINESS,
    source: 'lightspeed',
    transaction_id: id,
    order_id: null,
    customer_id: '0b6f1a52-0000-4000-8000-00000000c001',
    source_customer_id: '17',
    purchased_at: new Date('2026-03-02T12:00:00.000Z'),
    status: 'completed',
    amount: 317.1,
    refunded_amount: 0,
    currency: 'USD',
    item_count: 2,
    items: [{ itemId: '5', sku: 'SKU5', name: 'Mug', category: 'Kitchen', quantity: 2, unitPrice: 158.55 }],
    location_id: '1',
    updated_at: new Date('2026-03-02T12:00:00.000Z'),
    ingested_at: new Date('2026-03-02T12:01:00.000Z'),
    ...overrides,
  };
}

export function interaction(id: string, customerId: string, overrides: WarehouseRow = {}): WarehouseRow {
  return {
    business_id: BUSINESS,
    interaction_id: id,
    customer_id: customerId,
    session_id: 'session-1',
    timestamp: new Date('2026-03-03T09:00:00.000Z'),
    message: 'Do you have the blue mug?',
    response: 'Yes, in store.',
    intent: 'availability',
    sentiment: 0.4,
    entities: { product: 'blue mug' },
    channel: 'chat',
    ingested_at: new Date('2026-03-03T09:00:01.000Z'),
    ...overrides,
  };
}

async function all(warehouse: Warehouse, table: WarehouseTableName, where: Record<string, string | number | boolean>) {
  const rows: WarehouseRow[] = [];
  for await (const row of warehouse.read(table, where)) rows.push(row);
  return rows;
}

export function describeWarehouseContract(name: string, open: () => Promise<ContractSubject>): void {
  describe(`Warehouse contract: ${name}`, () => {
    let subject: ContractSubject;
    let w: Warehouse;
    beforeAll(async () => {
      subject = await open();
      w = subject.warehouse;
      await w.ensureSchema();
    });
    afterAll(async () => {
      await subject.close();
    });

    it('creates its schema idempotently', async () => {
      await expect(w.ensureSchema()).resolves.toBeUndefined();
    });

    it('stores rows and reads them back with their types', async () => {
      const result = await w.upsert('square_payments', [payment('P-types')]);
      expect(result).toEqual({ written: 1, rejected: [] });
      const [row] = await all(w, 'square_payments', { business_id: BUSINESS, id: 'P-types' });
      expect(row).toMatchObject({
        id: 'P-types',
        amount: 1250,
        status: 'COMPLETED',
        refund_ids: [],
        raw: { id: 'P-types', nested: { ok: true } },
        profile_id: null,
      });
      expect(row!.created_at).toEqual(new Date('2026-03-01T10:00:00.000Z'));
    });

    it('keeps one row per natural key when the same rows arrive again', async () => {
      const rows = [payment('P-dup-1'), payment('P-dup-2'), payment('P-dup-3')];
      await w.upsert('square_payments', rows);
      await w.upsert('square_payments', rows);
      await w.upsert('square_payments', [rows[1]!, rows[1]!]);
      const read = await all(w, 'square_payments', { business_id: BUSINESS, customer_id: 'SQC1' });
      const ids = read.map((r) => r.id as string).filter((id) => id.startsWith('P-dup'));
      expect(ids).toEqual(['P-dup-1', 'P-dup-2', 'P-dup-3']);
    });

    it('lets a newer version win and never lets an older one replace it', async () => {
      const v1 = payment('P-ver', { status: 'APPROVED', updated_at: new Date('2026-03-01T10:00:00Z') });
      const v2 = payment('P-ver', { status: 'COMPLETED', refunded: 500, updated_at: new Date('2026-03-05T10:00:00Z') });
      await w.upsert('square_payments', [v1]);
      await w.upsert('square_payments', [v2]);
      await w.upsert('square_payments', [v1]);
      const read = await all(w, 'square_payments', { business_id: BUSINESS, id: 'P-ver' });
      expect(read).toHaveLength(1);
      expect(read[0]).toMatchObject({ status: 'COMPLETED', refunded: 500 });
    });

    it('picks the newest of several versions of one key sent in one batch', async () => {
      const older = purchase('S-batch', { status: 'pending', updated_at: new Date('2026-03-02T12:00:00Z') });
      const newer = purchase('S-batch', { status: 'completed', updated_at: new Date('2026-03-02T13:00:00Z') });
      await w.upsert('purchases', [newer, older]);
      const read = await all(w, 'purchases', { business_id: BUSINESS, transaction_id: 'S-batch' });
      expect(read.map((r) => r.status)).toEqual(['completed']);
    });

    it('rejects invalid rows with a reason naming the column and stores the valid ones', async () => {
      const bad = [
        payment('P-bad-1', { amount: 12.5 }),
        payment('P-bad-2', { created_at: 'yesterday' }),
        payment('P-bad-3', { status: null }),
        payment('P-bad-4', { surprise: 'x' }),
      ];
      const result = await w.upsert('square_payments', [payment('P-good'), ...bad]);
      expect(result.written).toBe(1);
      expect(result.rejected.map((r) => [r.key, r.reason])).toEqual([
        [`${BUSINESS}:P-bad-1`, 'amount: must be an integer'],
        [`${BUSINESS}:P-bad-2`, 'created_at: must be a timestamp'],
        [`${BUSINESS}:P-bad-3`, 'status: is required'],
        [`${BUSINESS}:P-bad-4`, 'surprise: not a column of square_payments'],
      ]);
      const stored = await all(w, 'square_payments', { business_id: BUSINESS });
      expect(stored.map((r) => r.id)).toContain('P-good');
      expect(stored.map((r) => r.id)).not.toContain('P-bad-1');
    });

    it('filters reads by tenant', async () => {
      await w.upsert('purchases', [purchase('S-tenant-a'), purchase('S-tenant-b', { business_id: OTHER_BUSINESS })]);
      const mine = await all(w, 'purchases', { business_id: OTHER_BUSINESS });
      expect(mine.map((r) => r.transaction_id)).toEqual(['S-tenant-b']);
    });

    it('stores numeric amounts, JSON items and null customers of unlinked purchases', async () => {
      await w.upsert('purchases', [purchase('S-anon', { customer_id: null, source_customer_id: null, amount: 0.1 + 0.2 })]);
      const [row] = await all(w, 'purchases', { business_id: BUSINESS, transaction_id: 'S-anon' });
      expect(row!.customer_id).toBeNull();
      expect(row!.amount).toBeCloseTo(0.3, 9);
      expect(row!.items).toEqual([{ itemId: '5', sku: 'SKU5', name: 'Mug', category: 'Kitchen', quantity: 2, unitPrice: 158.55 }]);
    });

    it('deletes every row matching all the given columns and leaves the others', async () => {
      const [a, b] = ['0b6f1a52-0000-4000-8000-00000000d001', '0b6f1a52-0000-4000-8000-00000000d002'];
      await w.upsert('interactions', [
        interaction('I-del-1', a),
        interaction('I-del-2', a, { channel: 'email' }),
        interaction('I-del-3', b),
        interaction('I-del-4', a, { business_id: OTHER_BUSINESS }),
      ]);
      expect(await w.deleteRows('interactions', { business_id: BUSINESS, customer_id: a })).toEqual({ deleted: 2, pending: false });
      expect((await all(w, 'interactions', { business_id: BUSINESS })).map((r) => r.interaction_id)).toEqual(['I-del-3']);
      expect((await all(w, 'interactions', { business_id: OTHER_BUSINESS })).map((r) => r.interaction_id)).toEqual(['I-del-4']);
      // Nothing left to match: a repeated erasure is a no-op, not an error.
      expect(await w.deleteRows('interactions', { business_id: BUSINESS, customer_id: a })).toEqual({ deleted: 0, pending: false });
    });

    it('deletes by a typed column compared by value, not by text', async () => {
      await w.upsert('purchases', [purchase('S-del-ts', { business_id: OTHER_BUSINESS, source: 'memory' })]);
      const result = await w.deleteRows('purchases', { business_id: OTHER_BUSINESS, source: 'memory', purchased_at: '2026-03-02T13:00:00+01:00' });
      expect(result).toEqual({ deleted: 1, pending: false });
      expect(await all(w, 'purchases', { business_id: OTHER_BUSINESS, source: 'memory' })).toEqual([]);
    });

    it('refuses a delete with no filter or on a column the table does not have', async () => {
      await expect(w.deleteRows('interactions', {})).rejects.toThrow(/at least one column/);
      await expect(w.deleteRows('interactions', { nope: 'x' })).rejects.toThrow(/nope is not a column of interactions/);
      await expect(w.deleteRows('interactions', { entities: '{}' })).rejects.toThrow(/cannot be filtered on/);
    });

    it('reads many rows in natural-key order across pages', async () => {
      const rows = Array.from({ length: 2500 }, (_, i) => purchase(`S-many-${String(i).padStart(5, '0')}`, { business_id: OTHER_BUSINESS, source: 'square' }));
      for (let i = 0; i < rows.length; i += 500) await w.upsert('purchases', rows.slice(i, i + 500));
      const read = await all(w, 'purchases', { business_id: OTHER_BUSINESS, source: 'square' });
      expect(read.map((r) => r.transaction_id)).toEqual(rows.map((r) => r.transaction_id));
    });
  });
}
