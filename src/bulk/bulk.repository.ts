// SQL of bulk operations: the audit rows, and the set-based statements that change a chunk of
// customers at once (run inside DatabaseSyncService.changeCustomersSetBased, which holds the
// customers' locks and records versions, outbox rows and events). Each statement changes only the customers
// it would really change and returns their ids, so a repeated operation changes nothing.
import { and, desc, eq, sql } from 'drizzle-orm';
import { queryRows, textArray, uuidArray, type Executor, type Tx } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import { bulkOperations } from '../db/schema/index.js';

export type BulkOperationRow = typeof bulkOperations.$inferSelect;

/** A PostgreSQL text[] literal (tags may hold commas, quotes and backslashes). */

export async function insertBulkOperation(ex: Executor, values: typeof bulkOperations.$inferInsert): Promise<BulkOperationRow> {
  const [row] = await ex.insert(bulkOperations).values(values).returning();
  return row!;
}

export async function recordBulkProgress(ex: Executor, id: string, counts: { changed: number; skipped: number }): Promise<void> {
  await ex.update(bulkOperations).set(counts).where(eq(bulkOperations.id, id));
}

export async function finishBulkOperation(
  ex: Executor,
  id: string,
  outcome: { status: 'succeeded' | 'failed'; changed: number; skipped: number; error?: string },
): Promise<BulkOperationRow> {
  const [row] = await ex
    .update(bulkOperations)
    .set({ status: outcome.status, changed: outcome.changed, skipped: outcome.skipped, error: outcome.error?.slice(0, 2000) ?? null, finishedAt: sql`now()` })
    .where(eq(bulkOperations.id, id))
    .returning();
  return row!;
}

export async function findBulkOperation(ex: Executor, businessId: string, id: string): Promise<BulkOperationRow | undefined> {
  const [row] = await ex
    .select()
    .from(bulkOperations)
    .where(and(eq(bulkOperations.id, id), eq(bulkOperations.businessId, businessId)));
  return row;
}

export async function listBulkOperations(ex: Executor, businessId: string, limit: number, after?: KeysetPosition) {
  return ex
    .select({ row: bulkOperations, cursorAt: exactTimestamp(bulkOperations.createdAt) })
    .from(bulkOperations)
    .where(and(eq(bulkOperations.businessId, businessId), after ? beyond(bulkOperations.createdAt, bulkOperations.id, after, 'desc') : undefined))
    .orderBy(desc(bulkOperations.createdAt), desc(bulkOperations.id))
    .limit(limit + 1);
}

/** Of these ids, the live (not soft-deleted, erased or merged-away) customers of the business, in id order. */
export async function liveCustomerIds(ex: Executor, businessId: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await queryRows<{ id: string }>(
    ex,
    sql`SELECT c.id::text AS id FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = ${businessId} AND bc.customer_id = ANY(${uuidArray(ids)}) AND c.deleted_at IS NULL
        ORDER BY c.id`,
  );
  return rows.map((r) => r.id);
}

/**
 * Appends the tags each customer lacks, in the given order. Customers whose list would exceed
 * the API's 100 tags are left alone and returned as skipped.
 */
export async function addTags(tx: Tx, ids: string[], tags: string[]): Promise<{ changed: string[]; skipped: string[] }> {
  const rows = await queryRows<{ id: string; changed: boolean }>(
    tx,
    sql`WITH wanted AS (
          SELECT c.id, c.tags || ARRAY(SELECT t FROM unnest(${textArray(tags)}) WITH ORDINALITY u(t, o) WHERE NOT (t = ANY(c.tags)) ORDER BY o) AS tags
          FROM customers c WHERE c.id = ANY(${uuidArray(ids)}) AND NOT (c.tags @> ${textArray(tags)})
        ), updated AS (
          UPDATE customers c SET tags = w.tags, updated_at = now() FROM wanted w WHERE c.id = w.id AND cardinality(w.tags) <= 100 RETURNING c.id
        )
        SELECT id::text, true AS changed FROM updated
        UNION ALL SELECT id::text, false FROM wanted WHERE cardinality(tags) > 100`,
  );
  return { changed: rows.filter((r) => r.changed).map((r) => r.id), skipped: rows.filter((r) => !r.changed).map((r) => r.id) };
}

/** Removes these tags from the customers that have any of them; keeps the order of the others. */
export async function removeTags(tx: Tx, ids: string[], tags: string[]): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`UPDATE customers c SET tags = ARRAY(SELECT t FROM unnest(c.tags) WITH ORDINALITY u(t, o) WHERE NOT (t = ANY(${textArray(tags)})) ORDER BY o), updated_at = now()
        WHERE c.id = ANY(${uuidArray(ids)}) AND c.tags && ${textArray(tags)}
        RETURNING c.id::text AS id`,
  );
  return rows.map((r) => r.id);
}

/** Sets (or with null, clears) the business's manual tier of these customers, with the reason. */
export async function setTierOverrides(tx: Tx, businessId: string, ids: string[], tier: string | null, reason: string | null): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`UPDATE business_customers SET tier_override = ${tier}, tier_override_reason = ${reason}
        WHERE business_id = ${businessId} AND customer_id = ANY(${uuidArray(ids)})
          AND (tier_override, tier_override_reason) IS DISTINCT FROM (${tier}::varchar, ${reason}::text)
        RETURNING customer_id::text AS id`,
  );
  return rows.map((r) => r.id);
}

/**
 * Holds the static segment for the transaction (FOR SHARE: a concurrent delete waits, and a
 * deleted one is not assigned to). False when it is gone.
 */
export async function holdStaticSegment(tx: Tx, businessId: string, segmentId: string): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`SELECT id::text FROM customer_segments
        WHERE id = ${segmentId} AND business_id = ${businessId} AND kind = 'static' AND deleted_at IS NULL FOR SHARE`,
  );
  return rows.length > 0;
}

