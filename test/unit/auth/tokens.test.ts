// Token verification remembers the tokens it accepted (a client sends the same one on every
// request), and that memory never changes an answer: expiry still holds, and a token that
// differs in one character is checked on its own.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenService } from '../../../src/auth/tokens.js';

const tokens = new TokenService({ secret: 'a-test-secret-of-enough-length-0123456789', audience: 'c360-api', issuer: 'c360', expiresIn: '1h' });
const principal = { subject: 'staff-1', role: 'staff' as const, businessId: randomUUID() };

afterEach(() => {
  vi.useRealTimers();
});

describe('TokenService.verify', () => {
  it('accepts a token again until it expires, then says it expired', () => {
    vi.useFakeTimers({ now: new Date('2026-11-24T10:00:00Z') });
    const token = tokens.sign(principal, '10m');
    expect(tokens.verify(token)).toEqual({ ok: true, principal });
    vi.setSystemTime(new Date('2026-11-24T10:09:59Z'));
    expect(tokens.verify(token)).toEqual({ ok: true, principal });
    vi.setSystemTime(new Date('2026-11-24T10:10:00Z'));
    expect(tokens.verify(token)).toEqual({ ok: false, reason: 'token expired' });
  });

  it('refuses a token with a changed signature after accepting the genuine one', () => {
    const token = tokens.sign(principal);
    expect(tokens.verify(token).ok).toBe(true);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    expect(tokens.verify(forged)).toEqual({ ok: false, reason: 'invalid token: invalid signature' });
    expect(tokens.verify(token).ok).toBe(true);
  });

  it('gives each caller the principal read-only, so no request can change another’s', () => {
    const token = tokens.sign(principal);
    const first = tokens.verify(token);
    if (!first.ok) throw new Error('expected the token to be accepted');
    expect(() => Object.assign(first.principal, { role: 'admin' })).toThrow(TypeError);
    expect(tokens.verify(token)).toEqual({ ok: true, principal });
  });
});
