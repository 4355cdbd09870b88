// bench:privacy: how long a GDPR export of a customer with many transactions takes, and what an
// erasure costs per request, on a throwaway PostgreSQL database with the in-process Firestore
// emulator and the PostgreSQL warehouse (the embedded defaults), the service running its work
// queues and projector in process as the one instance.
//
//   npm run bench:privacy -- [--transactions 10000] [--erase 1000] [--background 20000]
//                            [--exports 3] [--concurrency 8] [--keep]
//
// Data: --background + --erase customers from the customers bench's generator (addresses, sources,
// metrics, engagement), plus for the exported customer --transactions completed transactions in
// PostgreSQL and as many rows in each of the warehouse's square_payments and purchases tables.
// Measures:
//   export   POST /customers/{id}/export (GDPR_FULL) until GET /exports/{id} says COMPLETED, then
//            the download; --exports times, one after the other (the figure is the median)
//   erasure  --erase DELETE /customers/{id}?erase=true requests from --concurrency clients (the
//            request latency: PostgreSQL erased, the rest queued), then the time until every
//            erasure record is COMPLETED (Firestore purged, warehouse rows deleted or de-identified)
// Any non-2xx answer or an export/erasure that does not complete is an error: the run says so and
// exits 1. The last line printed is one JSON object.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { TokenService } from '../../src/auth/tokens.js';
import { parseConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/db.client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { startEmbeddedEmulator, type EmbeddedEmulator } from '../../src/firestore/embedded-emulator.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres-warehouse.js';
import { at, LoopbackClient, percentile, positiveInt, round, throwawayDatabase } from './bench-kit.js';
import { generateCustomers } from './customers-dataset.js';

const { values: args } = parseArgs({
  options: {
    transactions: { type: 'string', default: '10000' },
    erase: { type: 'string', default: '1000' },
    background: { type: 'string', default: '20000' },
    exports: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    keep: { type: 'boolean', default: false },
  },
});
const TRANSACTIONS = positiveInt(args.transactions, '--transactions');
const ERASE = positiveInt(args.erase, '--erase');
const BACKGROUND = positiveInt(args.background, '--background');
const EXPORTS = positiveInt(args.exports, '--exports');
const CONCURRENCY = positiveInt(args.concurrency, '--concurrency');
const RUN = randomBytes(4).toString('hex');
const WAIT_LIMIT_MS = 30 * 60_000;
const STORAGE_DIR = path.join(tmpdir(), `bench-privacy-${RUN}`);

process.env.METADATA_SERVER_DETECTION ??= 'none';
const started = performance.now();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
sampler.unref();

const database = throwawayDatabase('bench_privacy', RUN);
const loopback = new LoopbackClient(CONCURRENCY);
const errorSamples: string[] = [];
let errors = 0;
const fail = (what: string) => {
  errors += 1;
  if (errorSamples.length < 10) errorSamples.push(what);
};

let service: RunningService | undefined;
let emulator: EmbeddedEmulator | undefined;
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    clearInterval(sampler);
    await service?.close().catch(() => undefined);
    emulator?.stop();
    loopback.close();
    await rm(STORAGE_DIR, { recursive: true, force: true });
    if (!args.keep) await database.drop();
  })());
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

/** Polls until `done` says the status is final; returns it, or 'TIMEOUT'. */
async function waitFor(path: string, statusPath: string, final: string[]): Promise<string> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  while (performance.now() < deadline) {
    const reply = await loopback.request('GET', path);
    if (reply.status !== 200) return `HTTP ${reply.status}`;
    const status = String(at(JSON.parse(reply.text), statusPath));
    if (final.includes(status)) return status;
    await new Promise((r) => setTimeout(r, 20));
  }
  return 'TIMEOUT';
}

let exitCode = 1;
try {
  await database.create();
  console.log(
    `bench privacy: ${TRANSACTIONS} transactions for the exported customer, ${ERASE} erasures (${CONCURRENCY} clients), ` +
      `${BACKGROUND} other customers, cpus=${availableParallelism()}, throwaway database ${database.name}`,
  );

  const setup = createDatabase({ kind: 'postgres', url: database.url, poolMax: 2 });
  if (setup.kind !== 'postgres') throw new Error('expected a PostgreSQL handle');
  let businessId: string;
  let exportedId: string;
  let eraseIds: string[];
  try {
    await migrateDatabase(setup);
    const client = await setup.pool.connect();
    try {
      businessId = (await client.query<{ id: string }>(`INSERT INTO businesses (name) VALUES ($1) RETURNING id::text`, [`bench-privacy ${RUN}`])).rows[0]!.id;
      await generateCustomers({
        client,
        businessId,
        n: BACKGROUND + ERASE + 1,
        rebuildIndexes: true,
        connect: async () => {
          const c = new pg.Client({ connectionString: database.url });
          await c.connect();
          return c;
        },
        now: new Date(),
        salt: RUN,
      });
    } finally {
      client.release(true); // its session holds the generator's pg_temp functions
    }
    // The exported customer has an email and a POS link; the erased ones are any others.
    const picked = await setup.pool.query<{ id: string }>(
      `SELECT bc.customer_id::text AS id FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = $1 ORDER BY (c.email IS NULL), md5(bc.customer_id::text || $2) LIMIT $3`,
      [businessId, RUN, ERASE + 1],
    );
    [exportedId, ...eraseIds] = picked.rows.map((r) => r.id) as [string, ...string[]];

    // The exported customer's transactions, in PostgreSQL and in the warehouse.
    await setup.pool.query(
      `INSERT INTO customer_transactions (business_id, source, transaction_id, customer_id, source_customer_id, occurred_at, status,
         amount, refunded_amount, currency, item_count, categories, source_updated_at)
       SELECT $1, 'square', 'bench-' || $3 || '-' || g, $2, 'SQ-' || $3, now() - g * interval '37 minutes', 'completed',
         round((10 + (g % 90) + (g % 7) * 0.13)::numeric, 2), 0, 'USD', 1 + g % 4, ARRAY['Coffee'], now()
       FROM generate_series(1, $4) g`,
      [businessId, exportedId, RUN, TRANSACTIONS],
    );
    const warehouse = new PostgresWarehouse(setup.db, 'warehouse');
    await warehouse.ensureSchema();
    const now = new Date();
    for (let from = 1; from <= TRANSACTIONS; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, TRANSACTIONS - from + 1) }, (_, i) => from + i);
      const at = (g: number) => new Date(now.getTime() - g * 37 * 60_000);
      await warehouse.upsert(
        'square_payments',
        batch.map((g) => ({
          business_id: businessId,
          id: `bench-${RUN}-${g}`,
          created_at: at(g),
          updated_at: at(g),
          status: 'COMPLETED',
          amount: 1000 + (g % 90) * 100,
          currency: 'USD',
          location_id: 'L1',
          customer_id: `SQ-${RUN}`,
          profile_id: exportedId,
          raw: { id: `bench-${RUN}-${g}`, buyer_email_address: 'bench@example.com' },
          ingested_at: now,
        })),
      );
      await warehouse.upsert(
        'purchases',
        batch.map((g) => ({
          business_id: businessId,
          source: 'square',
          transaction_id: `bench-${RUN}-${g}`,
          customer_id: exportedId,
          purchased_at: at(g),
          status: 'completed',
          amount: 10 + (g % 90),
          refunded_amount: 0,
          currency: 'USD',
          item_count: 1 + (g % 4),
          updated_at: at(g),
          ingested_at: now,
        })),
      );
    }
    await setup.pool.query(`VACUUM ANALYZE`);
  } finally {
    await setup.close();
  }

  // The service as one instance: API, projector and work queues in process.
  emulator = await startEmbeddedEmulator(0);
  const config = parseConfig({
    ...process.env,
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: '0',
    DEMO_MODE: 'false',
    SYNC_IN_PROCESS: 'true',
    JOBS_IN_PROCESS: 'true',
    JOBS_POLL_INTERVAL_MS: '100',
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'silent',
    FIRESTORE_EMULATOR_HOST: emulator.host,
    EXPORT_STORAGE_DIR: STORAGE_DIR,
  });
  service = await startService(config, createLogger('silent'));
  loopback.baseUrl = service.url;
  loopback.authorization = `Bearer ${new TokenService(config.jwt).sign({ subject: 'bench-admin', role: 'admin', businessId })}`;

  // Exports, one after the other.
  const exportRuns: { seconds: number; downloadMs: number; bytes: number }[] = [];
  for (let i = 0; i < EXPORTS; i++) {
    const t0 = performance.now();
    const requested = await loopback.request('POST', `/api/v1/customers/${exportedId}/export`, { type: 'GDPR_FULL', reason: 'bench' });
    const id = requested.status === 202 ? at(JSON.parse(requested.text), 'data.id') : undefined;
    if (typeof id !== 'string') {
      fail(`POST export: HTTP ${requested.status} ${requested.text.slice(0, 200)}`);
      break;
    }
    const status = await waitFor(`/api/v1/exports/${id}`, 'data.status', ['COMPLETED', 'FAILED', 'EXPIRED']);
    const seconds = (performance.now() - t0) / 1000;
    if (status !== 'COMPLETED') {
      fail(`export ${id} ended ${status}`);
      break;
    }
    const download = await loopback.request('GET', `/api/v1/exports/${id}/download`, undefined, WAIT_LIMIT_MS);
    if (download.status !== 200) fail(`download: HTTP ${download.status}`);
    exportRuns.push({ seconds, downloadMs: download.ms, bytes: download.bytes });
    console.log(`export ${i + 1}: completed in ${seconds.toFixed(2)} s, download ${download.ms.toFixed(0)} ms, ${(download.bytes / 1048576).toFixed(2)} MiB`);
  }

  // Erasures from CONCURRENCY clients.
  const latencies: number[] = [];
  const erasureIds: string[] = [];
  let next = 0;
  const eraseStart = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < eraseIds.length) {
        const id = eraseIds[next++]!;
        const reply = await loopback.request('DELETE', `/api/v1/customers/${id}?erase=true`, { reason: 'bench: data subject request' });
        if (reply.status < 200 || reply.status > 299) {
          fail(`DELETE erase: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
          continue;
        }
        latencies.push(reply.ms);
        const erasureId = at(JSON.parse(reply.text), 'data.id');
        if (typeof erasureId === 'string') erasureIds.push(erasureId);
      }
    }),
  );
  const requestsSeconds = (performance.now() - eraseStart) / 1000;
  // Until every erasure record is COMPLETED (read from PostgreSQL: 1,000 GETs would be the bench).
  const check = new pg.Client({ connectionString: database.url });
  await check.connect();
  let completed = 0;
  let pendingLeft = erasureIds.length;
  try {
    const deadline = performance.now() + WAIT_LIMIT_MS;
    while (performance.now() < deadline) {
      const { rows } = await check.query<{ done: number; failed: number }>(
        `SELECT count(*) FILTER (WHERE status = 'COMPLETED')::int AS done, count(*) FILTER (WHERE status = 'FAILED')::int AS failed
           FROM customer_erasures WHERE id = ANY($1::uuid[])`,
        [erasureIds],
      );
      completed = rows[0]!.done;
      pendingLeft = erasureIds.length - completed - rows[0]!.failed;
      if (pendingLeft === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await check.end();
  }
  const allSeconds = (performance.now() - eraseStart) / 1000;
  if (completed !== eraseIds.length) fail(`${eraseIds.length - completed} erasures did not complete (${pendingLeft} still pending)`);
  latencies.sort((a, b) => a - b);

  const exportSeconds = exportRuns.map((r) => r.seconds).sort((a, b) => a - b);
  const medianExport = percentile(exportSeconds, 50);
  console.log('');
  console.log(`${'measure'.padEnd(46)}${'value'.padStart(12)}`);
  console.log('-'.repeat(58));
  const row = (name: string, v: number | null, unit: string) => console.log(`${name.padEnd(46)}${(v === null ? '–' : `${v} ${unit}`).padStart(12)}`);
  row(`export, ${TRANSACTIONS} transactions (median of ${exportRuns.length})`, round(medianExport, 2), 's');
  row('export download', round(percentile(exportRuns.map((r) => r.downloadMs).sort((a, b) => a - b), 50), 0), 'ms');
  row('export archive size', round((exportRuns[0]?.bytes ?? NaN) / 1048576, 2), 'MiB');
  row(`erasure request p50 (${latencies.length} requests)`, round(percentile(latencies, 50), 1), 'ms');
  row('erasure request p95', round(percentile(latencies, 95), 1), 'ms');
  row('erasure request p99', round(percentile(latencies, 99), 1), 'ms');
  row('erasure requests, all', round(requestsSeconds, 2), 's');
  row('erasures, all COMPLETED', round(allSeconds, 2), 's');
  row('erasure, time per customer (all COMPLETED / n)', completed > 0 ? round((allSeconds * 1000) / completed, 1) : null, 'ms');
  const elapsed = (performance.now() - started) / 1000;
  console.log(`\npeak RSS ${Math.round(peakRss / 1048576)} MB (service and load generator, one process); total ${elapsed.toFixed(1)} s`);
  if (errors > 0) {
    console.error(`\n!!! ${errors} errors; the figures above are not valid. First ones:`);
    for (const s of errorSamples) console.error(`  ${s}`);
  }
  console.log(
    JSON.stringify({
      bench: 'privacy',
      transactions: TRANSACTIONS,
      export_runs: exportRuns.length,
      export_s: round(medianExport, 2),
      export_download_ms: round(percentile(exportRuns.map((r) => r.downloadMs).sort((a, b) => a - b), 50), 0),
      export_bytes: exportRuns[0]?.bytes ?? null,
      erase_requests: latencies.length,
      erase_concurrency: CONCURRENCY,
      erase_p50_ms: round(percentile(latencies, 50), 1),
      erase_p95_ms: round(percentile(latencies, 95), 1),
      erase_p99_ms: round(percentile(latencies, 99), 1),
      erase_requests_s: round(requestsSeconds, 2),
      erase_completed: completed,
      erase_all_completed_s: round(allSeconds, 2),
      erase_ms_per_customer: completed > 0 ? round((allSeconds * 1000) / completed, 1) : null,
      background_customers: BACKGROUND,
      peak_rss_mb: Math.round(peakRss / 1048576),
      cpus: availableParallelism(),
      elapsed_s: round(elapsed, 1),
      errors,
    }),
  );
  exitCode = errors > 0 ? 1 : 0;
} catch (err) {
  console.error('bench:privacy failed:', err instanceof Error ? (err.stack ?? err.message) : err);
} finally {
  await cleanUp().catch((err: unknown) => console.error('could not drop the bench database:', err));
}
process.exit(exitCode);
