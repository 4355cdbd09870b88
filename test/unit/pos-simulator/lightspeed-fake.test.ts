// The Lightspeed R-Series fake against POS-APIS.md, driven with plain fetch as an ingester would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/pos-simulator/sim-clock.js';
import { startLightspeedFake, type LightspeedFake } from '../../fakes/lightspeed.fake.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies from the fake; the assertions are their type check
type Body = any;

async function get(url: string, token: string) {
  const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
}

/** Lightspeed's "one record is an object" rule, undone. */
const asArray = <T>(value: T | T[] | '' | undefined): T[] => (value === undefined || value === '' ? [] : Array.isArray(value) ? value : [value]);

async function followNext(fake: LightspeedFake, token: string, firstUrl: string, entity: string) {
  const rows: Body[] = [];
  let url = firstUrl;
  let pages = 0;
  while (url) {
    const { status, body } = await get(url, token);
    expect(status).toBe(200);
    rows.push(...asArray(body[entity]));
    url = body['@attributes'].next;
    pages++;
  }
  return { rows, pages };
}

function allLeavesAreStrings(value: unknown): boolean {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return false;
  if (typeof value === 'object') return Object.values(value).every(allLeavesAreStrings);
  return true;
}

describe('Lightspeed fake', () => {
  let fake: LightspeedFake;
  let token: string;
  beforeAll(async () => {
    fake = await startLightspeedFake();
    token = await fake.accessToken();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('covers every sale exactly once by following @attributes.next until it is ""', async () => {
    const { rows, pages } = await followNext(fake, token, fake.accountUrl('Sale.json?limit=40'), 'Sale');
    expect(pages).toBeGreaterThan(3);
    const ids = rows.map((s) => s.saleID as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(fake.dataset.lightspeed.sales.map((s) => String(s.saleId))));
  });

  it('pages by sort=-timeStamp with a timeStamp filter, and walks back with @attributes.previous', async () => {
    const since = encodeURIComponent('>=,2026-04-20T00:00:00+00:00');
    const first = await get(fake.accountUrl(`Sale.json?limit=10&sort=-timeStamp&timeStamp=${since}`), token);
    const stamps = asArray<Body>(first.body.Sale).map((s) => Date.parse(s.timeStamp));
    expect(stamps).toEqual([...stamps].sort((a, b) => b - a));
    expect(stamps.every((t) => t >= Date.parse('2026-04-20T00:00:00Z'))).toBe(true);
    expect(first.body['@attributes'].previous).toBe('');
    const second = await get(first.body['@attributes'].next, token);
    const back = await get(second.body['@attributes'].previous, token);
    expect(back.body.Sale).toEqual(first.body.Sale);
  });

  it('sends strings for numbers and booleans, objects for single relations and "" for empty ones', async () => {
    const relations = encodeURIComponent('["SaleLines","SaleLines.Item","Customer"]');
    const { rows } = await followNext(fake, token, fake.accountUrl(`Sale.json?load_relations=${relations}`), 'Sale');
    expect(rows.every(allLeavesAreStrings)).toBe(true);
    expect(rows.every((s) => /^-?\d+(\.\d{1,2})?$/.test(s.calcTotal) && ['true', 'false'].includes(s.completed))).toBe(true);
    const singleLine = rows.find((s) => s.SaleLines !== '' && !Array.isArray(s.SaleLines.SaleLine));
    expect(singleLine.SaleLines.SaleLine).toMatchObject({ saleLineID: expect.any(String), Item: { itemID: singleLine.SaleLines.SaleLine.itemID } });
    expect(rows.some((s) => Array.isArray(s.SaleLines.SaleLine))).toBe(true);
    expect(rows.some((s) => s.SaleLines === '')).toBe(true);
    expect(rows.find((s) => s.customerID === '0').Customer).toBe('');
    expect(rows.find((s) => s.customerID !== '0').Customer).toMatchObject({ customerID: expect.any(String), Contact: expect.any(Object) });
    expect(rows.some((s) => s.voided === 'true')).toBe(true);
    expect(rows.some((s) => asArray<Body>(s.SaleLines.SaleLine).some((l) => Number(l.unitQuantity) < 0))).toBe(true);

    const one = await get(fake.accountUrl('Sale.json?saleID=1'), token);
    expect(Array.isArray(one.body.Sale)).toBe(false);
    expect(one.body.Sale.saleID).toBe('1');
    const none = await get(fake.accountUrl('Sale.json?saleID=999999'), token);
    expect(none.body).toEqual({ '@attributes': { next: '', previous: '' } });

    const items = await get(fake.accountUrl('Item.json'), token);
    const prices = asArray<Body>(items.body.Item).map((i): Body => i.Prices.ItemPrice);
    expect(prices.some((p) => !Array.isArray(p) && p.useType === 'Default')).toBe(true);
    expect(prices.some((p) => Array.isArray(p))).toBe(true);
    const customers = await get(fake.accountUrl('Customer.json'), token);
    const contacts = asArray<Body>(customers.body.Customer).map((c): Body => c.Contact);
    expect(contacts.some((c) => Array.isArray(c.Phones.ContactPhone))).toBe(true);
    expect(contacts.some((c) => c.Phones !== '' && !Array.isArray(c.Phones.ContactPhone))).toBe(true);
  });

  it('refuses offset paging, limits above 100 and an unencoded "+" in a time filter', async () => {
    expect((await get(fake.accountUrl('Sale.json?offset=100'), token)).status).toBe(400);
    const big = await get(fake.accountUrl('Sale.json?limit=101'), token);
    expect(big.status).toBe(400);
    expect(big.body).toMatchObject({ httpCode: '400', httpMessage: 'Bad Request', message: expect.any(String) });
    expect((await get(fake.accountUrl('Sale.json?timeStamp=>,2026-04-20T00:00:00+00:00'), token)).status).toBe(400);
  });

  it('serves exactly one malformed sale in otherwise valid pages', async () => {
    fake.control.setFaults({ malformedRows: { resource: 'Sale' } });
    try {
      const { rows } = await followNext(fake, token, fake.accountUrl('Sale.json'), 'Sale');
      const bad = rows.filter((s) => Number.isNaN(Number(s.calcTotal)) || typeof s.timeStamp !== 'string').map((s) => s.saleID as string);
      expect(bad).toHaveLength(1);
      expect(bad).toEqual(fake.control.malformedIds());
    } finally {
      fake.control.clearFaults();
    }
  });

  it('answers injected 429s with Retry-After and the rate-limit type', async () => {
    fake.control.setFaults({ rateLimitBurst: { count: 1, retryAfterSeconds: 2, endpoint: 'Item' } });
    try {
      const limited = await get(fake.accountUrl('Item.json'), token);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('2');
      expect(limited.headers.get('x-ls-api-ratelimit-type')).toBeTruthy();
      expect((await get(fake.accountUrl('Item.json'), token)).status).toBe(200);
    } finally {
      fake.control.clearFaults();
    }
  });

  it('shows a sale added at runtime to a timeStamp-filtered incremental read', async () => {
    const since = new Date(Date.now() - 1000).toISOString().replace('Z', '+00:00');
    const sale = fake.control.addSale({ customerId: 1 });
    const { body } = await get(fake.accountUrl(`Sale.json?timeStamp=${encodeURIComponent(`>,${since}`)}`), token);
    expect(asArray<Body>(body.Sale).map((s) => s.saleID as string)).toEqual([String(sale.saleId)]);
  });
});

describe('Lightspeed fake, OAuth and rate limits', () => {
  it('rotates refresh tokens: the used one is refused, the new one works, access tokens expire', async () => {
    const clock = new ManualClock('2026-05-02T12:00:00Z');
    const fake = await startLightspeedFake({ clock });
    try {
      const grant = (refreshToken: string, clientSecret = fake.clientSecret) =>
        fetch(fake.tokenUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', client_id: fake.clientId, client_secret: clientSecret, refresh_token: refreshToken }),
        });
      const original = fake.refreshToken;
      const first = await grant(original);
      const tokens = (await first.json()) as Body;
      expect(first.status).toBe(200);
      expect(tokens).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String), expires_in: 1800 });
      expect(tokens.refresh_token).not.toBe(original);

      const reused = await grant(original);
      expect(reused.status).toBe(400);
      expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
      expect((await grant(tokens.refresh_token, 'wrong')).status).toBe(401);
      expect(fake.control.validRefreshTokens()).toEqual([tokens.refresh_token]);

      expect((await get(fake.accountUrl('Shop.json'), tokens.access_token)).status).toBe(200);
      clock.advance(1800 * 1000);
      const expired = await get(fake.accountUrl('Shop.json'), tokens.access_token);
      expect(expired.status).toBe(401);
      expect(expired.body.httpCode).toBe('401');
      const next = await grant(tokens.refresh_token);
      expect(next.status).toBe(200);
      expect((await get(fake.accountUrl('Shop.json'), ((await next.json()) as Body).access_token)).status).toBe(200);
    } finally {
      await fake.close();
    }
  });

  it('fills the leaky bucket per request, answers 429 with Retry-After on overflow, and drains at the drip rate', async () => {
    const clock = new ManualClock('2026-05-02T12:00:00Z');
    const fake = await startLightspeedFake({ clock, rateLimit: { bucketSize: 5 } });
    try {
      const token = await fake.accessToken();
      const levels: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await get(fake.accountUrl('Shop.json'), token);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ls-api-drip-rate')).toBe('1');
        levels.push(res.headers.get('x-ls-api-bucket-level') ?? '');
      }
      expect(levels).toEqual(['1/5', '2/5', '3/5', '4/5', '5/5']);
      const over = await get(fake.accountUrl('Shop.json'), token);
      expect(over.status).toBe(429);
      expect(over.headers.get('retry-after')).toBe('1');
      expect(over.headers.get('x-ls-api-ratelimit-type')).toBe('bucket');
      clock.advance(1000);
      const after = await get(fake.accountUrl('Shop.json'), token);
      expect(after.status).toBe(200);
      expect(after.headers.get('x-ls-api-bucket-level')).toBe('5/5');
      expect(fake.control.requestCounts().Shop).toBe(7);
    } finally {
      await fake.close();
    }
  });

  it('sizes the default bucket at 90 plus 10 per extra register', async () => {
    const fake = await startLightspeedFake({ lightspeedShops: 3 });
    try {
      const res = await get(fake.accountUrl('Shop.json'), await fake.accessToken());
      expect(res.headers.get('x-ls-api-bucket-level')).toMatch(/^[\d.]+\/110$/);
      expect(res.body.Shop).toHaveLength(3);
    } finally {
      await fake.close();
    }
  });

  it('expires the access token on the Nth request when told to', async () => {
    const fake = await startLightspeedFake({ faults: { expireTokenOnRequest: 2 } });
    try {
      const token = await fake.accessToken();
      expect((await get(fake.accountUrl('Shop.json'), token)).status).toBe(200);
      expect((await get(fake.accountUrl('Shop.json'), token)).status).toBe(401);
      expect((await get(fake.accountUrl('Shop.json'), await fake.accessToken())).status).toBe(200);
    } finally {
      await fake.close();
    }
  });
});
