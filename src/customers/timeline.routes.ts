// GET /api/v1/customers/:id/timeline: the customer's activities, purchases, tier, segment and
// preference changes as one stream, newest first, cursor paged. Query contract and thin route.
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/db.client.js';
import { AppError } from '../errors.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { customerIdParams } from './customers.schema.js';
import { TIMELINE_TYPES, decodeTimelineCursor, readTimelinePage, timelineCustomerState } from './timeline.repository.js';

export const timelineQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(1000).optional(),
  types: z
    .string()
    .max(200)
    .transform((list) => [...new Set(list.split(',').map((t) => t.trim()))])
    .pipe(z.array(z.enum(TIMELINE_TYPES, { message: `must be a comma-separated list of ${TIMELINE_TYPES.join(', ')}` })).min(1))
    .optional()
    .meta({ description: `Comma-separated: ${TIMELINE_TYPES.join(', ')} (default all)` }),
});

export const timelineItem = z
  .object({
    type: z.enum(TIMELINE_TYPES),
    id: z.string().meta({ description: 'Activity uuid, `source:transactionId` for purchases, the row id for tier and event items' }),
    occurredAt: z.string(),
    data: z.looseObject({}),
  })
  .meta({ id: 'TimelineItem' });

export function timelineRouter(deps: { db: Db }): Router {
  const router = Router();
  router.get('/customers/:id/timeline', requirePermission('customers:read'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const query = parseInput(timelineQuery, req.query, 'query');
    const after = query.cursor ? decodeTimelineCursor(query.cursor) : undefined;
    const businessId = principalOf(req).businessId;
    if ((await timelineCustomerState(deps.db, id, businessId)) !== 'visible') {
      throw new AppError('NOT_FOUND', `Customer ${id} not found`);
    }
    const page = await readTimelinePage(deps.db, { businessId, customerId: id, types: query.types ?? TIMELINE_TYPES, limit: query.limit, after });
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: query.limit } });
  });
  return router;
}
