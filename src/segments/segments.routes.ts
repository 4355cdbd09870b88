// /api/v1/segments: thin routes over SegmentsService.
import { Router } from 'express';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { segmentIdParams } from './segments.schema.js';
import type { SegmentsService } from './segments.service.js';

export function segmentsRouter(segments: SegmentsService): Router {
  const router = Router();

  router.post('/segments', requirePermission('segments:write'), async (req, res) => {
    const { segment, recalculation } = await segments.create(principalOf(req).businessId, req.body);
    res.status(201).location(`/api/v1/segments/${segment.id}`).json({ success: true, data: segment, meta: { recalculation } });
  });

  router.get('/segments', requirePermission('segments:read'), async (req, res) => {
    const page = await segments.list(principalOf(req).businessId, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  router.get('/segments/:id', requirePermission('segments:read'), async (req, res) => {
    const { id } = parseInput(segmentIdParams, req.params, 'params');
    res.json({ success: true, data: await segments.get(principalOf(req).businessId, id) });
  });

  router.put('/segments/:id', requirePermission('segments:write'), async (req, res) => {
    const { id } = parseInput(segmentIdParams, req.params, 'params');
    const { segment, recalculation } = await segments.update(principalOf(req).businessId, id, req.body);
    res.json({ success: true, data: segment, meta: { recalculation } });
  });

  router.delete('/segments/:id', requirePermission('segments:write'), async (req, res) => {
    const { id } = parseInput(segmentIdParams, req.params, 'params');
    const { recalculation } = await segments.delete(principalOf(req).businessId, id);
    res.json({ success: true, data: { id, deleted: true }, meta: { recalculation } });
  });

  router.post('/segments/:id/recalculate', requirePermission('segments:write'), async (req, res) => {
    const { id } = parseInput(segmentIdParams, req.params, 'params');
    res.json({ success: true, data: await segments.recalculate(principalOf(req).businessId, id) });
  });

  router.get('/segments/:id/customers', requirePermission('segments:read'), async (req, res) => {
    const { id } = parseInput(segmentIdParams, req.params, 'params');
    const page = await segments.members(principalOf(req).businessId, id, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  return router;
}
