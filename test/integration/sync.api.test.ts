// The sync operations API over HTTP against real PostgreSQL: health by UTC day with backlog and
// lag, the outbox log listing (filters, keyset pages), retrying failed and dead rows, tenancy
// (a business sees and retries only its customers' rows) and admin-only access.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncHealth } from '../../src/sync/sync-admin.service.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;

beforeAll(async () => {
  // The projector is driven by the tests (drain), so rows stay pending until then.
  t = await createTestApp({ env: { SYNC_IN_PROCESS: 'false' } });
  // A session time zone far from UTC (UTC+14) before the app opens any connection: day buckets
  // must follow UTC, not the session's zone.
  await t.database.pool.query(`ALTER DATABASE "${t.database.name}" SET timezone TO 'Pacific/Kiritimati'`);
});
afterAll(() => t.close());

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

async function createCustomers(token: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(t.app).post('/api/v1/customers').set(auth(token)).send(buildCustomer()).expect(201);
    ids.push(res.body.data.id as string);
  }
  return ids;
}

/** The outbox row id of a customer's version (1 = its creation). */
async function rowOf(customerId: string, version = 1): Promise<string> {
  const { rows } = await t.database.pool.query<{ id: string }>(
    'SELECT id FROM sync_logs WHERE entity_id = $1 AND entity_version = $2',
    [customerId, version],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

async function setRows(sqlSet: string, customerIds: string[], params: unknown[] = []): Promise<void> {
  await t.database.pool.query(`UPDATE sync_logs SET ${sqlSet} WHERE entity_id = ANY($1::uuid[])`, [customerIds, ...params]);
}

async function rowState(id: string) {
  const { rows } = await t.database.pool.query<{
    firestore_status: string;
    retry_count: number;
    error_message: string | null;
    due: boolean;
  }>('SELECT firestore_status, retry_count, error_message, next_attempt_at <= now() AS due FROM sync_logs WHERE id = $1', [id]);
  return rows[0];
}

/** UTC day of each given customer's outbox rows, as the database sees it. */
async function utcDaysOf(customerIds: string[]): Promise<Map<string, number>> {
  const { rows } = await t.database.pool.query<{ day: string; n: number }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS n
     FROM sync_logs WHERE entity_id = ANY($1::uuid[]) GROUP BY 1`,
    [customerIds],
  );
  return new Map(rows.map((r) => [r.day, r.n]));
}

/** The last seven UTC dates, oldest first. */
async function lastSevenUtcDays(): Promise<string[]> {
  const { rows } = await t.database.pool.query<{ today: string }>(`SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS today`);
  const today = new Date(`${rows[0]!.today}T00:00:00Z`).getTime();
  return Array.from({ length: 7 }, (_, i) => new Date(today - (6 - i) * 86_400_000).toISOString().slice(0, 10));
}

const health = async (token: string) =>
  (await request(t.app).get('/api/v1/sync/health').set(auth(token)).expect(200)).body.data as SyncHealth;

interface LogItem {
  id: string;
  entityId: string;
  entityVersion: number;
  firestoreStatus: string;
  createdAt: string;
  completedAt: string | null;
  [key: string]: unknown;
}
interface LogsPage {
  data: LogItem[];
  meta: { nextCursor: string | null; limit: number };
}

const zeroDay = { total: 0, completed: 0, failed: 0, pending: 0, dead: 0 };

describe('GET /sync/health', () => {
  it('counts rows per UTC day by status, with the backlog and the lag, as projection moves them on', async () => {
    const b = await t.newBusiness();
    const ids = await createCustomers(b.token, 3);
    // The oldest pending row is 90 seconds old: that is the sync lag.
    await setRows(`created_at = now() - interval '90 seconds'`, [ids[0]!]);

    const dates = await lastSevenUtcDays();
    const perDay = await utcDaysOf(ids);
    const expectDays = (h: { days: unknown[] }, counts: (n: number) => Partial<typeof zeroDay>) =>
      expect(h.days).toEqual(dates.map((date) => ({ date, ...zeroDay, ...(perDay.has(date) ? counts(perDay.get(date)!) : {}) })));

    const pending = await health(b.token);
    expectDays(pending, (n) => ({ total: n, pending: n }));
    expect(pending.backlog).toBe(3);
    expect(pending.dead).toBe(0);
    expect(pending.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(pending.oldestPendingAgeSeconds).toBeLessThan(150);

    await t.projector.drain();
    const completed = await health(b.token);
    expectDays(completed, (n) => ({ total: n, completed: n }));
    expect(completed).toMatchObject({ backlog: 0, dead: 0, oldestPendingAgeSeconds: null });

    // A dead row counts as dead (today's bucket and now), and is not part of the backlog or lag.
    await setRows(`firestore_status = 'dead'`, [ids[1]!]);
    const withDead = await health(b.token);
    expect(withDead).toMatchObject({ backlog: 0, dead: 1, oldestPendingAgeSeconds: null });
    expect(withDead.days.reduce((s: number, d: typeof zeroDay) => s + d.dead, 0)).toBe(1);
    expect(withDead.days.reduce((s: number, d: typeof zeroDay) => s + d.completed, 0)).toBe(2);

    // A failed row (waiting for its backoff) is backlog; 'processing' counts as pending.
    await setRows(`firestore_status = 'failed', created_at = now() - interval '30 seconds'`, [ids[2]!]);
    await setRows(`firestore_status = 'processing'`, [ids[0]!]);
    const withFailed = await health(b.token);
    expect(withFailed).toMatchObject({ backlog: 2, dead: 1 });
    expect(withFailed.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(withFailed.days.reduce((s: number, d: typeof zeroDay) => s + d.failed, 0)).toBe(1);
    expect(withFailed.days.reduce((s: number, d: typeof zeroDay) => s + d.pending, 0)).toBe(1);
  });

  it('buckets rows by their UTC created day, zero-fills empty days and leaves out older ones', async () => {
    const b = await t.newBusiness();
    const [today, threeDaysAgo, sixDaysAgo, beforeWindow] = await createCustomers(b.token, 4);
    const utcMidnight = `(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
    // Late on the UTC day three days back: a session in UTC+14 would see it as the next day.
    await setRows(`created_at = ${utcMidnight} - interval '3 days' + interval '23 hours 59 minutes'`, [threeDaysAgo!]);
    // Just after midnight at the start of the window: the oldest day is included.
    await setRows(`created_at = ${utcMidnight} - interval '6 days' + interval '30 seconds'`, [sixDaysAgo!]);
    // Just before the window.
    await setRows(`created_at = ${utcMidnight} - interval '6 days' - interval '1 second'`, [beforeWindow!]);

    const h = await health(b.token);
    const dates = await lastSevenUtcDays();
    expect(h.days.map((d: { date: string }) => d.date)).toEqual(dates);
    const todayCount = (await utcDaysOf([today!])).get(dates[6]!) ?? 0;
    expect(todayCount).toBe(1);
    expect(h.days.map((d: typeof zeroDay) => d.total)).toEqual([1, 0, 0, 1, 0, 0, 1]);
    expect(h.days.map((d: typeof zeroDay) => d.pending)).toEqual([1, 0, 0, 1, 0, 0, 1]);
    expect(h.days[1]).toEqual({ date: dates[1], ...zeroDay });
    // The backlog is every pending row now, whatever its day; the lag is the oldest one's age.
    expect(h.backlog).toBe(4);
    expect(h.oldestPendingAgeSeconds).toBeGreaterThan(6 * 86_400);
  });
});

describe('GET /sync/logs', () => {
  const list = async (token: string, query: Record<string, string | number> = {}) =>
    (await request(t.app).get('/api/v1/sync/logs').query(query).set(auth(token)).expect(200)).body as LogsPage;

  it('lists rows newest first with their bookkeeping, filtered by status and customer', async () => {
    const b = await t.newBusiness();
    const ids = await createCustomers(b.token, 4);
    await t.projector.drain();
    await request(t.app).patch(`/api/v1/customers/${ids[0]}`).set(auth(b.token)).send({ tags: ['vip'] }).expect(200);
    await setRows(`firestore_status = 'dead', error_message = 'projection failed', retry_count = 5`, [ids[1]!]);

    const all = await list(b.token);
    expect(all.meta).toEqual({ nextCursor: null, limit: 50 });
    const { rows: expected } = await t.database.pool.query<{ id: string }>(
      'SELECT id FROM sync_logs WHERE entity_id = ANY($1::uuid[]) ORDER BY created_at DESC, id DESC',
      [ids],
    );
    expect(all.data.map((r: { id: string }) => r.id)).toEqual(expected.map((r) => r.id));
    expect(all.data).toHaveLength(5);
    const update = all.data[0]!;
    expect(Object.keys(update).sort()).toEqual(
      [
        'id', 'entityType', 'entityId', 'operation', 'entityVersion', 'firestoreStatus', 'retryCount', 'errorMessage',
        'changedFields', 'contentHash', 'nextAttemptAt', 'createdAt', 'completedAt',
      ].sort(),
    );
    expect(update).toMatchObject({
      entityType: 'customer',
      entityId: ids[0],
      operation: 'update',
      entityVersion: 2,
      firestoreStatus: 'pending',
      retryCount: 0,
      errorMessage: null,
      changedFields: ['tags'],
      completedAt: null,
    });
    expect(update.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(update.createdAt).toISOString()).toBe(update.createdAt);

    const dead = await list(b.token, { status: 'dead' });
    expect(dead.data).toHaveLength(1);
    expect(dead.data[0]).toMatchObject({ entityId: ids[1], firestoreStatus: 'dead', errorMessage: 'projection failed', retryCount: 5 });

    const ofCustomer = await list(b.token, { customerId: ids[0]! });
    expect(ofCustomer.data.map((r: { entityVersion: number }) => r.entityVersion)).toEqual([2, 1]);
    const completedOfCustomer = await list(b.token, { customerId: ids[0]!, status: 'completed' });
    expect(completedOfCustomer.data).toHaveLength(1);
    expect(completedOfCustomer.data[0]).toMatchObject({ entityVersion: 1, firestoreStatus: 'completed' });
    expect(completedOfCustomer.data[0]!.completedAt).not.toBeNull();

    expect((await list(b.token, { status: 'failed' })).data).toEqual([]);
    expect((await list(b.token, { customerId: randomUUID() })).data).toEqual([]);
  });

  it('pages with an opaque cursor without skipping or repeating rows created within the same millisecond', async () => {
    const b = await t.newBusiness();
    const ids = await createCustomers(b.token, 7);
    // Microseconds apart inside one millisecond, and two rows with the very same instant (tie on id).
    const stamps = ['.123900', '.123800', '.123700', '.123700', '.123600', '.123100', '.122000'];
    for (const [i, id] of ids.entries()) {
      await setRows(`created_at = $2::timestamptz`, [id], [`2026-01-05T10:00:00${stamps[i]}Z`]);
    }
    const { rows: expected } = await t.database.pool.query<{ id: string }>(
      'SELECT id FROM sync_logs WHERE entity_id = ANY($1::uuid[]) ORDER BY created_at DESC, id DESC',
      [ids],
    );

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await list(b.token, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.meta.limit).toBe(2);
      pageSizes.push(page.data.length);
      seen.push(...page.data.map((r: { id: string }) => r.id));
      cursor = page.meta.nextCursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor && pageSizes.length < 10);
    expect(pageSizes).toEqual([2, 2, 2, 1]);
    expect(seen).toEqual(expected.map((r) => r.id));

    // A filter applies on every page.
    await setRows(`firestore_status = 'dead'`, [ids[0]!, ids[3]!, ids[6]!]);
    const first = await list(b.token, { status: 'dead', limit: 2 });
    expect(first.meta.nextCursor).not.toBeNull();
    const second = await list(b.token, { status: 'dead', limit: 2, cursor: first.meta.nextCursor! });
    expect([...first.data, ...second.data].map((r: { entityId: string }) => r.entityId)).toEqual([ids[0], ids[3], ids[6]]);
    expect(second.meta.nextCursor).toBeNull();
  });
});

describe('POST /sync/retry', () => {
  const retry = async (token: string, body: unknown) =>
    (await request(t.app).post('/api/v1/sync/retry').set(auth(token)).send(body as object).expect(200)).body.data as { retried: number };

  it('resets the listed failed or dead rows to pending, due now, and the projector completes them', async () => {
    const b = await t.newBusiness();
    const ids = await createCustomers(b.token, 3);
    await t.projector.drain();
    const [deadRow, otherDeadRow, completedRow] = [await rowOf(ids[0]!), await rowOf(ids[1]!), await rowOf(ids[2]!)];
    await setRows(
      `firestore_status = 'dead', error_message = 'projection failed', retry_count = 5, next_attempt_at = now() + interval '1 day'`,
      [ids[0]!, ids[1]!],
    );

    // A completed row, an unknown id and the same id twice are not counted.
    expect(await retry(b.token, { ids: [deadRow, completedRow, randomUUID(), deadRow] })).toEqual({ retried: 1 });
    expect(await rowState(deadRow)).toEqual({ firestore_status: 'pending', retry_count: 0, error_message: null, due: true });
    expect((await rowState(otherDeadRow))?.firestore_status).toBe('dead');
    expect((await rowState(completedRow))?.firestore_status).toBe('completed');
    expect(await health(b.token)).toMatchObject({ backlog: 1, dead: 1 });

    const run = await t.projector.drain();
    expect(run.claimed).toBeGreaterThanOrEqual(1);
    expect((await rowState(deadRow))?.firestore_status).toBe('completed');
    expect((await rowState(otherDeadRow))?.firestore_status).toBe('dead');
  });

  it('with all: true resets every failed and dead row of the business', async () => {
    const b = await t.newBusiness();
    const ids = await createCustomers(b.token, 4);
    await t.projector.drain();
    await setRows(`firestore_status = 'dead', error_message = 'x', retry_count = 5`, [ids[0]!, ids[1]!]);
    // Failed, waiting for a backoff far away: retry makes it due now.
    await setRows(`firestore_status = 'failed', error_message = 'y', retry_count = 2, next_attempt_at = now() + interval '1 day'`, [ids[2]!]);

    expect(await retry(b.token, { all: true })).toEqual({ retried: 3 });
    for (const id of ids.slice(0, 3)) {
      expect(await rowState(await rowOf(id))).toEqual({ firestore_status: 'pending', retry_count: 0, error_message: null, due: true });
    }
    expect((await rowState(await rowOf(ids[3]!)))?.firestore_status).toBe('completed');

    await t.projector.drain();
    const { rows } = await t.database.pool.query('SELECT DISTINCT firestore_status FROM sync_logs WHERE entity_id = ANY($1::uuid[])', [ids]);
    expect(rows).toEqual([{ firestore_status: 'completed' }]);
    expect(await retry(b.token, { all: true })).toEqual({ retried: 0 });
  });

  it('wakes the in-process projector so retried rows project without waiting for a poll', async () => {
    const inProcess = await createTestApp({ env: { SYNC_IN_PROCESS: 'true' } });
    try {
      const b = await inProcess.newBusiness();
      const res = await request(inProcess.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer()).expect(201);
      const status = async () =>
        (
          await inProcess.database.pool.query<{ firestore_status: string }>('SELECT firestore_status FROM sync_logs WHERE entity_id = $1', [
            res.body.data.id,
          ])
        ).rows[0]?.firestore_status;
      await expect.poll(status, { timeout: 10_000 }).toBe('completed');
      await inProcess.database.pool.query(`UPDATE sync_logs SET firestore_status = 'dead' WHERE entity_id = $1`, [res.body.data.id]);

      const retried = await request(inProcess.app).post('/api/v1/sync/retry').set(auth(b.token)).send({ all: true }).expect(200);
      expect(retried.body.data).toEqual({ retried: 1 });
      // No poll timer runs here (start() was never called): only the wake can project it.
      await expect.poll(status, { timeout: 10_000 }).toBe('completed');
    } finally {
      await inProcess.projector.stop();
      await inProcess.close();
    }
  });
});

describe('tenancy and roles', () => {
  it('shows a business only its own customers’ rows and never retries another business’s', async () => {
    const a = await t.newBusiness('A');
    const b = await t.newBusiness('B');
    const aIds = await createCustomers(a.token, 2);
    await setRows(`firestore_status = 'dead'`, [aIds[0]!]);
    const aRow = await rowOf(aIds[0]!);
    // A's view, for contrast.
    expect(await health(a.token)).toMatchObject({ backlog: 1, dead: 1 });

    const hb = await health(b.token);
    expect(hb).toMatchObject({ backlog: 0, dead: 0, oldestPendingAgeSeconds: null });
    expect(hb.days.every((d: typeof zeroDay) => d.total === 0)).toBe(true);
    for (const query of [{}, { customerId: aIds[0]! }, { status: 'dead' }]) {
      const res = await request(t.app).get('/api/v1/sync/logs').query(query).set(auth(b.token)).expect(200);
      expect(res.body.data).toEqual([]);
    }
    for (const body of [{ ids: [aRow] }, { all: true }]) {
      const res = await request(t.app).post('/api/v1/sync/retry').set(auth(b.token)).send(body).expect(200);
      expect(res.body.data).toEqual({ retried: 0 });
    }
    expect((await rowState(aRow))?.firestore_status).toBe('dead');

    // A customer linked to both businesses is visible to both.
    await t.database.pool.query('INSERT INTO business_customers (business_id, customer_id) VALUES ($1, $2)', [b.id, aIds[0]]);
    const shared = await request(t.app).get('/api/v1/sync/logs').set(auth(b.token)).expect(200);
    expect(shared.body.data.map((r: { id: string }) => r.id)).toEqual([aRow]);
  });

  it.each(['staff', 'analyst', 'service'] as const)('refuses the %s role with 403 FORBIDDEN on every sync route', async (role) => {
    const a = await t.newBusiness();
    const [id] = await createCustomers(a.token, 1);
    await setRows(`firestore_status = 'dead'`, [id!]);
    const token = t.tokenFor(a.id, role);
    for (const req of [
      request(t.app).get('/api/v1/sync/health'),
      request(t.app).get('/api/v1/sync/logs'),
      request(t.app).post('/api/v1/sync/retry').send({ all: true }),
    ]) {
      const res = await req.set(auth(token)).expect(403);
      expect(res.body).toMatchObject({ success: false, code: 'FORBIDDEN' });
    }
    expect((await rowState(await rowOf(id!)))?.firestore_status).toBe('dead');
  });

  it('refuses a request without a token', async () => {
    const res = await request(t.app).get('/api/v1/sync/health').expect(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
  });
});

describe('bad input', () => {
  let admin: string;
  beforeAll(async () => {
    admin = (await t.newBusiness()).token;
  });

  const fieldsOf = (res: request.Response) => (res.body.details as { field: string }[]).map((d) => d.field);

  it.each([
    ['an unknown status', { status: 'stuck' }, 'query.status'],
    ['a customerId that is not a UUID', { customerId: 'not-a-uuid' }, 'query.customerId'],
    ['limit 0', { limit: '0' }, 'query.limit'],
    ['limit 201', { limit: '201' }, 'query.limit'],
    ['a cursor that is not base64 JSON', { cursor: 'not-a-cursor' }, 'query.cursor'],
    // Well-formed, but not an instant (31 February) / not an id.
    ['a cursor with an impossible date', { cursor: Buffer.from(JSON.stringify(['2026-02-31T10:00:00.000000Z', randomUUID()])).toString('base64url') }, 'query.cursor'],
    ['a cursor with a bad id', { cursor: Buffer.from(JSON.stringify(['2026-01-05T10:00:00.000000Z', 'x'])).toString('base64url') }, 'query.cursor'],
    ['an unknown parameter', { sort: 'asc' }, 'query.sort'],
  ])('GET /sync/logs with %s answers 400 naming the field', async (_label, query, field) => {
    const res = await request(t.app).get('/api/v1/sync/logs').query(query).set(auth(admin)).expect(400);
    expect(res.body.code).toBe('INVALID_INPUT');
    expect(fieldsOf(res)).toEqual([field]);
    expect(res.body.error).toContain(field);
  });

  it.each([
    ['both ids and all', { ids: [randomUUID()], all: true }, 'body.all'],
    ['neither ids nor all', {}, 'body.ids'],
    ['all: false', { all: false }, 'body.all'],
    ['an empty ids list', { ids: [] }, 'body.ids'],
    ['an id that is not a UUID', { ids: ['not-a-uuid'] }, 'body.ids.0'],
    ['1001 ids', { ids: Array.from({ length: 1001 }, () => randomUUID()) }, 'body.ids'],
    ['an unknown key', { ids: [randomUUID()], force: true }, 'body.force'],
  ])('POST /sync/retry with %s answers 400 naming the field', async (_label, body, field) => {
    const res = await request(t.app).post('/api/v1/sync/retry').set(auth(admin)).send(body).expect(400);
    expect(res.body.code).toBe('INVALID_INPUT');
    expect(fieldsOf(res)).toEqual([field]);
    expect(res.body.error).toContain(field);
  });

  it('refuses an unknown query parameter on /sync/health', async () => {
    const res = await request(t.app).get('/api/v1/sync/health?days=30').set(auth(admin)).expect(400);
    expect(fieldsOf(res)).toEqual(['query.days']);
  });

  it('documents the three routes in the OpenAPI document', async () => {
    const res = await request(t.app).get('/api/v1/openapi.json').expect(200);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/sync/health', '/sync/logs', '/sync/retry']));
    expect(res.body.paths['/sync/retry'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('ids');
  });
});
