// The memory API's logic: record interactions (durable in PostgreSQL at once, loaded into the
// warehouse later), record purchases made outside the POS systems, build the unified profile and
// the agent context (cached), run a prediction, and forget a customer's memory. Every call is
// scoped by business; no HTTP here.
import type { Db } from '../db/db.client.js';
import { AppError, invalidInput } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import type { Warehouse } from '../warehouse/warehouse.port.js';
import { itemCount, purchaseRow, type NormalizedTransaction } from '../warehouse/purchase-row.js';
import {
  deleteMemory,
  findCustomer,
  insertInteraction,
  interactionStats,
  latestPrediction,
  MEMORY_SOURCE,
  membershipOf,
  purchaseStats,
  recentInteractions,
  upsertMemoryPurchase,
  type PurchaseOutcome,
} from './memory.repository.js';
import {
  learnBody,
  purchaseBody,
  type ForgetResult,
  type MemoryContext,
  type MemoryProfile,
  type PurchaseFrequency,
  type PurchaseInput,
} from './memory.schema.js';
import type { CustomerPrediction, Predictor } from './predictions/predictor.js';
import type { ProfileCache } from './profile-cache.js';

export const RECENT_INTERACTIONS = 10;
const DAY_MS = 86_400_000;

export interface MemoryServiceDeps {
  db: Db;
  sync: DatabaseSyncService;
  warehouse: Warehouse;
  cache: ProfileCache;
  /** The prediction engine. */
  predictor: Predictor;
  logger: Logger;
  now?: () => Date;
}

export interface PurchaseResult {
  orderId: string;
  customerId: string;
  /** created, updated (the same order with other values), or unchanged (a replay). */
  status: Exclude<PurchaseOutcome, 'conflict'>;
  metricsChanged: boolean;
}

export class MemoryService {
  private readonly now: () => Date;
  private readonly log: Logger;

  constructor(private readonly deps: MemoryServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.logger.child({ module: 'memory' });
  }

  async learn(businessId: string, body: unknown): Promise<{ id: string; customerId: string; occurredAt: string }> {
    const parsed = learnBody.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const input = parsed.data;
    await this.requireCustomer(businessId, input.customerId);
    const row = await insertInteraction(this.deps.db, businessId, input);
    await this.deps.cache.invalidate(businessId, input.customerId);
    return { id: row.id, customerId: input.customerId, occurredAt: row.occurredAt.toISOString() };
  }

  /**
   * PostgreSQL first (the record, and the metrics queue), then the warehouse, then the metrics
   * refresh through the one write path. A failure after the commit fails the request; sending it
   * again is safe (idempotent by order id) and completes the warehouse and metrics steps.
   */
  async recordPurchase(businessId: string, customerId: string, body: unknown): Promise<PurchaseResult> {
    const parsed = purchaseBody.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const input = parsed.data;
    await this.requireCustomer(businessId, customerId);
    const recordedAt = this.now();
    const status = await this.deps.db.transaction((tx) =>
      upsertMemoryPurchase(tx, {
        businessId,
        customerId,
        orderId: input.orderId,
        occurredAt: input.purchasedAt,
        amount: input.amount,
        currency: input.currency,
        itemCount: itemCount(input.items),
        categories: input.items.flatMap((item) => (item.category ? [item.category.trim()] : [])),
        recordedAt,
      }),
    );
    if (status === 'conflict') {
      throw new AppError('CONFLICT', 'orderId: this order is already recorded for another customer', [
        { field: 'body.orderId', message: 'is already recorded for another customer' },
      ]);
    }
    try {
      await this.writeWarehousePurchase(businessId, customerId, input, recordedAt);
      const { changed } = await this.deps.sync.refreshTransactionMetrics([customerId]);
      return { orderId: input.orderId, customerId, status, metricsChanged: changed > 0 };
    } finally {
      await this.deps.cache.invalidate(businessId, customerId);
    }
  }

  /** The profile, from the cache when a current one is there. */
  async profile(businessId: string, customerId: string): Promise<{ profile: MemoryProfile; cached: boolean }> {
    const cached = await this.deps.cache.get(businessId, customerId);
    if (cached.profile) return { profile: cached.profile, cached: true };
    const profile = await this.buildProfile(businessId, customerId);
    await this.deps.cache.set(businessId, customerId, cached.generation, profile);
    return { profile, cached: false };
  }

  async context(businessId: string, customerId: string): Promise<{ context: MemoryContext; cached: boolean }> {
    const { profile, cached } = await this.profile(businessId, customerId);
    return {
      context: {
        profile,
        recentInteractions: profile.conversationHistory.recentConversations,
        predictions: profile.predictions,
        recommendations: profile.predictions?.recommendations ?? [],
      },
      cached,
    };
  }

  async predict(businessId: string, customerId: string): Promise<CustomerPrediction> {
    await this.requireCustomer(businessId, customerId);
    try {
      return await this.deps.predictor.predictCustomer(businessId, customerId);
    } finally {
      await this.deps.cache.invalidate(businessId, customerId);
    }
  }

  /**
   * Removes the customer's memory held for this business: interactions and latest predictions in
   * PostgreSQL (one transaction), their rows in the warehouse, and the cached profile. The
   * customer aggregate itself stays (erasure of the person is another flow). A soft-deleted
   * customer can still be forgotten. `warehousePending` says the warehouse refused for now
   * (BigQuery's streaming buffer); calling forget again later finishes it.
   */
  async forget(businessId: string, customerId: string): Promise<ForgetResult> {
    await this.requireCustomer(businessId, customerId, { includeDeleted: true });
    try {
      const local = await this.deps.db.transaction((tx) => deleteMemory(tx, businessId, customerId));
      const where = { business_id: businessId, customer_id: customerId };
      const interactions = await this.deps.warehouse.deleteRows('interactions', where);
      const predictions = await this.deps.warehouse.deleteRows('predictions', where);
      const result: ForgetResult = {
        deleted: {
          interactions: local.interactions,
          predictions: local.predictions,
          warehouseInteractions: interactions.deleted,
          warehousePredictions: predictions.deleted,
        },
        warehousePending: interactions.pending || predictions.pending,
      };
      this.log.info({ businessId, customerId, ...result.deleted, warehousePending: result.warehousePending }, 'customer memory forgotten');
      return result;
    } finally {
      await this.deps.cache.invalidate(businessId, customerId);
    }
  }

  private async requireCustomer(businessId: string, customerId: string, opts: { includeDeleted?: boolean } = {}) {
    const customer = await findCustomer(this.deps.db, businessId, customerId, opts);
    // Another business's customer answers exactly like a missing one.
    if (!customer) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
    return customer;
  }

  private async writeWarehousePurchase(businessId: string, customerId: string, input: PurchaseInput, recordedAt: Date): Promise<void> {
    const transaction: NormalizedTransaction = {
      transactionId: input.orderId,
      orderId: input.orderId,
      customerId,
      sourceCustomerId: null,
      occurredAt: input.purchasedAt,
      status: 'completed',
      amount: input.amount,
      refundedAmount: 0,
      currency: input.currency,
      items: input.items.map((item) => ({
        itemId: item.itemId,
        sku: item.sku ?? null,
        name: item.name ?? null,
        category: item.category ?? null,
        quantity: item.quantity,
        unitPrice: item.unitPrice,
      })),
      locationId: null,
      // Each call is a new version: a replay rewrites the same logical row, newest wins.
      updatedAt: recordedAt,
    };
    const { rejected } = await this.deps.warehouse.upsert('purchases', [purchaseRow(businessId, MEMORY_SOURCE, transaction, recordedAt)]);
    // The body was validated against the same limits, so a rejection is a bug, not bad input.
    if (rejected.length > 0) throw new Error(`warehouse refused the purchase row: ${rejected.map((r) => r.reason).join('; ')}`);
  }

  private async buildProfile(businessId: string, customerId: string): Promise<MemoryProfile> {
    const identity = await this.requireCustomer(businessId, customerId);
    const db = this.deps.db;
    const [purchases, talk, recent, predictions, membership] = await Promise.all([
      purchaseStats(db, businessId, customerId),
      interactionStats(db, businessId, customerId),
      recentInteractions(db, businessId, customerId, RECENT_INTERACTIONS),
      latestPrediction(db, businessId, customerId),
      membershipOf(db, customerId),
    ]);
    const now = this.now();
    const gapDays = purchases.orders >= 2 && purchases.firstAt && purchases.lastAt ? (purchases.lastAt.getTime() - purchases.firstAt.getTime()) / DAY_MS / (purchases.orders - 1) : null;
    return {
      customerId,
      version: '1.0',
      generatedAt: now.toISOString(),
      identity,
      preferences: { categories: purchases.categories, favoriteCategory: purchases.categories[0]?.category ?? null },
      behavioral: {
        totalPurchases: purchases.orders,
        totalSpent: round(purchases.spent, 2),
        averageOrderValue: purchases.orders > 0 ? round(purchases.spent / purchases.orders, 2) : 0,
        firstPurchaseDate: purchases.firstAt?.toISOString() ?? null,
        lastPurchaseDate: purchases.lastAt?.toISOString() ?? null,
        daysSinceLastPurchase: purchases.lastAt ? Math.max(0, Math.floor((now.getTime() - purchases.lastAt.getTime()) / DAY_MS)) : null,
        averageDaysBetweenPurchases: gapDays === null ? null : round(gapDays, 1),
        purchaseFrequency: gapDays === null ? null : frequencyOf(gapDays),
      },
      conversationHistory: {
        totalInteractions: talk.total,
        lastInteractionDate: talk.lastAt?.toISOString() ?? null,
        topics: talk.topics,
        recentConversations: recent,
      },
      communication: {
        channels: talk.channels,
        preferredChannel: talk.channels[0]?.channel ?? null,
        averageSentiment: talk.averageSentiment === null ? null : round(talk.averageSentiment, 3),
        lastInteractionDate: talk.lastAt?.toISOString() ?? null,
      },
      predictions,
      membership,
    };
  }
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The reference's label for how often someone buys, from the mean gap between purchases. */
function frequencyOf(gapDays: number): PurchaseFrequency {
  if (gapDays <= 10) return 'weekly';
  if (gapDays <= 21) return 'biweekly';
  if (gapDays <= 45) return 'monthly';
  if (gapDays <= 120) return 'quarterly';
  if (gapDays <= 400) return 'yearly';
  return 'occasional';
}
