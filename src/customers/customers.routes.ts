// /api/v1/customers: thin routes that validate, authorize, call the service and shape the response.
import { Router, type RequestHandler, type Response } from 'express';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseIfMatch, parseInput } from '../http/validate.js';
import type { WriteResult } from '../sync/database-sync.service.js';
import { customerIdParams, listCustomersQuery, readQuery, writeQuery } from './customers.schema.js';
import type { CustomersService } from './customers.service.js';

/** `erase` handles `DELETE /customers/{id}?erase=true` (GDPR erasure, src/privacy/erasure) and passes anything else on. */
export function customersRouter(customers: CustomersService, erase?: RequestHandler): Router {
  const router = Router();

  router.get('/customers', requirePermission('customers:read'), async (req, res) => {
    const query = parseInput(listCustomersQuery, req.query, 'query');
    const page = await customers.list(principalOf(req).businessId, query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: query.limit } });
  });

  router.post('/customers', requirePermission('customers:write'), async (req, res) => {
    const { wait } = parseInput(writeQuery, req.query, 'query');
    const result = await customers.create(principalOf(req).businessId, req.body);
    res.status(201).location(`/api/v1/customers/${result.customer.id}`);
    await sendWrite(res, result, customers, wait);
  });

  router.get('/customers/:id', requirePermission('customers:read'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const { includeDeleted } = parseInput(readQuery, req.query, 'query');
    const customer = await customers.profile(principalOf(req).businessId, id, { includeDeleted });
    res.set('ETag', `"v${customer.version}"`).json({ success: true, data: customer });
  });

  router.put('/customers/:id', requirePermission('customers:write'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const { wait } = parseInput(writeQuery, req.query, 'query');
    const ctx = { businessId: principalOf(req).businessId, expectedVersion: parseIfMatch(req.get('if-match')) };
    await sendWrite(res, await customers.replace(id, req.body, ctx), customers, wait);
  });

  router.patch('/customers/:id', requirePermission('customers:write'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const { wait } = parseInput(writeQuery, req.query, 'query');
    const ctx = { businessId: principalOf(req).businessId, expectedVersion: parseIfMatch(req.get('if-match')) };
    await sendWrite(res, await customers.patch(id, req.body, ctx), customers, wait);
  });

  router.delete('/customers/:id', ...(erase ? [erase] : []), requirePermission('customers:delete'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const { wait } = parseInput(writeQuery, req.query, 'query');
    const ctx = { businessId: principalOf(req).businessId, expectedVersion: parseIfMatch(req.get('if-match')) };
    await sendWrite(res, await customers.delete(id, ctx), customers, wait);
  });

  return router;
}

/** `?wait=sync` waits (bounded) for the Firestore projection; `meta.sync` says where it stands. */
async function sendWrite(res: Response, result: WriteResult, customers: CustomersService, wait: 'sync' | undefined): Promise<void> {
  const sync = await customers.syncStatus(result, wait === 'sync');
  res.set('ETag', `"v${result.customer.version}"`).json({
    success: true,
    data: result.customer,
    meta: { version: result.customer.version, changed: result.changed, sync },
  });
}
