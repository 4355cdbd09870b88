// /api/memory: thin routes over MemoryService (validate, authorize, call, shape). Mounted behind
// the same authentication, rate limit and JSON body chain as /api/v1.
import { Router, type Request } from 'express';
import { can } from '../auth/tokens.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { customerIdParams, noQuery, type MemoryProfile } from './memory.schema.js';
import type { MemoryService } from './memory.service.js';

export function memoryRouter(memory: MemoryService): Router {
  const router = Router();

  router.post('/learn', requirePermission('memory:write'), async (req, res) => {
    parseInput(noQuery, req.query, 'query');
    const recorded = await memory.learn(principalOf(req).businessId, req.body);
    res.status(201).json({ success: true, data: recorded });
  });

  router.post('/purchase/:customerId', requirePermission('memory:write'), async (req, res) => {
    const { customerId } = parseInput(customerIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    const result = await memory.recordPurchase(principalOf(req).businessId, customerId, req.body);
    res.status(result.status === 'created' ? 201 : 200).json({ success: true, data: result });
  });

  router.get('/profile/:customerId', requirePermission('memory:read'), async (req, res) => {
    const { customerId } = parseInput(customerIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    const { profile, cached } = await memory.profile(principalOf(req).businessId, customerId);
    res.json({ success: true, data: forRole(req, profile), meta: { cache: cached ? 'hit' : 'miss' } });
  });

  router.get('/context/:customerId', requirePermission('memory:read'), async (req, res) => {
    const { customerId } = parseInput(customerIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    const { context, cached } = await memory.context(principalOf(req).businessId, customerId);
    res.json({ success: true, data: { ...context, profile: forRole(req, context.profile) }, meta: { cache: cached ? 'hit' : 'miss' } });
  });

  router.post('/predict/:customerId', requirePermission('memory:write'), async (req, res) => {
    const { customerId } = parseInput(customerIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    res.json({ success: true, data: await memory.predict(principalOf(req).businessId, customerId) });
  });

  router.delete('/forget/:customerId', requirePermission('memory:forget'), async (req, res) => {
    const { customerId } = parseInput(customerIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    res.json({ success: true, data: await memory.forget(principalOf(req).businessId, customerId) });
  });

  return router;
}

/** Identity (PII) only for roles that may read customers, as GET /customers/{id} decides. */
function forRole(req: Request, profile: MemoryProfile): MemoryProfile {
  if (can(principalOf(req).role, 'customers:read')) return profile;
  const { identity: _identity, ...rest } = profile;
  return rest;
}
