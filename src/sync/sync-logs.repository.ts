// SQL of the outbox (sync_logs): appending rows inside the aggregate's transaction, the
// projector's claim / complete / fail bookkeeping, and the sync operations API's queries.
import { and, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor, type Tx } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';
import { businessCustomers, syncLogs, type SYNC_OPERATIONS, type SYNC_STATUSES } from '../db/schema/index.js';

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

/** Several outbox rows (one per entity) in one statement; ids in the order of `entries`. */
export async function appendSyncLogs(tx: Executor, entries: OutboxEntry[]): Promise<string[]> {
  if (entries.length === 0) return [];
  const rows = await tx
    .insert(syncLogs)
    .values(entries.map((entry) => ({ ...entry, createdAt: sql`clock_timestamp()` })))
    .returning({ id: syncLogs.id, entityId: syncLogs.entityId });
  const byEntity = new Map(rows.map((r) => [r.entityId, r.id]));
  return entries.map((e) => byEntity.get(e.entityId)!);
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

/** Every due row of a customer up to its projected version is satisfied by one projection. */
export async function completeSyncLogs(tx: Tx, projected: { customerId: string; version: number }[]): Promise<void> {
  if (projected.length === 0) return;
  const values = sql.join(
    projected.map((p) => sql`(${p.customerId}::uuid, ${p.version}::bigint)`),
    sql`, `,
  );
  await tx.execute(sql`
    UPDATE ${syncLogs} SET firestore_status = 'completed', completed_at = clock_timestamp(), error_message = NULL
    FROM (VALUES ${values}) AS done(customer_id, version)
    WHERE ${syncLogs.entityId} = done.customer_id AND ${syncLogs.entityVersion} <= done.version
      AND ${syncLogs.firestoreStatus} IN ('pending', 'failed')`);
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

// ---------------------------------------------------------------------------------------------
// The sync operations API (admin): health figures, the log listing and retries. Every query is
// scoped to one business: a row is visible when its customer is linked to the business through
// business_customers (a customer of several businesses is visible to each of them).

type SyncStatus = (typeof SYNC_STATUSES)[number];

/** Statuses the projector still has to deal with; `processing` counts as pending. */
const BACKLOG_STATUSES = ['pending', 'processing', 'failed'] as const;

function ofBusiness(businessId: string): SQL {
  return sql`${syncLogs.entityType} = 'customer' AND EXISTS (SELECT 1 FROM ${businessCustomers}
    WHERE ${businessCustomers.businessId} = ${businessId} AND ${businessCustomers.customerId} = ${syncLogs.entityId})`;
}

export interface SyncDayCounts {
  date: string;
  total: number;
  completed: number;
  failed: number;
  pending: number;
  dead: number;
}

/**
 * Rows created on each of the last `days` UTC days (today included), by current status, oldest
 * day first; a day without rows is there with zeros. `total` also counts `skipped` rows.
 */
export async function countSyncLogsByDay(ex: Executor, businessId: string, days: number): Promise<SyncDayCounts[]> {
  return queryRows<SyncDayCounts>(
    ex,
    sql`WITH bounds AS (SELECT (now() AT TIME ZONE 'UTC')::date - ${days - 1}::int AS first_day),
        days AS (
          SELECT b.first_day + g.n AS day FROM bounds b, generate_series(0, ${days - 1}::int) AS g(n)
        ),
        logs AS (
          SELECT (${syncLogs.createdAt} AT TIME ZONE 'UTC')::date AS day, ${syncLogs.firestoreStatus} AS status
          FROM ${syncLogs}, bounds b
          WHERE ${syncLogs.createdAt} >= (b.first_day::timestamp AT TIME ZONE 'UTC') AND ${ofBusiness(businessId)}
        )
        SELECT to_char(d.day, 'YYYY-MM-DD') AS date,
               count(l.day)::int AS total,
               count(*) FILTER (WHERE l.status = 'completed')::int AS completed,
               count(*) FILTER (WHERE l.status = 'failed')::int AS failed,
               count(*) FILTER (WHERE l.status IN ('pending', 'processing'))::int AS pending,
               count(*) FILTER (WHERE l.status = 'dead')::int AS dead
        FROM days d LEFT JOIN logs l ON l.day = d.day
        GROUP BY d.day
        ORDER BY d.day`,
  );
}

export interface SyncBacklog {
  backlog: number;
  dead: number;
  /** Age of the oldest pending/failed row (the sync lag), or null when there is none. */
  oldestPendingAgeSeconds: number | null;
}

export async function measureSyncBacklog(ex: Executor, businessId: string): Promise<SyncBacklog> {
  const backlog = sql.join(BACKLOG_STATUSES.map((s) => sql`${s}`), sql`, `);
  const [row] = await queryRows<{ backlog: number; dead: number; oldest: number | null }>(
    ex,
    sql`SELECT count(*) FILTER (WHERE ${syncLogs.firestoreStatus} IN (${backlog}))::int AS backlog,
               count(*) FILTER (WHERE ${syncLogs.firestoreStatus} = 'dead')::int AS dead,
               extract(epoch FROM now() - min(${syncLogs.createdAt}) FILTER (WHERE ${syncLogs.firestoreStatus} IN (${backlog})))::float8 AS oldest
        FROM ${syncLogs}
        WHERE ${syncLogs.firestoreStatus} IN (${backlog}, 'dead') AND ${ofBusiness(businessId)}`,
  );
  const { backlog: pendingOrFailed, dead, oldest } = row!;
  // Millisecond precision; never negative, even for a row stamped by a clock a little ahead.
  const oldestPendingAgeSeconds = oldest === null ? null : Math.max(0, Math.round(oldest * 1000) / 1000);
  return { backlog: pendingOrFailed, dead, oldestPendingAgeSeconds };
}

export interface SyncLogsFilter {
  businessId: string;
  status?: SyncStatus;
  customerId?: string;
  limit: number;
  /** Keyset position: created_at at microsecond precision (ISO text) and id of the last row seen. */
  after?: KeysetPosition;
}

/** Newest first by (created_at, id); one row more than `limit`, so the caller knows a next page exists. */
export async function listSyncLogs(ex: Executor, f: SyncLogsFilter) {
  const conditions: (SQL | undefined)[] = [
    ofBusiness(f.businessId),
    f.status ? eq(syncLogs.firestoreStatus, f.status) : undefined,
    f.customerId ? eq(syncLogs.entityId, f.customerId) : undefined,
    f.after ? beyond(syncLogs.createdAt, syncLogs.id, f.after, 'desc') : undefined,
  ];
  return ex
    .select({
      id: syncLogs.id,
      entityType: syncLogs.entityType,
      entityId: syncLogs.entityId,
      operation: syncLogs.operation,
      entityVersion: syncLogs.entityVersion,
      firestoreStatus: syncLogs.firestoreStatus,
      retryCount: syncLogs.retryCount,
      errorMessage: syncLogs.errorMessage,
      changedFields: syncLogs.changedFields,
      contentHash: syncLogs.contentHash,
      nextAttemptAt: syncLogs.nextAttemptAt,
      createdAt: syncLogs.createdAt,
      completedAt: syncLogs.completedAt,
      cursorAt: exactTimestamp(syncLogs.createdAt),
    })
    .from(syncLogs)
    .where(and(...conditions))
    .orderBy(desc(syncLogs.createdAt), desc(syncLogs.id))
    .limit(f.limit + 1);
}

/**
 * Puts failed and dead rows of the business back to pending, due now, with a fresh retry budget.
 * `ids` limits it to those rows; rows that are not failed/dead or not the business's are left
 * alone and not counted. Returns how many rows were reset.
 */
export async function resetSyncLogsForRetry(ex: Executor, businessId: string, ids?: string[]): Promise<number> {
  if (ids?.length === 0) return 0;
  const [row] = await queryRows<{ retried: number }>(
    ex,
    sql`WITH retried AS (
          UPDATE ${syncLogs}
          SET firestore_status = 'pending', next_attempt_at = now(), retry_count = 0, error_message = NULL
          WHERE ${syncLogs.firestoreStatus} IN ('failed', 'dead') AND ${ofBusiness(businessId)}
            ${ids ? sql`AND ${inArray(syncLogs.id, ids)}` : sql``}
          RETURNING 1
        )
        SELECT count(*)::int AS retried FROM retried`,
  );
  return row!.retried;
}

/** Wakes projectors in other processes (the sync_logs trigger only fires on INSERT). */
export async function notifySyncLogsDue(ex: Executor): Promise<void> {
  await ex.execute(sql`SELECT pg_notify('sync_logs', '')`);
}

/** Across every business: rows waiting (pending or failed), dead rows, and the oldest wait in seconds. */
export async function outboxBacklog(ex: Executor): Promise<{ backlog: number; dead: number; oldestSeconds: number }> {
  const [row] = await queryRows<{ backlog: number; dead: number; oldest: number | null }>(
    ex,
    sql`SELECT count(*) FILTER (WHERE ${syncLogs.firestoreStatus} IN ('pending', 'failed', 'processing'))::int AS backlog,
               count(*) FILTER (WHERE ${syncLogs.firestoreStatus} = 'dead')::int AS dead,
               extract(epoch FROM now() - min(${syncLogs.createdAt}) FILTER (WHERE ${syncLogs.firestoreStatus} IN ('pending', 'failed', 'processing')))::float8 AS oldest
        FROM ${syncLogs}
        WHERE ${syncLogs.firestoreStatus} IN ('pending', 'failed', 'processing', 'dead')`,
  );
  return { backlog: row!.backlog, dead: row!.dead, oldestSeconds: Math.max(0, row!.oldest ?? 0) };
}
