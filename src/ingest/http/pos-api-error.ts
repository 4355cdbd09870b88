// The one error the POS HTTP clients throw. It says which provider answered, with what status
// and provider code, and whether trying again can help, so the retry policy and the ingesters
// decide from fields rather than from message text. Messages name endpoints and codes, never
// tokens, secrets or customer data (they end up in job-run rows and logs).
export type PosProvider = 'square' | 'lightspeed';

export const PROVIDER_NAME: Record<PosProvider, string> = { square: 'Square', lightspeed: 'Lightspeed' };

export interface PosApiErrorInit {
  provider: PosProvider;
  /** HTTP status; 0 when no response arrived (network failure, timeout). */
  status: number;
  /** Provider code (`UNAUTHORIZED`, `RATE_LIMITED`, `RateLimitException`) or ours (`NETWORK_ERROR`, `TIMEOUT`). */
  code: string;
  retryable: boolean;
  message: string;
  /** Square's error category (`AUTHENTICATION_ERROR`, `RATE_LIMIT_ERROR`, …) when it sent one. */
  category?: string;
  /** The request field Square blamed, when it named one. */
  field?: string;
  /** `METHOD /path` without the query string. */
  endpoint?: string;
  /** The server's `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class PosApiError extends Error {
  readonly provider: PosProvider;
  readonly status: number;
  readonly code: string;
  readonly retryable: boolean;
  readonly category?: string;
  readonly field?: string;
  readonly endpoint?: string;
  readonly retryAfterMs?: number;

  constructor(init: PosApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PosApiError';
    this.provider = init.provider;
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable;
    if (init.category !== undefined) this.category = init.category;
    if (init.field !== undefined) this.field = init.field;
    if (init.endpoint !== undefined) this.endpoint = init.endpoint;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
  }

  /** What a log line or a job-run row may carry: no cause chain (it can hold request internals). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      provider: this.provider,
      status: this.status,
      code: this.code,
      retryable: this.retryable,
      message: this.message,
      ...(this.category !== undefined ? { category: this.category } : {}),
      ...(this.field !== undefined ? { field: this.field } : {}),
      ...(this.endpoint !== undefined ? { endpoint: this.endpoint } : {}),
    };
  }
}

/** Statuses worth another attempt: throttling, timeouts and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The error for a 401/403: never retryable (the same credentials fail the same way), with a
 * message an operator can act on.
 */
export function credentialsRejected(provider: PosProvider, status: number, code: string, endpoint?: string, extra = ''): PosApiError {
  const name = PROVIDER_NAME[provider];
  const message =
    status === 403
      ? `${name} refused the request (403 ${code})${extra}: check the connection's credentials and the permissions granted to the app`
      : `${name} rejected the access token (${status} ${code})${extra}: check the connection's credentials`;
  return new PosApiError({ provider, status, code, retryable: false, message, ...(endpoint ? { endpoint } : {}) });
}

/** Replaces every occurrence of the given secrets in `text`, so server text can go into a message. */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    // Short strings would redact ordinary words; real tokens are long.
    if (secret && secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  return out;
}
