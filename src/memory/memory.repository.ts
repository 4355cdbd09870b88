// All SQL of the memory API: the tenant check, interactions (insert, read, stats, the loader's
// backlog), purchases recorded outside the POS systems (customer_transactions rows with source
// 'memory'), the profile's aggregates, latest predictions, and erasure of a customer's memory.
// Every read is scoped by business: a customer of another business is simply not found.
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { queryRows, type Db, type Executor, type Tx } from '../db/db.client.js';
import { businessCustomers, customerEngagement, customerPredictions, customers, memoryInteractions } from '../db/schema/index.js';
import type { CustomerPrediction } from './predictions/predictor.js';
import type { InteractionView, LearnInput, MemoryProfile } from './memory.schema.js';

export const MEMORY_SOURCE = 'memory';

export type InteractionRow = typeof memoryInteractions.$inferSelect;

/** The customer's identity if the business has it (and, unless asked, it is not soft-deleted). */
export async function findCustomer(
  ex: Executor,
  businessId: string,
  customerId: string,
  opts: { includeDeleted?: boolean } = {},
): Promise<NonNullable<MemoryProfile['identity']> | undefined> {
  const [row] = await ex
    .select({
      id: customers.id,
      firstName: customers.firstName,
      lastName: customers.lastName,
      fullName: customers.fullName,
      email: customers.email,
      phone: customers.phone,
    })
    .from(customers)
    .innerJoin(businessCustomers, eq(businessCustomers.customerId, customers.id))
    .where(and(eq(customers.id, customerId), eq(businessCustomers.businessId, businessId), opts.includeDeleted ? undefined : isNull(customers.deletedAt)))
    .limit(1);
  return row;
}

export async function insertInteraction(db: Db, businessId: string, input: LearnInput): Promise<{ id: string; occurredAt: Date }> {
  const [row] = await db
    .insert(memoryInteractions)
    .values({
      businessId,
      customerId: input.customerId,
      sessionId: input.sessionId,
      message: input.message,
      response: input.response ?? null,
      intent: input.intent ?? null,
      sentiment: input.sentiment ?? null,
      entities: input.entities ?? {},
      channel: input.channel,
      ...(input.occurredAt ? { occurredAt: input.occurredAt } : {}),
    })
    .returning({ id: memoryInteractions.id, occurredAt: memoryInteractions.occurredAt });
  return row!;
}

export function toInteractionView(row: InteractionRow): InteractionView {
  return {
    id: row.id,
    sessionId: row.sessionId,
    message: row.message,
    response: row.response,
    intent: row.intent,
    sentiment: row.sentiment,
    entities: row.entities,
    channel: row.channel,
    occurredAt: row.occurredAt.toISOString(),
  };
}

/** The newest interactions first (ties: newest recorded first, so the order is stable). */
export async function recentInteractions(db: Db, businessId: string, customerId: string, limit: number): Promise<InteractionView[]> {
  const rows = await db
    .select()
    .from(memoryInteractions)
    .where(and(eq(memoryInteractions.businessId, businessId), eq(memoryInteractions.customerId, customerId)))
    .orderBy(desc(memoryInteractions.occurredAt), desc(memoryInteractions.createdAt), desc(memoryInteractions.id))
    .limit(limit);
  return rows.map(toInteractionView);
}

export interface InteractionStats {
  total: number;
  lastAt: Date | null;
  averageSentiment: number | null;
  channels: { channel: string; interactions: number }[];
  topics: string[];
}

export async function interactionStats(db: Db, businessId: string, customerId: string): Promise<InteractionStats> {
  const scope = sql`business_id = ${businessId} AND customer_id = ${customerId}`;
  const [totals] = await queryRows<{ total: number; last_at: Date | string | null; average_sentiment: number | null }>(
    db,
    sql`SELECT count(*)::int AS total, max(occurred_at) AS last_at, avg(sentiment)::float8 AS average_sentiment
        FROM memory_interactions WHERE ${scope}`,
  );
  const channels = await queryRows<{ channel: string; interactions: number }>(
    db,
    sql`SELECT channel, count(*)::int AS interactions FROM memory_interactions WHERE ${scope}
        GROUP BY channel ORDER BY count(*) DESC, channel`,
  );
  const topics = await queryRows<{ intent: string }>(
    db,
    sql`SELECT intent FROM memory_interactions WHERE ${scope} AND intent IS NOT NULL
        GROUP BY intent ORDER BY count(*) DESC, intent LIMIT 10`,
  );
  return {
    total: totals?.total ?? 0,
    lastAt: totals?.last_at ? new Date(totals.last_at) : null,
    averageSentiment: totals?.average_sentiment ?? null,
    channels,
    topics: topics.map((t) => t.intent),
  };
}

export interface PurchaseStats {
  orders: number;
  spent: number;
  firstAt: Date | null;
  lastAt: Date | null;
  categories: { category: string; lines: number }[];
}

/** Completed transactions of the customer in this business, from every source (POS and memory). */
export async function purchaseStats(db: Db, businessId: string, customerId: string): Promise<PurchaseStats> {
  const scope = sql`business_id = ${businessId} AND customer_id = ${customerId} AND status = 'completed'`;
  const [totals] = await queryRows<{ orders: number; spent: string | number; first_at: Date | string | null; last_at: Date | string | null }>(
    db,
    sql`SELECT count(*)::int AS orders, coalesce(sum(amount), 0) AS spent, min(occurred_at) AS first_at, max(occurred_at) AS last_at
        FROM customer_transactions WHERE ${scope}`,
  );
  const categories = await queryRows<{ category: string; lines: number }>(
    db,
    sql`SELECT c.category, count(*)::int AS lines
        FROM customer_transactions t CROSS JOIN LATERAL unnest(t.categories) AS c(category)
        WHERE ${scope} GROUP BY c.category ORDER BY count(*) DESC, c.category LIMIT 20`,
  );
  return {
    orders: totals?.orders ?? 0,
    spent: Number(totals?.spent ?? 0),
    firstAt: totals?.first_at ? new Date(totals.first_at) : null,
    lastAt: totals?.last_at ? new Date(totals.last_at) : null,
    categories,
  };
}

export async function latestPrediction(db: Db, businessId: string, customerId: string): Promise<CustomerPrediction | null> {
  const [row] = await db
    .select()
    .from(customerPredictions)
    .where(and(eq(customerPredictions.businessId, businessId), eq(customerPredictions.customerId, customerId)));
  if (!row) return null;
  return {
    customerId: row.customerId,
    modelVersion: row.modelVersion,
    computedAt: row.computedAt.toISOString(),
    churnRisk: row.churnRisk,
    expectedPurchases30d: row.expectedPurchases30d,
    expectedPurchases90d: row.expectedPurchases90d,
    nextPurchaseDate: row.nextPurchaseDate,
    expectedSpend: row.expectedSpend,
    predictedClv12m: row.predictedClv12m,
    // Not stored: the engine derives it from E[Y(30)] the same way (1 − exp(−E[Y(30)])).
    propensity: Math.round((1 - Math.exp(-row.expectedPurchases30d)) * 10_000) / 10_000,
    engagementScore: row.engagementScore,
    confidence: row.confidence,
    recommendations: row.recommendations,
  };
}

export async function membershipOf(db: Db, customerId: string): Promise<MemoryProfile['membership']> {
  const [row] = await db
    .select({
      loyaltyMember: customerEngagement.loyaltyMember,
      tier: customerEngagement.loyaltyTier,
      points: customerEngagement.loyaltyPoints,
      lifetimePoints: customerEngagement.loyaltyLifetimePoints,
    })
    .from(customerEngagement)
    .where(eq(customerEngagement.customerId, customerId));
  return row ?? null;
}

export interface MemoryPurchaseRow {
  businessId: string;
  customerId: string;
  orderId: string;
  occurredAt: Date;
  amount: number;
  currency: string;
  itemCount: number;
  categories: string[];
  recordedAt: Date;
}

export type PurchaseOutcome = 'created' | 'updated' | 'unchanged' | 'conflict';

/**
 * Records a purchase as a customer_transactions row (source 'memory', keyed by order id) and
 * queues the customer's metrics, in one transaction. The same order again changes nothing
 * ('unchanged') or corrects it ('updated'); an order id already recorded for another customer
 * of the business is a 'conflict' and is left as it was.
 */
export async function upsertMemoryPurchase(tx: Tx, row: MemoryPurchaseRow): Promise<PurchaseOutcome> {
  const written = await queryRows<{ inserted: boolean }>(
    tx,
    sql`INSERT INTO customer_transactions AS t (business_id, source, transaction_id, customer_id, source_customer_id,
          occurred_at, status, amount, refunded_amount, currency, item_count, categories, source_updated_at)
        VALUES (${row.businessId}, ${MEMORY_SOURCE}, ${row.orderId}, ${row.customerId}, NULL, ${row.occurredAt.toISOString()}::timestamptz,
          'completed', ${row.amount}, 0, ${row.currency}, ${row.itemCount},
          ${sql`ARRAY[${sql.join(row.categories.map((c) => sql`${c}`), sql`, `)}]::text[]`}, ${row.recordedAt.toISOString()}::timestamptz)
        ON CONFLICT (business_id, source, transaction_id) DO UPDATE SET
          occurred_at = EXCLUDED.occurred_at, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
          item_count = EXCLUDED.item_count, categories = EXCLUDED.categories,
          source_updated_at = EXCLUDED.source_updated_at, updated_at = now()
        WHERE t.customer_id IS NOT DISTINCT FROM EXCLUDED.customer_id
          AND (t.occurred_at, t.amount, t.currency, t.item_count, t.categories)
            IS DISTINCT FROM (EXCLUDED.occurred_at, EXCLUDED.amount, EXCLUDED.currency, EXCLUDED.item_count, EXCLUDED.categories)
        RETURNING (xmax = 0) AS inserted`,
  );
  if (written.length === 0) {
    const [existing] = await queryRows<{ customer_id: string | null }>(
      tx,
      sql`SELECT customer_id FROM customer_transactions
          WHERE business_id = ${row.businessId} AND source = ${MEMORY_SOURCE} AND transaction_id = ${row.orderId}`,
    );
    return existing?.customer_id === row.customerId ? 'unchanged' : 'conflict';
  }
  // Queued as ingestion does, so the metrics follow even if the refresh after commit never runs.
  await tx.execute(sql`INSERT INTO customer_metrics_pending (customer_id) VALUES (${row.customerId}) ON CONFLICT (customer_id) DO NOTHING`);
  return written[0]!.inserted ? 'created' : 'updated';
}

/** Removes the customer's interactions and latest predictions held for this business. */
export async function deleteMemory(tx: Tx, businessId: string, customerId: string): Promise<{ interactions: number; predictions: number }> {
  const interactions = await tx
    .delete(memoryInteractions)
    .where(and(eq(memoryInteractions.businessId, businessId), eq(memoryInteractions.customerId, customerId)))
    .returning({ id: memoryInteractions.id });
  const predictions = await tx
    .delete(customerPredictions)
    .where(and(eq(customerPredictions.businessId, businessId), eq(customerPredictions.customerId, customerId)))
    .returning({ id: customerPredictions.customerId });
  return { interactions: interactions.length, predictions: predictions.length };
}

/** The oldest interactions not yet in the warehouse (the partial index covers exactly these). */
export async function unloadedInteractions(db: Db, limit: number): Promise<InteractionRow[]> {
  return db
    .select()
    .from(memoryInteractions)
    .where(isNull(memoryInteractions.warehouseLoadedAt))
    .orderBy(memoryInteractions.createdAt, memoryInteractions.id)
    .limit(limit);
}

/** Marks interactions as loaded; returns the ids that still exist (the others were erased meanwhile). */
export async function markInteractionsLoaded(db: Db, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .update(memoryInteractions)
    .set({ warehouseLoadedAt: sql`now()` })
    .where(inArray(memoryInteractions.id, ids))
    .returning({ id: memoryInteractions.id });
  return new Set(rows.map((r) => r.id));
}
