// Customer import routes. The upload (POST /api/v1/customers/import) takes the file as the raw
// request body (text/csv or .xlsx), so it is mounted apart from the JSON body guard (app.ts); the
// reads (GET /api/v1/imports…) are ordinary routes.
import { Router, type RequestHandler } from 'express';
import { AppError } from '../errors.js';
import { principalOf, requirePermission } from '../http/auth.middleware.js';
import { parseInput } from '../http/validate.js';
import { IMPORT_CONTENT_TYPES, importIdParams, uploadQuery } from './imports.schema.js';
import { emptyBodyError, type ImportsService } from './imports.service.js';

const ACCEPTED = Object.keys(IMPORT_CONTENT_TYPES);

/** The upload's handlers, after authentication and rate limiting. Answers 202 with the queued import. */
export function importUploadHandlers(imports: ImportsService): RequestHandler[] {
  const upload: RequestHandler = async (req, res) => {
    const { fileName } = parseInput(uploadQuery, req.query, 'query');
    const length = req.headers['content-length'];
    const declaredBytes = length === undefined ? undefined : Number(length);
    // req.is() answers null for a request without a body: that is an empty file, not a wrong type.
    if (declaredBytes === 0 && req.headers['transfer-encoding'] === undefined) throw emptyBodyError();
    const type = req.is(ACCEPTED);
    if (!type) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Request body must be the file, sent as ${ACCEPTED.join(' or ')}`);
    try {
      const created = await imports.upload(principalOf(req).businessId, principalOf(req).subject, {
        format: IMPORT_CONTENT_TYPES[type as keyof typeof IMPORT_CONTENT_TYPES],
        fileName,
        body: req,
        declaredBytes,
      });
      res.status(202).location(`/api/v1/imports/${created.id}`).json({ success: true, data: created });
    } catch (err) {
      // The rest of an oversized body is not read: the connection closes after the answer.
      if (err instanceof AppError && err.code === 'PAYLOAD_TOO_LARGE') res.set('Connection', 'close');
      throw err;
    }
  };
  return [requirePermission('customers:import'), upload];
}

export function importsRouter(imports: ImportsService): Router {
  const router = Router();

  router.get('/imports', requirePermission('customers:import'), async (req, res) => {
    const page = await imports.list(principalOf(req).businessId, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  router.get('/imports/:id', requirePermission('customers:import'), async (req, res) => {
    const { id } = parseInput(importIdParams, req.params, 'params');
    res.json({ success: true, data: await imports.get(principalOf(req).businessId, id) });
  });

  router.get('/imports/:id/rejections', requirePermission('customers:import'), async (req, res) => {
    const { id } = parseInput(importIdParams, req.params, 'params');
    const page = await imports.rejections(principalOf(req).businessId, id, req.query);
    res.json({ success: true, data: page.items, meta: { nextCursor: page.nextCursor, limit: page.limit } });
  });

  return router;
}
