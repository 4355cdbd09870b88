// One HTTP exchange with a POS API: fetch with a timeout, read the whole body, parse JSON. A
// transport failure (refused or reset connection, timeout, a body cut short) becomes a retryable
// PosApiError with status 0; any HTTP status is returned for the provider client to interpret,
// because only it knows its error body. Uses Node's global fetch unless one is injected.
import { PosApiError, PROVIDER_NAME, type PosProvider } from './pos-api-error.js';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpExchange {
  status: number;
  headers: Headers;
  /** Parsed JSON; undefined for an empty or non-JSON error body. */
  body: unknown;
}

export interface SendOptions {
  provider: PosProvider;
  /** `METHOD /path`, for messages (never the query string: it can carry filter values). */
  endpoint: string;
  timeoutMs: number;
  fetch: FetchLike;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export async function sendOnce(url: string, init: RequestInit, opts: SendOptions): Promise<HttpExchange> {
  let res: Response;
  let text: string;
  try {
    res = await opts.fetch(url, { ...init, signal: AbortSignal.timeout(opts.timeoutMs) });
    text = await res.text();
  } catch (err) {
    throw transportError(err, opts);
  }
  let body: unknown;
  if (text !== '') {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      if (res.status >= 200 && res.status < 300) {
        throw new PosApiError({
          provider: opts.provider,
          status: res.status,
          code: 'INVALID_RESPONSE',
          retryable: false,
          message: `${PROVIDER_NAME[opts.provider]} ${opts.endpoint} answered ${res.status} with a body that is not JSON`,
          endpoint: opts.endpoint,
        });
      }
    }
  }
  return { status: res.status, headers: res.headers, body };
}

function transportError(err: unknown, opts: SendOptions): PosApiError {
  const name = (err as { name?: unknown } | null)?.name;
  const timedOut = name === 'TimeoutError';
  // undici reports `TypeError: fetch failed` with the socket error (ECONNRESET, ECONNREFUSED,
  // UND_ERR_SOCKET, …) as its cause.
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  const code = timedOut ? 'TIMEOUT' : typeof cause?.code === 'string' ? cause.code : 'NETWORK_ERROR';
  const what = timedOut ? `no answer within ${opts.timeoutMs} ms` : `network error (${code})`;
  return new PosApiError({
    provider: opts.provider,
    status: 0,
    code,
    retryable: true,
    message: `${PROVIDER_NAME[opts.provider]} ${opts.endpoint}: ${what}`,
    endpoint: opts.endpoint,
    cause: err,
  });
}

/** `METHOD /path` of a URL, for messages and logs. */
export function endpointOf(method: string, url: string): string {
  return `${method} ${new URL(url).pathname}`;
}

/**
 * One page of a POS list, yielded as soon as it arrives so the caller can store its records and
 * checkpoint before asking for the next one.
 */
export interface PosPage {
  /** Raw records, in the order served; parse each with the provider's `parse…Record`. */
  records: unknown[];
  /**
   * Where the following page starts (a Square cursor, a Lightspeed `next` URL); undefined on the
   * last page. Passing it back as `resumeFrom` (with the same query) continues a stopped run.
   */
  next?: string;
  /** 0-based position of this page within the run. */
  pageIndex: number;
  /** API requests this page took: 1, plus retries and the re-send after a token refresh (token calls not counted). */
  requestCount: number;
}
