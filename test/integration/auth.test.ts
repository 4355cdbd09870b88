// Authentication, authorization and rate limiting over HTTP: every kind of bad token is a 401,
// each role can do exactly what its permissions say, and the per-token rate limit counts in Redis
// so that every instance shares it.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/tokens.js';
import { buildCustomer } from '../support/builders.js';
import { TEST_REDIS_URL } from '../support/env.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness('Auth business');
});
afterAll(async () => {
  await t.projector.stop();
  await t.close();
});

const ERROR_KEYS = ['success', 'error', 'code', 'details', 'requestId', 'timestamp'];

function expectStandardError(res: Response, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(status);
  expect(res.body).toMatchObject({ success: false, code, error: expect.any(String), requestId: expect.any(String) });
  expect(Object.keys(res.body).filter((k) => !ERROR_KEYS.includes(k))).toEqual([]);
  expect(new Date(res.body.timestamp as string).toISOString()).toBe(res.body.timestamp);
  expect(res.headers['x-request-id']).toBe(res.body.requestId);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The claims of a valid token for the test business; a case removes or changes one. */
function claims(overrides: Record<string, unknown> = {}, omit: string[] = []): Record<string, unknown> {
  const all: Record<string, unknown> = {
    sub: 'crafted-user',
    role: 'admin',
    businessId: business.id,
    aud: t.config.jwt.audience,
    iss: t.config.jwt.issuer,
    iat: nowSeconds(),
    exp: nowSeconds() + 600,
    ...overrides,
  };
  for (const key of omit) delete all[key];
  return all;
}

function craft(payload: Record<string, unknown>, opts: { secret?: string; algorithm?: jwt.Algorithm } = {}): string {
  return jwt.sign(payload, opts.secret ?? t.config.jwt.secret, { algorithm: opts.algorithm ?? 'HS256' });
}

/** What each case sends as the Authorization header (undefined: no header). */
const REFUSED: [string, () => string | undefined, RegExp?][] = [
  ['no Authorization header', () => undefined, /bearer token/i],
  ['a Basic scheme instead of Bearer', () => `Basic ${Buffer.from('admin:admin').toString('base64')}`, /bearer token/i],
  ['a raw token without the Bearer scheme', () => craft(claims())],
  ['Bearer with no token', () => 'Bearer '],
  ['an expired token', () => `Bearer ${craft(claims({ iat: nowSeconds() - 7200, exp: nowSeconds() - 60 }))}`, /expired/],
  ['a token that is not valid yet (nbf in the future)', () => `Bearer ${craft(claims({ nbf: nowSeconds() + 3600 }))}`],
  ['a token for another audience', () => `Bearer ${craft(claims({ aud: 'some-other-api' }))}`, /audience/],
  ['a token from another issuer', () => `Bearer ${craft(claims({ iss: 'someone-else' }))}`, /issuer/],
  [
    'an unsigned token (alg: none)',
    () => `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`,
  ],
  [
    'an unsigned token (alg: none) that still carries a signature',
    () => `Bearer ${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.${craft(claims()).split('.')[2]}`,
  ],
  ['a token signed with a different secret', () => `Bearer ${craft(claims(), { secret: 'x'.repeat(48) })}`, /signature/],
  ['a token signed with HS512 (algorithm not allowed)', () => `Bearer ${craft(claims(), { algorithm: 'HS512' })}`],
  ['a token without businessId', () => `Bearer ${craft(claims({}, ['businessId']))}`, /businessId/],
  ['a token whose businessId is not a uuid', () => `Bearer ${craft(claims({ businessId: 'acme' }))}`, /businessId/],
  ['a token with an unknown role', () => `Bearer ${craft(claims({ role: 'superuser' }))}`, /role/],
  ['a token without a subject', () => `Bearer ${craft(claims({}, ['sub']))}`, /sub/],
  ['a token that never expires (no exp)', () => `Bearer ${craft(claims({}, ['exp']))}`, /exp/],
  [
    'an analyst token whose payload was changed to admin (signature no longer matches)',
    () => {
      const [header, , signature] = craft(claims({ role: 'analyst' })).split('.');
      return `Bearer ${header}.${base64url(claims({ role: 'admin' }))}.${signature}`;
    },
    /signature/,
  ],
  ['a garbage string', () => 'Bearer not-a-jwt-at-all'],
  ['three garbage segments', () => 'Bearer aaa.bbb.ccc'],
];

describe('authentication', () => {
  it('accepts a token crafted the same way with nothing wrong in it (so the refusals below are about the flaw)', async () => {
    const res = await request(t.app).get('/api/v1/customers').set('Authorization', `Bearer ${craft(claims())}`).expect(200);
    expect(res.body).toMatchObject({ success: true, data: [] });
  });

  it('accepts a token issued by the service', async () => {
    await request(t.app).get('/api/v1/customers').set('Authorization', `Bearer ${business.token}`).expect(200);
  });

  it.each(REFUSED)('refuses %s with 401 UNAUTHORIZED', async (_name, header, reason) => {
    const value = header();
    let req = request(t.app).get('/api/v1/customers');
    if (value !== undefined) req = req.set('Authorization', value);
    const res = await req;
    expectStandardError(res, 401, 'UNAUTHORIZED');
    if (reason) expect(res.body.error).toMatch(reason);
    // The token itself is never echoed back.
    const token = value?.split(' ')[1];
    if (token && token.length > 20) expect(JSON.stringify(res.body)).not.toContain(token);
  });

  it('refuses a bad token on a write before reading the body, and writes nothing', async () => {
    const before = await t.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    const bad = `Bearer ${craft(claims(), { algorithm: 'HS512' })}`;
    const malformed = await request(t.app).post('/api/v1/customers').set('Authorization', bad).set('Content-Type', 'application/json').send('{"email":');
    expectStandardError(malformed, 401, 'UNAUTHORIZED');
    const valid = await request(t.app).post('/api/v1/customers').set('Authorization', bad).send(buildCustomer());
    expectStandardError(valid, 401, 'UNAUTHORIZED');
    const after = await t.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('answers 401, not 404, for an unknown API route without a token (routes are not revealed)', async () => {
    const res = await request(t.app).get('/api/v1/secret-admin-panel');
    expectStandardError(res, 401, 'UNAUTHORIZED');
  });
});

describe('role permissions', () => {
  type Op = 'list' | 'get' | 'post' | 'put' | 'patch' | 'delete';
  const MATRIX: [Role, Op, number][] = [
    ['analyst', 'list', 200],
    ['analyst', 'get', 200],
    ['analyst', 'post', 403],
    ['analyst', 'put', 403],
    ['analyst', 'patch', 403],
    ['analyst', 'delete', 403],
    ['staff', 'list', 200],
    ['staff', 'get', 200],
    ['staff', 'post', 201],
    ['staff', 'put', 200],
    ['staff', 'patch', 200],
    ['staff', 'delete', 403],
    ['admin', 'post', 201],
    ['admin', 'put', 200],
    ['admin', 'patch', 200],
    ['admin', 'delete', 200],
    ['service', 'patch', 200],
    ['service', 'delete', 200],
  ];

  async function customerState(id: string) {
    const { rows } = await t.database.pool.query<{ version: number; first_name: string; deleted_at: Date | null }>(
      'SELECT version::int AS version, first_name, deleted_at FROM customers WHERE id = $1',
      [id],
    );
    return rows[0]!;
  }

  it.each(MATRIX)('%s: %s answers %i', async (role, op, status) => {
    // A fresh customer per case, created by an admin, so each case starts from version 1.
    const created = await request(t.app).post('/api/v1/customers').set('Authorization', `Bearer ${business.token}`).send(buildCustomer()).expect(201);
    const id = created.body.data.id as string;
    const before = await customerState(id);
    const customersBefore = await t.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    const auth = { Authorization: `Bearer ${t.tokenFor(business.id, role)}` };

    const res = await {
      list: () => request(t.app).get('/api/v1/customers').set(auth),
      get: () => request(t.app).get(`/api/v1/customers/${id}`).set(auth),
      post: () => request(t.app).post('/api/v1/customers').set(auth).send(buildCustomer()),
      put: () => request(t.app).put(`/api/v1/customers/${id}`).set(auth).send(buildCustomer({ firstName: `By ${role}` })),
      patch: () => request(t.app).patch(`/api/v1/customers/${id}`).set(auth).send({ firstName: `By ${role}` }),
      delete: () => request(t.app).delete(`/api/v1/customers/${id}`).set(auth),
    }[op]();

    const after = await customerState(id);
    const customersAfter = await t.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    if (status === 403) {
      expectStandardError(res, 403, 'FORBIDDEN');
      expect(res.body.error).toContain(role);
      expect(after).toEqual(before);
      expect(customersAfter.rows[0]!.n).toBe(customersBefore.rows[0]!.n);
      return;
    }
    expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(status);
    expect(res.body.success).toBe(true);
    switch (op) {
      case 'list':
        expect((res.body.data as { id: string }[]).map((c) => c.id)).toContain(id);
        break;
      case 'get':
        expect(res.body.data.id).toBe(id);
        break;
      case 'post':
        expect(customersAfter.rows[0]!.n).toBe(customersBefore.rows[0]!.n + 1);
        break;
      case 'put':
      case 'patch':
        expect(after).toMatchObject({ version: before.version + 1, first_name: `By ${role}` });
        break;
      case 'delete':
        expect(after.version).toBe(before.version + 1);
        expect(after.deleted_at).not.toBeNull();
        break;
    }
  });

  it('checks the role before the body: an analyst posting an invalid body gets 403, not 400', async () => {
    const res = await request(t.app).post('/api/v1/customers').set('Authorization', `Bearer ${t.tokenFor(business.id, 'analyst')}`).send({});
    expectStandardError(res, 403, 'FORBIDDEN');
  });
});

describe('rate limiting, counted in Redis', () => {
  let redis: Redis;
  let limited: TestApp;
  let sibling: TestApp;
  const businessIds: string[] = [];

  /** A token for a business of its own, so each test has its own bucket. */
  function freshToken(app: TestApp): string {
    const id = randomUUID();
    businessIds.push(id);
    return `Bearer ${app.tokenFor(id, 'staff')}`;
  }

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    limited = await createTestApp({ env: { RATE_LIMIT_MAX: '3' }, redis });
    // A second instance of the service on the same Redis, as in a scaled-out deployment.
    sibling = await createTestApp({ env: { RATE_LIMIT_MAX: '3' }, redis });
  });
  afterAll(async () => {
    for (const id of businessIds) {
      const keys = await redis.keys(`c360:rl:${id}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    for (const app of [limited, sibling]) {
      await app.projector.stop();
      await app.close();
    }
    await redis.quit();
  });

  it('refuses the 4th request in the window with 429 RATE_LIMITED and keeps the counter in Redis', async () => {
    const token = freshToken(limited);
    for (let i = 1; i <= 3; i++) {
      const ok = await request(limited.app).get('/api/v1/customers').set('Authorization', token);
      expect(ok.status, `request ${i}`).toBe(200);
      expect(ok.headers['ratelimit-policy']).toMatch(/q=3/);
    }
    const refused = await request(limited.app).get('/api/v1/customers').set('Authorization', token);
    expectStandardError(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    const businessId = businessIds[businessIds.length - 1]!;
    const keys = await redis.keys(`c360:rl:${businessId}*`);
    expect(keys).toEqual([`c360:rl:${businessId}:test-staff`]);
    expect(Number(await redis.get(keys[0]!))).toBe(4);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(limited.config.rateLimit.windowMs);
  });

  it('refuses a limited token on writes too, and writes nothing', async () => {
    const token = freshToken(limited);
    for (let i = 0; i < 3; i++) await request(limited.app).get('/api/v1/customers').set('Authorization', token).expect(200);
    const before = await limited.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    const refused = await request(limited.app).post('/api/v1/customers').set('Authorization', token).send(buildCustomer());
    expectStandardError(refused, 429, 'RATE_LIMITED');
    const after = await limited.database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM customers');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('keeps one bucket per token: another business is not limited by the first one', async () => {
    const first = freshToken(limited);
    for (let i = 0; i < 4; i++) await request(limited.app).get('/api/v1/customers').set('Authorization', first);
    await request(limited.app).get('/api/v1/customers').set('Authorization', first).expect(429);
    await request(limited.app).get('/api/v1/customers').set('Authorization', freshToken(limited)).expect(200);
  });

  it('shares the counter between instances: the 4th request is refused on the other instance', async () => {
    const token = freshToken(limited);
    for (let i = 0; i < 3; i++) await request(limited.app).get('/api/v1/customers').set('Authorization', token).expect(200);
    const refused = await request(sibling.app).get('/api/v1/customers').set('Authorization', token);
    expectStandardError(refused, 429, 'RATE_LIMITED');
  });
});
