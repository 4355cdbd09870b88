// How the Lightspeed client authenticates, as a small pluggable strategy: OAuth2 with rotating
// refresh tokens (POS-APIS.md, "OAuth2"), or a legacy API key sent as Basic auth (reference 004
// §1.2, LIGHTSPEED_API_KEY). Invariant of the OAuth flow: a new refresh token is saved to the
// CredentialStore, and the save awaited, BEFORE the access token that came with it is used:
// Lightspeed kills the old refresh token on use, so a token that reached nobody's storage would
// lock the connection out. Tokens and the client secret are held as Secrets and never appear in
// errors or logs.
import { inspect } from 'node:util';
import { credentialsRejected, isRetryableStatus, PosApiError } from '../http/pos-api-error.js';
import { DEFAULT_TIMEOUT_MS, endpointOf, sendOnce, type FetchLike } from '../http/pos-http.js';
import { parseRetryAfter, resolveRetryOptions, withRetry, type ResolvedRetryOptions, type RetryOptions } from '../http/retry-policy.js';
import { Secret } from '../http/secret.js';

/** Where a connection's current refresh token lives (PostgreSQL, encrypted, in production). */
export interface CredentialStore {
  loadRefreshToken(): Promise<string>;
  saveRefreshToken(token: string): Promise<void>;
}

/** What the Lightspeed client needs from an auth strategy. */
export interface LightspeedAuth {
  /** The `Authorization` header value for the next request (refreshing first when due). */
  authHeader(): Promise<string>;
  /**
   * A request sent with `rejectedHeader` got 401. Resolves true when different credentials are
   * now in place, so the request is worth exactly one more try; false when nothing can change.
   */
  handleUnauthorized(rejectedHeader: string): Promise<boolean>;
}

export interface LightspeedOAuthOptions {
  /** `https://cloud.lightspeedapp.com/auth/oauth/token` in production. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  store: CredentialStore;
  fetch?: FetchLike;
  /** Retries of the token request (429, 5xx, network); `now` also drives expiry. */
  retry?: RetryOptions;
  timeoutMs?: number;
  /** Refresh this long before the access token expires (default 120 s, at most half its lifetime). */
  refreshMarginMs?: number;
  /** Called after each refresh whose new refresh token has been saved. */
  onRefresh?: (event: { reason: 'initial' | 'expiring' | 'unauthorized'; expiresInSeconds: number }) => void;
}

interface AccessToken {
  token: Secret;
  expiresAt: number;
  lifetimeMs: number;
}

/** A rotated refresh token not yet saved, and the access token that waits for that save. */
interface PendingGrant {
  refreshToken: Secret;
  access: AccessToken;
  expiresInSeconds: number;
}

export class LightspeedOAuth implements LightspeedAuth {
  private readonly tokenUrl: string;
  private readonly clientId: string;
  private readonly clientSecret: Secret;
  private readonly store: CredentialStore;
  private readonly fetchFn: FetchLike;
  private readonly retry: ResolvedRetryOptions;
  private readonly timeoutMs: number;
  private readonly refreshMarginMs: number;
  private readonly onRefresh: LightspeedOAuthOptions['onRefresh'];
  private access: AccessToken | undefined;
  private pending: PendingGrant | undefined;
  private inflight: Promise<void> | undefined;

  constructor(options: LightspeedOAuthOptions) {
    this.tokenUrl = options.tokenUrl;
    this.clientId = options.clientId;
    this.clientSecret = new Secret(options.clientSecret);
    this.store = options.store;
    this.fetchFn = options.fetch ?? fetch;
    this.retry = resolveRetryOptions(options.retry);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.refreshMarginMs = options.refreshMarginMs ?? 120_000;
    this.onRefresh = options.onRefresh;
  }

  async authHeader(): Promise<string> {
    const access = this.access;
    if (!access) await this.refresh(this.pending ? 'expiring' : 'initial');
    else if (this.retry.now() >= access.expiresAt - Math.min(this.refreshMarginMs, access.lifetimeMs / 2)) await this.refresh('expiring');
    return bearer(this.current());
  }

  async handleUnauthorized(rejectedHeader: string): Promise<boolean> {
    // Concurrent requests that failed on the same token must trigger one refresh, not one each:
    // a second refresh would spend the refresh token the first one just got.
    if (this.access && bearer(this.access) !== rejectedHeader) return true;
    this.access = undefined;
    await this.refresh('unauthorized');
    return true;
  }

  /** Never reveals the tokens or the client secret, nor whatever the store holds. */
  toJSON(): Record<string, unknown> {
    return { kind: 'lightspeed-oauth', clientId: this.clientId, hasAccessToken: this.access !== undefined };
  }

  [inspect.custom](): string {
    return `LightspeedOAuth ${inspect(this.toJSON())}`;
  }

  private current(): AccessToken {
    if (!this.access) throw new Error('Lightspeed access token missing after a refresh');
    return this.access;
  }

  /** One refresh at a time, shared by every caller that needs it meanwhile. */
  private refresh(reason: 'initial' | 'expiring' | 'unauthorized'): Promise<void> {
    this.inflight ??= this.runRefresh(reason).finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async runRefresh(reason: 'initial' | 'expiring' | 'unauthorized'): Promise<void> {
    // A grant whose save failed earlier holds the only live refresh token: save it now rather
    // than spending the dead one in the store.
    if (!this.pending) {
      const refreshToken = new Secret(await this.store.loadRefreshToken());
      this.pending = await withRetry(() => this.requestGrant(refreshToken), this.retry);
    }
    const grant = this.pending;
    try {
      await this.store.saveRefreshToken(grant.refreshToken.reveal());
    } catch (err) {
      // No cause attached: a storage error can quote the value it failed to write.
      const kind = err instanceof Error ? err.name : typeof err;
      throw new PosApiError({
        provider: 'lightspeed',
        status: 0,
        code: 'CREDENTIAL_SAVE_FAILED',
        retryable: false,
        message: `Lightspeed issued a new refresh token but saving it failed (${kind}); it is kept in memory and saved before any further use`,
      });
    }
    this.pending = undefined;
    this.access = grant.access;
    this.onRefresh?.({ reason, expiresInSeconds: grant.expiresInSeconds });
  }

  private async requestGrant(refreshToken: Secret): Promise<PendingGrant> {
    const endpoint = endpointOf('POST', this.tokenUrl);
    const res = await sendOnce(
      this.tokenUrl,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: this.clientId,
          client_secret: this.clientSecret.reveal(),
          refresh_token: refreshToken.reveal(),
        }).toString(),
      },
      { provider: 'lightspeed', endpoint, timeoutMs: this.timeoutMs, fetch: this.fetchFn },
    );
    const body = (res.body ?? {}) as Record<string, unknown>;
    if (res.status === 200) {
      const access = body.access_token;
      const next = body.refresh_token;
      const expiresIn = typeof body.expires_in === 'string' ? Number(body.expires_in) : body.expires_in;
      if (typeof access !== 'string' || access === '' || typeof next !== 'string' || next === '' || typeof expiresIn !== 'number' || !(expiresIn > 0)) {
        throw new PosApiError({
          provider: 'lightspeed',
          status: 200,
          code: 'INVALID_RESPONSE',
          retryable: false,
          message: 'Lightspeed token endpoint answered 200 without access_token, refresh_token and expires_in',
          endpoint,
        });
      }
      const lifetimeMs = expiresIn * 1000;
      return {
        refreshToken: new Secret(next),
        access: { token: new Secret(access), expiresAt: this.retry.now() + lifetimeMs, lifetimeMs },
        expiresInSeconds: expiresIn,
      };
    }
    // RFC 6749 §5.2 codes only: error_description is free text and is left out.
    const code = typeof body.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? body.error : `HTTP_${res.status}`;
    if (code === 'invalid_grant') {
      throw new PosApiError({
        provider: 'lightspeed',
        status: res.status,
        code,
        retryable: false,
        message: `Lightspeed refused the refresh token (${res.status} invalid_grant): it was already used or revoked; the connection must be re-authorized`,
        endpoint,
      });
    }
    if (code === 'invalid_client' || res.status === 401 || res.status === 403) {
      throw new PosApiError({
        provider: 'lightspeed',
        status: res.status,
        code,
        retryable: false,
        message: `Lightspeed refused the client credentials (${res.status} ${code}): check the connection's client id and secret`,
        endpoint,
      });
    }
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.retry.now());
    throw new PosApiError({
      provider: 'lightspeed',
      status: res.status,
      code,
      retryable: isRetryableStatus(res.status),
      message: `Lightspeed token refresh failed (${res.status} ${code})`,
      endpoint,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
}

/**
 * Lightspeed's legacy API-key auth: HTTP Basic with the key as user name and `apikey` as the
 * password (the MerchantOS convention). Nothing can be refreshed, so a 401 is final.
 */
export class LightspeedApiKeyAuth implements LightspeedAuth {
  readonly #header: Secret;

  constructor(apiKey: string, password = 'apikey') {
    if (apiKey === '') throw new RangeError('Lightspeed API key is empty');
    this.#header = new Secret(`Basic ${Buffer.from(`${apiKey}:${password}`, 'utf8').toString('base64')}`);
  }

  authHeader(): Promise<string> {
    return Promise.resolve(this.#header.reveal());
  }

  handleUnauthorized(): Promise<boolean> {
    return Promise.resolve(false);
  }

  toJSON(): Record<string, unknown> {
    return { kind: 'lightspeed-api-key' };
  }

  [inspect.custom](): string {
    return 'LightspeedApiKeyAuth { [redacted] }';
  }
}

const bearer = (access: AccessToken) => `Bearer ${access.token.reveal()}`;

/** The 401 the client reports when the auth strategy could not make a request succeed. */
export function lightspeedUnauthorized(status: number, code: string, endpoint: string, afterRefresh: boolean): PosApiError {
  return credentialsRejected('lightspeed', status, code, endpoint, afterRefresh ? ' even after a token refresh' : '');
}
