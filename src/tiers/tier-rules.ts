// Tier rules as plain functions: the tier a customer's values qualify for, and their progress to
// the next tier. The set-based SQL in tier-evaluation.ts applies the same rules to many customers.
import type { LoyaltyTier, StoredTierThresholds, TierRequirement } from '../db/schema/index.js';
import { TIER_KEYS } from './tiers.schema.js';

export const TIER_ORDER: readonly LoyaltyTier[] = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'];
export const tierRank = (tier: LoyaltyTier): number => TIER_ORDER.indexOf(tier);

/** A customer's values over one evaluation period. */
export interface PeriodValues {
  spend: number;
  visits: number;
  points: number;
}

export function meets(req: TierRequirement, v: PeriodValues): boolean {
  return (
    (req.spendingThreshold !== undefined && v.spend >= req.spendingThreshold) ||
    (req.visitThreshold !== undefined && v.visits >= req.visitThreshold) ||
    (req.pointsThreshold !== undefined && v.points >= req.pointsThreshold)
  );
}

/** The highest tier whose requirement the values meet; BRONZE when none. */
export function qualifyingTier(thresholds: StoredTierThresholds, valuesFor: (req: TierRequirement) => PeriodValues): LoyaltyTier {
  for (let i = TIER_KEYS.length - 1; i >= 0; i--) {
    const req = thresholds[TIER_KEYS[i]!];
    if (meets(req, valuesFor(req))) return TIER_ORDER[i + 1]!;
  }
  return 'BRONZE';
}

export interface TierProgress {
  nextTier: LoyaltyTier | null;
  /** 0–100: the best of the thresholds' ratios, since meeting any one qualifies. */
  progressPercent: number;
  /** What is still missing per threshold of the next tier (0 when met). */
  remaining: { spend?: number; visits?: number; points?: number };
  evaluationPeriod: TierRequirement['evaluationPeriod'] | null;
}

export function progressToNextTier(current: LoyaltyTier, thresholds: StoredTierThresholds, values: (req: TierRequirement) => PeriodValues): TierProgress {
  const rank = tierRank(current);
  if (rank >= TIER_ORDER.length - 1) return { nextTier: null, progressPercent: 100, remaining: {}, evaluationPeriod: null };
  const req = thresholds[TIER_KEYS[rank]!];
  const v = values(req);
  const ratios: number[] = [];
  const remaining: TierProgress['remaining'] = {};
  if (req.spendingThreshold !== undefined) {
    ratios.push(v.spend / req.spendingThreshold);
    remaining.spend = Math.max(0, Math.round((req.spendingThreshold - v.spend) * 100) / 100);
  }
  if (req.visitThreshold !== undefined) {
    ratios.push(v.visits / req.visitThreshold);
    remaining.visits = Math.max(0, req.visitThreshold - v.visits);
  }
  if (req.pointsThreshold !== undefined) {
    ratios.push(v.points / req.pointsThreshold);
    remaining.points = Math.max(0, req.pointsThreshold - v.points);
  }
  const best = Math.max(0, ...ratios);
  return {
    nextTier: TIER_ORDER[rank + 1]!,
    progressPercent: Math.min(100, Math.floor(best * 1000) / 10),
    remaining,
    evaluationPeriod: req.evaluationPeriod,
  };
}
