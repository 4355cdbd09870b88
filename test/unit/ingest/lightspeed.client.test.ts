// LightspeedClient against the Lightspeed fake (test/fakes): paging by @attributes.next, filter
// and relation query strings, retries on 429 (Retry-After) and 5xx, and pacing from the bucket
// headers so a small bucket makes the client wait rather than overflow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PosApiError } from '../../../src/ingest/http/pos-api-error.js';
import type { RetryOptions } from '../../../src/ingest/http/retry-policy.js';
import { LightspeedOAuth } from '../../../src/ingest/lightspeed/lightspeed.auth.js';
import {
  buildLightspeedQuery,
  LIGHTSPEED_SALE_RELATIONS,
  LightspeedClient,
  type LightspeedPacingOptions,
} from '../../../src/ingest/lightspeed/lightspeed.client.js';
import { ManualClock } from '../../../src/pos-simulator/sim-clock.js';
import { startLightspeedFake, type LightspeedFake } from '../../fakes/lightspeed.fake.js';
import { collect, ids, MemoryCredentialStore, recordingSleep } from './ingest-helpers.js';

function clientFor(fake: LightspeedFake, opts: { retry?: RetryOptions; pacing?: LightspeedPacingOptions | false } = {}) {
  const retry: RetryOptions = { random: () => 0.5, ...opts.retry };
  const auth = new LightspeedOAuth({
    tokenUrl: fake.tokenUrl,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    store: new MemoryCredentialStore(fake.control.mintRefreshToken()),
    retry,
  });
  return new LightspeedClient({
    apiUrl: fake.apiUrl,
    accountId: fake.accountId,
    auth,
    retry,
    ...(opts.pacing !== undefined ? { pacing: opts.pacing } : {}),
  });
}

const saleIds = (records: unknown[]) => ids(records, 'saleID');

describe('LightspeedClient against the Lightspeed fake', () => {
  let fake: LightspeedFake;
  beforeAll(async () => {
    fake = await startLightspeedFake();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('follows @attributes.next to the end: every sale once, with relations loaded', async () => {
    const client = clientFor(fake);
    const { records, pages } = await collect(client.pages('Sale', { limit: 40, loadRelations: LIGHTSPEED_SALE_RELATIONS }));
    expect(pages.length).toBe(Math.ceil(fake.dataset.lightspeed.sales.length / 40));
    expect(pages.slice(0, -1).every((p) => p.next?.startsWith(fake.apiUrl))).toBe(true);
    expect(pages.at(-1)?.next).toBeUndefined();
    const got = saleIds(records);
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(fake.dataset.lightspeed.sales.map((s) => String(s.saleId)).sort());
    expect(records.some((s) => typeof (s as { SaleLines: unknown }).SaleLines === 'object')).toBe(true);
  });

  it('filters on timeStamp >= a time and sorts ascending by timeStamp', async () => {
    const since = new Date('2026-04-22T00:00:00Z');
    const expected = fake.dataset.lightspeed.sales
      .filter((s) => s.updatedAt >= since.getTime())
      .sort((a, b) => a.updatedAt - b.updatedAt || a.saleId - b.saleId)
      .map((s) => String(s.saleId));
    expect(expected.length).toBeGreaterThan(10);
    const { records } = await collect(clientFor(fake).pages('Sale', { filters: [{ field: 'timeStamp', op: '>=', value: since }], sort: 'timeStamp', limit: 7 }));
    expect(saleIds(records)).toEqual(expected);
  });

  it('resumes from a stored next URL without repeating the pages before it', async () => {
    const client = clientFor(fake);
    const first = await client.pages('Customer', { limit: 6 }).next();
    const page = first.value as { records: unknown[]; next?: string };
    const rest = await collect(client.pages('Customer', {}, { resumeFrom: page.next! }));
    const all = [...ids(page.records, 'customerID'), ...ids(rest.records, 'customerID')];
    expect(all.sort()).toEqual(fake.dataset.lightspeed.customers.map((c) => String(c.customerId)).sort());
  });

  it('refuses to send credentials to a paging URL on another origin', async () => {
    const err = await collect(clientFor(fake).pages('Sale', {}, { resumeFrom: 'http://127.0.0.2:1/API/V3/Account/1/Sale.json' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PosApiError);
    expect((err as Error).message).toMatch(/another origin/);
  });

  it('obeys Retry-After on 429 and finishes the list', async () => {
    const { sleep, delays } = recordingSleep();
    fake.control.setFaults({ rateLimitBurst: { startAt: 2, count: 2, retryAfterSeconds: 2, endpoint: 'Item' } });
    try {
      const { records, pages } = await collect(clientFor(fake, { retry: { sleep } }).pages('Item', { limit: 4 }));
      expect(ids(records, 'itemID').sort()).toEqual(fake.dataset.lightspeed.items.map((i) => String(i.itemId)).sort());
      expect(delays).toEqual([2000, 2000]);
      expect(pages[1]?.requestCount).toBe(3);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('retries a 5xx and then succeeds; fails clearly on a 400', async () => {
    const { sleep, delays } = recordingSleep();
    fake.control.setFaults({ serverErrors: { onRequests: [1, 3], status: 503, endpoint: 'Customer' } });
    try {
      const { records } = await collect(clientFor(fake, { retry: { sleep } }).pages('Customer', { limit: 10 }));
      expect(records.length).toBe(fake.dataset.lightspeed.customers.length);
      expect(delays).toHaveLength(2);
    } finally {
      fake.control.clearFaults();
    }
    const err = await collect(clientFor(fake, { retry: { sleep } }).pages('Sale', { filters: [{ field: 'noSuchField', op: '=', value: 1 }] })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ provider: 'lightspeed', status: 400, retryable: false });
    expect((err as Error).message).toMatch(/^Lightspeed GET \/API\/V3\/Account\/\d+\/Sale\.json failed \(400 Exception\): Unknown field noSuchField/);
  });
});

describe('Lightspeed query strings', () => {
  it('URL-encodes operators and values, keeps commas, and sends load_relations as a JSON array', () => {
    expect(
      buildLightspeedQuery({
        filters: [{ field: 'timeStamp', op: '>=', value: new Date('2026-01-01T00:00:00.456Z') }],
        sort: 'timeStamp',
        loadRelations: LIGHTSPEED_SALE_RELATIONS,
      }),
    ).toBe('timeStamp=%3E%3D,2026-01-01T00:00:00Z&sort=timeStamp&limit=100&load_relations=%5B%22SaleLines%22%2C%22SaleLines.Item%22%2C%22Customer%22%5D');
    expect(buildLightspeedQuery({ filters: [{ field: 'timeStamp', op: '>', value: '2026-01-01T00:00:00+00:00' }], limit: 5 })).toBe(
      'timeStamp=%3E,2026-01-01T00:00:00%2B00:00&limit=5',
    );
    expect(buildLightspeedQuery({ filters: [{ field: 'calcTotal', op: '><', value: [1, 2.5] }, { field: 'customerID', op: 'IN', value: [1, 2] }] })).toBe(
      'calcTotal=%3E%3C,1,2.5&customerID=IN,%5B1%2C2%5D&limit=100',
    );
    expect(buildLightspeedQuery({ filters: [{ field: 'customerID', op: '=', value: 0 }], sort: '-timeStamp' })).toBe('customerID=0&sort=-timeStamp&limit=100');
    expect(() => buildLightspeedQuery({ limit: 101 })).toThrow(RangeError);
    expect(() => buildLightspeedQuery({ filters: [{ field: 'a&b', op: '=', value: 1 }] })).toThrow(RangeError);
  });

  it('the fake reads these filters as intended', async () => {
    const fake = await startLightspeedFake();
    try {
      const client = clientFor(fake);
      const between = await collect(client.pages('Sale', { filters: [{ field: 'saleID', op: '><', value: [3, 7] }] }));
      expect(saleIds(between.records).sort()).toEqual(['3', '4', '5', '6', '7']);
      const inList = await collect(client.pages('Sale', { filters: [{ field: 'saleID', op: 'IN', value: [2, 9] }] }));
      expect(saleIds(inList.records).sort()).toEqual(['2', '9']);
      const plusOffset = await collect(client.pages('Sale', { filters: [{ field: 'timeStamp', op: '>', value: '2026-04-29T00:00:00+00:00' }] }));
      expect(plusOffset.records.length).toBe(fake.dataset.lightspeed.sales.filter((s) => s.updatedAt > Date.parse('2026-04-29T00:00:00Z')).length);
    } finally {
      await fake.close();
    }
  });
});

describe('Lightspeed pacing', () => {
  async function pageWithSmallBucket(pacing: LightspeedPacingOptions | false) {
    const clock = new ManualClock('2026-05-02T12:00:00Z');
    const fake = await startLightspeedFake({ clock, rateLimit: { bucketSize: 5, dripRatePerSecond: 1 } });
    try {
      const { sleep, delays } = recordingSleep(clock);
      const waits: number[] = [];
      const client = clientFor(fake, {
        retry: { sleep, now: () => clock.now() },
        pacing: pacing === false ? false : { ...pacing, onWait: (e) => waits.push(e.waitMs) },
      });
      const { records } = await collect(client.pages('Sale', { limit: 10 }));
      const statuses = fake.control.requestLog().filter((e) => e.endpoint === 'Sale').map((e) => e.status);
      return { records, statuses, delays, waits, expected: fake.dataset.lightspeed.sales.length };
    } finally {
      await fake.close();
    }
  }

  it('waits for the bucket to drain instead of overflowing it: no 429 with a bucket of 5', async () => {
    const run = await pageWithSmallBucket({});
    expect(run.records.length).toBe(run.expected);
    expect(run.statuses.length).toBe(Math.ceil(run.expected / 10));
    expect(run.statuses.every((s) => s === 200)).toBe(true);
    expect(run.waits.length).toBeGreaterThan(5);
    expect(run.waits.every((ms) => ms > 0 && ms <= 2000)).toBe(true);
    expect(run.delays).toEqual(run.waits);
  });

  it('without pacing, the same run overflows the bucket and leans on 429 retries', async () => {
    const run = await pageWithSmallBucket(false);
    expect(run.records.length).toBe(run.expected);
    expect(run.statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  });

  it('computes the wait from level, size, drip rate and time since the reading', async () => {
    const clock = new ManualClock('2026-05-02T12:00:00Z');
    const fake = await startLightspeedFake({ clock, rateLimit: { bucketSize: 10, dripRatePerSecond: 2 } });
    try {
      const client = clientFor(fake, { retry: { now: () => clock.now() }, pacing: { reserveUnits: 1 } });
      fake.control.fillBucket(8);
      await client.pages('Shop').next();
      // Level 9 of 10 read now: the next unit fits under 10 − 1 once the level is 8, 0.5 s at 2/s.
      expect(client.pacingDelayMs()).toBe(500);
      clock.advance(200);
      expect(client.pacingDelayMs()).toBe(300);
      clock.advance(300);
      expect(client.pacingDelayMs()).toBe(0);
    } finally {
      await fake.close();
    }
  });
});
