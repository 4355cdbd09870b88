// Identity routes: duplicate candidates, merging two customers, and merges (read, undo). Thin:
// validate, authorize, call the service, shape the response. Mounted before the customers router,
// so /customers/duplicates is not taken for a customer id.
import { Router } from 'express';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import type { DuplicatesService } from './duplicates.service.js';
import { idParams } from './merge.schema.js';
import type { MergeService } from './merge.service.js';

export function identityRouter(deps: { duplicates: DuplicatesService; merges: MergeService }): Router {
  const router = Router();

  router.get('/customers/duplicates', requirePermission('customers:read'), async (req, res) => {
    const page = await deps.duplicates.list(principalOf(req).businessId, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit, minScore: page.minScore } });
  });

  router.post('/customers/:id/merge', requirePermission('customers:merge'), async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const principal = principalOf(req);
    const { merge, customer } = await deps.merges.merge({ businessId: principal.businessId, actor: principal.subject }, id, req.body);
    res.status(201).location(`/api/v1/merges/${merge.id}`).set('ETag', `"v${customer.version}"`).json({ success: true, data: { merge, customer }, meta: { version: customer.version } });
  });

  router.get('/merges', requirePermission('customers:read'), async (req, res) => {
    const page = await deps.merges.list(principalOf(req).businessId, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  router.get('/merges/:id', requirePermission('customers:read'), async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    res.json({ success: true, data: await deps.merges.get(principalOf(req).businessId, id) });
  });

  router.post('/merges/:id/undo', requirePermission('customers:merge'), async (req, res) => {
    const { id } = parseInput(idParams, req.params, 'params');
    const principal = principalOf(req);
    const result = await deps.merges.undo({ businessId: principal.businessId, actor: principal.subject }, id);
    res.json({ success: true, data: result });
  });

  return router;
}
