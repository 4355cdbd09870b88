// The domain events feed over HTTP against real PostgreSQL: feed order, `after` paging, tenancy,
// permissions, and a transaction still open holding back its event and every later one, so a
// consumer polling with nextAfter never skips an event that commits late, even one whose id is
// lower than events already read.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PG_ADMIN_URL } from '../support/env.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let a: { id: string; token: string };
let b: { id: string; token: string };
const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

interface Event {
  id: number;
  type: string;
  customerId: string | null;
  payload: Record<string, unknown>;
  occurredAt: string;
}

const INSERT_EVENT = `INSERT INTO domain_events (business_id, event_type, customer_id, payload) VALUES ($1, $2, $3, $4) RETURNING id::int`;

async function insertEvent(businessId: string, type: string, customerId: string | null, payload: Record<string, unknown>): Promise<number> {
  // The write paths append events in their own transactions; plain rows keep this test about the feed.
  const { rows } = await t.database.pool.query<{ id: number }>(INSERT_EVENT, [businessId, type, customerId, JSON.stringify(payload)]);
  return rows[0]!.id;
}

function events(token: string, query = '') {
  return request(t.app).get(`/api/v1/events${query}`).set(auth(token));
}

type Feed = { data: Event[]; meta: { nextAfter: string | null } };
const read = async (token: string, query = ''): Promise<Feed> => (await events(token, query).expect(200)).body as Feed;

let ids: number[];
const customerId = randomUUID();

beforeAll(async () => {
  t = await createTestApp();
  a = await t.newBusiness('Events A');
  b = await t.newBusiness('Events B');
  ids = [];
  ids.push(await insertEvent(a.id, 'customers.customer.created', customerId, { version: 1 }));
  ids.push(await insertEvent(b.id, 'customers.customer.created', randomUUID(), {}));
  ids.push(await insertEvent(a.id, 'customers.segment.created', null, { segmentId: 'seg-1' }));
  ids.push(await insertEvent(a.id, 'customers.segment.assigned', customerId, { segmentId: 'seg-1' }));
  ids.push(await insertEvent(b.id, 'customers.tier.upgraded', randomUUID(), {}));
  ids.push(await insertEvent(a.id, 'customers.preferences.updated', customerId, { changedFields: ['smsMarketing'] }));
});
afterAll(() => t.close());

const aIds = () => [ids[0], ids[2], ids[3], ids[5]];

describe('GET /events', () => {
  it('lists the business’s events in order with their payloads', async () => {
    const body = await read(a.token);
    expect(body.data.map((e) => e.id)).toEqual(aIds());
    expect(body.data.map((e) => e.type)).toEqual([
      'customers.customer.created',
      'customers.segment.created',
      'customers.segment.assigned',
      'customers.preferences.updated',
    ]);
    expect(body.data[0]).toMatchObject({ customerId, payload: { version: 1 } });
    expect(body.data[1]).toMatchObject({ customerId: null, payload: { segmentId: 'seg-1' } });
    expect(new Date(body.data[3]!.occurredAt).toISOString()).toBe(body.data[3]!.occurredAt);
    expect(body.meta.nextAfter).toMatch(new RegExp(`^\\d+\\.${ids[5]}$`));
  });

  it('pages with after and limit, and keeps after as nextAfter when nothing is newer', async () => {
    const first = await read(a.token, '?limit=1');
    expect(first.data.map((e) => e.id)).toEqual([ids[0]]);
    const page = await read(a.token, `?after=${first.meta.nextAfter}&limit=2`);
    expect(page.data.map((e) => e.id)).toEqual([ids[2], ids[3]]);
    const next = await read(a.token, `?after=${page.meta.nextAfter}&limit=2`);
    expect(next.data.map((e) => e.id)).toEqual([ids[5]]);
    const empty = await read(a.token, `?after=${next.meta.nextAfter}`);
    expect(empty).toMatchObject({ data: [], meta: { nextAfter: next.meta.nextAfter } });
  });

  it('shows a business only its own events', async () => {
    const body = await read(b.token);
    expect(body.data.map((e) => e.id)).toEqual([ids[1], ids[4]]);
  });

  it('lets admin and service read, and forbids staff and analyst', async () => {
    await events(t.tokenFor(a.id, 'service')).expect(200);
    expect((await events(t.tokenFor(a.id, 'staff')).expect(403)).body.code).toBe('FORBIDDEN');
    await events(t.tokenFor(a.id, 'analyst')).expect(403);
  });

  it('refuses bad paging parameters, naming the field', async () => {
    expect((await events(a.token, '?limit=0').expect(400)).body.details[0].field).toBe('query.limit');
    expect((await events(a.token, '?limit=1001').expect(400)).body.details[0].field).toBe('query.limit');
    expect((await events(a.token, '?after=-1').expect(400)).body.details[0].field).toBe('query.after');
    expect((await events(a.token, '?after=12').expect(400)).body.details[0].field).toBe('query.after');
  });

  it('holds back an event of an open transaction and every later one until it commits, then serves both', async () => {
    const start = (await read(a.token)).meta.nextAfter!;
    const open = new pg.Client({ connectionString: t.database.url });
    await open.connect();
    try {
      await open.query('BEGIN');
      const { rows } = await open.query<{ id: number }>(INSERT_EVENT, [a.id, 'customers.tier.upgraded', customerId, '{}']);
      const early = rows[0]!.id;
      // Commits a later event while the earlier one is still in flight.
      const late = await insertEvent(a.id, 'customers.tier.downgraded', customerId, {});

      const during = await read(a.token, `?after=${start}`);
      expect(during).toMatchObject({ data: [], meta: { nextAfter: start } });

      await open.query('COMMIT');
      const after = await read(a.token, `?after=${start}`);
      expect(after.data.map((e) => [e.id, e.type])).toEqual([
        [early, 'customers.tier.upgraded'],
        [late, 'customers.tier.downgraded'],
      ]);
    } finally {
      await open.end();
    }
  });

  it('never skips an event whose id is lower than one already read', async () => {
    const start = (await read(a.token)).meta.nextAfter!;
    const older = new pg.Client({ connectionString: t.database.url });
    const slow = new pg.Client({ connectionString: t.database.url });
    await Promise.all([older.connect(), slow.connect()]);
    try {
      // `older` starts writing first (its transaction id is lower) but inserts its event last.
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      await slow.query('BEGIN');
      const low = (await slow.query<{ id: number }>(INSERT_EVENT, [a.id, 'customers.segment.assigned', customerId, '{}'])).rows[0]!.id;
      const high = (await older.query<{ id: number }>(INSERT_EVENT, [a.id, 'customers.segment.unassigned', customerId, '{}'])).rows[0]!.id;
      expect(high).toBeGreaterThan(low);
      await older.query('COMMIT');

      // In id order a consumer would read `high` now and later skip `low`; the feed serves `high`
      // and still serves `low` after it commits.
      const first = await read(a.token, `?after=${start}`);
      expect(first.data.map((e) => e.id)).toEqual([high]);
      await slow.query('COMMIT');
      const second = await read(a.token, `?after=${first.meta.nextAfter}`);
      expect(second.data.map((e) => e.id)).toEqual([low]);
    } finally {
      await Promise.all([older.end(), slow.end()]);
    }
  });

  it('is not held back by a long transaction in another database', async () => {
    const elsewhere = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
    await elsewhere.connect();
    try {
      await elsewhere.query('BEGIN');
      await elsewhere.query('SELECT pg_current_xact_id()');
      const start = (await read(a.token)).meta.nextAfter!;
      const id = await insertEvent(a.id, 'customers.customer.updated', customerId, {});
      expect((await read(a.token, `?after=${start}`)).data.map((e) => e.id)).toEqual([id]);
    } finally {
      await elsewhere.query('ROLLBACK');
      await elsewhere.end();
    }
  });
});
