// /api/v1/customers/:id/preferences and /api/v1/audiences: thin routes that validate, authorize,
// call the service and shape the response.
import { Router } from 'express';
import { customerIdParams } from '../customers/customers.schema.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseIfMatch, parseInput } from '../http/validate.js';
import { audienceQuery } from './preferences.schema.js';
import type { PreferencesService } from './preferences.service.js';

export function preferencesRouter(preferences: PreferencesService): Router {
  const router = Router();

  router.get('/customers/:id/preferences', requirePermission('customers:read'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    res.json({ success: true, data: await preferences.get(principalOf(req).businessId, id) });
  });

  router.put('/customers/:id/preferences', requirePermission('customers:write'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const expectedVersion = parseIfMatch(req.get('if-match'));
    const result = await preferences.update(principalOf(req).businessId, id, req.body, { expectedVersion });
    const version = result.write.customer.version;
    res.set('ETag', `"v${version}"`).json({ success: true, data: result.preferences, meta: { version, changed: result.write.changed } });
  });

  router.get('/audiences', requirePermission('audiences:read'), async (req, res) => {
    const query = parseInput(audienceQuery, req.query, 'query');
    const page = await preferences.audience(principalOf(req).businessId, query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: query.limit } });
  });

  return router;
}
