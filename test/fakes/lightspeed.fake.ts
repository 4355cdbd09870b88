// A fake Lightspeed Retail (R-Series) API for tests: the POS simulator's Lightspeed server on
// loopback with a small deterministic dataset, fault injection and runtime data changes. It
// implements these facts from POS-APIS.md ("Lightspeed Retail R-Series API V3"):
// - Account/{accountID}/Sale.json, Item.json, Customer.json; limit 0–100 (default 100); paging only
//   by following `@attributes.next` (full URL with an opaque `after`), "" on the last page; no offset.
// - Filters `field=op,value` (>, >=, <, <=, ><, !=, ~, IN,[…]); sort=timeStamp / sort=-timeStamp; UTC.
// - load_relations=["SaleLines","SaleLines.Item","Customer"] as a JSON array.
// - Sale, SaleLine (negative unitQuantity on returns), Item (Prices.ItemPrice), Customer
//   (Contact.Emails.ContactEmail, Contact.Phones.ContactPhone) fields as documented.
// - Quirks: every value a string; a relation with one record is an object; an empty relation is "".
// - Leaky bucket per account (90 + 10 per extra register, drip 1/s) plus a burst limiter; headers
//   X-LS-API-Bucket-Level "n/size", X-LS-API-Drip-Rate, X-LS-API-Burst-Level; 429 with Retry-After
//   and X-LS-API-RateLimit-Type.
// - OAuth2 refresh_token grant → {access_token, refresh_token, expires_in: 1800}; refresh tokens
//   rotate (the used one is dead); an expired access token gives 401.
import { generatePosDataset, type DatasetOptions } from '../../src/pos-simulator/data/generate-dataset.js';
import type { PosDataset } from '../../src/pos-simulator/data/sim-model.js';
import type { FaultOptions } from '../../src/pos-simulator/faults.js';
import type { RateLimitOptions } from '../../src/pos-simulator/lightspeed/leaky-bucket.js';
import { startLightspeedServer, type LightspeedControl } from '../../src/pos-simulator/lightspeed/lightspeed-server.js';
import { systemClock, type SimClock } from '../../src/pos-simulator/sim-clock.js';

export const TEST_DATASET: DatasetOptions = {
  seed: 'lightspeed-fake',
  customers: 30,
  startAt: '2026-04-01T00:00:00Z',
  endAt: '2026-05-01T00:00:00Z',
  transactionsPerDay: 3,
};

export interface LightspeedFakeOptions extends DatasetOptions {
  faults?: FaultOptions;
  clock?: SimClock;
  accessTokenTtlSeconds?: number;
  /** Tests default to no burst limiter, so only the bucket (or injected faults) answer 429. */
  rateLimit?: Partial<RateLimitOptions>;
}

export interface LightspeedFake {
  url: string;
  apiUrl: string;
  tokenUrl: string;
  accountId: string;
  clientId: string;
  clientSecret: string;
  /** The refresh token this fake's own `accessToken()` helper holds now (it follows rotation). */
  refreshToken: string;
  dataset: PosDataset;
  control: LightspeedControl;
  /** `${apiUrl}/Account/${accountId}/${path}` */
  accountUrl(path: string): string;
  /** Runs the refresh grant with the current refresh token, keeps the rotated one, returns the access token. */
  accessToken(): Promise<string>;
  close(): Promise<void>;
}

export async function startLightspeedFake(opts: LightspeedFakeOptions = {}): Promise<LightspeedFake> {
  const clock = opts.clock ?? systemClock;
  const dataset = generatePosDataset({ ...TEST_DATASET, ...opts }, clock.now());
  const server = await startLightspeedServer(dataset.lightspeed, dataset.seed, clock, '127.0.0.1', {
    rateLimit: { burst: null, ...opts.rateLimit },
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.accessTokenTtlSeconds !== undefined ? { accessTokenTtlSeconds: opts.accessTokenTtlSeconds } : {}),
  });
  let refreshToken = server.refreshToken;
  return {
    url: server.url,
    apiUrl: server.apiUrl,
    tokenUrl: server.tokenUrl,
    accountId: server.accountId,
    clientId: server.clientId,
    clientSecret: server.clientSecret,
    get refreshToken() {
      return refreshToken;
    },
    dataset,
    control: server.control,
    accountUrl: (path) => `${server.apiUrl}/Account/${server.accountId}/${path}`,
    async accessToken() {
      const res = await fetch(server.tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', client_id: server.clientId, client_secret: server.clientSecret, refresh_token: refreshToken }),
      });
      const body = (await res.json()) as { access_token?: string; refresh_token?: string };
      if (res.status !== 200 || !body.access_token || !body.refresh_token) throw new Error(`token refresh failed: ${res.status}`);
      refreshToken = body.refresh_token;
      return body.access_token;
    },
    close: () => server.close(),
  };
}
