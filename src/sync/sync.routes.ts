// /api/v1/sync: the sync operations API (admin only, scoped to the caller's business). Thin
// routes that authorize, validate, call the service and shape the response.
import { Router } from 'express';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { SyncAdminService } from './sync-admin.service.js';
import { listSyncLogsQuery, syncHealthQuery } from './sync.schema.js';

export function syncRouter(syncAdmin: SyncAdminService): Router {
  const router = Router();
  router.get('/sync/health', requirePermission('sync:admin'), async (req, res) => {
    parseInput(syncHealthQuery, req.query, 'query');
    res.json({ success: true, data: await syncAdmin.health(principalOf(req).businessId) });
  });

  router.get('/sync/logs', requirePermission('sync:admin'), async (req, res) => {
    const query = parseInput(listSyncLogsQuery, req.query, 'query');
    const page = await syncAdmin.listLogs(principalOf(req).businessId, query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: query.limit } });
  });

  router.post('/sync/retry', requirePermission('sync:admin'), async (req, res) => {
    res.json({ success: true, data: await syncAdmin.retry(principalOf(req).businessId, req.body) });
  });

  return router;
}
