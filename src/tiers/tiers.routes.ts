// /api/v1/tiers: the configuration (read, audited update), its audit trail, recalculation; and a
// customer's manual tier override under /api/v1/customers/{id}/tier-override.
import { Router } from 'express';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { customerIdParams } from '../customers/customers.schema.js';
import type { TiersService } from './tiers.service.js';

export function tiersRouter(tiers: TiersService): Router {
  const router = Router();

  router.get('/tiers/configuration', requirePermission('tiers:read'), async (req, res) => {
    res.json({ success: true, data: await tiers.configuration(principalOf(req).businessId) });
  });

  router.put('/tiers/configuration', requirePermission('tiers:write'), async (req, res) => {
    const principal = principalOf(req);
    const { configuration, recalculation } = await tiers.updateConfiguration(principal.businessId, req.body, principal.subject);
    res.json({ success: true, data: configuration, meta: { recalculation } });
  });

  router.get('/tiers/audits', requirePermission('tiers:read'), async (req, res) => {
    const page = await tiers.audits(principalOf(req).businessId, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  router.post('/tiers/recalculate', requirePermission('tiers:write'), async (req, res) => {
    const principal = principalOf(req);
    res.json({ success: true, data: await tiers.recalculate(principal.businessId, 'api', principal.subject) });
  });

  router.put('/customers/:id/tier-override', requirePermission('tiers:write'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const principal = principalOf(req);
    const result = await tiers.setOverride(principal.businessId, id, req.body, principal.subject);
    res.json({ success: true, data: result.customer, meta: { version: result.customer.version, changed: result.changed } });
  });

  router.delete('/customers/:id/tier-override', requirePermission('tiers:write'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const principal = principalOf(req);
    const result = await tiers.clearOverride(principal.businessId, id, principal.subject);
    res.json({ success: true, data: result.customer, meta: { version: result.customer.version, changed: result.changed } });
  });

  return router;
}
