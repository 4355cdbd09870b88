// HTTP client for the Square API v2 endpoints the ingesters read (POS-APIS.md, "Square API v2"):
// locations, payments and refunds (GET, `cursor` in the query), the catalog (GET list, POST
// search) and customers (POST search, `cursor` in the body; GET one). Every list is an async
// generator of pages, so the caller stores and checkpoints a page before the next is fetched.
// Sends `Authorization: Bearer` and the pinned `Square-Version`; retries 429/5xx/network
// failures with the retry policy; turns Square's `{ errors: [...] }` into PosApiError. The
// access token is held as a Secret and never appears in an error or log.
import { credentialsRejected, isRetryableStatus, PosApiError, redactSecrets } from '../http/pos-api-error.js';
import { DEFAULT_TIMEOUT_MS, endpointOf, sendOnce, type FetchLike, type HttpExchange, type PosPage } from '../http/pos-http.js';
import { parseRetryAfter, resolveRetryOptions, withRetry, type ResolvedRetryOptions, type RetryOptions } from '../http/retry-policy.js';
import { Secret } from '../http/secret.js';

export interface SquareClientOptions {
  /** Origin of the API, e.g. `https://connect.squareup.com` (paths start with /v2). */
  baseUrl: string;
  accessToken: string;
  /** `YYYY-MM-DD`, pinned per connection: response shapes change with it (catalog categories). */
  squareVersion: string;
  retry?: RetryOptions;
  fetch?: FetchLike;
  /** Per HTTP attempt (default 30 s). */
  timeoutMs?: number;
}

/**
 * Square's `begin_time` filters on `created_at` and defaults to now − 1 year even when
 * `updated_at_*` filters are given, which would hide a recent refund of an older payment.
 * Payments and refunds queries send this instead when the caller gives no `beginTime`.
 */
export const SQUARE_ALL_TIME = '2000-01-01T00:00:00Z';

export const SQUARE_CATALOG_TYPES = ['ITEM', 'ITEM_VARIATION', 'CATEGORY'] as const;

export type SquareTime = string | Date;

/** Payments and refunds list filters; defaults suit an incremental sync on `updated_at`. */
export interface SquareTimeQuery {
  /** Payments: without it Square returns the main location only, so loop over listLocations(). */
  locationId?: string;
  /** Lower bound on created_at (inclusive); default SQUARE_ALL_TIME. */
  beginTime?: SquareTime;
  endTime?: SquareTime;
  /** Lower bound on updated_at (inclusive). */
  updatedAtBeginTime?: SquareTime;
  /** Upper bound on updated_at (exclusive). */
  updatedAtEndTime?: SquareTime;
  /** Default UPDATED_AT. */
  sortField?: 'CREATED_AT' | 'UPDATED_AT';
  /** Default ASC, so a checkpoint after each page only moves forward. */
  sortOrder?: 'ASC' | 'DESC';
  /** 1–100, default 100. */
  limit?: number;
}

export interface SquareCatalogSearchQuery {
  objectTypes?: readonly string[];
  /** Objects changed after this time (exclusive); omit for all. */
  beginTime?: SquareTime;
  /** Default true: a deletion is a change the warehouse must see. */
  includeDeleted?: boolean;
  /** 1–1000; Square's default when omitted. */
  limit?: number;
}

export interface SquareCustomerSearchQuery {
  /** Lower bound on updated_at (inclusive). */
  updatedAtStart?: SquareTime;
  /** Upper bound on updated_at (exclusive). */
  updatedAtEnd?: SquareTime;
  /**
   * Square sorts customers by DEFAULT (name) or CREATED_AT only, never updated_at: a checkpoint on
   * updated_at may move only after the last page.
   */
  sortField?: 'DEFAULT' | 'CREATED_AT';
  sortOrder?: 'ASC' | 'DESC';
  /** 1–100, default 100. */
  limit?: number;
}

/** A list request for `pages()`: where the records are and how the cursor travels. */
export type SquareListRequest =
  | { method: 'GET'; path: string; query?: Record<string, string | undefined>; recordsKey: string }
  | { method: 'POST'; path: string; body: Record<string, unknown>; recordsKey: string };

export interface SquarePageOptions {
  /** A `next` from an earlier page of the same query, to continue where it stopped. */
  resumeFrom?: string;
}

export interface SquarePage extends PosPage {
  /** Catalog search only: the newest change Square knows of, a safe next `beginTime`. */
  latestTime?: string;
}

export interface SquareLocation {
  id: string;
  name: string | null;
  status: string | null;
  timezone: string | null;
  currency: string | null;
}

interface SquareErrorEntry {
  category?: string;
  code?: string;
  detail?: string;
  field?: string;
}

export class SquareClient {
  private readonly baseUrl: string;
  private readonly token: Secret;
  private readonly squareVersion: string;
  private readonly retry: ResolvedRetryOptions;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;

  constructor(options: SquareClientOptions) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(options.squareVersion)) throw new RangeError('squareVersion must be YYYY-MM-DD');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = new Secret(options.accessToken);
    this.squareVersion = options.squareVersion;
    this.retry = resolveRetryOptions(options.retry);
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** GET /v2/locations: every location of the account (payments must be listed per location). */
  async listLocations(): Promise<SquareLocation[]> {
    const { body } = await this.request('GET', '/v2/locations');
    return recordsOf(body, 'locations').map((raw, i) => {
      const l = raw as Record<string, unknown> | null;
      const id = l?.id;
      if (typeof id !== 'string' || id === '') throw this.invalidResponse('GET /v2/locations', `locations.${i}.id is missing`);
      const text = (v: unknown) => (typeof v === 'string' ? v : null);
      return { id, name: text(l?.name), status: text(l?.status), timezone: text(l?.timezone), currency: text(l?.currency) };
    });
  }

  /** GET /v2/payments, one location at a time (see SquareTimeQuery.locationId). */
  payments(query: SquareTimeQuery, options?: SquarePageOptions): AsyncGenerator<SquarePage> {
    return this.pages({ method: 'GET', path: '/v2/payments', query: timeQueryParams(query), recordsKey: 'payments' }, options);
  }

  /** GET /v2/refunds; all locations unless `locationId` is given. */
  refunds(query: SquareTimeQuery, options?: SquarePageOptions): AsyncGenerator<SquarePage> {
    return this.pages({ method: 'GET', path: '/v2/refunds', query: timeQueryParams(query), recordsKey: 'refunds' }, options);
  }

  /** GET /v2/catalog/list: the whole catalog of the given types (a full refresh). */
  catalogList(types: readonly string[] = SQUARE_CATALOG_TYPES, options?: SquarePageOptions): AsyncGenerator<SquarePage> {
    return this.pages({ method: 'GET', path: '/v2/catalog/list', query: { types: types.join(',') }, recordsKey: 'objects' }, options);
  }

  /** POST /v2/catalog/search: objects changed after `beginTime`, deleted ones included by default. */
  catalogSearch(query: SquareCatalogSearchQuery = {}, options?: SquarePageOptions): AsyncGenerator<SquarePage> {
    const body: Record<string, unknown> = {
      object_types: [...(query.objectTypes ?? SQUARE_CATALOG_TYPES)],
      include_deleted_objects: query.includeDeleted ?? true,
      ...(query.beginTime !== undefined ? { begin_time: rfc3339(query.beginTime, 'beginTime') } : {}),
      ...(query.limit !== undefined ? { limit: checkLimit(query.limit, 1000) } : {}),
    };
    return this.pages({ method: 'POST', path: '/v2/catalog/search', body, recordsKey: 'objects' }, options);
  }

  /** POST /v2/customers/search with an updated_at filter. */
  customersSearch(query: SquareCustomerSearchQuery = {}, options?: SquarePageOptions): AsyncGenerator<SquarePage> {
    const updatedAt = {
      ...(query.updatedAtStart !== undefined ? { start_at: rfc3339(query.updatedAtStart, 'updatedAtStart') } : {}),
      ...(query.updatedAtEnd !== undefined ? { end_at: rfc3339(query.updatedAtEnd, 'updatedAtEnd') } : {}),
    };
    const body: Record<string, unknown> = {
      limit: checkLimit(query.limit ?? 100, 100),
      query: {
        ...(Object.keys(updatedAt).length > 0 ? { filter: { updated_at: updatedAt } } : {}),
        sort: { field: query.sortField ?? 'CREATED_AT', order: query.sortOrder ?? 'ASC' },
      },
    };
    return this.pages({ method: 'POST', path: '/v2/customers/search', body, recordsKey: 'customers' }, options);
  }

  /** GET /v2/customers/{id}: the raw customer, or null when Square does not know it (404). */
  async getCustomer(id: string): Promise<unknown> {
    try {
      const { body } = await this.request('GET', `/v2/customers/${encodeURIComponent(id)}`);
      return (body as { customer?: unknown } | undefined)?.customer ?? null;
    } catch (err) {
      if (err instanceof PosApiError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * Pages a list to its end: the cursor goes in the query (GET) or the body (POST) and the last
   * page has none. Each page is yielded before the next request, so breaking out of the loop
   * stops the requests.
   */
  async *pages(request: SquareListRequest, options: SquarePageOptions = {}): AsyncGenerator<SquarePage> {
    let cursor = options.resumeFrom;
    for (let pageIndex = 0; ; pageIndex++) {
      const { exchange, attempts } =
        request.method === 'GET'
          ? await this.requestCounted('GET', request.path, { ...request.query, cursor })
          : await this.requestCounted('POST', request.path, undefined, { ...request.body, ...(cursor ? { cursor } : {}) });
      const body = exchange.body;
      const next = (body as { cursor?: unknown } | undefined)?.cursor;
      const nextCursor = typeof next === 'string' && next !== '' ? next : undefined;
      // A server that hands back the cursor it was given would have us loop forever.
      if (nextCursor !== undefined && nextCursor === cursor) {
        throw this.invalidResponse(`${request.method} ${request.path}`, 'the next cursor repeats the current one');
      }
      const latestTime = (body as { latest_time?: unknown } | undefined)?.latest_time;
      yield {
        records: recordsOf(body, request.recordsKey),
        ...(nextCursor !== undefined ? { next: nextCursor } : {}),
        pageIndex,
        requestCount: attempts,
        ...(typeof latestTime === 'string' ? { latestTime } : {}),
      };
      if (nextCursor === undefined) return;
      cursor = nextCursor;
    }
  }

  private async request(method: 'GET' | 'POST', path: string, query?: Record<string, string | undefined>, body?: unknown): Promise<HttpExchange> {
    return (await this.requestCounted(method, path, query, body)).exchange;
  }

  /** One request with retries; `attempts` counts the HTTP requests it took. */
  private async requestCounted(
    method: 'GET' | 'POST',
    path: string,
    query?: Record<string, string | undefined>,
    body?: unknown,
  ): Promise<{ exchange: HttpExchange; attempts: number }> {
    const url = new URL(path, `${this.baseUrl}/`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, value);
    const endpoint = endpointOf(method, url.toString());
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token.reveal()}`,
      'Square-Version': this.squareVersion,
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    };
    let attempts = 0;
    const exchange = await withRetry(async () => {
      attempts++;
      const res = await sendOnce(
        url.toString(),
        { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) },
        { provider: 'square', endpoint, timeoutMs: this.timeoutMs, fetch: this.fetchFn },
      );
      if (res.status >= 200 && res.status < 300) return res;
      throw this.errorFrom(res, endpoint);
    }, this.retry);
    return { exchange, attempts };
  }

  private errorFrom(res: HttpExchange, endpoint: string): PosApiError {
    const first = firstError(res.body);
    const code = first.code ?? `HTTP_${res.status}`;
    if (res.status === 401 || res.status === 403) return credentialsRejected('square', res.status, code, endpoint);
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.retry.now());
    const detail = first.detail ? `: ${redactSecrets(first.detail, [this.token.reveal()])}` : '';
    const label = [first.category, first.code].filter(Boolean).join(' ') || 'no error body';
    return new PosApiError({
      provider: 'square',
      status: res.status,
      code,
      retryable: isRetryableStatus(res.status),
      message: `Square ${endpoint} failed (${res.status} ${label})${detail}${first.field ? ` [field ${first.field}]` : ''}`,
      endpoint,
      ...(first.category ? { category: first.category } : {}),
      ...(first.field ? { field: first.field } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  private invalidResponse(endpoint: string, why: string): PosApiError {
    return new PosApiError({ provider: 'square', status: 200, code: 'INVALID_RESPONSE', retryable: false, message: `Square ${endpoint}: ${why}`, endpoint });
  }
}

function firstError(body: unknown): SquareErrorEntry {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as Record<string, unknown> | undefined) : undefined;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const entry: SquareErrorEntry = {};
  const category = text(first?.category);
  const code = text(first?.code);
  const detail = text(first?.detail);
  const field = text(first?.field);
  if (category) entry.category = category;
  if (code) entry.code = code;
  if (detail) entry.detail = detail;
  if (field) entry.field = field;
  return entry;
}

/** Square leaves an empty list out of the body (`{}`), so a missing key is an empty page. */
function recordsOf(body: unknown, key: string): unknown[] {
  const value = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function timeQueryParams(q: SquareTimeQuery): Record<string, string | undefined> {
  return {
    location_id: q.locationId,
    begin_time: rfc3339(q.beginTime ?? SQUARE_ALL_TIME, 'beginTime'),
    end_time: q.endTime === undefined ? undefined : rfc3339(q.endTime, 'endTime'),
    updated_at_begin_time: q.updatedAtBeginTime === undefined ? undefined : rfc3339(q.updatedAtBeginTime, 'updatedAtBeginTime'),
    updated_at_end_time: q.updatedAtEndTime === undefined ? undefined : rfc3339(q.updatedAtEndTime, 'updatedAtEndTime'),
    sort_field: q.sortField ?? 'UPDATED_AT',
    sort_order: q.sortOrder ?? 'ASC',
    limit: String(checkLimit(q.limit ?? 100, 100)),
  };
}

function rfc3339(value: SquareTime, name: string): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${name} is not a valid time`);
  return new Date(ms).toISOString();
}

function checkLimit(limit: number, max: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new RangeError(`limit must be an integer from 1 to ${max}`);
  return limit;
}
