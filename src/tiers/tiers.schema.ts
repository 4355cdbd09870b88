// The tier configuration's API contract: per-business thresholds for SILVER, GOLD and PLATINUM
// (BRONZE is everyone else), validated so the tiers stay ordered, and the manual override.
import { z } from 'zod';
import { LOYALTY_TIERS, type StoredTierThresholds } from '../db/schema/index.js';

export const EVALUATION_PERIODS = ['monthly', 'quarterly', 'yearly', 'lifetime'] as const;
/** Rolling windows, longest last: a period's qualifying values can only grow with its length. */
export const PERIOD_MONTHS = { monthly: 1, quarterly: 3, yearly: 12, lifetime: Infinity } as const;
export const TIER_KEYS = ['silver', 'gold', 'platinum'] as const;
export const METRICS = ['spendingThreshold', 'visitThreshold', 'pointsThreshold'] as const;

const money = z
  .number()
  .positive('must be greater than 0')
  .max(9_999_999_999.99)
  .refine((v) => Math.round(v * 100) / 100 === v, { message: 'must have at most 2 decimal places' });
const count = z.number().int('must be a whole number').positive('must be greater than 0').max(2_147_483_647);

const requirement = z
  .strictObject({
    spendingThreshold: money.optional(),
    visitThreshold: count.optional(),
    pointsThreshold: count.optional(),
    evaluationPeriod: z.enum(EVALUATION_PERIODS, { message: `must be one of ${EVALUATION_PERIODS.join(', ')}` }),
  })
  .refine((r) => METRICS.some((m) => r[m] !== undefined), {
    message: 'needs at least one of spendingThreshold, visitThreshold, pointsThreshold',
  });

/**
 * Qualifying for a tier means meeting ANY of its thresholds. So that whoever qualifies for a
 * higher tier also qualifies for the lower ones, each threshold a higher tier sets must also be
 * set, lower, on every tier below it, and a higher tier may not use a longer evaluation period.
 */
export const tierThresholds = z
  .strictObject({ silver: requirement, gold: requirement, platinum: requirement })
  .superRefine((t, ctx) => {
    for (let hi = 1; hi < TIER_KEYS.length; hi++) {
      const upper = t[TIER_KEYS[hi]!];
      for (let lo = 0; lo < hi; lo++) {
        const lowerKey = TIER_KEYS[lo]!;
        const lower = t[lowerKey];
        for (const metric of METRICS) {
          const u = upper[metric];
          if (u === undefined) continue;
          const l = lower[metric];
          if (l === undefined) {
            ctx.addIssue({ code: 'custom', path: [TIER_KEYS[hi]!, metric], message: `is set, so ${lowerKey}.${metric} must be set too (and lower)` });
          } else if (u <= l) {
            ctx.addIssue({ code: 'custom', path: [TIER_KEYS[hi]!, metric], message: `must be greater than ${lowerKey}.${metric} (${l})` });
          }
        }
        if (PERIOD_MONTHS[upper.evaluationPeriod] > PERIOD_MONTHS[lower.evaluationPeriod]) {
          ctx.addIssue({
            code: 'custom',
            path: [TIER_KEYS[hi]!, 'evaluationPeriod'],
            message: `must not be longer than ${lowerKey}.evaluationPeriod (${lower.evaluationPeriod})`,
          });
        }
      }
    }
  }) satisfies z.ZodType<StoredTierThresholds>;

export const updateTierConfiguration = z.strictObject({
  thresholds: tierThresholds,
  downgradeGraceDays: z.number().int('must be a whole number').min(0).max(3650).optional(),
  reason: z.string().trim().min(1, 'is required: say why the thresholds change').max(1000),
});
export type UpdateTierConfiguration = z.infer<typeof updateTierConfiguration>;

export const tierOverrideInput = z.strictObject({
  tier: z.enum(LOYALTY_TIERS, { message: `must be one of ${LOYALTY_TIERS.join(', ')}` }),
  reason: z.string().trim().min(1, 'is required').max(1000),
});

export const auditsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/** In force for a business until its first PUT: lifetime values, a loyal-customer ladder. */
export const DEFAULT_TIER_THRESHOLDS: StoredTierThresholds = {
  silver: { spendingThreshold: 500, visitThreshold: 10, evaluationPeriod: 'lifetime' },
  gold: { spendingThreshold: 2000, visitThreshold: 25, evaluationPeriod: 'lifetime' },
  platinum: { spendingThreshold: 5000, visitThreshold: 50, evaluationPeriod: 'lifetime' },
};
export const DEFAULT_DOWNGRADE_GRACE_DAYS = 90;
