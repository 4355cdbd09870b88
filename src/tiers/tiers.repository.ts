// SQL of tier configuration: the per-business thresholds (defaults until a business sets its
// own), their audit trail, and a customer's manual override.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor, Tx } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import { businessCustomers, tierConfigAudits, tierConfigurations, type LoyaltyTier, type StoredTierThresholds } from '../db/schema/index.js';
import type { TierConfiguration } from './tier-evaluation.js';
import { DEFAULT_DOWNGRADE_GRACE_DAYS, DEFAULT_TIER_THRESHOLDS } from './tiers.schema.js';

export interface StoredConfiguration extends TierConfiguration {
  isDefault: boolean;
  updatedBy: string | null;
  updatedAt: Date | null;
}

const DEFAULTS: StoredConfiguration = {
  thresholds: DEFAULT_TIER_THRESHOLDS,
  downgradeGraceDays: DEFAULT_DOWNGRADE_GRACE_DAYS,
  isDefault: true,
  updatedBy: null,
  updatedAt: null,
};

export async function loadTierConfigs(ex: Executor, businessIds: string[]): Promise<Map<string, StoredConfiguration>> {
  const rows = businessIds.length
    ? await ex.select().from(tierConfigurations).where(inArray(tierConfigurations.businessId, businessIds))
    : [];
  const byBusiness = new Map(rows.map((r) => [r.businessId, r]));
  return new Map(
    businessIds.map((id) => {
      const r = byBusiness.get(id);
      return [id, r ? { thresholds: r.thresholds, downgradeGraceDays: r.downgradeGraceDays, isDefault: false, updatedBy: r.updatedBy, updatedAt: r.updatedAt } : DEFAULTS];
    }),
  );
}

/** A business's configuration from its `tier_configurations` row as JSON (row_to_json), or the defaults when it has none. */
export function tierConfigFromJson(row: unknown): StoredConfiguration {
  if (row === null || typeof row !== 'object') return DEFAULTS;
  const r = row as { thresholds: StoredTierThresholds; downgrade_grace_days: number; updated_by: string | null; updated_at: string | null };
  return {
    thresholds: r.thresholds,
    downgradeGraceDays: r.downgrade_grace_days,
    isDefault: false,
    updatedBy: r.updated_by,
    updatedAt: r.updated_at === null ? null : new Date(r.updated_at),
  };
}

export async function loadTierConfig(ex: Executor, businessId: string): Promise<StoredConfiguration> {
  return (await loadTierConfigs(ex, [businessId])).get(businessId)!;
}

/** Writes the configuration and its audit row (previous and new values, who, why) together. */
/**
 * Refreshes PostgreSQL's statistics of the tiers after a recalculation that moved many customers.
 * A list filtered by tier walks the business's links newest first only while the planner knows the
 * tier is common; until autovacuum's next pass it would still believe the tiers before the run
 * (everyone BRONZE: GOLD looks rare, and a 1,000,000-customer business's GOLD list read all its
 * links, 0.3 s, instead of a page's worth, 4 ms).
 */
export async function refreshTierStatistics(ex: Executor): Promise<void> {
  await ex.execute(sql`ANALYZE business_customers (loyalty_tier)`);
}

export async function saveTierConfig(
  tx: Tx,
  businessId: string,
  next: { thresholds: StoredTierThresholds; downgradeGraceDays: number },
  changedBy: string,
  reason: string,
): Promise<void> {
  const [previous] = await tx.select().from(tierConfigurations).where(eq(tierConfigurations.businessId, businessId)).for('update');
  await tx
    .insert(tierConfigurations)
    .values({ businessId, ...next, updatedBy: changedBy })
    .onConflictDoUpdate({
      target: tierConfigurations.businessId,
      set: { thresholds: next.thresholds, downgradeGraceDays: next.downgradeGraceDays, updatedBy: changedBy, updatedAt: sql`now()` },
    });
  await tx.insert(tierConfigAudits).values({
    businessId,
    previousThresholds: previous?.thresholds ?? null,
    newThresholds: next.thresholds,
    previousGraceDays: previous?.downgradeGraceDays ?? null,
    newGraceDays: next.downgradeGraceDays,
    changedBy,
    reason,
  });
}

export async function listTierAudits(ex: Executor, businessId: string, limit: number, after?: KeysetPosition) {
  return ex
    .select({
      id: tierConfigAudits.id,
      previousThresholds: tierConfigAudits.previousThresholds,
      newThresholds: tierConfigAudits.newThresholds,
      previousGraceDays: tierConfigAudits.previousGraceDays,
      newGraceDays: tierConfigAudits.newGraceDays,
      changedBy: tierConfigAudits.changedBy,
      changedAt: tierConfigAudits.changedAt,
      reason: tierConfigAudits.reason,
      cursorAt: exactTimestamp(tierConfigAudits.changedAt),
    })
    .from(tierConfigAudits)
    .where(and(eq(tierConfigAudits.businessId, businessId), after ? beyond(tierConfigAudits.changedAt, tierConfigAudits.id, after, 'desc') : undefined))
    .orderBy(desc(tierConfigAudits.changedAt), desc(tierConfigAudits.id))
    .limit(limit + 1);
}

/** Sets (tier) or clears (null) the override; returns whether the stored values changed. */
export async function writeTierOverride(tx: Tx, businessId: string, customerId: string, tier: LoyaltyTier | null, reason: string | null): Promise<boolean> {
  const rows = await tx
    .update(businessCustomers)
    .set({ tierOverride: tier, tierOverrideReason: reason })
    .where(
      and(
        eq(businessCustomers.businessId, businessId),
        eq(businessCustomers.customerId, customerId),
        sql`(${businessCustomers.tierOverride}, ${businessCustomers.tierOverrideReason}) IS DISTINCT FROM (${tier}::varchar, ${reason}::text)`,
      ),
    )
    .returning({ customerId: businessCustomers.customerId });
  return rows.length > 0;
}

export async function loadTierStanding(ex: Executor, businessId: string, customerId: string) {
  const [row] = await ex
    .select({
      loyaltyTier: businessCustomers.loyaltyTier,
      tierUpdatedAt: businessCustomers.tierUpdatedAt,
      tierOverride: businessCustomers.tierOverride,
      tierOverrideReason: businessCustomers.tierOverrideReason,
      downgradeDueAt: businessCustomers.downgradeDueAt,
    })
    .from(businessCustomers)
    .where(and(eq(businessCustomers.businessId, businessId), eq(businessCustomers.customerId, customerId)));
  return row;
}
