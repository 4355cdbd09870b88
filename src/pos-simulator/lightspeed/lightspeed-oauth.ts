// Lightspeed's OAuth2 token endpoint (POS-APIS.md, "OAuth2"): `grant_type=refresh_token` with the
// client id and secret returns `{ access_token, refresh_token, expires_in: 1800 }`. Refresh tokens
// ROTATE: each refresh issues a new one and the one just used stops working, so a client that
// does not persist the new token before using the access token locks itself out. Access tokens
// expire after `expires_in` seconds (401 afterwards). Errors follow RFC 6749 §5.2.
import { randomBytes } from 'node:crypto';
import type { SimClock } from '../sim-clock.js';

export interface OAuthClientCredentials {
  clientId: string;
  clientSecret: string;
}

export type TokenResult =
  | { status: 200; body: { access_token: string; refresh_token: string; expires_in: number; token_type: 'bearer'; scope: string } }
  | { status: 400 | 401; body: { error: string; error_description: string } };

export type AccessCheck = 'valid' | 'expired' | 'unknown';

const newToken = () => randomBytes(20).toString('hex');

export class LightspeedOAuth {
  private readonly refreshTokens = new Set<string>();
  private readonly accessTokens = new Map<string, number>();
  readonly initialRefreshToken: string;

  constructor(
    private readonly client: OAuthClientCredentials,
    private readonly clock: SimClock,
    public accessTokenTtlSeconds: number,
    initialRefreshToken?: string,
  ) {
    this.initialRefreshToken = initialRefreshToken ?? newToken();
    this.refreshTokens.add(this.initialRefreshToken);
  }

  /** Handles a token request body (form fields or JSON, already parsed). */
  exchange(params: Record<string, unknown>): TokenResult {
    const field = (name: string) => (typeof params[name] === 'string' ? params[name] : undefined);
    if (field('grant_type') !== 'refresh_token') {
      return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Only grant_type=refresh_token is supported.' } };
    }
    if (field('client_id') !== this.client.clientId || field('client_secret') !== this.client.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed.' } };
    }
    const used = field('refresh_token');
    if (used === undefined || !this.refreshTokens.has(used)) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token is invalid, expired or already used.' } };
    }
    this.refreshTokens.delete(used);
    const refreshToken = newToken();
    const accessToken = newToken();
    this.refreshTokens.add(refreshToken);
    this.accessTokens.set(accessToken, this.clock.now() + this.accessTokenTtlSeconds * 1000);
    return {
      status: 200,
      body: { access_token: accessToken, refresh_token: refreshToken, expires_in: this.accessTokenTtlSeconds, token_type: 'bearer', scope: 'employee:all' },
    };
  }

  check(accessToken: string | undefined): AccessCheck {
    const expiresAt = accessToken === undefined ? undefined : this.accessTokens.get(accessToken);
    if (expiresAt === undefined) return 'unknown';
    return this.clock.now() < expiresAt ? 'valid' : 'expired';
  }

  /** Every access token issued so far expires now; refresh tokens stay valid. */
  expireAccessTokens(): void {
    const now = this.clock.now();
    for (const token of this.accessTokens.keys()) this.accessTokens.set(token, now);
  }

  /** A new valid refresh token, as if the merchant authorized the app again. */
  mintRefreshToken(): string {
    const token = newToken();
    this.refreshTokens.add(token);
    return token;
  }

  /** The refresh tokens that would be accepted now (normally exactly one). */
  validRefreshTokens(): string[] {
    return [...this.refreshTokens];
  }
}
