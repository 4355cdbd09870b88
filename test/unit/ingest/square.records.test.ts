// parseSquareRecord on what the Square fake serves: every record of a clean dataset parses into
// the normalised shape; a malformed record fails naming its field while the rest of its page parses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SquareClient } from '../../../src/ingest/square/square.client.js';
import { parseSquareRecord, type SquareCatalogItem, type SquareRecordKind } from '../../../src/ingest/square/square.records.js';
import { startSquareFake, type SquareFake } from '../../fakes/square.fake.js';
import { collect } from './ingest-helpers.js';

describe('parseSquareRecord on the Square fake', () => {
  let fake: SquareFake;
  let client: SquareClient;
  beforeAll(async () => {
    fake = await startSquareFake();
    client = new SquareClient({ baseUrl: fake.url, accessToken: fake.token, squareVersion: '2025-10-16' });
  });
  afterAll(async () => {
    await fake.close();
  });

  const allPayments = async () => {
    const records: unknown[] = [];
    for (const location of fake.locationIds) records.push(...(await collect(client.payments({ locationId: location }))).records);
    return records;
  };

  it('parses every payment, keeping money in minor units and normalising timestamps to UTC', async () => {
    const records = await allPayments();
    const parsed = records.map((r) => parseSquareRecord('payment', r));
    expect(parsed.every((p) => p.ok)).toBe(true);
    const byId = new Map(fake.dataset.square.payments.map((p) => [p.id, p]));
    for (const result of parsed) {
      if (!result.ok) continue;
      const p = result.value;
      const source = byId.get(p.id)!;
      expect(p.amountMoney).toEqual({ amount: source.amountCents, currency: 'USD' });
      expect(p.tipMoney.amount).toBe(source.tipCents);
      expect(p.totalMoney.amount).toBe(source.amountCents + source.tipCents);
      expect(p.refundedMoney.amount).toBe(source.refundedCents);
      expect(p.refundIds).toEqual(source.refundIds);
      expect(p.createdAt).toBe(new Date(source.createdAt).toISOString());
      expect(p.updatedAt).toBe(new Date(source.updatedAt).toISOString());
      expect(p.customerId).toBe(source.customerId ?? null);
      expect(p.cardLast4).toBe(source.card?.last4 ?? null);
      expect(p.status).toBe(source.status);
    }
  });

  it('parses refunds, customers and every catalog object', async () => {
    const refunds = (await collect(client.refunds({}))).records.map((r) => parseSquareRecord('refund', r));
    expect(refunds.length).toBeGreaterThan(0);
    expect(refunds.every((r) => r.ok && r.value.paymentId !== '' && Number.isInteger(r.value.amountMoney.amount))).toBe(true);

    const customers = (await collect(client.customersSearch())).records.map((r) => parseSquareRecord('customer', r));
    expect(customers.every((c) => c.ok)).toBe(true);
    expect(customers.length).toBe(fake.dataset.square.customers.length);

    const catalog = (await collect(client.catalogSearch())).records.map((r) => parseSquareRecord('catalog', r));
    expect(catalog.every((c) => c.ok)).toBe(true);
    const values = catalog.flatMap((c) => (c.ok ? [c.value] : []));
    expect(new Set(values.map((v) => v.type))).toEqual(new Set(['ITEM', 'ITEM_VARIATION', 'CATEGORY']));
    expect(values.some((v) => v.isDeleted)).toBe(true);
    const variation = values.find((v) => v.type === 'ITEM_VARIATION');
    expect(variation).toMatchObject({ itemId: expect.any(String), priceMoney: { amount: expect.any(Number), currency: 'USD' } });
  });

  it('reads an item\'s categories whichever way the Square-Version spells them', async () => {
    const itemsAt = async (squareVersion: string) => {
      const versioned = new SquareClient({ baseUrl: fake.url, accessToken: fake.token, squareVersion });
      const { records } = await collect(versioned.catalogList(['ITEM']));
      return records.map((r) => parseSquareRecord('catalog', r)).flatMap((r) => (r.ok ? [r.value as SquareCatalogItem] : []));
    };
    const old = await itemsAt('2023-06-08');
    const current = await itemsAt('2025-10-16');
    expect(old.length).toBeGreaterThan(0);
    const categories = (items: SquareCatalogItem[]) => Object.fromEntries(items.map((i) => [i.id, i.categoryIds]));
    expect(categories(old)).toEqual(categories(current));
    expect(old.some((i) => i.categoryIds.length === 1)).toBe(true);
    expect(old.every((i) => i.variations.length > 0)).toBe(true);
  });

  const cases: Array<{ resource: string; kind: SquareRecordKind; malformed: 'missing_field' | 'invalid_value'; reason: string }> = [
    { resource: 'payments', kind: 'payment', malformed: 'invalid_value', reason: 'created_at: expected an RFC 3339 timestamp' },
    { resource: 'payments', kind: 'payment', malformed: 'missing_field', reason: 'amount_money: missing' },
    { resource: 'refunds', kind: 'refund', malformed: 'invalid_value', reason: 'amount_money.amount: expected number, received string' },
    { resource: 'refunds', kind: 'refund', malformed: 'missing_field', reason: 'payment_id: missing' },
    { resource: 'customers', kind: 'customer', malformed: 'invalid_value', reason: 'updated_at: expected an RFC 3339 timestamp' },
    { resource: 'catalog', kind: 'catalog', malformed: 'invalid_value', reason: 'version: expected number, received string' },
    { resource: 'catalog', kind: 'catalog', malformed: 'missing_field', reason: 'type: missing' },
  ];

  it.each(cases)('quarantines a $malformed $resource record by name and field while the rest of the page parses', async ({ resource, kind, malformed, reason }) => {
    fake.control.setFaults({ malformedRows: { resource, kind: malformed } });
    try {
      const pages =
        resource === 'payments'
          ? await Promise.all(fake.locationIds.map(async (l) => (await collect(client.payments({ locationId: l }))).pages)).then((p) => p.flat())
          : resource === 'refunds'
            ? (await collect(client.refunds({}))).pages
            : resource === 'customers'
              ? (await collect(client.customersSearch())).pages
              : (await collect(client.catalogSearch())).pages;
      const badPage = pages.find((page) => page.records.some((r) => !parseSquareRecord(kind, r).ok));
      expect(badPage).toBeDefined();
      const results = badPage!.records.map((r) => parseSquareRecord(kind, r));
      const failures = results.filter((r) => !r.ok);
      expect(failures).toEqual([{ ok: false, reason, id: fake.control.malformedIds()[0] }]);
      expect(results.filter((r) => r.ok).length).toBe(badPage!.records.length - 1);
    } finally {
      fake.control.clearFaults();
    }
  });
});

describe('parseSquareRecord on hand-made records', () => {
  const payment = {
    id: 'PAY1',
    created_at: '2026-04-01T10:00:00-07:00',
    updated_at: '2026-04-01T17:00:05.123456Z',
    amount_money: { amount: 1250, currency: 'USD' },
    total_money: { amount: 1250, currency: 'USD' },
    status: 'COMPLETED',
    location_id: 'L1',
  };

  it('fills zero tip and refund in the payment\'s currency and nulls absent optional fields', () => {
    const result = parseSquareRecord('payment', payment);
    expect(result).toEqual({
      ok: true,
      value: expect.objectContaining({
        createdAt: '2026-04-01T17:00:00.000Z',
        updatedAt: '2026-04-01T17:00:05.123Z',
        tipMoney: { amount: 0, currency: 'USD' },
        refundedMoney: { amount: 0, currency: 'USD' },
        refundIds: [],
        customerId: null,
        cardBrand: null,
        orderId: null,
      }),
    });
  });

  it('rejects fractional money and names the nested field', () => {
    expect(parseSquareRecord('payment', { ...payment, total_money: { amount: 12.5, currency: 'USD' } })).toEqual({
      ok: false,
      reason: 'total_money.amount: expected integer, received number',
      id: 'PAY1',
    });
    expect(parseSquareRecord('payment', { ...payment, card_details: { card: { last_4: 4242 } } })).toMatchObject({
      ok: false,
      reason: 'card_details.card.last_4: expected string, received number',
    });
    expect(parseSquareRecord('payment', 'not an object')).toEqual({ ok: false, reason: '(record): expected object, received string' });
  });

  it('refuses catalog types it does not model', () => {
    expect(parseSquareRecord('catalog', { type: 'TAX', id: 'T1' })).toEqual({ ok: false, reason: 'type: unsupported catalog object type "TAX"', id: 'T1' });
  });
});
