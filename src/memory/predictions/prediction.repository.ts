// SQL of the prediction engine: the customers to score, their recent interactions, fitted
// model parameters, each customer's latest predictions, and the job's run records.
import { and, eq, sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../db/db.client.js';
import { businesses, customerPredictions, memoryModels, predictionRuns } from '../../db/schema/index.js';

export type StoredModel = typeof memoryModels.$inferSelect;
export type PredictionRunRow = typeof predictionRuns.$inferSelect;
export type CustomerPredictionRow = typeof customerPredictions.$inferInsert;

export async function listBusinessIds(db: Db): Promise<string[]> {
  return (await db.select({ id: businesses.id }).from(businesses).orderBy(businesses.id)).map((b) => b.id);
}

/** Live customers of the business with when they joined (for the age of those without purchases). */
export async function customersOf(db: Db, businessId: string, customerId?: string): Promise<{ id: string; created_at: Date }[]> {
  const rows = await queryRows<{ id: string; created_at: Date | string }>(
    db,
    sql`SELECT c.id::text AS id, c.created_at FROM customers c JOIN business_customers bc ON bc.customer_id = c.id
        WHERE bc.business_id = ${businessId} AND c.deleted_at IS NULL ${customerId ? sql`AND c.id = ${customerId}` : sql``}
        ORDER BY c.id`,
  );
  // Raw queries may hand timestamps back as text (drizzle's execute on node-postgres).
  return rows.map((r) => ({ id: r.id, created_at: new Date(r.created_at) }));
}

/**
 * The business's customers merged into another, mapped to the customer they now live on (chains
 * followed: A into B into C maps A and B to C). The warehouse keeps a merged-away customer's id on
 * its purchases; the models count them for the survivor.
 */
export async function survivorsOfMerged(db: Db, businessId: string): Promise<Map<string, string>> {
  const rows = await queryRows<{ id: string; into: string }>(
    db,
    sql`SELECT c.id::text AS id, c.merged_into_id::text AS into FROM customers c
        WHERE c.merged_into_id IS NOT NULL
          AND EXISTS (SELECT 1 FROM business_customers bc WHERE bc.customer_id = c.id AND bc.business_id = ${businessId})`,
  );
  const into = new Map(rows.map((r) => [r.id, r.into]));
  const resolved = new Map<string, string>();
  for (const id of into.keys()) {
    let at = id;
    // Bounded by the map's size, so a cycle (which merge refuses) could not loop forever.
    for (let hops = 0; into.has(at) && hops <= into.size; hops++) at = into.get(at)!;
    resolved.set(id, at);
  }
  return resolved;
}

export async function interactionCounts(db: Db, businessId: string, since: Date): Promise<Map<string, number>> {
  const rows = await queryRows<{ customer_id: string; n: number }>(
    db,
    sql`SELECT customer_id::text, count(*)::int AS n FROM memory_interactions
        WHERE business_id = ${businessId} AND occurred_at >= ${since.toISOString()} GROUP BY customer_id`,
  );
  return new Map(rows.map((r) => [r.customer_id, r.n]));
}

export async function loadModel(db: Db, businessId: string): Promise<StoredModel | undefined> {
  const [row] = await db.select().from(memoryModels).where(eq(memoryModels.businessId, businessId));
  return row;
}

export async function saveModel(db: Db, model: typeof memoryModels.$inferInsert): Promise<void> {
  await db
    .insert(memoryModels)
    .values(model)
    .onConflictDoUpdate({
      target: memoryModels.businessId,
      set: {
        modelVersion: model.modelVersion,
        bgnbd: model.bgnbd,
        gammaGamma: model.gammaGamma,
        customers: model.customers,
        repeatBuyers: model.repeatBuyers,
        fittedAt: sql`now()`,
      },
    });
}

export async function upsertCustomerPredictions(db: Db, rows: CustomerPredictionRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insert(customerPredictions)
    .values(rows)
    .onConflictDoUpdate({
      target: [customerPredictions.customerId, customerPredictions.businessId],
      set: {
        modelVersion: sql`excluded.model_version`,
        computedAt: sql`excluded.computed_at`,
        churnRisk: sql`excluded.churn_risk`,
        expectedPurchases30d: sql`excluded.expected_purchases_30d`,
        expectedPurchases90d: sql`excluded.expected_purchases_90d`,
        nextPurchaseDate: sql`excluded.next_purchase_date`,
        expectedSpend: sql`excluded.expected_spend`,
        predictedClv12m: sql`excluded.predicted_clv_12m`,
        engagementScore: sql`excluded.engagement_score`,
        confidence: sql`excluded.confidence`,
        recommendations: sql`excluded.recommendations`,
      },
    });
}

export async function startPredictionRun(db: Db, businessId: string, trigger: string): Promise<string> {
  const [row] = await db.insert(predictionRuns).values({ businessId, trigger }).returning({ id: predictionRuns.id });
  return row!.id;
}

export async function finishPredictionRun(
  db: Db,
  id: string,
  outcome: { customers: number; converged: boolean | null; modelVersion: string | null; note: string | null; error: string | null },
): Promise<PredictionRunRow> {
  const [row] = await db
    .update(predictionRuns)
    .set({ ...outcome, status: outcome.error ? 'failed' : 'succeeded', finishedAt: sql`clock_timestamp()` })
    .where(eq(predictionRuns.id, id))
    .returning();
  return row!;
}

export async function listPredictionRuns(db: Db, businessId: string, limit: number): Promise<PredictionRunRow[]> {
  return db
    .select()
    .from(predictionRuns)
    .where(and(eq(predictionRuns.businessId, businessId)))
    .orderBy(sql`${predictionRuns.startedAt} DESC`)
    .limit(limit);
}
