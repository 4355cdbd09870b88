// /api/v1/customers/bulk and the audit of bulk operations (/api/v1/bulk-operations): thin routes
// over BulkService. Each operation also needs the permission of its single-customer API.
import { Router } from 'express';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { bulkOperationIdParams } from './bulk.schema.js';
import type { BulkService } from './bulk.service.js';

export function bulkRouter(bulk: BulkService): Router {
  const router = Router();

  router.post('/customers/bulk', requirePermission('customers:bulk'), async (req, res) => {
    const operation = await bulk.run(principalOf(req), req.body);
    res.location(`/api/v1/bulk-operations/${operation.id}`).json({ success: true, data: operation });
  });

  router.get('/bulk-operations', requirePermission('customers:bulk'), async (req, res) => {
    const page = await bulk.list(principalOf(req).businessId, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  router.get('/bulk-operations/:id', requirePermission('customers:bulk'), async (req, res) => {
    const { id } = parseInput(bulkOperationIdParams, req.params, 'params');
    res.json({ success: true, data: await bulk.get(principalOf(req).businessId, id) });
  });

  return router;
}
