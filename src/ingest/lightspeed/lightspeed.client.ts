// HTTP client for Lightspeed Retail R-Series API V3 lists (POS-APIS.md, "Lightspeed Retail
// R-Series API V3"): `Account/{accountID}/{Resource}.json` with `field=op,value` filters (operator
// URL-encoded), `sort`, `limit` and `load_relations`, paged by following `@attributes.next` (a
// full URL) until it is "" or absent. Authenticates through a pluggable LightspeedAuth (one
// refresh and one more try on a 401), retries 429/5xx/network failures with the retry policy
// (obeying Retry-After), and paces itself from the leaky-bucket headers so it waits instead of
// overflowing the bucket.
import { isRetryableStatus, PosApiError } from '../http/pos-api-error.js';
import { DEFAULT_TIMEOUT_MS, endpointOf, sendOnce, type FetchLike, type HttpExchange, type PosPage } from '../http/pos-http.js';
import { parseRetryAfter, resolveRetryOptions, withRetry, type ResolvedRetryOptions, type RetryOptions } from '../http/retry-policy.js';
import { lightspeedUnauthorized, type LightspeedAuth } from './lightspeed.auth.js';

/** The relations a Sale needs for purchases and identity linking. */
export const LIGHTSPEED_SALE_RELATIONS = ['SaleLines', 'SaleLines.Item', 'Customer'] as const;

export type LightspeedOperator = '=' | '>' | '>=' | '<' | '<=' | '!=' | '~' | '><' | 'IN';
export type LightspeedValue = string | number | boolean | Date;

export type LightspeedFilter =
  | { field: string; op: Exclude<LightspeedOperator, '><' | 'IN'>; value: LightspeedValue }
  | { field: string; op: '><'; value: readonly [LightspeedValue, LightspeedValue] }
  | { field: string; op: 'IN'; value: readonly LightspeedValue[] };

export interface LightspeedListQuery {
  filters?: readonly LightspeedFilter[];
  /** A field, `-field` for descending (e.g. `timeStamp`). */
  sort?: string;
  /** 1–100, default 100. */
  limit?: number;
  loadRelations?: readonly string[];
}

export interface LightspeedPacingOptions {
  /**
   * Bucket units left free (default 1): other apps on the account drain the same bucket between
   * our requests, and a level read a moment ago is already a little stale.
   */
  reserveUnits?: number;
  onWait?: (event: { waitMs: number; level: number; size: number }) => void;
}

export interface LightspeedClientOptions {
  /** Up to and including `/API/V3`, e.g. `https://api.lightspeedapp.com/API/V3`. */
  apiUrl: string;
  accountId: string;
  auth: LightspeedAuth;
  /** Retries of 429/5xx/network failures; its `sleep` and `now` also drive pacing. */
  retry?: RetryOptions;
  fetch?: FetchLike;
  /** Per HTTP attempt (default 30 s). */
  timeoutMs?: number;
  /** Proactive pacing from the bucket headers (default on); `false` turns it off. */
  pacing?: LightspeedPacingOptions | false;
}

export interface LightspeedPageOptions {
  /** A `next` URL from an earlier page, to continue where a run stopped. */
  resumeFrom?: string;
}

/** What the last response said about the account's bucket, and when we read it. */
interface BucketReading {
  level: number;
  size: number;
  dripPerSecond: number;
  at: number;
}

/** A GET costs one unit (a write would cost 10; this client only reads). */
const GET_COST = 1;

/** Thrown through withRetry so an auth failure (which retried on its own) is not retried again. */
class AuthFailure extends Error {
  constructor(readonly error: unknown) {
    super('auth failure');
  }
}

export class LightspeedClient {
  private readonly apiUrl: string;
  private readonly accountId: string;
  private readonly auth: LightspeedAuth;
  private readonly retry: ResolvedRetryOptions;
  private readonly fetchFn: FetchLike;
  private readonly timeoutMs: number;
  private readonly pacing: LightspeedPacingOptions | false;
  private bucket: BucketReading | undefined;

  constructor(options: LightspeedClientOptions) {
    if (!/^\d+$/.test(options.accountId)) throw new RangeError('Lightspeed accountId must be numeric');
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.accountId = options.accountId;
    this.auth = options.auth;
    this.retry = resolveRetryOptions(options.retry);
    this.fetchFn = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.pacing = options.pacing ?? {};
  }

  /** The first page's URL for `resource` (`Sale`, `Item`, `Customer`, …) and `query`. */
  listUrl(resource: string, query: LightspeedListQuery = {}): string {
    if (!/^[A-Za-z]+$/.test(resource)) throw new RangeError(`not a Lightspeed resource name: ${resource}`);
    const qs = buildLightspeedQuery(query);
    return `${this.apiUrl}/Account/${this.accountId}/${resource}.json${qs ? `?${qs}` : ''}`;
  }

  /**
   * Pages `resource` to its end by following `@attributes.next`. Each page is yielded before the
   * next request, so breaking out of the loop stops the requests. A single record (an object,
   * not an array, on the wire) arrives as a one-element page.
   */
  async *pages(resource: string, query: LightspeedListQuery = {}, options: LightspeedPageOptions = {}): AsyncGenerator<PosPage> {
    let url = options.resumeFrom ?? this.listUrl(resource, query);
    for (let pageIndex = 0; ; pageIndex++) {
      this.checkSameOrigin(url);
      const { exchange, attempts } = await this.get(url);
      const body = exchange.body as Record<string, unknown> | undefined;
      const attributes = body?.['@attributes'] as { next?: unknown } | undefined;
      const next = typeof attributes?.next === 'string' && attributes.next !== '' ? attributes.next : undefined;
      if (next !== undefined && next === url) {
        throw new PosApiError({
          provider: 'lightspeed',
          status: exchange.status,
          code: 'INVALID_RESPONSE',
          retryable: false,
          message: `Lightspeed ${endpointOf('GET', url)}: @attributes.next repeats the current page`,
          endpoint: endpointOf('GET', url),
        });
      }
      yield { records: asList(body?.[resource]), ...(next !== undefined ? { next } : {}), pageIndex, requestCount: attempts };
      if (next === undefined) return;
      url = next;
    }
  }

  /** The wait before the next request, in ms, from the last bucket reading (0 when unknown). */
  pacingDelayMs(): number {
    if (this.pacing === false || !this.bucket) return 0;
    const { level, size, dripPerSecond, at } = this.bucket;
    // The level drains at the drip rate since the reading: wait until this request's cost fits
    // under the size minus the reserve. The reading was taken when the response was received,
    // a little after the server computed it, so the estimate errs on the full side.
    const estimated = Math.max(0, level - (dripPerSecond * Math.max(0, this.retry.now() - at)) / 1000);
    const excess = estimated + GET_COST - (size - (this.pacing.reserveUnits ?? 1));
    return excess > 0 ? Math.ceil((excess / dripPerSecond) * 1000) : 0;
  }

  private async get(url: string): Promise<{ exchange: HttpExchange; attempts: number }> {
    const endpoint = endpointOf('GET', url);
    let attempts = 0;
    let refreshed = false;
    const once = async (): Promise<HttpExchange> => {
      await this.pace();
      const header = await this.authHeader();
      attempts++;
      const res = await sendOnce(url, { method: 'GET', headers: { Authorization: header, Accept: 'application/json' } }, {
        provider: 'lightspeed',
        endpoint,
        timeoutMs: this.timeoutMs,
        fetch: this.fetchFn,
      });
      this.readBucket(res.headers);
      return this.checkAuth(res, header, endpoint, refreshed, async () => {
        refreshed = true;
        return once();
      });
    };
    try {
      const exchange = await withRetry(async () => {
        const res = await once();
        if (res.status >= 200 && res.status < 300) return res;
        throw this.errorFrom(res, endpoint);
      }, this.retry);
      return { exchange, attempts };
    } catch (err) {
      if (err instanceof AuthFailure) throw err.error;
      throw err;
    }
  }

  /** On a first 401, lets the auth strategy renew and tries once more; a second 401 is final. */
  private async checkAuth(res: HttpExchange, header: string, endpoint: string, refreshed: boolean, again: () => Promise<HttpExchange>): Promise<HttpExchange> {
    if (res.status !== 401) return res;
    const code = errorClassOf(res.body) ?? 'UNAUTHORIZED';
    if (refreshed) throw new AuthFailure(lightspeedUnauthorized(401, code, endpoint, true));
    let renewed: boolean;
    try {
      renewed = await this.auth.handleUnauthorized(header);
    } catch (err) {
      throw new AuthFailure(err);
    }
    if (!renewed) throw new AuthFailure(lightspeedUnauthorized(401, code, endpoint, false));
    return again();
  }

  private async authHeader(): Promise<string> {
    try {
      return await this.auth.authHeader();
    } catch (err) {
      throw new AuthFailure(err);
    }
  }

  private async pace(): Promise<void> {
    const waitMs = this.pacingDelayMs();
    if (waitMs <= 0 || this.pacing === false || !this.bucket) return;
    this.pacing.onWait?.({ waitMs, level: this.bucket.level, size: this.bucket.size });
    await this.retry.sleep(waitMs);
  }

  /** `X-LS-API-Bucket-Level: 12/90` and `X-LS-API-Drip-Rate: 1`; a missing drip rate counts as 1/s. */
  private readBucket(headers: Headers): void {
    const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(headers.get('x-ls-api-bucket-level') ?? '');
    if (!match) return;
    const drip = Number(headers.get('x-ls-api-drip-rate'));
    this.bucket = {
      level: Number(match[1]),
      size: Number(match[2]),
      dripPerSecond: Number.isFinite(drip) && drip > 0 ? drip : 1,
      at: this.retry.now(),
    };
  }

  private errorFrom(res: HttpExchange, endpoint: string): PosApiError {
    const code = errorClassOf(res.body) ?? `HTTP_${res.status}`;
    if (res.status === 403) return lightspeedUnauthorized(403, code, endpoint, false);
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.retry.now());
    const serverMessage = (res.body as { message?: unknown } | undefined)?.message;
    const detail = typeof serverMessage === 'string' && serverMessage !== '' ? `: ${serverMessage}` : '';
    const limitType = res.headers.get('x-ls-api-ratelimit-type');
    return new PosApiError({
      provider: 'lightspeed',
      status: res.status,
      code,
      retryable: isRetryableStatus(res.status),
      message: `Lightspeed ${endpoint} failed (${res.status} ${code}${limitType ? `, ${limitType} limit` : ''})${detail}`,
      endpoint,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }

  /** The bearer token must never go to a host other than the configured API's. */
  private checkSameOrigin(url: string): void {
    if (new URL(url).origin !== new URL(this.apiUrl).origin) {
      throw new PosApiError({
        provider: 'lightspeed',
        status: 0,
        code: 'INVALID_RESPONSE',
        retryable: false,
        message: `Lightspeed paging URL points to another origin (${new URL(url).origin}); refusing to send credentials there`,
      });
    }
  }
}

/**
 * The query string of a list request. Operators are URL-encoded (`timeStamp=%3E%3D,2026-01-01T00:00:00Z`);
 * values are too, so a `+00:00` offset stays a plus; `load_relations` is a JSON array. Dates are
 * sent to the second (`…:SSZ`): flooring keeps an inclusive lower bound inclusive.
 */
export function buildLightspeedQuery(query: LightspeedListQuery): string {
  const parts: string[] = [];
  for (const filter of query.filters ?? []) {
    if (!/^[A-Za-z][A-Za-z0-9.]*$/.test(filter.field)) throw new RangeError(`not a Lightspeed field name: ${filter.field}`);
    parts.push(`${filter.field}=${filterValue(filter)}`);
  }
  if (query.sort !== undefined) parts.push(`sort=${encodeURIComponent(query.sort)}`);
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new RangeError('limit must be an integer from 1 to 100');
  parts.push(`limit=${limit}`);
  if (query.loadRelations && query.loadRelations.length > 0) parts.push(`load_relations=${encodeURIComponent(JSON.stringify(query.loadRelations))}`);
  return parts.join('&');
}

function filterValue(filter: LightspeedFilter): string {
  switch (filter.op) {
    case '=':
      return encodeValue(filter.value);
    case '><':
      return `${encodeURIComponent('><')},${encodeValue(filter.value[0])},${encodeValue(filter.value[1])}`;
    case 'IN':
      return `IN,${encodeURIComponent(`[${filter.value.map(formatValue).join(',')}]`)}`;
    default:
      return `${encodeURIComponent(filter.op)},${encodeValue(filter.value)}`;
  }
}

function formatValue(value: LightspeedValue): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RangeError('invalid Date in a Lightspeed filter');
    return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return String(value);
}

/** encodeURIComponent, keeping `:` readable (it needs no escaping in a query). */
const encodeValue = (value: LightspeedValue) => encodeURIComponent(formatValue(value)).replace(/%3A/gi, ':');

/** Lightspeed's one-record-is-an-object rule undone; "" and absent mean none. */
export function asList(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? (value as unknown[]) : [value];
}

function errorClassOf(body: unknown): string | undefined {
  const errorClass = (body as { errorClass?: unknown } | undefined)?.errorClass;
  return typeof errorClass === 'string' && /^[A-Za-z]{1,64}$/.test(errorClass) ? errorClass : undefined;
}
