// Erasure over HTTP: the `?erase=true` branch of DELETE /api/v1/customers/{id} (mounted by the
// customers router ahead of its soft delete) and the erasure records, GET /api/v1/erasures[/{id}].
// Admins only (customers:erase).
import { Router, type RequestHandler } from 'express';
import { can } from '../../auth/tokens.js';
import { customerIdParams } from '../../customers/customers.schema.js';
import { AppError, invalidInput } from '../../errors.js';
import { principalOf, requirePermission } from '../../http/auth.middleware.js';
import { parseInput } from '../../http/validate.js';
import { eraseBody, eraseQuery, erasureIdParams, listErasuresQuery } from './erasure.schema.js';
import type { ErasureService } from './erasure.service.js';

/**
 * `DELETE /customers/{id}?erase=true` with a reason (`{ "reason": "…" }` or `?reason=`): 202 with
 * the erasure record and its Location. Without `erase` in the query it passes on to the soft delete.
 */
export function eraseCustomerHandler(erasures: ErasureService): RequestHandler {
  return async (req, res, next) => {
    if (!('erase' in (req.query as Record<string, unknown>))) {
      next();
      return;
    }
    const principal = principalOf(req);
    if (!can(principal.role, 'customers:erase')) throw new AppError('FORBIDDEN', `Role ${principal.role} may not customers erase`);
    const { id } = parseInput(customerIdParams, req.params, 'params');
    const query = parseInput(eraseQuery, req.query, 'query');
    const body = eraseBody.safeParse(req.body ?? {});
    if (!body.success) throw invalidInput(body.error, 'body');
    const [reason, reasonField] = body.data.reason !== undefined ? [body.data.reason, 'body.reason'] : [query.reason, 'query.reason'];
    if (reason === undefined) {
      throw new AppError('INVALID_INPUT', 'Invalid input: body.reason: is required (or give it as ?reason=)', [
        { field: 'body.reason', message: 'is required (or give it as ?reason=)' },
      ]);
    }
    const record = await erasures.request({ businessId: principal.businessId, customerId: id, actor: principal.subject, reason, reasonField });
    res.status(202).location(`/api/v1/erasures/${record.id}`).json({ success: true, data: record });
  };
}

export function erasuresRouter(erasures: ErasureService): Router {
  const router = Router();

  router.get('/erasures', requirePermission('customers:erase'), async (req, res) => {
    const q = parseInput(listErasuresQuery, req.query, 'query');
    const page = await erasures.list(principalOf(req).businessId, q);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: q.limit } });
  });

  router.get('/erasures/:id', requirePermission('customers:erase'), async (req, res) => {
    const { id } = parseInput(erasureIdParams, req.params, 'params');
    res.json({ success: true, data: await erasures.get(principalOf(req).businessId, id) });
  });

  return router;
}
