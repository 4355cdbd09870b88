// SQL of the outbox (sync_logs): appending rows inside the aggregate's transaction, and the
// projector's claim / complete / fail bookkeeping.
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { queryRows, type Executor, type Tx } from '../db/db.client.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';
import { syncLogs, type SYNC_OPERATIONS } from '../db/schema/index.js';

export interface OutboxEntry {
  entityType: 'customer';
  entityId: string;
  operation: (typeof SYNC_OPERATIONS)[number];
  entityVersion: number;
  contentHash: string;
  changedFields: string[];
}

export async function appendSyncLog(tx: Executor, entry: OutboxEntry): Promise<string> {
  // clock_timestamp(): as close to the commit as the row can tell, for honest lag figures.
  const [row] = await tx.insert(syncLogs).values({ ...entry, createdAt: sql`clock_timestamp()` }).returning({ id: syncLogs.id });
  return row!.id;
}

export interface ClaimedRow {
  id: string;
  entityId: string;
  operation: string;
  entityVersion: number;
  retryCount: number;
}

/** Due rows (pending, or failed and past their backoff), oldest first, skipping rows another worker holds. */
export async function claimDueSyncLogs(tx: Tx, limit: number): Promise<ClaimedRow[]> {
  return tx
    .select({
      id: syncLogs.id,
      entityId: syncLogs.entityId,
      operation: syncLogs.operation,
      entityVersion: syncLogs.entityVersion,
      retryCount: syncLogs.retryCount,
    })
    .from(syncLogs)
    .where(and(inArray(syncLogs.firestoreStatus, ['pending', 'failed']), lte(syncLogs.nextAttemptAt, sql`now()`)))
    .orderBy(syncLogs.nextAttemptAt, syncLogs.createdAt)
    .limit(limit)
    .for('update', { skipLocked: true });
}

/**
 * Takes a transaction-scoped advisory lock per customer and returns the ids it got. A customer
 * locked by another worker is left to that worker: one customer is never projected by two at once.
 */
export async function lockCustomersForProjection(tx: Tx, customerIds: string[]): Promise<string[]> {
  if (customerIds.length === 0) return [];
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`SELECT id::text AS id FROM unnest(ARRAY[${sql.join(customerIds.map((id) => sql`${id}`), sql`, `)}]::uuid[]) AS id
        WHERE pg_try_advisory_xact_lock(${ADVISORY_LOCKS.projection}, hashtext(id::text))`,
  );
  return rows.map((r) => r.id);
}

/** Every due row of the customer up to the projected version is satisfied by one projection. */
export async function completeSyncLogs(tx: Tx, customerId: string, uptoVersion: number): Promise<void> {
  await tx
    .update(syncLogs)
    .set({ firestoreStatus: 'completed', completedAt: sql`clock_timestamp()`, errorMessage: null })
    .where(
      and(
        eq(syncLogs.entityId, customerId),
        lte(syncLogs.entityVersion, uptoVersion),
        inArray(syncLogs.firestoreStatus, ['pending', 'failed']),
      ),
    );
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Records a failed attempt on the claimed rows: exponential backoff with jitter, or `dead` once
 * the attempts are used up (or at once for a failure that cannot succeed on retry).
 */
export async function failSyncLogs(
  tx: Tx,
  rowIds: string[],
  error: string,
  policy: RetryPolicy,
  opts: { permanent?: boolean } = {},
): Promise<void> {
  if (rowIds.length === 0) return;
  const message = error.slice(0, 1000);
  // delay = min(max, base * 2^retry) * (0.5 + random/2): equal jitter spreads retries of a burst.
  await tx
    .update(syncLogs)
    .set({
      retryCount: sql`${syncLogs.retryCount} + 1`,
      errorMessage: message,
      firestoreStatus: opts.permanent
        ? 'dead'
        : sql`CASE WHEN ${syncLogs.retryCount} + 1 >= ${policy.maxAttempts} THEN 'dead' ELSE 'failed' END`,
      nextAttemptAt: sql`now() + make_interval(secs => least(${policy.maxDelayMs}::float8, ${policy.baseDelayMs}::float8 * power(2, ${syncLogs.retryCount})) * (0.5 + random() / 2) / 1000.0)`,
    })
    .where(inArray(syncLogs.id, rowIds));
}

/** Has the projection of this outbox row (or of a later version of its customer) completed? */
export async function isSyncLogCompleted(ex: Executor, id: string): Promise<boolean> {
  const [row] = await ex.select({ status: syncLogs.firestoreStatus }).from(syncLogs).where(eq(syncLogs.id, id));
  return row?.status === 'completed';
}
