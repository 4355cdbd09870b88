// Which BigQuery failures are worth another attempt, and how long to wait before it. The
// adapter owns retries (the client's own are best turned off, see bigquery-warehouse.ts), so
// the rules live here once: transient HTTP statuses and network errors for whole requests,
// transient reasons for single streamed rows, exponential backoff with jitter between attempts.
import { common } from '@google-cloud/bigquery';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 250, maxDelayMs: 20_000 };

/**
 * insertAll row reasons that say nothing is wrong with the row itself: 'stopped' (another row of
 * the request was invalid), backend hiccups and timeouts. Anything else ('invalid' above all)
 * will fail the same way again.
 */
export const RETRYABLE_ROW_REASONS: ReadonlySet<string> = new Set(['stopped', 'backendError', 'internalError', 'timeout', 'rateLimitExceeded']);

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** BigQuery answers some quota errors with 403 and one of these reasons. */
const RETRYABLE_REASONS = new Set(['backendError', 'internalError', 'rateLimitExceeded', 'userRateLimitExceeded']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'UND_ERR_SOCKET']);

export type PartialFailure = InstanceType<typeof common.util.PartialFailureError>;

export function isPartialFailure(err: unknown): err is PartialFailure {
  return err instanceof common.util.PartialFailureError;
}

/** The HTTP status of a failed BigQuery request, if it got that far. */
export function httpStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Whether a whole request may succeed if sent again unchanged. */
export function isRetryableRequestError(err: unknown): boolean {
  if (isPartialFailure(err)) return false; // decided row by row
  const e = (err ?? {}) as { code?: unknown; errors?: { reason?: string }[]; type?: string };
  if (typeof e.code === 'number') {
    return RETRYABLE_STATUS.has(e.code) || (e.errors ?? []).some((inner) => RETRYABLE_REASONS.has(inner.reason ?? ''));
  }
  // node-fetch (under teeny-request) reports socket failures as FetchError type 'system'.
  return (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) || e.type === 'system';
}

/**
 * Wait before attempt `attempt + 1`: the cap doubles each time up to maxDelayMs, and the wait
 * is drawn from [cap/2, cap] so instances that failed together do not retry together while
 * the wait still grows.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export function describeError(err: unknown): string {
  const status = httpStatusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return status ? `HTTP ${status}: ${message}` : message;
}
