// API tokens: JWT HS256 with audience, issuer and expiry. Every token carries one businessId
// (the tenant) and one role; verification pins the algorithm so `alg: none` and RS/HS
// confusion are refused.
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Config } from '../config.js';

export const ROLES = ['admin', 'staff', 'analyst', 'service'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'customers:read': ['admin', 'staff', 'analyst', 'service'],
  'customers:write': ['admin', 'staff', 'service'],
  'customers:delete': ['admin', 'service'],
  /** Merge duplicates and undo merges: people who look after customer records, not integrations (undoable for 30 days). */
  'customers:merge': ['admin', 'staff'],
  /** CSV/Excel imports: upload and follow them. */
  'customers:import': ['admin', 'staff'],
  /** Bulk operations and their audit; each operation also needs its single-customer permission (tiers:write, segments:write, customers:write). */
  'customers:bulk': ['admin', 'staff'],
  /** GDPR/CCPA erasure (irreversible) and its records: a person decides, never an integration. */
  'customers:erase': ['admin'],
  /** GDPR/CCPA data exports: request, follow, download. Service too, for a privacy portal that answers requests; it can read profiles already. */
  'privacy:export': ['admin', 'service'],
  'sync:admin': ['admin'],
  'ingest:read': ['admin', 'analyst'],
  'memory:read': ['admin', 'staff', 'analyst', 'service'],
  'memory:write': ['admin', 'staff', 'service'],
  'memory:forget': ['admin', 'service'],
  'tiers:read': ['admin', 'staff', 'analyst', 'service'],
  'tiers:write': ['admin'],
  'segments:read': ['admin', 'staff', 'analyst', 'service'],
  'segments:write': ['admin', 'staff'],
  'audiences:read': ['admin', 'staff', 'service'],
  'analytics:read': ['admin', 'analyst'],
  'events:read': ['admin', 'service'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

const claimsSchema = z.object({
  sub: z.string().min(1).max(255),
  role: z.enum(ROLES),
  businessId: z.uuid(),
  exp: z.number().int(),
});

export type Principal = { subject: string; role: Role; businessId: string };

/**
 * Tokens verified lately, at most: a client sends the same token on every request, and checking
 * it again (HMAC, two JSON parses, the claims) was about 6% of a profile GET's CPU in the service.
 */
const MAX_VERIFIED_TOKENS = 10_000;

export class TokenService {
  /** A KeyObject made once: given the string, jsonwebtoken would build one on every call. */
  private readonly key: KeyObject;
  /** Verified tokens by their exact text (signature included) and when each expires; oldest first. */
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(private readonly jwtConfig: Config['jwt']) {
    this.key = createSecretKey(Buffer.from(jwtConfig.secret, 'utf8'));
  }

  sign(principal: Principal, expiresIn: string = this.jwtConfig.expiresIn): string {
    return jwt.sign({ role: principal.role, businessId: principal.businessId }, this.key, {
      algorithm: 'HS256',
      audience: this.jwtConfig.audience,
      issuer: this.jwtConfig.issuer,
      subject: principal.subject,
      expiresIn: expiresIn as jwt.SignOptions['expiresIn'],
    });
  }

  /** Returns the principal, or a reason the token is refused (never the token itself). */
  verify(token: string): { ok: true; principal: Principal } | { ok: false; reason: string } {
    const known = this.verified.get(token);
    // Still unexpired: the same answer as verifying it again. Expired: verified again, to say so.
    if (known && Date.now() < known.expiresAtMs) return { ok: true, principal: known.principal };
    this.verified.delete(token);
    let payload: unknown;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: ['HS256'],
        audience: this.jwtConfig.audience,
        issuer: this.jwtConfig.issuer,
      });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) return { ok: false, reason: 'token expired' };
      if (err instanceof jwt.JsonWebTokenError) return { ok: false, reason: `invalid token: ${err.message}` };
      return { ok: false, reason: 'invalid token' };
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      return { ok: false, reason: `invalid token claims: ${claims.error.issues.map((i) => i.path.join('.')).join(', ')}` };
    }
    const principal: Principal = Object.freeze({ subject: claims.data.sub, role: claims.data.role, businessId: claims.data.businessId });
    // A token with a not-before time is rare (ours have none): it is verified every time.
    if ((payload as { nbf?: unknown }).nbf === undefined) {
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { principal, expiresAtMs: claims.data.exp * 1000 });
    }
    return { ok: true, principal };
  }
}

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
