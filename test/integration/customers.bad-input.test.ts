// Malformed requests against the customer routes: each is refused with the right status and code
// in the standard error shape, names the offending field, and leaves PostgreSQL exactly as it was.
// Then failures half-way through the write transaction: nothing of the aggregate or the outbox stays.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCustomer } from '../support/builders.js';
import { AGGREGATE_TABLES } from '../support/aggregate-tables.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };
/** An existing customer: the target of the PUT and PATCH cases, so "unchanged" covers updates. */
let target: { id: string };
const auth = () => ({ Authorization: `Bearer ${business.token}` });

/**
 * Row count and a content hash of every aggregate table, and of the outbox's immutable columns
 * (the projector updates its status columns in the background), plus the target's version.
 */
async function snapshot() {
  const tables: Record<string, { n: number; hash: string }> = {};
  for (const table of AGGREGATE_TABLES) {
    const { rows } = await t.database.pool.query<{ n: number; hash: string }>(
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS hash FROM ${table} r`,
    );
    tables[table] = rows[0]!;
  }
  const outbox = await t.database.pool.query<{ n: number; hash: string }>(
    `SELECT count(*)::int AS n, md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS hash
       FROM (SELECT id, entity_id, entity_version, operation, content_hash, changed_fields FROM sync_logs) r`,
  );
  tables.sync_logs = outbox.rows[0]!;
  const versions = await t.database.pool.query<{ max_version: number; target_version: number }>(
    `SELECT (SELECT max(version) FROM customers)::int AS max_version,
            (SELECT version FROM customers WHERE id = $1)::int AS target_version`,
    [target.id],
  );
  return { tables, ...versions.rows[0]! };
}

const ERROR_KEYS = ['success', 'error', 'code', 'details', 'requestId', 'timestamp'];

function expectStandardError(res: Response, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body).slice(0, 400)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ success: false, code, error: expect.any(String), requestId: expect.any(String) });
  expect(Object.keys(res.body).filter((k) => !ERROR_KEYS.includes(k))).toEqual([]);
  expect(new Date(res.body.timestamp as string).toISOString()).toBe(res.body.timestamp);
  expect(res.headers['x-request-id']).toBe(res.body.requestId);
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface BadCase {
  name: string;
  method: Method;
  /** `{target}` is replaced by the existing customer's id, `{missing}` by a uuid nobody holds. */
  path: string;
  body?: unknown;
  /** Sent as is, with this content type (malformed JSON, other media types). */
  raw?: { type: string; data: string };
  headers?: Record<string, string>;
  status: number;
  code: string;
  /** A `details` entry must name this field, and the message must too (unless `message` is given). */
  field?: string;
  /** The field named may be `field` or any path below it. */
  fieldPrefix?: boolean;
  message?: RegExp;
  details?: unknown;
}

const valid = () => buildCustomer();
const address = (overrides: Record<string, unknown> = {}) => ({
  addressType: 'billing',
  addressLine1: '1 Infinite Loop',
  city: 'Cupertino',
  country: 'United States',
  countryCode: 'US',
  postalCode: '95014',
  ...overrides,
});

const CASES: BadCase[] = [
  {
    name: 'malformed JSON',
    method: 'post',
    path: '/api/v1/customers',
    raw: { type: 'application/json', data: '{"email": "half@example.com", ' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body',
    message: /malformed json/i,
  },
  {
    name: 'a bare JSON string as the body (strict JSON only accepts objects and arrays)',
    method: 'post',
    path: '/api/v1/customers',
    raw: { type: 'application/json', data: '"just a string"' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body',
  },
  {
    name: 'a JSON array as the body',
    method: 'post',
    path: '/api/v1/customers',
    body: [valid()],
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body',
  },
  {
    name: 'no body at all',
    method: 'post',
    path: '/api/v1/customers',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body',
  },
  {
    name: 'an unknown top-level field',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), favouriteColour: 'blue' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.favouriteColour',
  },
  {
    name: 'an unknown field nested in a section (metrics.bogus)',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), metrics: { totalOrders: 1, bogus: 3 } },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.metrics.bogus',
  },
  {
    name: 'an unknown field nested in an address',
    method: 'put',
    path: '/api/v1/customers/{target}',
    body: { ...valid(), addresses: [address({ floor: 3 })] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.0.floor',
  },
  {
    name: 'email as a number',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), email: 12345 },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.email',
  },
  {
    name: 'tags as a string instead of an array',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), tags: 'loyal' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.tags',
  },
  {
    name: 'an invalid email address',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), email: 'not-an-email' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.email',
  },
  {
    name: 'an invalid phone number',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), phone: '12345' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.phone',
  },
  {
    name: 'churnProbability 1.5 (a probability is between 0 and 1) in a PUT',
    method: 'put',
    path: '/api/v1/customers/{target}',
    body: { ...valid(), metrics: { churnProbability: 1.5 } },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.metrics.churnProbability',
  },
  {
    name: 'a negative totalSpent in a PATCH',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { firstName: 'Changed', metrics: { totalSpent: -10 } },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.metrics.totalSpent',
  },
  {
    name: 'a non-ISO timestamp for lastActiveAt',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), lastActiveAt: 'yesterday at noon' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.lastActiveAt',
  },
  {
    name: 'a timestamp without a time zone',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { lastActiveAt: '2025-01-31T09:30:00' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.lastActiveAt',
  },
  {
    name: 'a date that does not exist for dateOfBirth (Feb 30)',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), dateOfBirth: '1990-02-30' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.dateOfBirth',
  },
  {
    name: 'a day-first date for dateOfBirth',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { dateOfBirth: '31/01/1990' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.dateOfBirth',
  },
  {
    name: 'an unknown country code (XX) in an address',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), addresses: [address({ countryCode: 'XX' })] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.0.countryCode',
  },
  {
    name: 'an alpha-3 country code (USA) in an address',
    method: 'put',
    path: '/api/v1/customers/{target}',
    body: { ...valid(), addresses: [address(), address({ addressLine1: '2 Main St', countryCode: 'USA' })] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.1.countryCode',
  },
  {
    name: 'an address without its required city',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), addresses: [{ ...address(), city: undefined }] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.0.city',
  },
  {
    name: 'an invalid IP address',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), ipAddresses: [{ ipAddress: '999.1.1.1' }] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.ipAddresses.0.ipAddress',
  },
  {
    name: 'a status outside the enum',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { status: 'platinum' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.status',
  },
  {
    name: 'the same source id listed twice in one body',
    method: 'post',
    path: '/api/v1/customers',
    body: {
      ...valid(),
      sources: [
        { source: 'square', externalId: 'sq-dup-1' },
        { source: 'square', externalId: 'sq-dup-1' },
      ],
    },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.sources.1',
  },
  {
    name: 'two default addresses',
    method: 'put',
    path: '/api/v1/customers/{target}',
    body: { ...valid(), addresses: [address({ isDefault: true }), address({ addressLine1: '2 Main St', isDefault: true })] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.1',
    message: /default/,
  },
  {
    name: 'an empty body {} (needs an email, a phone or a name)',
    method: 'post',
    path: '/api/v1/customers',
    body: {},
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.email',
  },
  {
    name: 'a lowercase-only source name written in capitals',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), sources: [{ source: 'Square', externalId: 'sq-caps' }] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.sources.0.source',
  },
  {
    name: 'an activity type that is not snake_case, in a PATCH',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { activities: [{ activityType: 'Page View' }] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.activities.0.activityType',
  },
  {
    name: 'a latitude out of range',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), addresses: [address({ latitude: 91 })] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.0.latitude',
  },
  {
    name: 'a body over the size limit (300 KB of notes)',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), notes: 'x'.repeat(300 * 1024) },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a PUT body over the size limit',
    method: 'put',
    path: '/api/v1/customers/{target}',
    body: { ...valid(), internalNotes: 'y'.repeat(300 * 1024) },
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'a text/plain body',
    method: 'post',
    path: '/api/v1/customers',
    raw: { type: 'text/plain', data: 'email=someone@example.com' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a form-encoded PATCH body',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    raw: { type: 'application/x-www-form-urlencoded', data: 'firstName=Form' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a JSON body in an unsupported charset',
    method: 'post',
    path: '/api/v1/customers',
    raw: { type: 'application/json; charset=latin1', data: JSON.stringify(buildCustomer()) },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'an id in the path that is not a uuid (GET)',
    method: 'get',
    path: '/api/v1/customers/not-a-uuid',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'params.id',
  },
  {
    name: 'an id in the path that is not a uuid (PUT)',
    method: 'put',
    path: '/api/v1/customers/not-a-uuid',
    body: valid(),
    status: 400,
    code: 'INVALID_INPUT',
    field: 'params.id',
  },
  {
    name: 'an id in the path that is not a uuid (DELETE)',
    method: 'delete',
    path: '/api/v1/customers/123',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'params.id',
  },
  {
    name: 'an unknown query parameter on the list',
    method: 'get',
    path: '/api/v1/customers?sort=name',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.sort',
  },
  {
    name: 'an unknown query parameter on a write',
    method: 'post',
    path: '/api/v1/customers?dryRun=true',
    body: valid(),
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.dryRun',
  },
  {
    name: 'an unknown wait mode on a write',
    method: 'patch',
    path: '/api/v1/customers/{target}?wait=forever',
    body: { firstName: 'Waiting' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.wait',
  },
  {
    name: 'limit=0 on the list',
    method: 'get',
    path: '/api/v1/customers?limit=0',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.limit',
  },
  {
    name: 'limit=abc on the list',
    method: 'get',
    path: '/api/v1/customers?limit=abc',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.limit',
  },
  {
    name: 'limit=1000 (over the maximum) on the list',
    method: 'get',
    path: '/api/v1/customers?limit=1000',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.limit',
  },
  {
    name: 'a cursor this API never returned',
    method: 'get',
    path: '/api/v1/customers?cursor=not-a-cursor',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.cursor',
  },
  {
    name: 'a well-encoded cursor with a bad id inside',
    method: 'get',
    path: `/api/v1/customers?cursor=${Buffer.from(JSON.stringify(['2025-01-01T00:00:00.000Z', "x' OR 1=1 --"])).toString('base64url')}`,
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.cursor',
  },
  {
    name: 'an invalid status filter on the list',
    method: 'get',
    path: '/api/v1/customers?status=sleeping',
    status: 400,
    code: 'INVALID_INPUT',
    field: 'query.status',
  },
  {
    name: 'an If-Match header that is not a version',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    headers: { 'If-Match': 'version-three' },
    body: { firstName: 'Matched' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'headers.if-match',
    message: /if-match/i,
  },
  {
    name: 'a PATCH with an unknown field',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { firstName: 'Valid', nickname: 'Polly' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.nickname',
  },
  {
    name: 'a PATCH with an unknown field inside a section',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { engagement: { loyaltyPoints: 10, loyaltyKarma: 3 } },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.engagement.loyaltyKarma',
  },
  {
    name: 'a stale If-Match version',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    headers: { 'If-Match': '"v999"' },
    body: { firstName: 'Stale' },
    status: 409,
    code: 'CONFLICT',
    // The current version is filled in by the test (it is the target's).
    details: 'currentVersion',
  },
  {
    name: 'a PUT on a uuid that does not exist',
    method: 'put',
    path: '/api/v1/customers/{missing}',
    body: valid(),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a PATCH on a uuid that does not exist',
    method: 'patch',
    path: '/api/v1/customers/{missing}',
    body: { firstName: 'Ghost' },
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a DELETE on a uuid that does not exist',
    method: 'delete',
    path: '/api/v1/customers/{missing}',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a PATCH with two default addresses (the whole-aggregate rules apply to a patch too)',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { addresses: [address({ isDefault: true }), address({ addressLine1: '2 Main St', isDefault: true })] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.1',
    message: /default/,
  },
  {
    name: 'a PATCH listing the same source id twice',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: {
      sources: [
        { source: 'square', externalId: 'sq-patch-dup' },
        { source: 'square', externalId: 'sq-patch-dup' },
      ],
    },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.sources.1',
  },
  {
    name: 'a PATCH listing the same IP address twice',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { ipAddresses: [{ ipAddress: '10.0.0.1' }, { ipAddress: '10.0.0.1' }] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.ipAddresses.1',
  },
  {
    name: 'a PATCH listing the same address id twice',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: {
      addresses: [
        address({ id: '6f1c2c1e-7b0a-4c53-9c55-0e5b2f7a1d10' }),
        address({ id: '6f1c2c1e-7b0a-4c53-9c55-0e5b2f7a1d10', addressLine1: '2 Main St' }),
      ],
    },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.addresses.1',
  },
  {
    name: 'a PATCH that clears the email, the phone and both names',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { email: null, phone: null, firstName: null, lastName: null },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.email',
  },
  {
    name: 'the same IPv6 address twice in two spellings',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), ipAddresses: [{ ipAddress: '2001:db8::1' }, { ipAddress: '2001:0db8:0000:0000:0000:0000:0000:0001' }] },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.ipAddresses.1',
  },
  {
    name: 'a NUL character in a name (PostgreSQL text cannot hold it)',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), firstName: 'Pau\u0000line' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.firstName',
  },
  {
    name: 'a NUL character inside customAttributes (jsonb cannot hold it)',
    method: 'patch',
    path: '/api/v1/customers/{target}',
    body: { customAttributes: { nickname: 'Po\u0000lly' } },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.customAttributes.nickname',
  },
  {
    name: 'customAttributes nested 3000 levels deep',
    method: 'post',
    path: '/api/v1/customers',
    raw: {
      type: 'application/json',
      data: JSON.stringify({ ...buildCustomer(), customAttributes: {} }).replace('"customAttributes":{}', `"customAttributes":{"deep":${'['.repeat(3000)}${']'.repeat(3000)}}`),
    },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.customAttributes',
    fieldPrefix: true,
  },
  {
    name: 'a date PostgreSQL cannot store (year 0000) for dateOfBirth',
    method: 'post',
    path: '/api/v1/customers',
    body: { ...valid(), dateOfBirth: '0000-01-01' },
    status: 400,
    code: 'INVALID_INPUT',
    field: 'body.dateOfBirth',
  },
  {
    name: 'a route that does not exist',
    method: 'post',
    path: '/api/v1/customers/{target}/no-such-action',
    body: {},
    status: 404,
    code: 'NOT_FOUND',
  },
];

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness();
  const body = buildCustomer();
  const created = await request(t.app).post('/api/v1/customers').set(auth()).send(body).expect(201);
  // A second version, so the target is not a fresh row.
  const patched = await request(t.app)
    .patch(`/api/v1/customers/${created.body.data.id}`)
    .set(auth())
    .send({ notes: 'second version' })
    .expect(200);
  expect(patched.body.data.version).toBe(2);
  target = { id: created.body.data.id as string };
});
afterAll(async () => {
  // The in-process projector may still be writing to the emulator this file is about to close.
  await t.projector.stop();
  await t.close();
});

function send(c: Pick<BadCase, 'method' | 'path' | 'body' | 'raw' | 'headers'>): Promise<Response> {
  const path = c.path.replace('{target}', target.id).replace('{missing}', randomUUID());
  let req = request(t.app)[c.method](path).set(auth());
  if (c.headers) req = req.set(c.headers);
  if (c.raw) return req.set('Content-Type', c.raw.type).send(c.raw.data);
  if (c.body !== undefined) return req.send(c.body as object);
  return req;
}

describe('malformed requests to the customer routes', () => {
  it('has at least 24 cases, each with a distinct name', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(24);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('refuses %s and changes nothing', async (_name, c) => {
    const before = await snapshot();
    const res = await send(c);

    expectStandardError(res, c.status, c.code);
    if (c.field) {
      const field = c.fieldPrefix ? expect.stringMatching(new RegExp(`^${c.field.replace(/\./g, '\\.')}(\\.|$)`)) : c.field;
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.any(String) })]));
      expect(res.body.error).toMatch(c.message ?? c.field);
    } else if (c.message) {
      expect(res.body.error).toMatch(c.message);
    }
    if (c.details === 'currentVersion') expect(res.body.details).toEqual({ currentVersion: before.target_version });
    // Values the client sent are not echoed back into the error.
    if (c.body && typeof c.body === 'object' && 'email' in c.body && typeof c.body.email === 'string') {
      expect(JSON.stringify(res.body)).not.toContain(c.body.email);
    }

    expect(await snapshot()).toEqual(before);
  });

  it('echoes a caller-supplied request id in the header and the error body', async () => {
    const res = await request(t.app).get('/api/v1/customers/not-a-uuid').set(auth()).set('X-Request-Id', 'trace-abc.123').expect(400);
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
    expect(res.body.requestId).toBe('trace-abc.123');
  });

  it('reports every problem of a body at once, one field each', async () => {
    const res = await request(t.app)
      .post('/api/v1/customers')
      .set(auth())
      .send({ ...buildCustomer(), email: 'nope', phone: '1', metrics: { churnProbability: 2 } });
    expectStandardError(res, 400, 'INVALID_INPUT');
    const fields = (res.body.details as { field: string }[]).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.email', 'body.phone', 'body.metrics.churnProbability']));
  });
});

describe('a failure half-way through the write transaction leaves nothing', () => {
  it('rolls back the whole aggregate when the outbox insert fails on create, and the email stays free', async () => {
    const body = buildCustomer();
    const before = await snapshot();
    await t.database.pool.query(`
      CREATE FUNCTION test_refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'outbox refused by the test'; END $$;
      CREATE TRIGGER test_refuse_outbox BEFORE INSERT ON sync_logs FOR EACH ROW EXECUTE FUNCTION test_refuse_outbox();`);
    try {
      const created = await request(t.app).post('/api/v1/customers').set(auth()).send(body);
      expect(created.status).toBeGreaterThanOrEqual(500);
      expectStandardError(created, created.status, created.status === 503 ? 'DATABASE_ERROR' : 'INTERNAL_ERROR');
      // The database's own message is not handed to the client.
      expect(created.body.error).not.toContain('outbox refused');

      const patched = await request(t.app).patch(`/api/v1/customers/${target.id}`).set(auth()).send({ firstName: 'Halfway' });
      expect(patched.status).toBeGreaterThanOrEqual(500);
      expectStandardError(patched, patched.status, patched.status === 503 ? 'DATABASE_ERROR' : 'INTERNAL_ERROR');

      expect(await snapshot()).toEqual(before);
      const { rows } = await t.database.pool.query('SELECT id FROM customers WHERE email_lowercase = $1', [(body.email as string).toLowerCase()]);
      expect(rows).toEqual([]);
    } finally {
      await t.database.pool.query('DROP TRIGGER IF EXISTS test_refuse_outbox ON sync_logs; DROP FUNCTION IF EXISTS test_refuse_outbox();');
    }
    // Nothing half-written holds the email or the source id: the same body now goes through.
    const retried = await request(t.app).post('/api/v1/customers').set(auth()).send(body).expect(201);
    expect(retried.body.data.version).toBe(1);
    const read = await request(t.app).get(`/api/v1/customers/${target.id}`).set(auth()).expect(200);
    expect(read.body.data.firstName).not.toBe('Halfway');
    expect(read.body.data.version).toBe(before.target_version);
  });

  describe('an update whose later part belongs to another customer', () => {
    let other: { id: string; activityId: string; addressId: string; source: { source: string; externalId: string } };

    beforeAll(async () => {
      const activityId = randomUUID();
      const body = buildCustomer({ activities: [{ id: activityId, activityType: 'purchase', occurredAt: '2025-03-01T12:00:00Z' }] });
      const res = await request(t.app).post('/api/v1/customers').set(auth()).send(body).expect(201);
      const data = res.body.data;
      other = {
        id: data.id as string,
        activityId,
        addressId: data.addresses[0].id as string,
        source: { source: data.sources[0].source as string, externalId: data.sources[0].externalId as string },
      };
    });

    const variants: [string, () => Record<string, unknown>][] = [
      ['an activity id', () => ({ activities: [{ id: other.activityId, activityType: 'page_view' }] })],
      ['an address id', () => ({ addresses: [{ ...address(), id: other.addressId }] })],
      ['a source id', () => ({ sources: [other.source] })],
    ];

    it.each(variants)('PUT with %s of another customer is a 409 and leaves both customers as they were', async (_what, part) => {
      const before = await snapshot();
      const targetBefore = await request(t.app).get(`/api/v1/customers/${target.id}`).set(auth()).expect(200);
      const otherBefore = await request(t.app).get(`/api/v1/customers/${other.id}`).set(auth()).expect(200);

      // The early parts of the write (name, email, tags, metrics) are all valid changes.
      const res = await request(t.app)
        .put(`/api/v1/customers/${target.id}`)
        .set(auth())
        .send({ ...buildCustomer({ firstName: 'Rewritten', tags: ['changed'] }), ...part() });
      expectStandardError(res, 409, 'CONFLICT');

      expect(await snapshot()).toEqual(before);
      const targetAfter = await request(t.app).get(`/api/v1/customers/${target.id}`).set(auth()).expect(200);
      expect(targetAfter.body.data).toEqual(targetBefore.body.data);
      expect(targetAfter.body.data.version).toBe(before.target_version);
      const otherAfter = await request(t.app).get(`/api/v1/customers/${other.id}`).set(auth()).expect(200);
      expect(otherAfter.body.data).toEqual(otherBefore.body.data);
      const outbox = await t.database.pool.query('SELECT count(*)::int AS n FROM sync_logs WHERE entity_id = $1', [target.id]);
      // One outbox row per committed version, none for the refused write.
      expect(outbox.rows[0].n).toBe(before.target_version);
    });

    it('PATCH with an activity id of another customer is a 409 and changes nothing', async () => {
      const before = await snapshot();
      const res = await request(t.app)
        .patch(`/api/v1/customers/${target.id}`)
        .set(auth())
        .send({ firstName: 'Patched', activities: [{ activityType: 'add_to_cart' }, { id: other.activityId, activityType: 'page_view' }] });
      expectStandardError(res, 409, 'CONFLICT');
      expect(await snapshot()).toEqual(before);
    });
  });
});

describe('the snapshot used above', () => {
  it('does see a committed change, so an unchanged snapshot means something', async () => {
    const before = await snapshot();
    await request(t.app).patch(`/api/v1/customers/${target.id}`).set(auth()).send({ notes: `control ${randomUUID()}` }).expect(200);
    const after = await snapshot();
    expect(after.target_version).toBe(before.target_version + 1);
    expect(after.tables.customers!.hash).not.toBe(before.tables.customers!.hash);
    expect(after.tables.sync_logs!.n).toBe(before.tables.sync_logs!.n + 1);
  });
});
