// The Square-shaped HTTP app: per request it counts the endpoint, applies injected faults
// (429 RATE_LIMITED, 5xx, token expiry, latency), checks `Square-Version` (YYYY-MM-DD, echoed
// back; absent means the app's pinned default) and the Bearer token (401 UNAUTHORIZED, or
// ACCESS_TOKEN_EXPIRED), then runs the handler. Every error leaves as Square's error body.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { FaultInjector } from '../faults.js';
import { recordRequests, type RequestStats } from '../request-stats.js';
import type { SimClock } from '../sim-clock.js';
import { SquareApiError, squareServerError } from './square-errors.js';
import * as handlers from './square-handlers.js';
import type { SquareStore } from './square-store.js';

export interface SquareAuthState {
  token: string;
  expired: boolean;
}

export interface SquareAppDeps {
  store: SquareStore;
  clock: SimClock;
  faults: FaultInjector;
  stats: RequestStats;
  auth: SquareAuthState;
  defaultVersion: string;
}

const VERSION_FORMAT = /^\d{4}-\d{2}-\d{2}$/;

export function createSquareApp(deps: SquareAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(recordRequests(deps.stats, deps.clock));
  const jsonBody = express.json({ limit: '1mb' });

  const route = (endpoint: string, handler: handlers.SquareHandler) => [
    async (req: Request, res: Response, next: NextFunction) => {
      res.locals.endpoint = endpoint;
      if (deps.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, deps.faults.latencyMs));
      const fault = deps.faults.onRequest(endpoint);
      if (fault) res.locals.fault = fault.kind;
      if (fault?.kind === 'rate_limit') {
        if (fault.retryAfterSeconds !== null) res.setHeader('Retry-After', String(fault.retryAfterSeconds));
        throw new SquareApiError(429, [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'Too many requests.' }]);
      }
      if (fault?.kind === 'server_error') throw squareServerError(fault.status);
      if (fault?.kind === 'expire_token') deps.auth.expired = true;
      const version = req.get('Square-Version');
      if (version !== undefined && !VERSION_FORMAT.test(version)) {
        throw SquareApiError.invalid('INVALID_SQUARE_VERSION_FORMAT', `Square-Version \`${version}\` is not formatted YYYY-MM-DD.`);
      }
      const squareVersion = version ?? deps.defaultVersion;
      res.setHeader('Square-Version', squareVersion);
      const header = req.get('Authorization') ?? '';
      const token = /^Bearer (.+)$/i.exec(header)?.[1];
      if (token !== deps.auth.token) {
        throw new SquareApiError(401, [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }]);
      }
      if (deps.auth.expired) {
        throw new SquareApiError(401, [{ category: 'AUTHENTICATION_ERROR', code: 'ACCESS_TOKEN_EXPIRED', detail: 'The access token has expired.' }]);
      }
      res.locals.squareVersion = squareVersion;
      next();
    },
    jsonBody,
    (req: Request, res: Response) => {
      const ctx = { store: deps.store, clock: deps.clock, faults: deps.faults, squareVersion: res.locals.squareVersion as string };
      res.json(handler(ctx, req));
    },
  ];

  app.get('/v2/locations', ...route('locations.list', handlers.listLocations));
  app.get('/v2/payments', ...route('payments.list', handlers.listPayments));
  app.get('/v2/payments/:id', ...route('payments.get', handlers.getPayment));
  app.get('/v2/refunds', ...route('refunds.list', handlers.listRefunds));
  app.get('/v2/refunds/:id', ...route('refunds.get', handlers.getRefund));
  app.get('/v2/catalog/list', ...route('catalog.list', handlers.listCatalog));
  app.post('/v2/catalog/search', ...route('catalog.search', handlers.searchCatalog));
  app.get('/v2/customers', ...route('customers.list', handlers.listCustomers));
  app.post('/v2/customers/search', ...route('customers.search', handlers.searchCustomers));
  app.get('/v2/customers/:id', ...route('customers.get', handlers.getCustomer));

  app.use((req: Request) => {
    throw SquareApiError.notFound(`No endpoint ${req.method} ${req.path}.`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error = toSquareError(err);
    res.status(error.status).json(error.body());
  });
  return app;
}

function toSquareError(err: unknown): SquareApiError {
  if (err instanceof SquareApiError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return SquareApiError.invalid('BAD_REQUEST', 'The request body is not valid JSON.');
  if (type === 'entity.too.large') return SquareApiError.invalid('BAD_REQUEST', 'The request body is too large.');
  return squareServerError(500);
}
