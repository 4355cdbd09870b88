// parseLightspeedRecord on what the Lightspeed fake serves: strings become booleans, numbers and
// minor units; one-record relations become arrays, "" relations empty arrays; walk-in sales have
// no customer; a malformed record fails naming its field while the rest of its page parses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LightspeedOAuth } from '../../../src/ingest/lightspeed/lightspeed.auth.js';
import { LIGHTSPEED_SALE_RELATIONS, LightspeedClient } from '../../../src/ingest/lightspeed/lightspeed.client.js';
import {
  decimalToMinor,
  parseLightspeedRecord,
  type LightspeedRecordKind,
  type LightspeedSale,
} from '../../../src/ingest/lightspeed/lightspeed.records.js';
import { startLightspeedFake, type LightspeedFake } from '../../fakes/lightspeed.fake.js';
import { collect, MemoryCredentialStore } from './ingest-helpers.js';

const ok = <T>(results: Array<{ ok: true; value: T } | { ok: false; reason: string }>): T[] => results.flatMap((r) => (r.ok ? [r.value] : []));

describe('parseLightspeedRecord on the Lightspeed fake', () => {
  let fake: LightspeedFake;
  let client: LightspeedClient;
  beforeAll(async () => {
    fake = await startLightspeedFake();
    const auth = new LightspeedOAuth({
      tokenUrl: fake.tokenUrl,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      store: new MemoryCredentialStore(fake.refreshToken),
    });
    client = new LightspeedClient({ apiUrl: fake.apiUrl, accountId: fake.accountId, auth });
  });
  afterAll(async () => {
    await fake.close();
  });

  const sales = async () => (await collect(client.pages('Sale', { loadRelations: LIGHTSPEED_SALE_RELATIONS }))).records;

  it('parses every sale, turning strings into booleans, numbers and minor units', async () => {
    const raw = await sales();
    const results = raw.map((r) => parseLightspeedRecord('sale', r));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const byId = new Map(fake.dataset.lightspeed.sales.map((s) => [String(s.saleId), s]));
    for (const sale of ok(results)) {
      const source = byId.get(sale.saleId)!;
      expect(sale).toMatchObject({
        completed: source.completed,
        voided: source.voided,
        archived: false,
        calcTotalMinor: source.totalCents,
        calcSubtotalMinor: source.subtotalCents,
        calcTax1Minor: source.tax1Cents,
        calcDiscountMinor: source.discountCents + 0, // the simulator's -0 is 0 on the wire
        totalMinor: source.totalCents,
        createTime: new Date(Math.floor(source.createdAt / 1000) * 1000).toISOString(),
        shopId: String(source.shopId),
      });
      expect(sale.saleLines?.map((l) => [l.itemId, l.unitQuantity, l.unitPriceMinor, l.calcTotalMinor])).toEqual(
        source.lines.map((l) => [String(l.itemId), l.quantity, l.unitPriceCents, l.totalCents]),
      );
    }
  });

  it('undoes the relation quirks: one line is an array of one, "" is [], a walk-in has no customer', async () => {
    const parsed = ok((await sales()).map((r) => parseLightspeedRecord('sale', r)));
    const byId = (id: number) => parsed.find((s) => s.saleId === String(id)) as LightspeedSale;
    const singleLine = fake.dataset.lightspeed.sales.find((s) => s.lines.length === 1)!;
    expect(byId(singleLine.saleId).saleLines).toHaveLength(1);
    expect(byId(singleLine.saleId).saleLines?.[0]?.item?.itemId).toBe(String(singleLine.lines[0]!.itemId));
    const noLines = fake.dataset.lightspeed.sales.find((s) => s.lines.length === 0)!;
    expect(byId(noLines.saleId).saleLines).toEqual([]);
    const walkIn = fake.dataset.lightspeed.sales.find((s) => s.customerId === 0)!;
    expect(byId(walkIn.saleId)).toMatchObject({ customerId: null, customer: null });
    const known = fake.dataset.lightspeed.sales.find((s) => s.customerId !== 0)!;
    const source = fake.dataset.lightspeed.customers.find((c) => c.customerId === known.customerId)!;
    expect(byId(known.saleId).customer).toMatchObject({
      customerId: String(known.customerId),
      contactLoaded: true,
      emails: source.emails,
      phones: source.phones,
    });
    const aReturn = fake.dataset.lightspeed.sales.find((s) => s.returnOfSaleId !== undefined)!;
    expect(byId(aReturn.saleId).saleLines?.every((l) => l.unitQuantity < 0)).toBe(true);
    expect(byId(aReturn.saleId).calcTotalMinor).toBeLessThan(0);

    // Without load_relations the relations are absent: "not loaded" is null, not "empty".
    const bare = ok((await collect(client.pages('Sale', { limit: 5 }))).records.map((r) => parseLightspeedRecord('sale', r)));
    expect(bare.every((s) => s.saleLines === null && s.customer === null)).toBe(true);
  });

  it('parses items with one price (an object) or several (an array), and picks the Default price', async () => {
    const items = ok((await collect(client.pages('Item'))).records.map((r) => parseLightspeedRecord('item', r)));
    expect(items.length).toBe(fake.dataset.lightspeed.items.length);
    for (const item of items) {
      const source = fake.dataset.lightspeed.items.find((i) => String(i.itemId) === item.itemId)!;
      expect(item.prices).toEqual(source.prices.map((p) => ({ useType: p.useType, amountMinor: p.amountCents })));
      expect(item.defaultPriceMinor).toBe(source.prices.find((p) => p.useType === 'Default')!.amountCents);
      expect(item.defaultCostMinor).toBe(source.defaultCostCents);
      expect(item.archived).toBe(source.archived);
      expect(item.categoryId).toBe(String(source.categoryId));
    }
    expect(items.some((i) => i.prices.length === 1)).toBe(true);
    expect(items.some((i) => i.prices.length === 3)).toBe(true);
  });

  it('parses customers with one, several or no phones and emails', async () => {
    const customers = ok((await collect(client.pages('Customer'))).records.map((r) => parseLightspeedRecord('customer', r)));
    expect(customers.length).toBe(fake.dataset.lightspeed.customers.length);
    for (const c of customers) {
      const source = fake.dataset.lightspeed.customers.find((s) => String(s.customerId) === c.customerId)!;
      expect(c.emails).toEqual(source.emails);
      expect(c.phones).toEqual(source.phones);
    }
    expect(customers.some((c) => c.phones.length === 2)).toBe(true);
    expect(customers.some((c) => c.phones.length === 1)).toBe(true);
  });

  const cases: Array<{ resource: string; kind: LightspeedRecordKind; malformed: 'missing_field' | 'invalid_value'; reason: string }> = [
    { resource: 'Sale', kind: 'sale', malformed: 'invalid_value', reason: 'calcTotal: expected a decimal amount' },
    { resource: 'Sale', kind: 'sale', malformed: 'missing_field', reason: 'timeStamp: missing' },
    { resource: 'Item', kind: 'item', malformed: 'invalid_value', reason: 'defaultCost: expected a decimal amount' },
    { resource: 'Item', kind: 'item', malformed: 'missing_field', reason: 'Prices: missing' },
    { resource: 'Customer', kind: 'customer', malformed: 'invalid_value', reason: 'timeStamp: expected an ISO 8601 timestamp' },
    { resource: 'Customer', kind: 'customer', malformed: 'missing_field', reason: 'createTime: missing' },
  ];

  it.each(cases)('quarantines a $malformed $resource by field while the rest of the page parses', async ({ resource, kind, malformed, reason }) => {
    fake.control.setFaults({ malformedRows: { resource, kind: malformed } });
    try {
      const { pages } = await collect(client.pages(resource, { limit: 50 }));
      const badPage = pages.find((p) => p.records.some((r) => !parseLightspeedRecord(kind, r).ok))!;
      expect(badPage).toBeDefined();
      const results = badPage.records.map((r) => parseLightspeedRecord(kind, r));
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason, id: fake.control.malformedIds()[0] }]);
      expect(results.filter((r) => r.ok)).toHaveLength(badPage.records.length - 1);
    } finally {
      fake.control.clearFaults();
    }
  });
});

describe('Lightspeed scalar quirks', () => {
  it('turns decimal strings into exact minor units', () => {
    expect(['317.1', '25', '-5.5', '0.01', '0', '2.125', '-2.125', '2.1249', '19.99'].map((t) => decimalToMinor(t))).toEqual([
      31710, 2500, -550, 1, 0, 213, -213, 212, 1999,
    ]);
    expect(['', 'N/A', '1e3', '1.', '.5', ' 1'].map((t) => decimalToMinor(t))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('reads "true"/"false", treats customerID "0" as none, and names bad booleans', () => {
    const sale = {
      saleID: '7',
      timeStamp: '2026-04-02T10:00:00+00:00',
      createTime: '2026-04-02T09:59:00+00:00',
      completed: 'true',
      voided: 'false',
      archived: 'false',
      calcTotal: '10',
      calcSubtotal: '9.22',
      calcTax1: '0.78',
      calcDiscount: '0',
      total: '10',
      customerID: '0',
      shopID: '1',
      SaleLines: '',
      Customer: '',
    };
    const parsed = parseLightspeedRecord('sale', sale);
    expect(parsed).toEqual({
      ok: true,
      value: expect.objectContaining({
        completed: true,
        voided: false,
        customerId: null,
        customer: null,
        saleLines: [],
        completeTime: null,
        registerId: null,
        timeStamp: '2026-04-02T10:00:00.000Z',
      }),
    });
    expect(parseLightspeedRecord('sale', { ...sale, voided: 'yes' })).toEqual({ ok: false, reason: 'voided: expected "true" or "false"', id: '7' });
    expect(parseLightspeedRecord('sale', { ...sale, SaleLines: { SaleLine: { saleLineID: '1', itemID: '3', unitQuantity: 'two', unitPrice: '1', calcTotal: '2' } } })).toEqual({
      ok: false,
      reason: 'SaleLines.SaleLine.0.unitQuantity: expected a decimal number',
      id: '7',
    });
  });
});
