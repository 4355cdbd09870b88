// A fake Square API for tests: the POS simulator's Square server on loopback with a small
// deterministic dataset, fault injection and runtime data changes. It implements these facts
// from POS-APIS.md ("Square API v2"):
// - GET /v2/locations; GET /v2/payments without location_id covers the MAIN location only.
// - GET /v2/payments: begin_time/end_time filter created_at (begin inclusive, default now − 1 year),
//   updated_at_begin_time/updated_at_end_time filter updated_at, sort_field CREATED_AT|UPDATED_AT,
//   sort_order ASC|DESC (default DESC), limit max 100, `{ payments, cursor? }`, no cursor on the last page.
// - Payments change after creation (capture, void, refund) so updated_at > created_at.
// - GET /v2/refunds: same paging, all locations by default.
// - GET /v2/catalog/list (pages of 100) and POST /v2/catalog/search {object_types, begin_time,
//   include_deleted_objects}; ITEM category as category_id or categories[] by Square-Version.
// - GET /v2/customers (limit 1–100, else 400 VALUE_TOO_LOW/VALUE_TOO_HIGH) and POST /v2/customers/search
//   with query.filter.updated_at.{start_at,end_at}.
// - Errors `{ errors: [{ category, code, detail?, field? }] }`; 401 UNAUTHORIZED / ACCESS_TOKEN_EXPIRED;
//   429 RATE_LIMIT_ERROR/RATE_LIMITED (with Retry-After when injected); eventual consistency.
// Beyond POS-APIS.md (Square's own docs): empty lists come back as `{}`, Square-Version echoed,
// INVALID_SQUARE_VERSION_FORMAT, INVALID_CURSOR, INVALID_TIME.
import { generatePosDataset, type DatasetOptions } from '../../src/pos-simulator/data/generate-dataset.js';
import type { PosDataset } from '../../src/pos-simulator/data/sim-model.js';
import type { FaultOptions } from '../../src/pos-simulator/faults.js';
import { systemClock, type SimClock } from '../../src/pos-simulator/sim-clock.js';
import { startSquareServer, type SquareControl } from '../../src/pos-simulator/square/square-server.js';

/** Small and fixed, so a test file pages a few hundred payments in milliseconds. */
export const TEST_DATASET: DatasetOptions = {
  seed: 'square-fake',
  customers: 30,
  startAt: '2026-04-01T00:00:00Z',
  endAt: '2026-05-01T00:00:00Z',
  transactionsPerDay: 3,
};

export interface SquareFakeOptions extends DatasetOptions {
  faults?: FaultOptions;
  clock?: SimClock;
  token?: string;
  defaultVersion?: string;
}

export interface SquareFake {
  url: string;
  token: string;
  mainLocationId: string;
  locationIds: string[];
  dataset: PosDataset;
  control: SquareControl;
  /** Authorization and Square-Version headers for plain fetch. */
  headers(version?: string): Record<string, string>;
  close(): Promise<void>;
}

export async function startSquareFake(opts: SquareFakeOptions = {}): Promise<SquareFake> {
  const clock = opts.clock ?? systemClock;
  const dataset = generatePosDataset({ ...TEST_DATASET, ...opts }, clock.now());
  const server = await startSquareServer(dataset.square, dataset.seed, clock, '127.0.0.1', {
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.defaultVersion ? { defaultVersion: opts.defaultVersion } : {}),
  });
  let token = server.token;
  const main = dataset.square.locations.find((l) => l.isMain);
  return {
    url: server.url,
    get token() {
      return token;
    },
    mainLocationId: main?.id ?? '',
    locationIds: dataset.square.locations.map((l) => l.id),
    dataset,
    control: {
      ...server.control,
      renewToken: () => (token = server.control.renewToken()),
    },
    headers: (version = '2025-10-16') => ({ Authorization: `Bearer ${token}`, 'Square-Version': version }),
    close: () => server.close(),
  };
}
