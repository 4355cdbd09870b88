// Starts the Square-shaped server on loopback and hands back its URL, token and a control
// surface for tests: faults, request counts, token expiry, and runtime data changes (a refund
// issued now, a new payment) for incremental-sync tests.
import { randomBytes } from 'node:crypto';
import { Prng } from '../data/prng.js';
import type { SquareDataset } from '../data/sim-model.js';
import { FaultInjector, type FaultOptions } from '../faults.js';
import { listen } from '../http-listen.js';
import { RequestStats, type SimulatorControl } from '../request-stats.js';
import type { SimClock } from '../sim-clock.js';
import { createSquareApp, type SquareAuthState } from './square-app.js';
import { SquareStore } from './square-store.js';

export const DEFAULT_SQUARE_VERSION = '2025-10-16';

export interface SquareSimOptions {
  port?: number;
  /** Default: a random token. */
  token?: string;
  /** The version pinned to the "application", used when a request sends no Square-Version. */
  defaultVersion?: string;
  faults?: FaultOptions;
}

/** Resources the malformed-rows fault can target on Square. */
export type SquareResource = 'payments' | 'refunds' | 'customers' | 'catalog';

export interface SquareControl extends SimulatorControl {
  readonly store: SquareStore;
  /** The token stays the same but answers 401 ACCESS_TOKEN_EXPIRED until renewed. */
  expireToken(): void;
  /** Issues a fresh token (the old one stops working) and returns it. */
  renewToken(): string;
  issueRefund: SquareStore['issueRefund'];
  addPayment: SquareStore['addPayment'];
  setPaymentStatus: SquareStore['setPaymentStatus'];
  addCustomer: SquareStore['addCustomer'];
  updateCustomer: SquareStore['updateCustomer'];
  updateCatalogObject: SquareStore['updateCatalogObject'];
  /** Ids the malformed-rows fault currently corrupts (empty when it is off). */
  malformedIds(): string[];
}

export interface RunningSquareServer {
  url: string;
  token: string;
  control: SquareControl;
  close(): Promise<void>;
}

export async function startSquareServer(
  data: SquareDataset,
  seed: string,
  clock: SimClock,
  host: string,
  opts: SquareSimOptions = {},
): Promise<RunningSquareServer> {
  const faults = new FaultInjector(`${seed}/square`, opts.faults);
  const stats = new RequestStats();
  const store = new SquareStore(data, clock, () => faults.consistencyDelayMs, new Prng(`${seed}/square/runtime`));
  const auth: SquareAuthState = { token: opts.token ?? `EAAA${randomBytes(24).toString('hex')}`, expired: false };
  const app = createSquareApp({ store, clock, faults, stats, auth, defaultVersion: opts.defaultVersion ?? DEFAULT_SQUARE_VERSION });
  const server = await listen(app, host, opts.port ?? 0);

  const candidates: Record<SquareResource, () => string[]> = {
    payments: () => store.payments.listVisible(clock.now()).map((r) => r.id),
    refunds: () => store.refunds.listVisible(clock.now()).map((r) => r.id),
    customers: () => store.customers.listVisible(clock.now()).map((r) => r.id),
    catalog: () => store.catalog.listVisible(clock.now()).map((r) => r.id),
  };
  const control: SquareControl = {
    store,
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faults: () => faults.current,
    requestCounts: () => stats.countsByEndpoint(),
    requestLog: () => stats.log(),
    resetRequestStats: () => stats.reset(),
    expireToken: () => {
      auth.expired = true;
    },
    renewToken: () => {
      auth.token = `EAAA${randomBytes(24).toString('hex')}`;
      auth.expired = false;
      return auth.token;
    },
    issueRefund: (input) => store.issueRefund(input),
    addPayment: (input) => store.addPayment(input),
    setPaymentStatus: (id, status) => store.setPaymentStatus(id, status),
    addCustomer: (input) => store.addCustomer(input),
    updateCustomer: (id, patch) => store.updateCustomer(id, patch),
    updateCatalogObject: (id, change) => store.updateCatalogObject(id, change),
    malformedIds: () => {
      const resource = faults.current.malformedRows?.resource as SquareResource | undefined;
      const list = resource ? candidates[resource] : undefined;
      if (!resource || !list) return [];
      return [...(faults.malformedIds(resource, () => list().sort())?.ids ?? [])];
    },
  };
  return { url: server.url, token: auth.token, control, close: () => server.close() };
}
