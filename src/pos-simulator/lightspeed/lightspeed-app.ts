// The Lightspeed-shaped HTTP app: the OAuth token endpoint (`POST /auth/oauth/token`, standing in
// for cloud.lightspeedapp.com) and the API under `/API/V3` (standing in for api.lightspeedapp.com).
// Per API request: count it, apply injected faults, check the Bearer access token (401 when
// unknown or expired) and the account id, take a unit from the account's leaky bucket (429 with
// Retry-After when it overflows; bucket headers on every answer), then serve the list.
// Errors use R-Series' body `{ httpCode, httpMessage, message, errorClass }`.
import { STATUS_CODES } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { FaultInjector } from '../faults.js';
import { recordRequests, type RequestStats } from '../request-stats.js';
import type { SimClock } from '../sim-clock.js';
import type { AccountRateLimiter } from './leaky-bucket.js';
import { CUSTOMER, ITEM, listEntity, SALE, SHOP } from './lightspeed-handlers.js';
import type { LightspeedOAuth } from './lightspeed-oauth.js';
import { LightspeedQueryError } from './lightspeed-query.js';
import type { LightspeedStore } from './lightspeed-store.js';

export interface LightspeedAppDeps {
  store: LightspeedStore;
  clock: SimClock;
  faults: FaultInjector;
  stats: RequestStats;
  oauth: LightspeedOAuth;
  limiter: AccountRateLimiter;
  accountId: string;
  accountName: string;
  /** The server's own base URL, for the absolute `@attributes.next` links. */
  publicUrl: () => string;
}

export class LightspeedApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorClass = 'Exception',
  ) {
    super(message);
  }

  body() {
    return { httpCode: String(this.status), httpMessage: STATUS_CODES[this.status] ?? 'Error', message: this.message, errorClass: this.errorClass };
  }
}

export function createLightspeedApp(deps: LightspeedAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(recordRequests(deps.stats, deps.clock));

  app.post('/auth/oauth/token', express.urlencoded({ extended: false }), express.json(), (req: Request, res: Response) => {
    res.locals.endpoint = 'token';
    const fault = deps.faults.onRequest('token', true);
    if (fault?.kind === 'server_error') {
      res.locals.fault = fault.kind;
      res.status(fault.status).json({ error: 'server_error', error_description: 'Simulated server error.' });
      return;
    }
    const result = deps.oauth.exchange((req.body ?? {}) as Record<string, unknown>);
    res.setHeader('Cache-Control', 'no-store');
    res.status(result.status).json(result.body);
  });

  const guard = (endpoint: string) => async (req: Request, res: Response, next: NextFunction) => {
    res.locals.endpoint = endpoint;
    if (deps.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, deps.faults.latencyMs));
    const fault = deps.faults.onRequest(endpoint);
    if (fault) res.locals.fault = fault.kind;
    if (fault?.kind === 'rate_limit') {
      res.set(deps.limiter.headers());
      res.setHeader('Retry-After', String(fault.retryAfterSeconds ?? 1));
      res.setHeader('X-LS-API-RateLimit-Type', 'bucket');
      throw new LightspeedApiError(429, 'Rate limit exceeded. Please slow down.', 'RateLimitException');
    }
    if (fault?.kind === 'server_error') throw new LightspeedApiError(fault.status, 'Simulated server error.');
    if (fault?.kind === 'expire_token') deps.oauth.expireAccessTokens();
    const token = /^Bearer (.+)$/i.exec(req.get('Authorization') ?? '')?.[1];
    const access = deps.oauth.check(token);
    if (access === 'unknown') throw new LightspeedApiError(401, 'Invalid access token.', 'UnauthorizedException');
    if (access === 'expired') throw new LightspeedApiError(401, 'Access token expired.', 'UnauthorizedException');
    // Only the account routes carry :accountId; Account.json lists the token's own account.
    if ('accountId' in req.params && req.params.accountId !== deps.accountId) throw new LightspeedApiError(404, 'Account not found.');
    const decision = deps.limiter.take();
    res.set(decision.headers);
    if (!decision.allowed) {
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      res.setHeader('X-LS-API-RateLimit-Type', decision.limitType);
      throw new LightspeedApiError(429, 'Rate limit exceeded. Please slow down.', 'RateLimitException');
    }
    next();
  };

  const ctx = { store: deps.store, clock: deps.clock, faults: deps.faults };
  const absolute = (req: Request) => new URL(req.originalUrl, deps.publicUrl());

  app.get('/API/V3/Account.json', guard('Account'), (_req, res) => {
    res.json({ '@attributes': { count: '1' }, Account: { accountID: deps.accountId, name: deps.accountName } });
  });
  app.get('/API/V3/Account/:accountId/Sale.json', guard('Sale'), (req, res) => {
    res.json(listEntity(SALE, ctx, absolute(req)));
  });
  app.get('/API/V3/Account/:accountId/Item.json', guard('Item'), (req, res) => {
    res.json(listEntity(ITEM, ctx, absolute(req)));
  });
  app.get('/API/V3/Account/:accountId/Customer.json', guard('Customer'), (req, res) => {
    res.json(listEntity(CUSTOMER, ctx, absolute(req)));
  });
  app.get('/API/V3/Account/:accountId/Shop.json', guard('Shop'), (req, res) => {
    res.json(listEntity(SHOP, ctx, absolute(req)));
  });

  app.use((req: Request) => {
    throw new LightspeedApiError(404, `No endpoint ${req.method} ${req.path}.`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error =
      err instanceof LightspeedApiError
        ? err
        : err instanceof LightspeedQueryError
          ? new LightspeedApiError(400, err.message)
          : (err as { type?: unknown } | null)?.type === 'entity.parse.failed'
            ? new LightspeedApiError(400, 'The request body is not valid.')
            : new LightspeedApiError(500, 'Internal server error.');
    res.status(error.status).json(error.body());
  });
  return app;
}
