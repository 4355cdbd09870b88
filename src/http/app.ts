// The Express application: request ids and logging, health, OpenAPI, then the authenticated
// /api/v1 routes and the memory API under /api/memory (the same guard chain), and the one
// error middleware last.
import express, { type RequestHandler } from 'express';
import type { TokenService } from '../auth/tokens.js';
import { customersRouter } from '../customers/customers.routes.js';
import { identityRouter } from '../identity/merge.routes.js';
import type { DuplicatesService } from '../identity/duplicates.service.js';
import type { MergeService } from '../identity/merge.service.js';
import type { CustomersService } from '../customers/customers.service.js';
import { AppError } from '../errors.js';
import { analyticsRouter } from '../analytics/analytics.routes.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import { timelineRouter } from '../customers/timeline.routes.js';
import type { Db } from '../db/db.client.js';
import { eventsRouter } from '../events/events.routes.js';
import { ingestRouter } from '../ingest/ingest.routes.js';
import type { IngestService } from '../ingest/ingest.service.js';
import type { SyncAdminService } from '../sync/sync-admin.service.js';
import { syncRouter } from '../sync/sync.routes.js';
import type { Logger } from '../logger.js';
import { memoryRouter } from '../memory/memory.routes.js';
import type { MemoryService } from '../memory/memory.service.js';
import type { Metrics } from '../metrics/metrics.js';
import { preferencesRouter } from '../preferences/preferences.routes.js';
import { bulkRouter } from '../bulk/bulk.routes.js';
import type { BulkService } from '../bulk/bulk.service.js';
import { importsRouter, importUploadHandlers } from '../imports/imports.routes.js';
import type { ImportsService } from '../imports/imports.service.js';
import { eraseCustomerHandler, erasuresRouter } from '../privacy/erasure/erasure.routes.js';
import type { ErasureService } from '../privacy/erasure/erasure.service.js';
import { exportsRouter } from '../privacy/exports/exports.routes.js';
import type { ExportsService } from '../privacy/exports/exports.service.js';
import type { PreferencesService } from '../preferences/preferences.service.js';
import { recalculationsRouter } from '../standing/recalculations.routes.js';
import { segmentsRouter } from '../segments/segments.routes.js';
import type { SegmentsService } from '../segments/segments.service.js';
import { tiersRouter } from '../tiers/tiers.routes.js';
import type { TiersService } from '../tiers/tiers.service.js';
import { authenticate } from './auth.middleware.js';
import { errorHandler, notFoundHandler } from './error.middleware.js';
import { healthRouter, type ReadinessCheck } from './health.routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { requestLogging } from './request-log.js';
import './request-context.js';

export interface AppDeps {
  logger: Logger;
  tokens: TokenService;
  customers: CustomersService;
  tiers: TiersService;
  segments: SegmentsService;
  /** The system of record, for the read-only routers that query it directly (timeline, events). */
  db: Db;
  analytics: AnalyticsService;
  syncAdmin: SyncAdminService;
  ingest: IngestService;
  memory: MemoryService;
  preferences: PreferencesService;
  /** Duplicate detection, merge and undo of a merge. */
  identity: { duplicates: DuplicatesService; merges: MergeService };
  /** GDPR/CCPA data exports. */
  exports: ExportsService;
  /** GDPR/CCPA erasure: DELETE /customers/{id}?erase=true and the erasure records. */
  erasures: ErasureService;
  /** CSV/Excel customer imports (the upload streams a raw body). */
  imports: ImportsService;
  /** Audited bulk operations on customers. */
  bulk: BulkService;
  /** The prediction job's run records, mounted beside the memory API. */
  predictionRuns: express.Router;
  readiness: ReadinessCheck[];
  metrics: Metrics;
  rateLimiter: RequestHandler;
  bodyLimit: string;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use(requestLogging(deps.logger.child({ module: 'http' })));
  app.use(deps.metrics.httpMiddleware());
  app.use(healthRouter(deps.readiness));
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  const openApi = buildOpenApiDocument();
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  // Every authenticated API passes the same chain: who you are, how fast, and a JSON body.
  const guard: RequestHandler[] = [
    authenticate(deps.tokens),
    deps.rateLimiter,
    requireJsonBody,
    express.json({ limit: deps.bodyLimit, strict: true }),
  ];
  // The import upload is the one body that is not JSON (a CSV or .xlsx file, streamed to
  // storage): authenticated and rate limited like the rest, but without the JSON guard.
  app.post('/api/v1/customers/import', authenticate(deps.tokens), deps.rateLimiter, ...importUploadHandlers(deps.imports));
  const api = express.Router();
  api.use(guard);
  // Before the customers router: /customers/duplicates is not a customer id.
  api.use(identityRouter(deps.identity));
  api.use(customersRouter(deps.customers, eraseCustomerHandler(deps.erasures)));
  api.use(erasuresRouter(deps.erasures));
  api.use(tiersRouter(deps.tiers));
  api.use(segmentsRouter(deps.segments));
  api.use(recalculationsRouter(deps.db));
  api.use(timelineRouter({ db: deps.db }));
  api.use(analyticsRouter(deps.analytics));
  api.use(eventsRouter(deps.db));
  api.use(syncRouter(deps.syncAdmin));
  api.use(ingestRouter(deps.ingest));
  api.use(preferencesRouter(deps.preferences));
  api.use(importsRouter(deps.imports));
  api.use(bulkRouter(deps.bulk));
  api.use(exportsRouter(deps.exports));
  app.use('/api/v1', api);
  app.use('/api/memory', guard, memoryRouter(deps.memory), deps.predictionRuns);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/** A request that carries a body must say it is JSON. */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json');
  }
  next();
};
