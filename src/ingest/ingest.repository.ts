// All SQL of POS ingestion: connections, checkpoints, run records, quarantine, and the
// customer_transactions links with their metrics queue. Batches travel as one JSON parameter
// (jsonb_to_recordset), so a page costs a fixed number of round trips whatever its size.
import { and, desc, eq, sql } from 'drizzle-orm';
import { queryRows, type Db, type Executor } from '../db/db.client.js';
import { beyond, exactTimestamp, keysetPage, type KeysetPosition } from '../db/keyset.js';
import {
  ingestCheckpoints,
  ingestQuarantine,
  ingestRuns,
  posConnections,
  type PosProvider,
  type StreamStats,
  type TRANSACTION_STATUSES,
} from '../db/schema/index.js';

export type PosConnection = typeof posConnections.$inferSelect;
export type NewPosConnection = typeof posConnections.$inferInsert;
export type IngestRunRow = typeof ingestRuns.$inferSelect;

export interface Checkpoint {
  watermark: Date | null;
  state: Record<string, unknown>;
}

export interface TransactionRow {
  businessId: string;
  source: PosProvider;
  transactionId: string;
  customerId: string | null;
  sourceCustomerId: string | null;
  occurredAt: Date;
  status: (typeof TRANSACTION_STATUSES)[number];
  amount: number;
  refundedAmount: number;
  currency: string;
  itemCount: number;
  categories: string[];
  sourceUpdatedAt: Date;
}

export interface QuarantineRow {
  stream: string;
  recordId: string | null;
  reason: string;
  payload: unknown;
}

export interface RunCounts {
  pages: number;
  rows: number;
  quarantined: number;
  linked: number;
  unlinked: number;
  profilesCreated: number;
  streams: Record<string, StreamStats>;
}

export async function insertConnection(db: Db, connection: NewPosConnection): Promise<PosConnection> {
  const [row] = await db.insert(posConnections).values(connection).returning();
  return row!;
}

export async function findConnection(db: Db, id: string): Promise<PosConnection | undefined> {
  const [row] = await db.select().from(posConnections).where(eq(posConnections.id, id));
  return row;
}

export async function listConnections(db: Db, filter: { provider?: PosProvider; businessId?: string; enabledOnly?: boolean } = {}): Promise<PosConnection[]> {
  const conditions = [
    filter.provider ? eq(posConnections.provider, filter.provider) : undefined,
    filter.businessId ? eq(posConnections.businessId, filter.businessId) : undefined,
    filter.enabledOnly ? eq(posConnections.enabled, true) : undefined,
  ].filter((c) => c !== undefined);
  return db.select().from(posConnections).where(and(...conditions)).orderBy(posConnections.createdAt, posConnections.id);
}

export async function updateConnection(
  db: Db,
  id: string,
  changes: Pick<NewPosConnection, 'apiUrl' | 'tokenUrl' | 'credentials'>,
): Promise<void> {
  await db.update(posConnections).set({ ...changes, updatedAt: sql`now()` }).where(eq(posConnections.id, id));
}

export async function saveConnectionCredentials(db: Db, id: string, sealed: string): Promise<void> {
  await db.update(posConnections).set({ credentials: sealed, updatedAt: sql`now()` }).where(eq(posConnections.id, id));
}

export async function loadCheckpoints(db: Db, connectionId: string): Promise<Map<string, Checkpoint>> {
  const rows = await db.select().from(ingestCheckpoints).where(eq(ingestCheckpoints.connectionId, connectionId));
  return new Map(rows.map((r) => [r.stream, { watermark: r.watermark, state: r.state }]));
}

export async function saveCheckpoint(ex: Executor, connectionId: string, stream: string, checkpoint: Checkpoint): Promise<void> {
  await ex
    .insert(ingestCheckpoints)
    .values({ connectionId, stream, watermark: checkpoint.watermark, state: checkpoint.state })
    .onConflictDoUpdate({
      target: [ingestCheckpoints.connectionId, ingestCheckpoints.stream],
      set: { watermark: checkpoint.watermark, state: checkpoint.state, updatedAt: sql`now()` },
    });
}

export async function startRun(db: Db, connection: PosConnection, trigger: string): Promise<string> {
  const [row] = await db
    .insert(ingestRuns)
    .values({ connectionId: connection.id, businessId: connection.businessId, provider: connection.provider, trigger })
    .returning({ id: ingestRuns.id });
  return row!.id;
}

/**
 * Closes the run records of this connection that a stopped process left `running`. Called with
 * the connection's lock held, so no live run can be among them.
 */
export async function closeInterruptedRuns(db: Db, connectionId: string): Promise<number> {
  const rows = await db
    .update(ingestRuns)
    .set({ status: 'failed', error: 'interrupted: the process stopped before the run finished', finishedAt: sql`clock_timestamp()` })
    .where(and(eq(ingestRuns.connectionId, connectionId), eq(ingestRuns.status, 'running')))
    .returning({ id: ingestRuns.id });
  return rows.length;
}

export async function saveRunCounts(ex: Executor, runId: string, counts: RunCounts): Promise<void> {
  await ex.update(ingestRuns).set(counts).where(eq(ingestRuns.id, runId));
}

export async function finishRun(db: Db, runId: string, counts: RunCounts, error: string | null): Promise<IngestRunRow> {
  const [row] = await db
    .update(ingestRuns)
    .set({ ...counts, status: error ? 'failed' : 'succeeded', error, finishedAt: sql`clock_timestamp()` })
    .where(eq(ingestRuns.id, runId))
    .returning();
  return row!;
}

export async function insertQuarantine(ex: Executor, connection: PosConnection, runId: string, rows: QuarantineRow[]): Promise<void> {
  if (rows.length === 0) return;
  await ex.insert(ingestQuarantine).values(
    rows.map((r) => ({
      runId,
      connectionId: connection.id,
      businessId: connection.businessId,
      stream: r.stream,
      recordId: r.recordId,
      reason: r.reason,
      payload: r.payload ?? null,
    })),
  );
}

/**
 * Upserts transactions by (business, source, id) and queues the metrics of every customer whose
 * transactions actually changed: a re-run that brings nothing new queues nothing. An older
 * source version never replaces a newer one.
 */
export async function upsertTransactions(ex: Executor, rows: TransactionRow[]): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(
    rows.map((r) => ({
      business_id: r.businessId,
      source: r.source,
      transaction_id: r.transactionId,
      customer_id: r.customerId,
      source_customer_id: r.sourceCustomerId,
      occurred_at: r.occurredAt.toISOString(),
      status: r.status,
      amount: r.amount,
      refunded_amount: r.refundedAmount,
      currency: r.currency,
      item_count: r.itemCount,
      categories: r.categories,
      source_updated_at: r.sourceUpdatedAt.toISOString(),
    })),
  );
  await ex.execute(sql`
    WITH incoming AS (
      SELECT DISTINCT ON (business_id, source, transaction_id) *
      FROM jsonb_to_recordset(${payload}::jsonb) AS x(
        business_id uuid, source text, transaction_id text, customer_id uuid, source_customer_id text,
        occurred_at timestamptz, status text, amount numeric, refunded_amount numeric, currency text,
        item_count int, categories text[], source_updated_at timestamptz)
      ORDER BY business_id, source, transaction_id, source_updated_at DESC
    ), changed AS (
      INSERT INTO customer_transactions AS t (business_id, source, transaction_id, customer_id, source_customer_id,
        occurred_at, status, amount, refunded_amount, currency, item_count, categories, source_updated_at)
      SELECT business_id, source, transaction_id, customer_id, source_customer_id, occurred_at, status, amount,
        refunded_amount, currency, item_count, categories, source_updated_at FROM incoming
      ON CONFLICT (business_id, source, transaction_id) DO UPDATE SET
        customer_id = EXCLUDED.customer_id, source_customer_id = EXCLUDED.source_customer_id,
        occurred_at = EXCLUDED.occurred_at, status = EXCLUDED.status, amount = EXCLUDED.amount,
        refunded_amount = EXCLUDED.refunded_amount, currency = EXCLUDED.currency, item_count = EXCLUDED.item_count,
        categories = EXCLUDED.categories, source_updated_at = EXCLUDED.source_updated_at, updated_at = now()
      WHERE t.source_updated_at <= EXCLUDED.source_updated_at
        AND (t.customer_id, t.occurred_at, t.status, t.amount, t.refunded_amount, t.currency, t.item_count, t.categories)
          IS DISTINCT FROM
            (EXCLUDED.customer_id, EXCLUDED.occurred_at, EXCLUDED.status, EXCLUDED.amount, EXCLUDED.refunded_amount,
             EXCLUDED.currency, EXCLUDED.item_count, EXCLUDED.categories)
      RETURNING customer_id
    )
    INSERT INTO customer_metrics_pending (customer_id)
    SELECT DISTINCT customer_id FROM changed WHERE customer_id IS NOT NULL
    ON CONFLICT (customer_id) DO NOTHING`);
}

/** Customer ids of a source's transactions, by transaction id (a refund finds its payment's customer). */
export async function customersOfTransactions(
  db: Db,
  businessId: string,
  source: PosProvider,
  transactionIds: string[],
): Promise<Map<string, { customerId: string | null; sourceCustomerId: string | null }>> {
  if (transactionIds.length === 0) return new Map();
  const rows = await queryRows<{ transaction_id: string; customer_id: string | null; source_customer_id: string | null }>(
    db,
    sql`SELECT transaction_id, customer_id::text, source_customer_id FROM customer_transactions
        WHERE business_id = ${businessId} AND source = ${source}
          AND transaction_id = ANY(ARRAY[${sql.join(transactionIds.map((id) => sql`${id}`), sql`, `)}]::text[])`,
  );
  return new Map(rows.map((r) => [r.transaction_id, { customerId: r.customer_id, sourceCustomerId: r.source_customer_id }]));
}

export async function pendingMetricCustomers(db: Db, limit: number): Promise<string[]> {
  const rows = await queryRows<{ customer_id: string }>(
    db,
    sql`SELECT customer_id::text FROM customer_metrics_pending ORDER BY enqueued_at, customer_id LIMIT ${limit}`,
  );
  return rows.map((r) => r.customer_id);
}

export async function listRuns(db: Db, businessId: string, opts: { limit: number; after?: KeysetPosition; provider?: PosProvider }) {
  const rows = await db
    .select({
      id: ingestRuns.id,
      connectionId: ingestRuns.connectionId,
      provider: ingestRuns.provider,
      trigger: ingestRuns.trigger,
      status: ingestRuns.status,
      startedAt: ingestRuns.startedAt,
      finishedAt: ingestRuns.finishedAt,
      pages: ingestRuns.pages,
      rows: ingestRuns.rows,
      quarantined: ingestRuns.quarantined,
      linked: ingestRuns.linked,
      unlinked: ingestRuns.unlinked,
      profilesCreated: ingestRuns.profilesCreated,
      streams: ingestRuns.streams,
      error: ingestRuns.error,
      cursorAt: exactTimestamp(ingestRuns.startedAt),
    })
    .from(ingestRuns)
    .where(
      and(
        eq(ingestRuns.businessId, businessId),
        opts.provider ? eq(ingestRuns.provider, opts.provider) : undefined,
        opts.after ? beyond(ingestRuns.startedAt, ingestRuns.id, opts.after, 'desc') : undefined,
      ),
    )
    .orderBy(desc(ingestRuns.startedAt), desc(ingestRuns.id))
    .limit(opts.limit + 1);
  return keysetPage(rows, opts.limit);
}

export interface SourceStatusRow {
  provider: PosProvider;
  connections: number;
  last_success_at: Date | null;
  last_run_status: string | null;
  last_run_at: Date | null;
  last_error: string | null;
  transactions: number;
  named_customer: number;
  linked: number;
  quarantined: number;
}

export async function sourceStatus(db: Db, businessId: string): Promise<SourceStatusRow[]> {
  return queryRows<SourceStatusRow>(
    db,
    sql`SELECT c.provider,
          count(DISTINCT c.id)::int AS connections,
          (SELECT max(r.finished_at) FROM ingest_runs r WHERE r.business_id = ${businessId} AND r.provider = c.provider AND r.status = 'succeeded') AS last_success_at,
          last.status AS last_run_status, last.started_at AS last_run_at, last.error AS last_error,
          coalesce(tx.transactions, 0)::int AS transactions, coalesce(tx.named_customer, 0)::int AS named_customer,
          coalesce(tx.linked, 0)::int AS linked,
          (SELECT count(*) FROM ingest_quarantine q JOIN pos_connections qc ON qc.id = q.connection_id
            WHERE q.business_id = ${businessId} AND qc.provider = c.provider)::int AS quarantined
        FROM pos_connections c
        LEFT JOIN LATERAL (
          SELECT r.status, r.started_at, r.error FROM ingest_runs r
          WHERE r.business_id = ${businessId} AND r.provider = c.provider ORDER BY r.started_at DESC LIMIT 1
        ) last ON true
        LEFT JOIN LATERAL (
          SELECT count(*) AS transactions, count(t.source_customer_id) AS named_customer, count(t.customer_id) AS linked
          FROM customer_transactions t WHERE t.business_id = ${businessId} AND t.source = c.provider
        ) tx ON true
        WHERE c.business_id = ${businessId}
        GROUP BY c.provider, last.status, last.started_at, last.error, tx.transactions, tx.named_customer, tx.linked
        ORDER BY c.provider`,
  );
}
