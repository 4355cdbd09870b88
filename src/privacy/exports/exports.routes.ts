// /api/v1 data exports: request one for a customer, follow it, list a customer's, download the
// archive. Thin: validate, authorize (privacy:export), call ExportsService.
import { Router } from 'express';
import { principalOf, requirePermission } from '../../http/auth.middleware.js';
import { parseInput } from '../../http/validate.js';
import { customerIdParams, exportIdParams, noQuery } from './exports.schema.js';
import type { ExportsService } from './exports.service.js';

export function exportsRouter(service: ExportsService): Router {
  const router = Router();

  router.post('/customers/:id/export', requirePermission('privacy:export'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    const { businessId, subject } = principalOf(req);
    const created = await service.request({ businessId, subject }, id, req.body, new Date());
    res.status(202).location(`/api/v1/exports/${created.id}`).json({ success: true, data: created });
  });

  router.get('/customers/:id/exports', requirePermission('privacy:export'), async (req, res) => {
    const { id } = parseInput(customerIdParams, req.params, 'params');
    res.json({ success: true, data: await service.list(principalOf(req).businessId, id, req.query) });
  });

  router.get('/exports/:id', requirePermission('privacy:export'), async (req, res) => {
    const { id } = parseInput(exportIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    res.json({ success: true, data: await service.get(principalOf(req).businessId, id) });
  });

  router.get('/exports/:id/download', requirePermission('privacy:export'), async (req, res) => {
    const { id } = parseInput(exportIdParams, req.params, 'params');
    parseInput(noQuery, req.query, 'query');
    const download = await service.download(principalOf(req).businessId, id);
    res.set({
      'content-type': 'application/zip',
      'content-length': String(download.sizeBytes),
      'content-disposition': `attachment; filename="${download.fileName}"`,
      'cache-control': 'no-store',
      ...(download.export.checksum ? { 'x-checksum-sha256': download.export.checksum } : {}),
    });
    download.body.on('error', (err) => res.destroy(err));
    download.body.pipe(res);
  });

  return router;
}
