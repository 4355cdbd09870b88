// SquareClient against the Square fake (test/fakes): paging, the location loop, updated_at
// filters, retries on 429/5xx/network failures, and errors that must not be retried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PosApiError } from '../../../src/ingest/http/pos-api-error.js';
import type { RetryEvent, RetryOptions } from '../../../src/ingest/http/retry-policy.js';
import { SquareClient } from '../../../src/ingest/square/square.client.js';
import { ManualClock } from '../../../src/pos-simulator/sim-clock.js';
import { startSquareFake, type SquareFake } from '../../fakes/square.fake.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { collect, ids, recordingSleep } from './ingest-helpers.js';

const VERSION = '2025-10-16';

function clientFor(fake: SquareFake, overrides: { retry?: RetryOptions; accessToken?: string; squareVersion?: string; baseUrl?: string } = {}) {
  return new SquareClient({
    baseUrl: overrides.baseUrl ?? fake.url,
    accessToken: overrides.accessToken ?? fake.token,
    squareVersion: overrides.squareVersion ?? VERSION,
    retry: { random: () => 0.5, baseDelayMs: 200, ...overrides.retry },
  });
}

const byUpdatedThenId = (a: { updatedAt: number; id: string }, b: { updatedAt: number; id: string }) =>
  a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe('SquareClient against the Square fake', () => {
  let fake: SquareFake;
  beforeAll(async () => {
    fake = await startSquareFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('lists every location, and pages each location\'s payments to the end without duplicates', async () => {
    const client = clientFor(fake);
    const locations = await client.listLocations();
    expect(locations.map((l) => l.id).sort()).toEqual([...fake.locationIds].sort());

    const seen: string[] = [];
    for (const location of locations) {
      const { records, pages } = await collect(client.payments({ locationId: location.id, limit: 17 }));
      const expected = fake.dataset.square.payments.filter((p) => p.locationId === location.id);
      expect(pages.length).toBe(Math.ceil(expected.length / 17));
      expect(pages.slice(0, -1).every((p) => typeof p.next === 'string')).toBe(true);
      expect(pages.at(-1)?.next).toBeUndefined();
      expect(pages.map((p) => p.pageIndex)).toEqual(pages.map((_, i) => i));
      expect(records.every((p) => (p as { location_id: string }).location_id === location.id)).toBe(true);
      expect(ids(records).sort()).toEqual(expected.map((p) => p.id).sort());
      seen.push(...ids(records));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(fake.dataset.square.payments.length);
  });

  it('filters payments on updated_at and returns them in ascending updated_at order', async () => {
    const client = clientFor(fake);
    const location = fake.mainLocationId;
    const since = new Date(Date.parse('2026-04-20T00:00:00Z'));
    const expected = fake.dataset.square.payments
      .filter((p) => p.locationId === location && p.updatedAt >= since.getTime())
      .sort(byUpdatedThenId)
      .map((p) => p.id);
    expect(expected.length).toBeGreaterThan(10);
    const { records } = await collect(client.payments({ locationId: location, updatedAtBeginTime: since, limit: 10 }));
    expect(ids(records)).toEqual(expected);
    const stamps = records.map((p) => Date.parse((p as { updated_at: string }).updated_at));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });

  it('sees a refund issued now on an older payment through updated_at, and the refund itself', async () => {
    const client = clientFor(fake);
    const since = new Date();
    const { payment, refund } = fake.control.issueRefund();
    const { records } = await collect(client.payments({ locationId: payment.locationId, updatedAtBeginTime: since }));
    expect(records).toEqual([expect.objectContaining({ id: payment.id, refund_ids: expect.arrayContaining([refund.id]) })]);
    const refunds = await collect(client.refunds({ updatedAtBeginTime: since }));
    expect(ids(refunds.records)).toEqual([refund.id]);
  });

  it('pages refunds across all locations', async () => {
    const { records } = await collect(clientFor(fake).refunds({ limit: 2 }));
    const expected = fake.control.store.refunds.listLatest().map((r) => r.id);
    expect(new Set(fake.dataset.square.refunds.map((r) => r.locationId)).size).toBeGreaterThan(1);
    expect(ids(records).sort()).toEqual(expected.sort());
  });

  it('lists the catalog, and searches it page by page with deleted objects included', async () => {
    const client = clientFor(fake);
    const live = fake.dataset.square.catalog.filter((o) => !o.isDeleted);
    const list = await collect(client.catalogList());
    expect(ids(list.records).sort()).toEqual(live.map((o) => o.id).sort());

    const search = await collect(client.catalogSearch({ limit: 5 }));
    expect(search.pages.length).toBe(Math.ceil(fake.dataset.square.catalog.length / 5));
    expect(ids(search.records).sort()).toEqual(fake.dataset.square.catalog.map((o) => o.id).sort());
    expect(search.records.some((o) => (o as { is_deleted: boolean }).is_deleted)).toBe(true);
    expect(search.pages.every((p) => typeof p.latestTime === 'string')).toBe(true);
  });

  it('searches customers by updated_at with the cursor in the body, and gets one or null', async () => {
    const client = clientFor(fake);
    const all = await collect(client.customersSearch({ limit: 7 }));
    expect(all.pages.length).toBeGreaterThan(2);
    expect(ids(all.records).sort()).toEqual(fake.dataset.square.customers.map((c) => c.id).sort());

    const since = new Date();
    const changed = fake.dataset.square.customers[3]!;
    fake.control.updateCustomer(changed.id, { referenceId: 'LOY-4242' });
    const recent = await collect(client.customersSearch({ updatedAtStart: since }));
    expect(ids(recent.records)).toEqual([changed.id]);

    expect(await client.getCustomer(changed.id)).toMatchObject({ id: changed.id, reference_id: 'LOY-4242' });
    expect(await client.getCustomer('NO_SUCH_CUSTOMER')).toBeNull();
  });

  it('pins Square-Version: the catalog answers category_id before 2023-12-13 and categories[] after', async () => {
    const item = (records: unknown[]) =>
      records.find((o) => (o as { type: string; item_data?: Record<string, unknown> }).type === 'ITEM' && ((o as { item_data: Record<string, unknown> }).item_data.category_id ?? (o as { item_data: Record<string, unknown> }).item_data.categories)) as {
        item_data: Record<string, unknown>;
      };
    const old = await collect(clientFor(fake, { squareVersion: '2023-06-08' }).catalogList(['ITEM']));
    expect(typeof item(old.records).item_data.category_id).toBe('string');
    const current = await collect(clientFor(fake).catalogList(['ITEM']));
    expect(Array.isArray(item(current.records).item_data.categories)).toBe(true);
  });

  it('backs off with jitter through a 429 burst without Retry-After, then finishes the list', async () => {
    const { sleep, delays } = recordingSleep();
    const events: RetryEvent[] = [];
    const client = clientFor(fake, { retry: { sleep, onRetry: (e) => events.push(e) } });
    fake.control.setFaults({ rateLimitBurst: { startAt: 2, count: 3, retryAfterSeconds: null } });
    try {
      const { records, pages } = await collect(client.payments({ locationId: fake.mainLocationId, limit: 25 }));
      expect(records.length).toBe(fake.dataset.square.payments.filter((p) => p.locationId === fake.mainLocationId).length);
      expect(new Set(ids(records)).size).toBe(records.length);
      // Full jitter with random 0.5 and base 200: half of 200, 400, 800.
      expect(delays).toEqual([100, 200, 400]);
      expect(events.map((e) => [e.attempt, e.status, e.code])).toEqual([
        [1, 429, 'RATE_LIMITED'],
        [2, 429, 'RATE_LIMITED'],
        [3, 429, 'RATE_LIMITED'],
      ]);
      expect(pages[1]?.requestCount).toBe(4);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('waits exactly the Retry-After Square sends on a 429', async () => {
    const { sleep, delays } = recordingSleep();
    fake.control.setFaults({ rateLimitBurst: { count: 2, retryAfterSeconds: 3 } });
    try {
      const locations = await clientFor(fake, { retry: { sleep } }).listLocations();
      expect(locations.length).toBe(fake.locationIds.length);
      expect(delays).toEqual([3000, 3000]);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('retries a 5xx and then succeeds; gives up after maxAttempts when it persists', async () => {
    const { sleep, delays } = recordingSleep();
    fake.control.setFaults({ serverErrors: { onRequests: [2], status: 503, endpoint: 'refunds.list' } });
    try {
      const { records } = await collect(clientFor(fake, { retry: { sleep } }).refunds({ limit: 2 }));
      expect(ids(records).sort()).toEqual(fake.control.store.refunds.listLatest().map((r) => r.id).sort());
      expect(delays).toHaveLength(1);
    } finally {
      fake.control.clearFaults();
    }

    fake.control.setFaults({ serverErrors: { rate: 1, status: 502 } });
    try {
      const err = await clientFor(fake, { retry: { sleep, maxAttempts: 3 } })
        .listLocations()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PosApiError);
      expect(err).toMatchObject({ provider: 'square', status: 502, code: 'BAD_GATEWAY', category: 'API_ERROR', retryable: true });
      expect((err as Error).message).toMatch(/gave up after 3 attempts/);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('fails a 401 at once with a clear message that does not contain the token', async () => {
    const { sleep, delays } = recordingSleep();
    const badToken = 'EAAA-not-the-right-token-0123456789';
    fake.control.resetRequestStats();
    const err = await collect(clientFor(fake, { accessToken: badToken, retry: { sleep } }).payments({ locationId: fake.mainLocationId })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PosApiError);
    expect(err).toMatchObject({ provider: 'square', status: 401, code: 'UNAUTHORIZED', retryable: false });
    expect((err as Error).message).toBe("Square rejected the access token (401 UNAUTHORIZED): check the connection's credentials");
    expect(JSON.stringify(err)).not.toContain(badToken);
    expect(String((err as Error).stack)).not.toContain(badToken);
    expect(fake.control.requestCounts()['payments.list']).toBe(1);
    expect(delays).toEqual([]);
  });

  it('surfaces Square\'s category, code and field on a 400 and does not retry it', async () => {
    const { sleep, delays } = recordingSleep();
    const err = await collect(clientFor(fake, { retry: { sleep } }).payments({ locationId: fake.mainLocationId }, { resumeFrom: 'garbage!' })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 400, category: 'INVALID_REQUEST_ERROR', code: 'INVALID_CURSOR', field: 'cursor', retryable: false });
    expect((err as Error).message).toMatch(/^Square GET \/v2\/payments failed \(400 INVALID_REQUEST_ERROR INVALID_CURSOR\)/);
    expect(delays).toEqual([]);
  });

  it('retries network failures (connections refused or reset) until the network is back', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(fake.url).port) });
    try {
      const events: RetryEvent[] = [];
      const { sleep } = recordingSleep(undefined, () => {
        if (events.length === 2) proxy.restore();
      });
      const client = clientFor(fake, { baseUrl: `http://${proxy.host}`, retry: { sleep, onRetry: (e) => events.push(e) } });
      expect((await client.listLocations()).length).toBe(fake.locationIds.length);
      proxy.cut();
      const locations = await client.listLocations();
      expect(locations.length).toBe(fake.locationIds.length);
      expect(events).toHaveLength(2);
      expect(events.every((e) => e.status === 0 && e.code !== '')).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

describe('SquareClient timeouts', () => {
  it('treats a request that outlives timeoutMs as a retryable TIMEOUT', async () => {
    const fake = await startSquareFake({ faults: { latencyMs: 300 } });
    try {
      const { sleep, delays } = recordingSleep();
      const client = new SquareClient({ baseUrl: fake.url, accessToken: fake.token, squareVersion: VERSION, timeoutMs: 50, retry: { sleep, maxAttempts: 2 } });
      const err = await client.listLocations().catch((e: unknown) => e);
      expect(err).toMatchObject({ provider: 'square', status: 0, code: 'TIMEOUT', retryable: true });
      expect((err as Error).message).toMatch(/^Square GET \/v2\/locations: no answer within 50 ms/);
      expect(delays).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});

describe('SquareClient begin_time', () => {
  it('reaches payments created more than a year ago, which Square\'s default begin_time would hide', async () => {
    const clock = new ManualClock('2027-06-01T00:00:00Z');
    const fake = await startSquareFake({ clock });
    try {
      const location = fake.mainLocationId;
      const expected = fake.dataset.square.payments.filter((p) => p.locationId === location).length;
      const { records } = await collect(clientFor(fake).payments({ locationId: location, updatedAtBeginTime: '2026-01-01T00:00:00Z' }));
      expect(records.length).toBe(expected);

      // Without begin_time, Square (and the fake) count from now − 1 year and miss all of them.
      const res = await fetch(`${fake.url}/v2/payments?location_id=${location}&updated_at_begin_time=2026-01-01T00:00:00Z`, { headers: fake.headers() });
      expect(await res.json()).toEqual({});
    } finally {
      await fake.close();
    }
  });
});
