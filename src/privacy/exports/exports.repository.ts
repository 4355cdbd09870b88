// SQL of data exports: the request rows (a work queue, src/jobs/work-queue.ts) and the checks
// that scope them to a business.
import { and, desc, eq, lte, sql } from 'drizzle-orm';
import { queryRows, type Executor } from '../../db/db.client.js';
import { customerDataExports } from '../../db/schema/index.js';
import type { ExportType } from './exports.schema.js';

export type ExportRow = typeof customerDataExports.$inferSelect;

/**
 * Whether the customer has data held for the business: linked to it and neither erased nor
 * merged into another profile. A soft-deleted customer can still be exported: their data is
 * still held (Art. 15 covers all of it).
 */
export async function customerExportable(ex: Executor, businessId: string, customerId: string): Promise<boolean> {
  const rows = await queryRows<{ ok: boolean }>(
    ex,
    sql`SELECT true AS ok FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = ${businessId}::uuid AND bc.customer_id = ${customerId}::uuid
          AND c.erased_at IS NULL AND c.merged_into_id IS NULL`,
  );
  return rows.length > 0;
}

export async function insertExport(
  ex: Executor,
  values: { businessId: string; customerId: string; type: ExportType; requestedBy: string; reason: string | null; now: Date; expiresAt: Date },
): Promise<ExportRow> {
  const [row] = await ex
    .insert(customerDataExports)
    .values({
      businessId: values.businessId,
      customerId: values.customerId,
      exportType: values.type,
      requestedBy: values.requestedBy,
      requestReason: values.reason,
      expiresAt: values.expiresAt,
      nextAttemptAt: values.now,
      createdAt: values.now,
      updatedAt: values.now,
    })
    .returning();
  return row!;
}

/** The export, only if it belongs to the business. */
export async function findExport(ex: Executor, businessId: string, id: string): Promise<ExportRow | undefined> {
  const [row] = await ex
    .select()
    .from(customerDataExports)
    .where(and(eq(customerDataExports.id, id), eq(customerDataExports.businessId, businessId)));
  return row;
}

export async function findExportById(ex: Executor, id: string): Promise<ExportRow | undefined> {
  const [row] = await ex.select().from(customerDataExports).where(eq(customerDataExports.id, id));
  return row;
}

export async function listCustomerExports(ex: Executor, businessId: string, customerId: string, limit: number): Promise<ExportRow[]> {
  return ex
    .select()
    .from(customerDataExports)
    .where(and(eq(customerDataExports.businessId, businessId), eq(customerDataExports.customerId, customerId)))
    .orderBy(desc(customerDataExports.createdAt), desc(customerDataExports.id))
    .limit(limit);
}

export async function markStarted(ex: Executor, id: string, now: Date): Promise<void> {
  await ex.update(customerDataExports).set({ startedAt: sql`coalesce(${customerDataExports.startedAt}, ${now.toISOString()}::timestamptz)` }).where(eq(customerDataExports.id, id));
}

/** COMPLETED with the archive's place, size and checksum; only from PROCESSING (a lost lease never completes twice). */
export async function markCompleted(
  ex: Executor,
  id: string,
  archive: { storageKey: string; sizeBytes: number; checksum: string },
  now: Date,
): Promise<boolean> {
  const rows = await ex
    .update(customerDataExports)
    .set({ status: 'COMPLETED', storageKey: archive.storageKey, sizeBytes: archive.sizeBytes, checksum: archive.checksum, completedAt: now, updatedAt: now, leaseExpiresAt: null, lastError: null })
    .where(and(eq(customerDataExports.id, id), eq(customerDataExports.status, 'PROCESSING')))
    .returning({ id: customerDataExports.id });
  return rows.length > 0;
}

/** COMPLETED exports whose archive is due for deletion, oldest first. */
export async function dueForExpiry(ex: Executor, now: Date, limit = 100): Promise<Pick<ExportRow, 'id' | 'businessId' | 'storageKey'>[]> {
  return ex
    .select({ id: customerDataExports.id, businessId: customerDataExports.businessId, storageKey: customerDataExports.storageKey })
    .from(customerDataExports)
    .where(and(eq(customerDataExports.status, 'COMPLETED'), lte(customerDataExports.expiresAt, now)))
    .orderBy(customerDataExports.expiresAt)
    .limit(limit);
}

export async function markExpired(ex: Executor, id: string, now: Date): Promise<void> {
  await ex
    .update(customerDataExports)
    .set({ status: 'EXPIRED', storageKey: null, updatedAt: now })
    .where(and(eq(customerDataExports.id, id), eq(customerDataExports.status, 'COMPLETED')));
}

/** FAILED at once (a failure no retry can fix); the message must hold no personal data. */
export async function markFailed(ex: Executor, id: string, message: string, now: Date): Promise<void> {
  await ex
    .update(customerDataExports)
    .set({ status: 'FAILED', lastError: message.slice(0, 2000), leaseExpiresAt: null, updatedAt: now })
    .where(and(eq(customerDataExports.id, id), eq(customerDataExports.status, 'PROCESSING')));
}
