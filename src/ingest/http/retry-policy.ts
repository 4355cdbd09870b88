// Retry policy of the POS clients: exponential backoff with full jitter (AWS "Exponential Backoff
// And Jitter": delay = random(0, min(max, base·2^(n−1)))), except that a server's Retry-After
// is obeyed as given, since it knows when capacity returns (Lightspeed computes it from its
// bucket). Only PosApiErrors marked retryable are retried; anything else is a bug or a
// permanent refusal and propagates at once. Sleep, randomness and time are injectable so tests
// run instantly and deterministically.
import { PosApiError } from './pos-api-error.js';

export interface RetryEvent {
  /** The attempt that just failed, from 1; the next one is `attempt + 1`. */
  attempt: number;
  /** How long the policy waits before the next attempt. */
  delayMs: number;
  /** HTTP status of the failure; 0 for a network failure or timeout. */
  status: number;
  code: string;
  /** Set when the delay came from the server's Retry-After. */
  retryAfterMs?: number;
}

export interface RetryOptions {
  /** First backoff ceiling (default 500 ms); it doubles per attempt. */
  baseDelayMs?: number;
  /** Backoff ceiling (default 30 s). */
  maxDelayMs?: number;
  /** Attempts in total, the first included (default 5). */
  maxAttempts?: number;
  /**
   * A Retry-After longer than this (default 5 min) ends the retries instead: a job should not
   * hold its lock for an hour; the next scheduled run picks up from its checkpoint.
   */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). */
  random?: () => number;
  /** Epoch ms; reads HTTP-date Retry-After values and, in the Lightspeed client, paces requests. */
  now?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

export type ResolvedRetryOptions = Required<Omit<RetryOptions, 'onRetry'>> & Pick<RetryOptions, 'onRetry'>;

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  const resolved: ResolvedRetryOptions = {
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    maxAttempts: options.maxAttempts ?? 5,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 5 * 60_000,
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  };
  if (!Number.isInteger(resolved.maxAttempts) || resolved.maxAttempts < 1) throw new RangeError('retry.maxAttempts must be an integer >= 1');
  if (!(resolved.baseDelayMs >= 0) || !(resolved.maxDelayMs >= resolved.baseDelayMs)) {
    throw new RangeError('retry delays must satisfy 0 <= baseDelayMs <= maxDelayMs');
  }
  return resolved;
}

/** Full-jitter backoff before the attempt after `failedAttempt` (1-based). */
export function backoffDelayMs(failedAttempt: number, options: Pick<ResolvedRetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  // 2^(n−1) overflows to Infinity for large n; Math.min keeps the ceiling finite.
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (failedAttempt - 1));
  return Math.floor(options.random() * ceiling);
}

/**
 * `Retry-After` as ms from now: delta-seconds ("120", also "1.5") or an HTTP date. Undefined when
 * absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // An HTTP date always names a weekday and a month; Date.parse on anything else guesses.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Runs `attempt` until it succeeds, throws something not retryable, or runs out of attempts.
 * The last error is rethrown with the attempt count in its message.
 */
export async function withRetry<T>(attempt: (attemptNumber: number) => Promise<T>, options: ResolvedRetryOptions): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof PosApiError) || !err.retryable) throw err;
      if (n >= options.maxAttempts) throw gaveUp(err, `gave up after ${n} attempts`);
      const fromServer = err.retryAfterMs;
      if (fromServer !== undefined && fromServer > options.maxRetryAfterMs) {
        throw gaveUp(err, `Retry-After of ${Math.ceil(fromServer / 1000)} s exceeds the ${Math.ceil(options.maxRetryAfterMs / 1000)} s limit`);
      }
      const delayMs = fromServer ?? backoffDelayMs(n, options);
      options.onRetry?.({
        attempt: n,
        delayMs,
        status: err.status,
        code: err.code,
        ...(fromServer !== undefined ? { retryAfterMs: fromServer } : {}),
      });
      await options.sleep(delayMs);
    }
  }
}

function gaveUp(err: PosApiError, why: string): PosApiError {
  return new PosApiError({
    provider: err.provider,
    status: err.status,
    code: err.code,
    retryable: err.retryable,
    message: `${err.message} (${why})`,
    ...(err.category !== undefined ? { category: err.category } : {}),
    ...(err.field !== undefined ? { field: err.field } : {}),
    ...(err.endpoint !== undefined ? { endpoint: err.endpoint } : {}),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    cause: err,
  });
}
