// The business analytics overview: tier distribution, segment sizes, CLV by tier, churn, new
// customers per day and the tier upgrade rate, shaped from a few set-based queries. Percentages
// are 0-100 with two decimals, and null where the denominator is zero.
import type { Db } from '../db/db.client.js';
import { LOYALTY_TIERS, type LoyaltyTier } from '../db/schema/index.js';
import { countUpgradedCustomers, newCustomersPerDay, segmentSizes, tierFigures, type DayCount, type SegmentSize } from './analytics.repository.js';

/** A customer whose last order is more than this many days before today counts as churned. */
export const CHURN_INACTIVE_DAYS = 90;

export interface AnalyticsOverview {
  /** The UTC day the figures are relative to, and the window of the per-day and upgrade figures. */
  asOf: string;
  days: number;
  totals: { customers: number };
  tierDistribution: { tier: LoyaltyTier; count: number; percent: number | null }[];
  segments: SegmentSize[];
  averageClvByTier: { tier: LoyaltyTier; customersWithMetrics: number; averageLifetimeValue: number | null; averagePredictedLifetimeValue: number | null }[];
  churnRate: { inactiveDays: number; customersWithLastOrder: number; churned: number; percent: number | null };
  newCustomersPerDay: DayCount[];
  upgradeRate: { customers: number; upgraded: number; percent: number | null };
}

export function percentOf(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part * 10000) / whole) / 100;
}

export class AnalyticsService {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async overview(businessId: string, days: number): Promise<AnalyticsOverview> {
    const today = this.now().toISOString().slice(0, 10);
    // Independent reads run side by side; each figure is internally consistent (one statement).
    const [tiers, perDay, upgraded, segments] = await Promise.all([
      tierFigures(this.db, businessId, today, CHURN_INACTIVE_DAYS),
      newCustomersPerDay(this.db, businessId, today, days),
      countUpgradedCustomers(this.db, businessId, today, days),
      segmentSizes(this.db, businessId),
    ]);
    const byTier = new Map(tiers.map((t) => [t.tier, t]));
    const total = tiers.reduce((sum, t) => sum + t.customers, 0);
    const withLastOrder = tiers.reduce((sum, t) => sum + t.withLastOrder, 0);
    const churned = tiers.reduce((sum, t) => sum + t.inactive, 0);
    return {
      asOf: today,
      days,
      totals: { customers: total },
      tierDistribution: LOYALTY_TIERS.map((tier) => {
        const count = byTier.get(tier)?.customers ?? 0;
        return { tier, count, percent: percentOf(count, total) };
      }),
      segments,
      averageClvByTier: LOYALTY_TIERS.map((tier) => {
        const t = byTier.get(tier);
        return {
          tier,
          customersWithMetrics: t?.withMetrics ?? 0,
          averageLifetimeValue: t?.avgLifetimeValue ?? null,
          averagePredictedLifetimeValue: t?.avgPredictedLifetimeValue ?? null,
        };
      }),
      churnRate: { inactiveDays: CHURN_INACTIVE_DAYS, customersWithLastOrder: withLastOrder, churned, percent: percentOf(churned, withLastOrder) },
      newCustomersPerDay: perDay,
      upgradeRate: { customers: total, upgraded, percent: percentOf(upgraded, total) },
    };
  }
}
