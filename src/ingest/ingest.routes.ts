// /api/v1/ingest: POS ingestion run history and per-source status, scoped to the caller's business.
import { Router } from 'express';
import { decodeCursor } from '../db/keyset.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { IngestService } from './ingest.service.js';
import { ingestStatusQuery, listIngestRunsQuery } from './ingest.schema.js';

export function ingestRouter(ingest: IngestService): Router {
  const router = Router();
  router.get('/ingest/runs', requirePermission('ingest:read'), async (req, res) => {
    const query = parseInput(listIngestRunsQuery, req.query, 'query');
    const page = await ingest.listRuns(principalOf(req).businessId, {
      limit: query.limit,
      ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
      ...(query.source ? { provider: query.source } : {}),
    });
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: query.limit } });
  });

  router.get('/ingest/status', requirePermission('ingest:read'), async (req, res) => {
    parseInput(ingestStatusQuery, req.query, 'query');
    res.json({ success: true, data: await ingest.status(principalOf(req).businessId) });
  });
  return router;
}
