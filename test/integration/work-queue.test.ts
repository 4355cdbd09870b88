// The PostgreSQL work queue (exports, erasures and imports share it) against real PostgreSQL:
// concurrent workers never claim the same row, an expired lease is claimed again, failures back
// off and end FAILED after maxAttempts, RetryLater waits without counting as a failure, and the
// QueueWorker records each outcome.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { QueueWorker, type QueueHandler } from '../../src/jobs/queue-worker.js';
import { backoffMs, claimNext, recordFailure, RetryLater, type QueueSpec } from '../../src/jobs/work-queue.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let businessId: string;
const spec: QueueSpec = { table: 'customer_imports', leaseMs: 60_000, maxAttempts: 3, baseBackoffMs: 1_000, maxBackoffMs: 10_000 };

async function enqueue(n: number, dueAt = new Date(0)): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  for (const id of ids) {
    await t.database.pool.query(
      `INSERT INTO customer_imports (id, business_id, requested_by, format, next_attempt_at) VALUES ($1, $2, 'test', 'csv', $3)`,
      [id, businessId, dueAt.toISOString()],
    );
  }
  return ids;
}

async function rowOf(id: string) {
  const { rows } = await t.database.pool.query<{ status: string; attempts: number; next_attempt_at: Date; last_error: string | null }>(
    `SELECT status, attempts, next_attempt_at, last_error FROM customer_imports WHERE id = $1`,
    [id],
  );
  return rows[0]!;
}

beforeAll(async () => {
  t = await createTestApp();
  businessId = (await t.newBusiness()).id;
});

afterAll(async () => {
  await t.close();
});

describe('work queue', () => {
  it('gives each due row to exactly one of many concurrent claimers', async () => {
    await t.database.pool.query(`DELETE FROM customer_imports`);
    const ids = await enqueue(20);
    const now = new Date();
    // 40 claims race over 20 rows; each claim is its own transaction.
    const claims = await Promise.all(Array.from({ length: 40 }, () => claimNext(t.database.handle.db, spec, now)));
    const claimed = claims.filter((c) => c !== undefined).map((c) => c.id);
    expect(claimed.sort()).toEqual([...ids].sort());
    expect(await claimNext(t.database.handle.db, spec, now)).toBeUndefined();
  });

  it('claims a PROCESSING row again once its lease has expired', async () => {
    await t.database.pool.query(`DELETE FROM customer_imports`);
    const [id] = await enqueue(1);
    const now = new Date();
    expect((await claimNext(t.database.handle.db, spec, now))?.id).toBe(id);
    expect(await claimNext(t.database.handle.db, spec, new Date(now.getTime() + spec.leaseMs - 1))).toBeUndefined();
    const again = await claimNext(t.database.handle.db, spec, new Date(now.getTime() + spec.leaseMs + 1));
    expect(again).toEqual({ id, attempts: 2 });
  });

  it('ignores the settlement of a worker whose row was taken over after its lease expired', async () => {
    await t.database.pool.query(`DELETE FROM customer_imports`);
    const [id] = await enqueue(1);
    const now = new Date();
    const stale = (await claimNext(t.database.handle.db, spec, now))!;
    const later = new Date(now.getTime() + spec.leaseMs + 1);
    const current = (await claimNext(t.database.handle.db, spec, later))!;
    expect(current).toEqual({ id, attempts: 2 });
    // The first worker wakes up and reports a failure: the row stays with the second one.
    await recordFailure(t.database.handle.db, spec, stale, 'late failure', later);
    expect(await rowOf(id!)).toMatchObject({ status: 'PROCESSING', attempts: 2, last_error: null });
    await recordFailure(t.database.handle.db, spec, current, 'current failure', later);
    expect(await rowOf(id!)).toMatchObject({ status: 'PENDING', attempts: 2, last_error: 'current failure' });
  });

  it('fails a row whose worker was lost during its last attempt instead of trying it again', async () => {
    await t.database.pool.query(`DELETE FROM customer_imports`);
    const [id] = await enqueue(1);
    let now = new Date();
    for (let attempt = 1; attempt < spec.maxAttempts; attempt++) {
      const row = (await claimNext(t.database.handle.db, spec, now))!;
      await recordFailure(t.database.handle.db, spec, row, `boom ${attempt}`, now);
      now = new Date((await rowOf(id!)).next_attempt_at.getTime() + 1);
    }
    expect(await claimNext(t.database.handle.db, spec, now)).toEqual({ id, attempts: spec.maxAttempts });
    // The worker dies: no settlement. Once the lease has expired the row is FAILED, not claimed.
    expect(await claimNext(t.database.handle.db, spec, new Date(now.getTime() + spec.leaseMs + 1))).toBeUndefined();
    expect(await rowOf(id!)).toMatchObject({ status: 'FAILED', attempts: spec.maxAttempts, last_error: 'the worker was lost during the last attempt' });
  });

  it('backs off after a failure and ends FAILED at maxAttempts', async () => {
    await t.database.pool.query(`DELETE FROM customer_imports`);
    const [id] = await enqueue(1);
    let now = new Date();
    for (let attempt = 1; attempt <= spec.maxAttempts; attempt++) {
      const row = await claimNext(t.database.handle.db, spec, now);
      expect(row).toEqual({ id, attempts: attempt });
      const status = await recordFailure(t.database.handle.db, spec, row!, `boom ${attempt}`, now);
      const stored = await rowOf(id!);
      expect(stored.status).toBe(status);
      if (attempt < spec.maxAttempts) {
        expect(status).toBe('PENDING');
        const delay = stored.next_attempt_at.getTime() - now.getTime();
        // base·2^(attempt−1) ± 25 %
        expect(delay).toBeGreaterThanOrEqual(0.75 * 1_000 * 2 ** (attempt - 1) - 1);
        expect(delay).toBeLessThanOrEqual(1.25 * 1_000 * 2 ** (attempt - 1) + 1);
        expect(await claimNext(t.database.handle.db, spec, now)).toBeUndefined();
        now = new Date(stored.next_attempt_at.getTime() + 1);
      } else {
        expect(status).toBe('FAILED');
        expect(stored.last_error).toBe('boom 3');
      }
    }
    expect(await claimNext(t.database.handle.db, spec, new Date(now.getTime() + 86_400_000))).toBeUndefined();
  });

  it('caps the backoff', () => {
    expect(backoffMs(spec, 30, () => 0.5)).toBe(spec.maxBackoffMs);
    expect(backoffMs(spec, 1, () => 0)).toBe(750);
  });

  it('runs handlers through QueueWorker: completes, retries later without counting, fails', async () => {
    await t.database.pool.query(`DELETE FROM customer_imports`);
    const [ok, later, bad] = await enqueue(3);
    const seen: string[] = [];
    const outcomes: string[] = [];
    let deferrals = 0;
    const handler: QueueHandler = {
      name: 'test',
      spec: { ...spec, maxAttempts: 1 },
      async process(row) {
        seen.push(row.id);
        if (row.id === later && deferrals++ < 2) throw new RetryLater(60_000, 'not yet');
        if (row.id === bad) throw new Error('broken');
        await t.database.pool.query(`UPDATE customer_imports SET status = 'COMPLETED', lease_expires_at = NULL WHERE id = $1`, [row.id]);
      },
    };
    let clock = new Date();
    const worker = new QueueWorker(t.database.handle.db, [handler], pino({ level: 'silent' }), () => clock, (_q, outcome) => outcomes.push(outcome));
    await worker.drain();
    expect(new Set(seen)).toEqual(new Set([ok, later, bad]));
    expect((await rowOf(ok!)).status).toBe('COMPLETED');
    expect((await rowOf(bad!)).status).toBe('FAILED');
    const deferred = await rowOf(later!);
    expect(deferred).toMatchObject({ status: 'PENDING', attempts: 0, last_error: 'not yet' });
    // Not due yet: a drain does nothing; a minute later it runs again, and a retry does not use up attempts.
    await worker.drain();
    expect(seen.filter((id) => id === later)).toHaveLength(1);
    clock = new Date(clock.getTime() + 60_001);
    await worker.drain();
    clock = new Date(clock.getTime() + 60_001);
    await worker.drain();
    expect((await rowOf(later!)).status).toBe('COMPLETED');
    expect(outcomes.sort()).toEqual(['completed', 'completed', 'failed', 'retried', 'retried']);
  });
});
