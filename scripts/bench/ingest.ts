// npm run bench:ingest [-- --payments 100000] [--sales 50000] [--customers N]
//
// Backfill of Square payments and Lightspeed sales from the POS simulator (in a child process,
// rate limits off: this measures our pipeline, not Lightspeed's 1 request/s drip) into the
// PostgreSQL warehouse, with identity linking and metrics through DatabaseSyncService, as a
// scheduled run does it: customers, catalog/items, then transactions, stream by stream.
// Reports rows/s per stage, transactions/s end to end, linked %, and the process RSS sampled
// every 100 ms (peak, and at each quarter of the transaction streams, to show it stays flat).
//
// PostgreSQL: DATABASE_URL if set (migrated, left in place), otherwise a throwaway database on
// postgres://postgres@127.0.0.1:5432 (BENCH_PG_ADMIN_URL overrides), dropped at the end.
// The last line printed is one JSON object with every figure.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BusinessesService } from '../../src/businesses/businesses.service.js';
import { parseConfig } from '../../src/config.js';
import { sql } from 'drizzle-orm';
import { createDatabase, queryRows, type DatabaseHandle } from '../../src/db/db.client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import type { ProgressEvent } from '../../src/ingest/ingest-run.js';
import { IngestService } from '../../src/ingest/ingest.service.js';
import { createLogger } from '../../src/logger.js';
import { DatabaseSyncService } from '../../src/sync/database-sync.service.js';
import { PostgresWarehouse } from '../../src/warehouse/postgres-warehouse.js';
import { positiveInt, throwawayDatabase } from './bench-kit.js';

const { values: args } = parseArgs({
  options: { payments: { type: 'string', default: '100000' }, sales: { type: 'string', default: '50000' }, customers: { type: 'string' } },
});
const PAYMENTS = positiveInt(args.payments, '--payments');
const SALES = positiveInt(args.sales, '--sales');
// The simulator generates at most 2,000 people; 150,000 transactions over them is ~75 each in two years.
const PEOPLE = args.customers ? positiveInt(args.customers, '--customers') : Math.min(2000, Math.max(200, Math.round((PAYMENTS + SALES) / 30)));
const DAYS = 730;
// A backfill, as `npm run ingest -- square --since …` runs it: everything the simulator holds.
const BACKFILL_FROM = new Date('2000-01-01T00:00:00Z');
// The simulator spreads `transactionsPerDay` over each Square location and each Lightspeed shop.
const SQUARE_LOCATIONS = 2;
const perDay = PAYMENTS / DAYS / SQUARE_LOCATIONS;
const LIGHTSPEED_SHOPS = Math.max(1, Math.min(20, Math.round(SALES / DAYS / perDay)));

const ownDatabase = !process.env.DATABASE_URL;
const throwaway = throwawayDatabase('c360_bench_ingest', randomBytes(4).toString('hex'));
const databaseUrl = process.env.DATABASE_URL ?? throwaway.url;

// ---- memory sampling ----
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
const rssMb = () => Math.round(process.memoryUsage().rss / 1048576);

const simulator = await startSimulatorChild({
  seed: 'bench-ingest',
  customers: PEOPLE,
  days: DAYS,
  endAt: '2026-11-01T00:00:00Z',
  transactionsPerDay: perDay,
  squareLocations: SQUARE_LOCATIONS,
  lightspeedShops: LIGHTSPEED_SHOPS,
  lightspeed: { rateLimit: { bucketSize: 1_000_000_000, dripRatePerSecond: 1_000_000, burst: null } },
});

if (ownDatabase) await throwaway.create();
const database: DatabaseHandle = createDatabase({ kind: 'postgres', url: databaseUrl, poolMax: 10 });
const stages: { stage: string; rows: number; seconds: number; rowsPerS: number }[] = [];
const quarterRss: number[] = [];
let result: Record<string, unknown> = {};
try {
  await migrateDatabase(database);
  const config = parseConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' });
  const warehouse = new PostgresWarehouse(database.db);
  await warehouse.ensureSchema();
  const ingest = new IngestService({ database, warehouse, sync: new DatabaseSyncService(database.db), config: config.ingest, logger: createLogger('silent') });
  const business = await new BusinessesService(database.db).create('Bench shop');
  const square = await ingest.createConnection({
    businessId: business.id,
    provider: 'square',
    accountId: 'BENCH',
    apiUrl: simulator.square.url,
    credentials: { accessToken: simulator.square.token },
  });
  const lightspeed = await ingest.createConnection({
    businessId: business.id,
    provider: 'lightspeed',
    accountId: simulator.lightspeed.accountId,
    apiUrl: simulator.lightspeed.apiUrl,
    tokenUrl: simulator.lightspeed.tokenUrl,
    credentials: { clientId: simulator.lightspeed.clientId, clientSecret: simulator.lightspeed.clientSecret, refreshToken: simulator.lightspeed.refreshToken },
  });

  const transactionsExpected = simulator.counts.payments + simulator.counts.sales;
  let transactionsDone = 0;
  const onProgress = (stream: string) => (e: ProgressEvent) => {
    if (stream !== 'payments' && stream !== 'sales') return;
    const done = transactionsDone + e.rows;
    while (quarterRss.length < 4 && done >= ((quarterRss.length + 1) / 4) * transactionsExpected * 0.999) quarterRss.push(rssMb());
  };

  const started = performance.now();
  for (const [connectionId, stage, stream] of [
    [square.id, 'square customers', 'customers'],
    [square.id, 'square catalog', 'catalog'],
    [lightspeed.id, 'lightspeed customers', 'customers'],
    [lightspeed.id, 'lightspeed items', 'items'],
    [square.id, 'square payments', 'payments'],
    [square.id, 'square refunds', 'refunds'],
    [lightspeed.id, 'lightspeed sales', 'sales'],
  ] as const) {
    const t0 = performance.now();
    const outcome = await ingest.runConnection(connectionId, { trigger: 'cli', streams: [stream], since: BACKFILL_FROM, onProgress: onProgress(stream) });
    if (outcome.skipped || outcome.run.status !== 'succeeded') throw new Error(`${stage} failed: ${outcome.skipped ? 'skipped' : outcome.run.error}`);
    const seconds = (performance.now() - t0) / 1000;
    stages.push({ stage, rows: outcome.run.rows, seconds: round(seconds, 2), rowsPerS: Math.round(outcome.run.rows / seconds) });
    if (stream === 'payments' || stream === 'sales') transactionsDone += outcome.run.rows;
  }
  // Progress is reported as pages are handed over; the last quarter is read once all are stored.
  while (quarterRss.length < 4) quarterRss.push(rssMb());
  const totalSeconds = (performance.now() - started) / 1000;

  const [links] = await queryRows<{ named: number; linked: number; profiles: number; outbox: number }>(
    database.db,
    sql`SELECT count(source_customer_id)::int named, count(customer_id)::int linked,
            (SELECT count(*)::int FROM customers) profiles, (SELECT count(*)::int FROM sync_logs) outbox FROM customer_transactions`,
  );
  if (!links) throw new Error('no link counts');
  result = {
    bench: 'ingest',
    payments: simulator.counts.payments,
    sales: simulator.counts.sales,
    transactions: transactionsDone,
    people: simulator.counts.people,
    profiles: links.profiles,
    seconds: round(totalSeconds, 2),
    transactions_per_s: Math.round(transactionsDone / totalSeconds),
    linked_pct: links.named > 0 ? round((links.linked / links.named) * 100, 2) : null,
    outbox_rows: links.outbox,
    peak_rss_mb: Math.round(peakRss / 1048576),
    rss_mb_at_quarters: quarterRss,
    stages,
  };
} finally {
  clearInterval(sampler);
  await database.close();
  simulator.stop();
  if (ownDatabase) await throwaway.drop();
}

console.log('stage                   rows  seconds    rows/s');
for (const s of stages) console.log(`${s.stage.padEnd(20)} ${String(s.rows).padStart(8)} ${s.seconds.toFixed(2).padStart(8)} ${String(s.rowsPerS).padStart(9)}`);
console.log(
  `end to end: ${String(result.transactions)} transactions in ${String(result.seconds)} s = ${String(result.transactions_per_s)}/s; linked ${String(result.linked_pct)}%; ` +
    `peak RSS ${String(result.peak_rss_mb)} MB (at 25/50/75/100%: ${quarterRss.join(' / ')} MB)`,
);
console.log(JSON.stringify(result));

// ---------------------------------------------------------------------------------------------

interface SimulatorInfo {
  square: { url: string; token: string };
  lightspeed: { apiUrl: string; tokenUrl: string; accountId: string; clientId: string; clientSecret: string; refreshToken: string };
  counts: { people: number; payments: number; squareNamed: number; sales: number; lightspeedNamed: number };
  stop(): void;
}

async function startSimulatorChild(options: object): Promise<SimulatorInfo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/pos-simulator-child.ts', JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`POS simulator exited with ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { ...(JSON.parse(line) as Omit<SimulatorInfo, 'stop'>), stop: () => child.kill('SIGTERM') };
}


function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
