// The POS clients' retry policy, secrets holder and error type, as pure logic.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { credentialsRejected, PosApiError, redactSecrets } from '../../../src/ingest/http/pos-api-error.js';
import { backoffDelayMs, parseRetryAfter, resolveRetryOptions, withRetry, type RetryEvent } from '../../../src/ingest/http/retry-policy.js';
import { Secret } from '../../../src/ingest/http/secret.js';
import { recordingSleep } from './ingest-helpers.js';

const retryable = (status = 503, retryAfterMs?: number) =>
  new PosApiError({ provider: 'square', status, code: 'X', retryable: true, message: `boom ${status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('backoff with full jitter', () => {
  it('draws each delay uniformly below a ceiling that doubles from base up to max', () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, opts))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(3, { ...opts, random: () => 0 })).toBe(0);
    expect(backoffDelayMs(3, { ...opts, random: () => 0.5 })).toBe(200);
    expect(backoffDelayMs(5000, opts)).toBe(999);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');
  it('reads delta-seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500);
    expect(parseRetryAfter('Fri, 01 May 2026 12:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Fri, 01 May 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('withRetry', () => {
  it('retries retryable errors with jittered backoff, reports each retry, then returns the result', async () => {
    const { sleep, delays } = recordingSleep();
    const events: RetryEvent[] = [];
    let calls = 0;
    const result = await withRetry(
      () => {
        calls++;
        if (calls < 3) throw retryable(calls === 1 ? 503 : 429);
        return Promise.resolve('done');
      },
      resolveRetryOptions({ baseDelayMs: 100, maxDelayMs: 1000, sleep, random: () => 0.5, onRetry: (e) => events.push(e) }),
    );
    expect(result).toBe('done');
    expect(delays).toEqual([50, 100]);
    expect(events).toEqual([
      { attempt: 1, delayMs: 50, status: 503, code: 'X' },
      { attempt: 2, delayMs: 100, status: 429, code: 'X' },
    ]);
  });

  it('waits exactly the Retry-After the server asked for', async () => {
    const { sleep, delays } = recordingSleep();
    let calls = 0;
    await withRetry(
      () => (++calls === 1 ? Promise.reject(retryable(429, 4000)) : Promise.resolve(calls)),
      resolveRetryOptions({ sleep, random: () => 0 }),
    );
    expect(delays).toEqual([4000]);
  });

  it('gives up after maxAttempts with the count in the message, keeping status and code', async () => {
    const { sleep, delays } = recordingSleep();
    const err = await withRetry(() => Promise.reject(retryable(502)), resolveRetryOptions({ maxAttempts: 3, sleep })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PosApiError);
    expect(err).toMatchObject({ status: 502, code: 'X', retryable: true, message: 'boom 502 (gave up after 3 attempts)' });
    expect(delays).toHaveLength(2);
  });

  it('stops instead of waiting out a Retry-After beyond the limit', async () => {
    const { sleep, delays } = recordingSleep();
    const err = await withRetry(() => Promise.reject(retryable(429, 3_600_000)), resolveRetryOptions({ sleep, maxRetryAfterMs: 60_000 })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Retry-After of 3600 s exceeds the 60 s limit/);
    expect(delays).toEqual([]);
  });

  it('does not retry non-retryable PosApiErrors or other errors', async () => {
    const { sleep, delays } = recordingSleep();
    let calls = 0;
    const denied = credentialsRejected('square', 401, 'UNAUTHORIZED');
    await expect(withRetry(() => (calls++, Promise.reject(denied)), resolveRetryOptions({ sleep }))).rejects.toBe(denied);
    await expect(withRetry(() => (calls++, Promise.reject(new TypeError('bug'))), resolveRetryOptions({ sleep }))).rejects.toThrow('bug');
    expect(calls).toBe(2);
    expect(delays).toEqual([]);
  });
});

describe('secrets and error messages', () => {
  it('never prints a Secret through JSON, inspect or string conversion', () => {
    const secret = new Secret('tok_live_abcdefghijklmnop');
    const holder = { secret };
    expect(JSON.stringify(holder)).not.toContain('abcdefgh');
    expect(inspect(holder, { depth: 5 })).not.toContain('abcdefgh');
    expect(`${String(secret)}`).toBe('[redacted]');
    expect(secret.reveal()).toBe('tok_live_abcdefghijklmnop');
  });

  it('words 401 and 403 for an operator, not retryable', () => {
    const e401 = credentialsRejected('square', 401, 'UNAUTHORIZED');
    expect(e401.message).toBe("Square rejected the access token (401 UNAUTHORIZED): check the connection's credentials");
    expect(e401.retryable).toBe(false);
    const e403 = credentialsRejected('lightspeed', 403, 'ForbiddenException');
    expect(e403.message).toMatch(/^Lightspeed refused the request \(403 ForbiddenException\)/);
    expect(e403.retryable).toBe(false);
  });

  it('redacts known secrets from server text and leaves short strings alone', () => {
    expect(redactSecrets('token abcdefghijkl is bad', ['abcdefghijkl'])).toBe('token [redacted] is bad');
    expect(redactSecrets('a b c', ['a', undefined])).toBe('a b c');
  });
});
