// GET /api/v1/analytics/overview: the business's customer analytics (admin and analyst).
// Query contract and thin route.
import { Router } from 'express';
import { z } from 'zod';
import { LOYALTY_TIERS } from '../db/schema/index.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { AnalyticsService } from './analytics.service.js';

export const analyticsOverviewQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).default(30).meta({ description: 'Window of the per-day and upgrade figures: today (UTC) and the days before it' }),
});

const tier = z.enum(LOYALTY_TIERS);
const percent = z.number().nullable().meta({ description: '0-100, two decimals; null when the denominator is 0' });

export const analyticsOverviewBody = z
  .object({
    asOf: z.string().meta({ description: 'The UTC day the figures are relative to (YYYY-MM-DD)' }),
    days: z.number().int(),
    totals: z.object({ customers: z.number().int() }),
    tierDistribution: z.array(z.object({ tier, count: z.number().int(), percent })),
    segments: z.array(z.object({ id: z.uuid(), name: z.string(), size: z.number().int() })),
    averageClvByTier: z.array(
      z.object({
        tier,
        customersWithMetrics: z.number().int(),
        averageLifetimeValue: z.number().nullable(),
        averagePredictedLifetimeValue: z.number().nullable(),
      }),
    ),
    churnRate: z.object({ inactiveDays: z.number().int(), customersWithLastOrder: z.number().int(), churned: z.number().int(), percent }),
    newCustomersPerDay: z.array(z.object({ date: z.string(), count: z.number().int() })),
    upgradeRate: z.object({ customers: z.number().int(), upgraded: z.number().int(), percent }),
  })
  .meta({ id: 'AnalyticsOverview' });

export function analyticsRouter(analytics: AnalyticsService): Router {
  const router = Router();
  router.get('/analytics/overview', requirePermission('analytics:read'), async (req, res) => {
    const { days } = parseInput(analyticsOverviewQuery, req.query, 'query');
    res.json({ success: true, data: await analytics.overview(principalOf(req).businessId, days) });
  });
  return router;
}
