// GET /api/v1/recalculations: the business's tier and segment recalculation runs, newest first.
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../db/db.client.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { listRuns } from './recalculation-runs.repository.js';

const query = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export function recalculationsRouter(db: Db): Router {
  const router = Router();
  router.get('/recalculations', requirePermission('segments:read'), async (req, res) => {
    const q = parseInput(query, req.query, 'query');
    const rows = await listRuns(db, principalOf(req).businessId, q.limit, q.cursor ? decodeCursor(q.cursor) : undefined);
    const page = keysetPage(rows, q.limit);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: q.limit } });
  });
  return router;
}
