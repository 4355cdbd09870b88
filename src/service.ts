// Composition: config → clients → services → HTTP. The only place that wires real clients
// together; main.ts runs it, tests boot it the same way.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import cron from 'node-cron';
import { TokenService } from './auth/tokens.js';
import { BusinessesService } from './businesses/businesses.service.js';
import type { Config } from './config.js';
import { CustomersService } from './customers/customers.service.js';
import { BusinessSizes } from './customers/business-sizes.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { ADVISORY_LOCKS, withAdvisoryLock } from './db/advisory-locks.js';
import { createDatabase, type DatabaseHandle } from './db/db.client.js';
import { migrateDatabase } from './db/migrate.js';
import { Metrics } from './metrics/metrics.js';
import { FirestoreWriter } from './firestore/firestore-writer.js';
import { createFirestore, type FirestoreHandle } from './firestore/firestore.client.js';
import { createApp } from './http/app.js';
import type { ReadinessCheck } from './http/health.routes.js';
import { createRateLimiter } from './http/rate-limit.js';
import type { Logger } from './logger.js';
import { createRedis } from './redis/redis.client.js';
import { DatabaseSyncService } from './sync/database-sync.service.js';
import { Reconciler } from './sync/reconcile.js';
import { SyncAdminService } from './sync/sync-admin.service.js';
import { listenForSyncLogs } from './sync/sync-notifications.js';
import { SyncProjector } from './sync/sync-projector.js';
import { SyncWaiter } from './sync/sync-waiter.js';
import { startDemoPos } from './ingest/demo-connections.js';
import { InteractionsLoader } from './memory/interactions-loader.js';
import { MemoryService } from './memory/memory.service.js';
import { PredictionJob } from './memory/predictions/prediction-job.js';
import { predictionRunsRouter } from './memory/predictions/prediction.routes.js';
import { PredictionService } from './memory/predictions/prediction.service.js';
import { InProcessProfileCache, RedisProfileCache } from './memory/profile-cache.js';
import { PreferencesService } from './preferences/preferences.service.js';
import { IngestScheduler } from './ingest/ingest-scheduler.js';
import { SegmentsService } from './segments/segments.service.js';
import { StandingJob } from './standing/standing-job.js';
import { QueueWorker, type QueueHandler, type Sweeper } from './jobs/queue-worker.js';
import { LocalDirectoryStorage } from './privacy/file-storage.js';
import { BulkService } from './bulk/bulk.service.js';
import { ImportJob } from './imports/import-job.js';
import { ImportsService } from './imports/imports.service.js';
import { erasureQueueHandler } from './privacy/erasure/erasure-job.js';
import { ErasureService } from './privacy/erasure/erasure.service.js';
import { exportQueueHandler } from './privacy/exports/export-job.js';
import { ExportsService } from './privacy/exports/exports.service.js';
import { TiersService } from './tiers/tiers.service.js';
import { DuplicatesService } from './identity/duplicates.service.js';
import { MergeService, mergeRetentionSweeper } from './identity/merge.service.js';
import { IngestService } from './ingest/ingest.service.js';
import { createWarehouse } from './warehouse/warehouse.factory.js';
import type { Warehouse } from './warehouse/warehouse.port.js';

export interface RunningService {
  url: string;
  demo?: { businessId: string; token: string };
  close(): Promise<void>;
}

export type ServiceMode = 'api' | 'worker';

/**
 * `api`: the HTTP API, plus the projector in-process unless SYNC_IN_PROCESS=false.
 * `worker`: the projector and the schedules, no HTTP.
 */
export async function startService(config: Config, logger: Logger, mode: ServiceMode = 'api'): Promise<RunningService> {
  const log = logger.child({ module: 'startup' });
  const database = createDatabase(config.database);
  const closers: (() => Promise<unknown>)[] = [() => database.close()];
  try {
    await migrateDatabase(database);
    log.info({ store: 'postgres', uses: database.describe }, 'system of record ready (migrations applied)');

    const firestore = await createFirestore(config.firestore);
    closers.unshift(() => firestore.close());
    log.info({ store: 'firestore', uses: firestore.describe }, 'projection store ready');

    const redis = createRedis(config.redis);
    if (redis) closers.unshift(() => redis.client.quit());
    log.info(
      { store: 'redis', uses: redis?.describe ?? 'in-process memory (REDIS_URL not set)' },
      'rate limits and caches ready',
    );

    const warehouse = createWarehouse(config.warehouse, database);
    await warehouse.ensureSchema();
    closers.unshift(() => warehouse.close());
    log.info({ store: 'warehouse', uses: warehouse.describe }, 'warehouse ready');

    const application = createApplication({ config, logger, database, firestore, redis: redis?.client, warehouse });
    const { app, tokens, businesses, projector } = application;

    if (mode === 'worker' || config.sync.inProcess) {
      closers.unshift(await listenForSyncLogs(database, () => projector.wake(), log));
      projector.start(config.sync.pollIntervalMs);
      closers.unshift(() => projector.stop());
      log.info({ pollIntervalMs: config.sync.pollIntervalMs }, 'projector running');
    }
    if (config.firestore.kind === 'embedded') {
      // The in-process emulator starts empty while PGlite kept its data: re-project everything.
      const report = await application.reconciler.run({ fix: true, trigger: 'startup' });
      log.info({ enqueued: report.fixed }, 'embedded Firestore re-projected from PostgreSQL');
    }
    // Runs ingestion on schedules (worker, or the API when JOBS_IN_PROCESS) and on demand; on
    // close it stops the runs in progress at their next page.
    const scheduler = new IngestScheduler(application.ingest, logger.child({ module: 'ingest-scheduler' }));
    closers.unshift(() => scheduler.stop());
    if (mode === 'worker' || config.jobsInProcess) await scheduler.start();
    closers.unshift(() => application.interactionsLoader.stop());
    closers.unshift(() => application.predictionJob.stop());
    closers.unshift(() => application.standingJob.stop());
    closers.unshift(() => application.queueWorker.stop());
    if (mode === 'worker' || config.jobsInProcess) {
      application.interactionsLoader.start(config.memory.loader.intervalMs);
      application.predictionJob.start(config.memory.predictions.cron);
      application.standingJob.start(config.standing.cron);
      application.queueWorker.start(config.jobs.pollIntervalMs);
      log.info({ intervalMs: config.memory.loader.intervalMs, predictionsCron: config.memory.predictions.cron }, 'memory interactions loader and nightly predictions scheduled');
    }
    if (mode === 'worker') {
      if (config.firestore.kind === 'embedded') {
        log.warn('this worker projects into its own in-memory Firestore; set FIRESTORE_EMULATOR_HOST or Google credentials to share one with the API');
      }
      const task = cron.schedule(config.sync.reconcileCron, () => {
        void withAdvisoryLock(database, ADVISORY_LOCKS.reconcile, () => application.reconciler.run({ fix: true, trigger: 'schedule' }))
          .then((r) => log.info(r.ran ? { driftCount: r.value.driftCount, fixed: r.value.fixed } : { skipped: 'another instance holds the lock' }, 'scheduled reconcile'))
          .catch((err: unknown) => log.error({ err }, 'scheduled reconcile failed'));
      });
      closers.unshift(async () => void (await task.stop()));
      log.info({ cron: config.sync.reconcileCron }, 'worker started: projector, POS ingestion schedules and daily reconcile');
      return { url: '', close: () => closeAll(closers) };
    }

    const server = await listen(app, config.http.host, config.http.port);
    closers.unshift(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.http.host}:${port}`;
    log.info({ url }, 'HTTP API listening');

    let demo: RunningService['demo'];
    if (config.demoMode) {
      const business = await businesses.ensureDemoBusiness();
      demo = { businessId: business.id, token: tokens.sign({ subject: 'demo-admin', role: 'admin', businessId: business.id }) };
      log.info({ businessId: business.id }, 'demo mode: demo business ready; its admin token is printed below');
      const pos = await startDemoPos(application.ingest, business.id);
      // Runs stop before the simulator they read from goes away.
      closers.unshift(async () => {
        await scheduler.stop();
        await pos.simulator.close();
      });
      log.warn({ square: pos.simulator.square.url, lightspeed: pos.simulator.lightspeed.url }, 'demo mode: POS simulator on loopback stands in for Square and Lightspeed');
      // The first ingestion starts now rather than at the next quarter hour.
      // Then the first predictions, so the demo shows churn risk and CLV without waiting for the night.
      const firstRuns = pos.connectionIds.map((id) => scheduler.runNow(id, 'startup'));
      void Promise.all(firstRuns)
        .then(() => application.predictionJob.runOnce('startup'))
        .catch((err: unknown) => log.error({ err }, 'demo predictions failed'));
    }

    return {
      url,
      demo,
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function closeAll(closers: (() => Promise<unknown>)[]): Promise<void> {
  for (const close of closers) await close().catch(() => undefined);
}

export interface ApplicationResources {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  firestore: FirestoreHandle;
  redis?: Redis;
  warehouse: Warehouse;
}

/** Services and the HTTP app over already-open stores (start-up and tests wire the same way). */
export function createApplication({ config, logger, database, firestore, redis, warehouse }: ApplicationResources) {
  const tokens = new TokenService(config.jwt);
  const sync = new DatabaseSyncService(database.db);
  const writer = new FirestoreWriter(firestore.db, config.sync.firestoreTimeoutMs);
  const projector = new SyncProjector(database.db, writer, config.sync, logger.child({ module: 'projector' }));
  const inProcess = config.sync.inProcess;
  // In-process projection starts right after each commit; otherwise a worker picks rows up.
  if (inProcess) sync.onCommitted(() => projector.wake());
  const waiter = new SyncWaiter(database.db, config.sync.waitTimeoutMs, inProcess ? () => projector.wake() : undefined);
  // Shared by the customer list and bulk selection, which search alike.
  const businessSizes = new BusinessSizes(config.search.smallBusinessMax);
  const customers = new CustomersService(database.db, sync, waiter, businessSizes);
  const businesses = new BusinessesService(database.db);
  const tiers = new TiersService(database, sync);
  const segments = new SegmentsService(database, sync);
  const preferences = new PreferencesService({ db: database.db, sync });
  // Retried rows wake the projector here only when it runs here; workers get a NOTIFY.
  const syncAdmin = new SyncAdminService(database.db, inProcess ? () => projector.wake() : undefined);

  const metrics = new Metrics(database.db);
  projector.onRun((result) => metrics.recordProjection(result));
  const ingest = new IngestService({
    database,
    warehouse,
    sync,
    config: config.ingest,
    logger,
    onRows: (source, stream, rows) => metrics.recordIngestRows(source, stream, rows),
    onRunFinished: (run) => metrics.recordJobRun('ingest', run.status === 'succeeded' ? 'succeeded' : 'failed'),
  });

  const profileCache = redis ? new RedisProfileCache(redis, config.memory.profileTtlSeconds) : new InProcessProfileCache(config.memory.profileTtlSeconds);
  // Merges move transactions and interactions: both customers' cached memory profiles are dropped.
  const identity = {
    duplicates: new DuplicatesService(database.db),
    merges: new MergeService({ db: database.db, sync, sourceRanking: config.identity.sourceRanking, profileCache }),
  };
  const predictions = new PredictionService({ db: database.db, warehouse, sync, config: config.memory.predictions, logger });
  const predictionJob = new PredictionJob(database, predictions, logger.child({ module: 'prediction-job' }), (status) => metrics.recordJobRun('predictions', status));
  const standingJob = new StandingJob(database, tiers, segments, logger.child({ module: 'standing-job' }), (status) => metrics.recordJobRun('standing', status));
  const memory = new MemoryService({ db: database.db, sync, warehouse, cache: profileCache, predictor: predictions, logger });
  // Exports, erasures and imports: work-queue rows processed by the worker (or here with JOBS_IN_PROCESS).
  const fileStorage = new LocalDirectoryStorage(config.jobs.storageDir);
  const queueHandlers: (QueueHandler | Sweeper)[] = [];
  const exportsService = new ExportsService({ db: database.db, storage: fileStorage, onQueued: config.jobsInProcess ? () => queueWorker.wake() : undefined });
  queueHandlers.push(exportQueueHandler({ db: database.db, firestore: firestore.db, warehouse, storage: fileStorage, logger: logger.child({ module: 'exports' }) }));
  const erasures = new ErasureService({ db: database.db, sync, warehouse, fileStorage, profileCache, firestore: firestore.db, logger });
  queueHandlers.push(erasureQueueHandler(erasures));
  queueHandlers.push(mergeRetentionSweeper(database.db));
  queueHandlers.push(new ImportJob({ db: database.db, sync, storage: fileStorage, logger: logger.child({ module: 'imports' }) }));
  const queueWorker = new QueueWorker(database.db, queueHandlers, logger.child({ module: 'queue-worker' }), undefined, (queue, outcome) =>
    metrics.recordJobRun(queue, outcome === 'failed' ? 'failed' : 'succeeded'),
  );
  // A new import starts at once where jobs run in this process; otherwise a worker polls for it.
  const imports = new ImportsService({
    db: database.db,
    storage: fileStorage,
    maxBytes: config.imports.maxBytes,
    onQueued: config.jobsInProcess ? () => queueWorker.wake() : undefined,
  });
  const bulk = new BulkService({ db: database.db, sync, maxCustomers: config.bulk.maxCustomers, sizes: businessSizes });
  const interactionsLoader = new InteractionsLoader(database, warehouse, logger.child({ module: 'memory-loader' }), config.memory.loader.batchSize);

  const readiness: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await database.db.execute(sql`select 1`)) },
    { name: 'firestore', check: async () => void (await firestore.db.collection('customers').limit(1).get()) },
    ...(redis ? [{ name: 'redis', check: async () => void (await redis.ping()) }] : []),
  ];

  const analytics = new AnalyticsService(database.db);
  const app = createApp({
    tiers,
    segments,
    logger,
    tokens,
    customers,
    db: database.db,
    analytics,
    syncAdmin,
    ingest,
    memory,
    preferences,
    identity,
    predictionRuns: predictionRunsRouter(database.db),
    imports,
    bulk,
    erasures,
    exports: exportsService,
    readiness,
    metrics,
    rateLimiter: createRateLimiter(config.rateLimit, redis),
    bodyLimit: config.http.bodyLimit,
  });
  const reconciler = new Reconciler(database.db, writer);
  return { app, tokens, sync, customers, businesses, projector, writer, reconciler, ingest, warehouse, memory, profileCache, interactionsLoader, predictions, predictionJob, tiers, segments, standingJob, queueWorker, fileStorage, erasures };
}

function listen(app: ReturnType<typeof createApp>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(server)));
  });
}
