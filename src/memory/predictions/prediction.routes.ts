// /api/memory/predictions/runs: the prediction job's run records for the caller's business.
import { Router } from 'express';
import { z } from 'zod';
import { principalOf, requirePermission } from '../../http/auth.middleware.js';
import { parseInput } from '../../http/validate.js';
import type { Db } from '../../db/db.client.js';
import { listPredictionRuns } from './prediction.repository.js';

export const listPredictionRunsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

export function predictionRunsRouter(db: Db): Router {
  const router = Router();
  router.get('/predictions/runs', requirePermission('memory:read'), async (req, res) => {
    const query = parseInput(listPredictionRunsQuery, req.query, 'query');
    res.json({ success: true, data: await listPredictionRuns(db, principalOf(req).businessId, query.limit) });
  });
  return router;
}
