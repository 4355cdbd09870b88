// The Square fake against POS-APIS.md, driven with plain fetch as an ingester would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/pos-simulator/sim-clock.js';
import { startSquareFake, type SquareFake } from '../../fakes/square.fake.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies from the fake; the assertions are their type check
type Body = any;

const RANGE_START = '2026-03-01T00:00:00Z';

async function get(fake: SquareFake, path: string, headers = fake.headers()) {
  const res = await fetch(`${fake.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

async function post(fake: SquareFake, path: string, body: unknown) {
  const res = await fetch(`${fake.url}${path}`, {
    method: 'POST',
    headers: { ...fake.headers(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

/** Follows `cursor` to the end; returns every record and the number of pages. */
async function pageAll(fake: SquareFake, path: string, key: string) {
  const rows: Body[] = [];
  let pages = 0;
  let cursor: string | undefined;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const { status, body } = await get(fake, `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(status).toBe(200);
    rows.push(...(body[key] ?? []));
    cursor = body.cursor;
    pages++;
  } while (cursor);
  return { rows, pages };
}

describe('Square fake', () => {
  let fake: SquareFake;
  beforeAll(async () => {
    fake = await startSquareFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('returns every payment exactly once across cursor pages, looping over locations', async () => {
    const seen: string[] = [];
    for (const location of fake.locationIds) {
      const { rows, pages } = await pageAll(fake, `/v2/payments?begin_time=${RANGE_START}&location_id=${location}&limit=17`, 'payments');
      expect(pages).toBeGreaterThan(2);
      expect(rows.every((p) => p.location_id === location)).toBe(true);
      seen.push(...rows.map((p) => p.id as string));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(fake.dataset.square.payments.map((p) => p.id)));
  });

  it('lists only the main location when location_id is absent, newest first by default', async () => {
    const { rows } = await pageAll(fake, `/v2/payments?begin_time=${RANGE_START}`, 'payments');
    expect(rows.length).toBe(fake.dataset.square.payments.filter((p) => p.locationId === fake.mainLocationId).length);
    const created = rows.map((p) => Date.parse(p.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('caps limit at 100 and omits cursor on the last page', async () => {
    const { body } = await get(fake, `/v2/payments?begin_time=${RANGE_START}&limit=500`);
    expect(body.payments.length).toBeLessThanOrEqual(100);
    const last = await get(fake, `/v2/payments?begin_time=2026-04-30T20:00:00Z`);
    expect(last.body.cursor).toBeUndefined();
  });

  it('finds a refund issued after capture by updated_at, which a created_at window misses', async () => {
    const since = new Date().toISOString();
    const { payment, refund } = fake.control.issueRefund();
    expect(payment.createdAt).toBeLessThan(Date.parse(since));
    const loc = `location_id=${payment.locationId}`;

    const byUpdate = await pageAll(
      fake,
      `/v2/payments?${loc}&begin_time=${RANGE_START}&updated_at_begin_time=${since}&sort_field=UPDATED_AT&sort_order=ASC`,
      'payments',
    );
    const found = byUpdate.rows.find((p) => p.id === payment.id);
    expect(found).toMatchObject({ refund_ids: [refund.id], refunded_money: { amount: refund.amountCents, currency: 'USD' } });
    expect(Date.parse(found.updated_at)).toBeGreaterThan(Date.parse(found.created_at));

    const byCreate = await pageAll(fake, `/v2/payments?${loc}&begin_time=${since}`, 'payments');
    expect(byCreate.rows.map((p) => p.id as string)).not.toContain(payment.id);

    const refunds = await pageAll(fake, `/v2/refunds?begin_time=${since}`, 'refunds');
    expect(refunds.rows).toEqual([expect.objectContaining({ id: refund.id, payment_id: payment.id, status: 'COMPLETED' })]);
  });

  it('answers 401 UNAUTHORIZED in Square error shape for a bad token, and ACCESS_TOKEN_EXPIRED once expired', async () => {
    const bad = await get(fake, '/v2/locations', { Authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: expect.any(String) }] });

    fake.control.expireToken();
    const expired = await get(fake, '/v2/locations');
    expect(expired.status).toBe(401);
    expect(expired.body.errors[0].code).toBe('ACCESS_TOKEN_EXPIRED');
    fake.control.renewToken();
    expect((await get(fake, '/v2/locations')).status).toBe(200);
  });

  it('answers injected 429s with Retry-After and RATE_LIMITED, then recovers', async () => {
    fake.control.setFaults({ rateLimitBurst: { count: 2, retryAfterSeconds: 3 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await get(fake, '/v2/locations');
        statuses.push(res.status);
        if (res.status === 429) {
          expect(res.headers.get('retry-after')).toBe('3');
          expect(res.body.errors[0]).toMatchObject({ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED' });
        }
      }
      expect(statuses).toEqual([429, 429, 200]);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('fails the Nth request with a 5xx and counts requests per endpoint', async () => {
    fake.control.resetRequestStats();
    fake.control.setFaults({ serverErrors: { onRequests: [2], status: 503, endpoint: 'payments.list' } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await get(fake, `/v2/payments?begin_time=${RANGE_START}&limit=1`)).status);
      expect(statuses).toEqual([200, 503, 200]);
      expect(fake.control.requestCounts()['payments.list']).toBe(3);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('serves exactly one malformed payment in otherwise valid pages', async () => {
    fake.control.setFaults({ malformedRows: { resource: 'payments', kind: 'invalid_value' } });
    try {
      const bad: string[] = [];
      for (const location of fake.locationIds) {
        const { rows } = await pageAll(fake, `/v2/payments?begin_time=${RANGE_START}&location_id=${location}`, 'payments');
        bad.push(...rows.filter((p) => Number.isNaN(Date.parse(p.created_at)) || typeof p.amount_money?.amount !== 'number').map((p) => p.id as string));
      }
      expect(bad).toEqual(fake.control.malformedIds());
      expect(bad).toHaveLength(1);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('validates customers limit (1–100) with VALUE_TOO_LOW / VALUE_TOO_HIGH', async () => {
    const high = await get(fake, '/v2/customers?limit=101');
    expect(high.status).toBe(400);
    expect(high.body.errors[0]).toMatchObject({ category: 'INVALID_REQUEST_ERROR', code: 'VALUE_TOO_HIGH', field: 'limit' });
    const low = await get(fake, '/v2/customers?limit=0');
    expect(low.body.errors[0].code).toBe('VALUE_TOO_LOW');
    const all = await pageAll(fake, '/v2/customers?limit=7', 'customers');
    expect(all.rows.length).toBe(fake.dataset.square.customers.length);
  });

  it('searches customers by updated_at range', async () => {
    const since = new Date().toISOString();
    const customer = fake.dataset.square.customers[0]!;
    fake.control.updateCustomer(customer.id, { phoneNumber: '+1 415-555-0199' });
    const { status, body } = await post(fake, '/v2/customers/search', { query: { filter: { updated_at: { start_at: since } } }, limit: 10 });
    expect(status).toBe(200);
    expect(body.customers).toEqual([expect.objectContaining({ id: customer.id, phone_number: '+1 415-555-0199', version: customer.version + 1 })]);
  });

  it('shapes the catalog by Square-Version and hides deleted objects unless asked', async () => {
    const current = await get(fake, '/v2/catalog/list?types=ITEM,CATEGORY');
    const items = current.body.objects.filter((o: Body) => o.type === 'ITEM');
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((o: Body) => o.is_deleted === false && Array.isArray(o.item_data.variations))).toBe(true);
    expect(items.some((o: Body) => Array.isArray(o.item_data.categories))).toBe(true);
    const old = await get(fake, '/v2/catalog/list?types=ITEM', fake.headers('2023-06-08'));
    expect(old.headers.get('square-version')).toBe('2023-06-08');
    expect(old.body.objects.some((o: Body) => typeof o.item_data.category_id === 'string')).toBe(true);

    const search = await post(fake, '/v2/catalog/search', { object_types: ['ITEM'], begin_time: RANGE_START, include_deleted_objects: true });
    expect(search.body.objects.some((o: Body) => o.is_deleted === true)).toBe(true);
    expect(typeof search.body.latest_time).toBe('string');
  });

  it('rejects a malformed Square-Version and an unknown cursor', async () => {
    const version = await get(fake, '/v2/locations', fake.headers('June 2024'));
    expect(version.status).toBe(400);
    expect(version.body.errors[0].code).toBe('INVALID_SQUARE_VERSION_FORMAT');
    const cursor = await get(fake, '/v2/payments?cursor=garbage!');
    expect(cursor.body.errors[0].code).toBe('INVALID_CURSOR');
  });
});

describe('Square fake, eventual consistency', () => {
  it('keeps a new payment invisible until the consistency delay has passed', async () => {
    const clock = new ManualClock('2026-05-02T12:00:00Z');
    const fake = await startSquareFake({ clock, faults: { consistencyDelayMs: 3000 } });
    try {
      const payment = fake.control.addPayment();
      const path = `/v2/payments?begin_time=2026-05-02T00:00:00Z`;
      expect((await get(fake, path)).body).toEqual({});
      clock.advance(3000);
      expect((await get(fake, path)).body.payments.map((p: Body) => p.id as string)).toEqual([payment.id]);
    } finally {
      await fake.close();
    }
  });

  it('serves identical payloads for the same seed', async () => {
    const [a, b] = await Promise.all([startSquareFake({ seed: 'same' }), startSquareFake({ seed: 'same' })]);
    try {
      const path = `/v2/payments?begin_time=${RANGE_START}&sort_order=ASC&limit=100`;
      const [x, y] = await Promise.all([get(a, path), get(b, path)]);
      expect(x.body.payments).toEqual(y.body.payments);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
