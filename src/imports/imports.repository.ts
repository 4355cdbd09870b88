// SQL of customer imports: the import rows (a work queue, src/jobs/work-queue.ts), their
// progress and counts, the rejected rows (field and message, never values), and the lookup of a
// business's customers by email that makes an import idempotent.
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { queryRows, textArray, type Db, type Executor } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import { customerImportRejections, customerImports } from '../db/schema/index.js';

export type ImportRow = typeof customerImports.$inferSelect;

export interface ImportCounts {
  rowsProcessed: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface Rejection {
  rowNumber: number;
  errors: { field: string; message: string }[];
}

export async function insertImport(ex: Executor, values: typeof customerImports.$inferInsert): Promise<ImportRow> {
  const [row] = await ex.insert(customerImports).values(values).returning();
  return row!;
}

export async function findImport(ex: Executor, businessId: string, id: string): Promise<ImportRow | undefined> {
  const [row] = await ex
    .select()
    .from(customerImports)
    .where(and(eq(customerImports.id, id), eq(customerImports.businessId, businessId)));
  return row;
}

export async function loadImport(ex: Executor, id: string): Promise<ImportRow | undefined> {
  const [row] = await ex.select().from(customerImports).where(eq(customerImports.id, id));
  return row;
}

export async function listImports(ex: Executor, businessId: string, limit: number, after?: KeysetPosition) {
  return ex
    .select({ row: customerImports, cursorAt: exactTimestamp(customerImports.createdAt) })
    .from(customerImports)
    .where(and(eq(customerImports.businessId, businessId), after ? beyond(customerImports.createdAt, customerImports.id, after, 'desc') : undefined))
    .orderBy(desc(customerImports.createdAt), desc(customerImports.id))
    .limit(limit + 1);
}

export async function listRejections(ex: Executor, importId: string, limit: number, afterRow?: number): Promise<Rejection[]> {
  return ex
    .select({ rowNumber: customerImportRejections.rowNumber, errors: customerImportRejections.errors })
    .from(customerImportRejections)
    .where(and(eq(customerImportRejections.importId, importId), afterRow !== undefined ? gt(customerImportRejections.rowNumber, afterRow) : undefined))
    .orderBy(asc(customerImportRejections.rowNumber))
    .limit(limit + 1);
}

/** The claim's start: started_at once, on the first attempt. */
export async function markStarted(ex: Executor, id: string, now: Date): Promise<void> {
  await ex.execute(sql`UPDATE customer_imports SET started_at = coalesce(started_at, ${now.toISOString()}::timestamptz) WHERE id = ${id}`);
}

/**
 * Records a batch: its rejections (a re-run after a crash overwrites its own rows) and the
 * counts, and extends the lease. Only while this attempt still holds the row: false when the
 * lease was lost to another worker, which then owns the import.
 */
export async function saveProgress(
  db: Db,
  id: string,
  attempt: number,
  progress: ImportCounts & { bytesRead: number; rejections: Rejection[]; leaseUntil: Date; now: Date },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const held = await queryRows<{ id: string }>(
      tx,
      sql`UPDATE customer_imports
          SET rows_processed = ${progress.rowsProcessed}, created = ${progress.created}, updated = ${progress.updated},
              unchanged = ${progress.unchanged}, rejected = ${progress.rejected}, bytes_read = ${progress.bytesRead},
              lease_expires_at = ${progress.leaseUntil.toISOString()}::timestamptz, updated_at = ${progress.now.toISOString()}::timestamptz
          WHERE id = ${id} AND status = 'PROCESSING' AND attempts = ${attempt}
          RETURNING id::text AS id`,
    );
    if (held.length === 0) return false;
    if (progress.rejections.length > 0) {
      await tx
        .insert(customerImportRejections)
        .values(progress.rejections.map((r) => ({ importId: id, rowNumber: r.rowNumber, errors: r.errors })))
        .onConflictDoUpdate({ target: [customerImportRejections.importId, customerImportRejections.rowNumber], set: { errors: sql`excluded.errors` } });
    }
    return true;
  });
}

/** Every row is done (counts final); the file is still to be deleted. A re-claim only finishes. */
export async function markRowsDone(ex: Executor, id: string, attempt: number, bytesRead: number, now: Date): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(
    ex,
    sql`UPDATE customer_imports SET completed_at = ${now.toISOString()}::timestamptz, bytes_read = ${bytesRead}, updated_at = ${now.toISOString()}::timestamptz
        WHERE id = ${id} AND status = 'PROCESSING' AND attempts = ${attempt} RETURNING id::text AS id`,
  );
  return rows.length > 0;
}

/** COMPLETED, once the file is gone. */
export async function markCompleted(ex: Executor, id: string, now: Date): Promise<void> {
  await ex.execute(
    sql`UPDATE customer_imports SET status = 'COMPLETED', storage_key = NULL, lease_expires_at = NULL, last_error = NULL,
          updated_at = ${now.toISOString()}::timestamptz
        WHERE id = ${id}`,
  );
}

/** FAILED for good (the file cannot be read as an import), once the file is gone. The message holds no PII. */
export async function markFailed(ex: Executor, id: string, message: string, now: Date): Promise<void> {
  await ex.execute(
    sql`UPDATE customer_imports SET status = 'FAILED', storage_key = NULL, lease_expires_at = NULL, last_error = ${message.slice(0, 2000)},
          completed_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz
        WHERE id = ${id}`,
  );
}

export async function clearStorageKey(ex: Executor, id: string): Promise<void> {
  await ex.execute(sql`UPDATE customer_imports SET storage_key = NULL WHERE id = ${id}`);
}

/**
 * The business's customers with these (lower-case) emails, through the per-business email
 * index; `gone` when soft-deleted (erased and merged-away customers are too).
 */
export async function customersByEmail(ex: Executor, businessId: string, emailKeys: string[]): Promise<Map<string, { id: string; gone: boolean }>> {
  if (emailKeys.length === 0) return new Map();
  const rows = await queryRows<{ email_key: string; id: string; gone: boolean }>(
    ex,
    sql`SELECT bc.email_lowercase AS email_key, c.id::text AS id, (c.deleted_at IS NOT NULL) AS gone
        FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = ${businessId} AND bc.email_lowercase = ANY(${textArray(emailKeys)})`,
  );
  return new Map(rows.map((r) => [r.email_key, { id: r.id, gone: r.gone }]));
}

