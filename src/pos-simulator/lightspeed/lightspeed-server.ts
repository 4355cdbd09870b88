// Starts the Lightspeed-shaped server on loopback and hands back its URLs, OAuth credentials
// and a control surface for tests: faults, request counts, token expiry, rate-limit settings,
// and runtime data changes (a new sale, a return, a void) for incremental-sync tests.
import type { LightspeedDataset } from '../data/sim-model.js';
import { FaultInjector, type FaultOptions } from '../faults.js';
import { listen } from '../http-listen.js';
import { RequestStats, type SimulatorControl } from '../request-stats.js';
import type { SimClock } from '../sim-clock.js';
import { AccountRateLimiter, type RateLimitOptions } from './leaky-bucket.js';
import { createLightspeedApp } from './lightspeed-app.js';
import { LightspeedOAuth } from './lightspeed-oauth.js';
import { LightspeedStore } from './lightspeed-store.js';

export interface LightspeedSimOptions {
  port?: number;
  accountId?: string;
  clientId?: string;
  clientSecret?: string;
  /** The refresh token the "merchant" granted; default random. It rotates on first use. */
  refreshToken?: string;
  /** Access token lifetime, default 1800 s as documented. */
  accessTokenTtlSeconds?: number;
  /** Default: bucket 90 + 10 per register after the first, drip 1/s, burst 50 per second. */
  rateLimit?: Partial<RateLimitOptions>;
  faults?: FaultOptions;
}

/** Resources the malformed-rows fault can target on Lightspeed. */
export type LightspeedResource = 'Sale' | 'Item' | 'Customer' | 'Shop';

export interface LightspeedControl extends SimulatorControl {
  readonly store: LightspeedStore;
  /** Every access token issued so far expires now (the next API call gets 401). */
  expireAccessTokens(): void;
  setAccessTokenTtl(seconds: number): void;
  /** A new valid refresh token, as after the merchant re-authorizes the app. */
  mintRefreshToken(): string;
  /** The refresh tokens accepted right now (one, after rotation). */
  validRefreshTokens(): string[];
  setRateLimit(options: Partial<RateLimitOptions>): void;
  rateLimit(): Readonly<RateLimitOptions>;
  bucketLevel(): number;
  /** Adds units to the bucket, as other apps on the same account would. */
  fillBucket(units: number): void;
  addSale: LightspeedStore['addSale'];
  returnSale: LightspeedStore['returnSale'];
  voidSale: LightspeedStore['voidSale'];
  addCustomer: LightspeedStore['addCustomer'];
  updateCustomer: LightspeedStore['updateCustomer'];
  updateItem: LightspeedStore['updateItem'];
  /** Ids the malformed-rows fault currently corrupts (empty when it is off). */
  malformedIds(): string[];
}

export interface RunningLightspeedServer {
  /** Origin standing in for https://api.lightspeedapp.com (API paths start with /API/V3). */
  url: string;
  /** `${url}/API/V3` */
  apiUrl: string;
  /** Standing in for https://cloud.lightspeedapp.com/auth/oauth/token. */
  tokenUrl: string;
  accountId: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  control: LightspeedControl;
  close(): Promise<void>;
}

export async function startLightspeedServer(
  data: LightspeedDataset,
  seed: string,
  clock: SimClock,
  host: string,
  opts: LightspeedSimOptions = {},
): Promise<RunningLightspeedServer> {
  const faults = new FaultInjector(`${seed}/lightspeed`, opts.faults);
  const stats = new RequestStats();
  const store = new LightspeedStore(data, clock, () => faults.consistencyDelayMs);
  const clientId = opts.clientId ?? 'simulator-client';
  const clientSecret = opts.clientSecret ?? 'simulator-secret';
  const oauth = new LightspeedOAuth({ clientId, clientSecret }, clock, opts.accessTokenTtlSeconds ?? 1800, opts.refreshToken);
  const limiter = new AccountRateLimiter(
    {
      bucketSize: 90 + 10 * Math.max(0, store.registerCount - 1),
      dripRatePerSecond: 1,
      burst: { limit: 50, windowMs: 1000 },
      ...opts.rateLimit,
    },
    clock,
  );
  const accountId = opts.accountId ?? '230911';
  let publicUrl = '';
  const app = createLightspeedApp({
    store,
    clock,
    faults,
    stats,
    oauth,
    limiter,
    accountId,
    accountName: 'Simulated Retail Co.',
    publicUrl: () => publicUrl,
  });
  const server = await listen(app, host, opts.port ?? 0);
  publicUrl = server.url;

  const candidates: Record<LightspeedResource, () => string[]> = {
    Sale: () => store.sales.listVisible(clock.now()).map((r) => String(r.saleId)),
    Item: () => store.items.listVisible(clock.now()).map((r) => String(r.itemId)),
    Customer: () => store.customers.listVisible(clock.now()).map((r) => String(r.customerId)),
    Shop: () => store.shops.map((r) => String(r.shopId)),
  };
  const control: LightspeedControl = {
    store,
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faults: () => faults.current,
    requestCounts: () => stats.countsByEndpoint(),
    requestLog: () => stats.log(),
    resetRequestStats: () => stats.reset(),
    expireAccessTokens: () => oauth.expireAccessTokens(),
    setAccessTokenTtl: (seconds) => {
      oauth.accessTokenTtlSeconds = seconds;
    },
    mintRefreshToken: () => oauth.mintRefreshToken(),
    validRefreshTokens: () => oauth.validRefreshTokens(),
    setRateLimit: (options) => limiter.configure(options),
    rateLimit: () => limiter.settings,
    bucketLevel: () => limiter.currentLevel(),
    fillBucket: (units) => limiter.fill(units),
    addSale: (input) => store.addSale(input),
    returnSale: (saleId, lines) => store.returnSale(saleId, lines),
    voidSale: (saleId) => store.voidSale(saleId),
    addCustomer: (input) => store.addCustomer(input),
    updateCustomer: (id, patch) => store.updateCustomer(id, patch),
    updateItem: (id, change) => store.updateItem(id, change),
    malformedIds: () => {
      const resource = faults.current.malformedRows?.resource as LightspeedResource | undefined;
      const list = resource ? candidates[resource] : undefined;
      if (!resource || !list) return [];
      return [...(faults.malformedIds(resource, () => list().sort())?.ids ?? [])];
    },
  };
  return {
    url: server.url,
    apiUrl: `${server.url}/API/V3`,
    tokenUrl: `${server.url}/auth/oauth/token`,
    accountId,
    clientId,
    clientSecret,
    refreshToken: oauth.initialRefreshToken,
    control,
    close: () => server.close(),
  };
}
