// SQL of erasure: the customer's state for a business, the PostgreSQL erasure itself (driven by
// the customer data map, so a table added there is erased here too), and the erasure records
// (customer_erasures, a work-queue table).
import { randomBytes } from 'node:crypto';
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor, type Tx } from '../../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../../db/keyset.js';
import { customerErasures } from '../../db/schema/index.js';
import { appendSyncLog } from '../../sync/sync-logs.repository.js';
import { PG_CUSTOMER_TABLES, pgWhere, type PgTableEntry } from '../customer-data-map.js';

export { mergedAwayDuplicates } from '../customer-data-map.js';
import type { ErasureScope, ErasureSteps, ListErasuresQuery } from './erasure.schema.js';

export type ErasureRow = typeof customerErasures.$inferSelect;

export interface CustomerState {
  erasedAt: Date | null;
  mergedIntoId: string | null;
  /** Other businesses the customer is linked with. */
  otherBusinesses: number;
}

/** The customer as this business sees it, or undefined when it is not linked to the business. */
export async function customerState(ex: Executor, customerId: string, businessId: string): Promise<CustomerState | undefined> {
  const [row] = await queryRows<{ erased_at: string | null; merged_into_id: string | null; others: number }>(
    ex,
    sql`SELECT c.erased_at, c.merged_into_id::text AS merged_into_id,
          (SELECT count(*)::int FROM business_customers o WHERE o.customer_id = c.id AND o.business_id <> ${businessId}::uuid) AS others
        FROM customers c JOIN business_customers bc ON bc.customer_id = c.id AND bc.business_id = ${businessId}::uuid
        WHERE c.id = ${customerId}::uuid`,
  );
  if (!row) return undefined;
  return { erasedAt: row.erased_at ? new Date(row.erased_at) : null, mergedIntoId: row.merged_into_id, otherBusinesses: row.others };
}

/** The latest erasure record of the customer for the business (to answer a repeated request). */
export async function latestErasureOf(ex: Executor, customerId: string, businessId: string): Promise<{ id: string } | undefined> {
  const [row] = await ex
    .select({ id: customerErasures.id })
    .from(customerErasures)
    .where(and(eq(customerErasures.businessId, businessId), eq(customerErasures.customerId, customerId)))
    .orderBy(desc(customerErasures.createdAt), desc(customerErasures.id))
    .limit(1);
  return row;
}

// ---------------------------------------------------------------------------------------------
// The PostgreSQL erasure

/**
 * Tables whose rows other tables' conditions read (the ingest_quarantine match reads the
 * customer's email, phone and source ids; the customer-global tables are selected through the
 * business link): they are erased last, in this order.
 */
const ERASED_LAST = ['customer_sources', 'business_customers', 'customers'];

/** The data-map entries an erasure of this scope touches, in a safe order. */
export function erasurePlan(scope: ErasureScope): PgTableEntry[] {
  // A shared customer keeps the person-level (customer-global) tables for the other businesses.
  const entries = PG_CUSTOMER_TABLES.filter((e) => e.erasure.action !== 'keep' && (scope === 'person' || !e.global));
  const first = entries.filter((e) => !ERASED_LAST.includes(e.table));
  const last = ERASED_LAST.flatMap((name) => entries.filter((e) => e.table === name));
  return [...first, ...last];
}

export interface PgErasureResult {
  tables: Record<string, { action: string; rows: number }>;
  /** Export archives of the deleted export records, to delete from file storage. */
  storageKeys: string[];
}

/** One profile to erase and how far: the requested customer's scope, or `person` for its merged-away duplicates. */
export interface ErasureTarget {
  customerId: string;
  scope: ErasureScope;
}

/**
 * Erases the profiles' PostgreSQL data for a business inside the caller's transaction (every
 * profile is locked by it), table by table across all of them: each table is erased for every
 * profile before the next, so the conditions that match on personal values (ingest_quarantine on
 * email, phone and POS ids) run for all profiles before any customers or customer_sources row is
 * overwritten. `person`: every table of the data map; the customers row becomes a tombstone (PII
 * columns overwritten with random tokens, erased_at and deleted_at set) and the business link
 * stays as the tombstone's owner with its personal columns overwritten. `business`: only this
 * business's tables, and the business link itself is deleted.
 */
export async function erasePostgres(tx: Tx, targets: ErasureTarget[], businessId: string, now: Date): Promise<PgErasureResult> {
  const result: PgErasureResult = { tables: {}, storageKeys: [] };
  const plans = targets.map((target) => ({ ...target, tables: new Set(erasurePlan(target.scope).map((e) => e.table)) }));
  // The person plan holds every table either scope erases, in the safe order.
  for (const entry of erasurePlan('person')) {
    for (const target of plans) {
      if (!target.tables.has(entry.table)) continue;
      const { action, rows } = await eraseTable(tx, entry, target, businessId, now, result.storageKeys);
      result.tables[entry.table] = { action, rows: (result.tables[entry.table]?.rows ?? 0) + rows };
    }
  }
  return result;
}

async function eraseTable(tx: Tx, entry: PgTableEntry, target: ErasureTarget, businessId: string, now: Date, storageKeys: string[]): Promise<{ action: string; rows: number }> {
  const where = pgWhere(entry, target.customerId, businessId);
  const table = sql.identifier(entry.table);
  if (entry.table === 'customer_data_exports') {
    const files = await queryRows<{ key: string }>(tx, sql`SELECT t.storage_key AS key FROM ${table} t WHERE ${where} AND t.storage_key IS NOT NULL`);
    storageKeys.push(...files.map((f) => f.key));
  }
  const erasure = entry.erasure;
  // A shared customer's link with this business is the business's relationship: it goes.
  const dropsLink = entry.table === 'business_customers' && target.scope === 'business';
  let action: string;
  let statement: SQL;
  if (erasure.action === 'delete' || dropsLink) {
    action = 'delete';
    statement = sql`DELETE FROM ${table} t WHERE ${where} RETURNING 1`;
  } else if (erasure.action === 'unlink') {
    action = 'unlink';
    const assignments = erasure.columns.map((c) => sql`${sql.identifier(c)} = NULL`);
    statement = sql`UPDATE ${table} t SET ${sql.join(assignments, sql`, `)} WHERE ${where} RETURNING 1`;
  } else if (erasure.action === 'overwrite') {
    action = 'overwrite';
    const assignments = await overwriteAssignments(tx, entry.table, erasure.columns);
    if (entry.table === 'customers') {
      const at = now.toISOString();
      assignments.push(
        sql`erased_at = ${at}::timestamptz`,
        sql`deleted_at = coalesce(t.deleted_at, ${at}::timestamptz)`,
        sql`last_active_at = NULL`,
        sql`updated_at = ${at}::timestamptz`,
      );
    }
    statement = sql`UPDATE ${table} t SET ${sql.join(assignments, sql`, `)} WHERE ${where} RETURNING 1`;
  } else {
    return { action: 'keep', rows: 0 };
  }
  const [counted] = await queryRows<{ rows: number }>(tx, sql`WITH changed AS (${statement}) SELECT count(*)::int AS rows FROM changed`);
  return { action, rows: counted?.rows ?? 0 };
}

interface ColumnInfo {
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
  max_length: number | null;
}

/**
 * SET clauses that overwrite personal columns irreversibly: text columns get a fresh random
 * token (crypto.randomBytes: nothing derived from the value, unlike a hash, which a guess can
 * confirm), other columns null, or an empty value where the column refuses null.
 */
async function overwriteAssignments(tx: Tx, table: string, columns: string[]): Promise<SQL[]> {
  const info = await columnsOf(tx, table);
  return columns.map((name) => {
    const column = info.find((c) => c.column_name === name);
    if (!column) throw new Error(`erasure: ${table}.${name} (customer data map) is not a column`);
    const target = sql.identifier(name);
    if (column.data_type === 'character varying' || column.data_type === 'text' || column.data_type === 'character') {
      return sql`${target} = ${randomToken(column.max_length)}`;
    }
    if (column.is_nullable === 'YES') return sql`${target} = NULL`;
    if (column.data_type === 'jsonb') return sql`${target} = '{}'::jsonb`;
    if (column.data_type === 'ARRAY') return sql`${target} = '{}'`;
    throw new Error(`erasure: no empty value for ${table}.${name} (${column.data_type}, not null)`);
  });
}

/**
 * A table's columns, read once per process: the schema only changes by migration, at start, so
 * an erasure request does not ask information_schema again (a slow catalogue view) every time.
 */
const columnCache = new Map<string, Promise<ColumnInfo[]>>();
function columnsOf(tx: Tx, table: string): Promise<ColumnInfo[]> {
  let info = columnCache.get(table);
  if (!info) {
    info = queryRows<ColumnInfo>(
      tx,
      sql`SELECT column_name, data_type, is_nullable, character_maximum_length AS max_length
          FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`,
    );
    // A failed read (an aborted transaction) is not kept.
    info.catch(() => columnCache.delete(table));
    columnCache.set(table, info);
  }
  return info;
}

function randomToken(maxLength: number | null): string {
  const token = `erased-${randomBytes(12).toString('hex')}`;
  return maxLength ? token.slice(0, maxLength) : token;
}

// ---------------------------------------------------------------------------------------------
// Erasure records

export async function insertErasure(
  tx: Tx,
  record: { id: string; businessId: string; customerId: string; requestedBy: string; reason: string; steps: ErasureSteps; now: Date },
): Promise<ErasureRow> {
  const [row] = await tx
    .insert(customerErasures)
    .values({
      id: record.id,
      businessId: record.businessId,
      customerId: record.customerId,
      requestedBy: record.requestedBy,
      reason: record.reason,
      status: 'PENDING',
      steps: record.steps as unknown as Record<string, unknown>,
      // The JS clock, not the database's: the queue compares next_attempt_at with the caller's now.
      nextAttemptAt: record.now,
      createdAt: record.now,
      updatedAt: record.now,
    })
    .returning();
  return row!;
}

export async function findErasure(ex: Executor, id: string, businessId?: string): Promise<ErasureRow | undefined> {
  const [row] = await ex
    .select()
    .from(customerErasures)
    .where(and(eq(customerErasures.id, id), businessId ? eq(customerErasures.businessId, businessId) : undefined));
  return row;
}

export async function listErasures(ex: Executor, businessId: string, q: ListErasuresQuery, after?: KeysetPosition) {
  return ex
    .select({ row: customerErasures, id: customerErasures.id, cursorAt: exactTimestamp(customerErasures.createdAt) })
    .from(customerErasures)
    .where(
      and(
        eq(customerErasures.businessId, businessId),
        q.status ? eq(customerErasures.status, q.status) : undefined,
        q.customerId ? eq(customerErasures.customerId, q.customerId) : undefined,
        after ? beyond(customerErasures.createdAt, customerErasures.id, after, 'desc') : undefined,
      ),
    )
    .orderBy(desc(customerErasures.createdAt), desc(customerErasures.id))
    .limit(q.limit + 1);
}

/** Saves the steps while the job holds the row (progress stays visible, done work is not redone). */
export async function saveSteps(ex: Executor, id: string, steps: ErasureSteps, now: Date): Promise<void> {
  await ex
    .update(customerErasures)
    .set({ steps: steps as unknown as Record<string, unknown>, updatedAt: now })
    .where(eq(customerErasures.id, id));
}

export async function completeErasure(ex: Executor, id: string, steps: ErasureSteps, now: Date): Promise<void> {
  await ex
    .update(customerErasures)
    .set({
      status: 'COMPLETED',
      steps: steps as unknown as Record<string, unknown>,
      completedAt: now,
      updatedAt: now,
      leaseExpiresAt: null,
      lastError: null,
    })
    .where(and(eq(customerErasures.id, id), eq(customerErasures.status, 'PROCESSING')));
}

/**
 * When the projector gave up on the customer (its latest outbox row is `dead`), nothing would
 * ever purge its Firestore documents: a new `repair` row through the outbox makes it try again.
 * Returns whether a row was appended.
 */
export async function requeueDeadProjection(ex: Executor, customerId: string): Promise<boolean> {
  const [latest] = await queryRows<{ status: string; version: number }>(
    ex,
    sql`SELECT s.firestore_status AS status, c.version::int AS version
        FROM sync_logs s JOIN customers c ON c.id = s.entity_id
        WHERE s.entity_type = 'customer' AND s.entity_id = ${customerId}::uuid
        ORDER BY s.created_at DESC, s.id DESC LIMIT 1`,
  );
  if (latest?.status !== 'dead') return false;
  await appendSyncLog(ex, { entityType: 'customer', entityId: customerId, operation: 'repair', entityVersion: latest.version, contentHash: '', changedFields: ['erasedAt'] });
  return true;
}

/**
 * Records a failed attempt in the steps (the row's last_error is overwritten by the next
 * deferral's note, so the failure is kept here too): how many, the last message (no PII), when.
 */
export async function recordErasureFailure(ex: Executor, id: string, failure: { count: number; message: string; at: Date }): Promise<void> {
  const value = JSON.stringify({ count: failure.count, lastError: failure.message.slice(0, 1000), lastFailedAt: failure.at.toISOString() });
  await ex.execute(sql`UPDATE customer_erasures SET steps = jsonb_set(steps, '{failures}', ${value}::jsonb) WHERE id = ${id}::uuid`);
}
