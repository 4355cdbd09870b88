// POS ingestion for backfills and operations. Runs outside the service: the outbox rows it
// writes are projected to Firestore by the running API or worker.
//   npm run ingest -- square|lightspeed [--since ISO] [--stream NAME]... [--business ID] [--connection ID]
//   npm run ingest -- connect square --business ID --account MERCHANT_ID --access-token T [--api-url URL] [--locations L1,L2] [--schedule CRON]
//   npm run ingest -- connect lightspeed --business ID --account ACCOUNT_ID (--client-id X --client-secret Y --refresh-token Z | --api-key K) [--api-url URL] [--token-url URL]
//   npm run ingest -- connections
// Progress (pages, rows, rate, ETA when the stream knows how far it has come) goes to stderr
// every two seconds; the last line on stdout is one JSON object per run. Exit code 1 when a run failed.
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/db.client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import type { ProgressEvent } from '../src/ingest/ingest-run.js';
import { IngestService, type NewConnection } from '../src/ingest/ingest.service.js';
import { createLogger } from '../src/logger.js';
import { DatabaseSyncService } from '../src/sync/database-sync.service.js';
import { createWarehouse } from '../src/warehouse/warehouse.factory.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    since: { type: 'string' },
    stream: { type: 'string', multiple: true },
    business: { type: 'string' },
    connection: { type: 'string' },
    account: { type: 'string' },
    'access-token': { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'refresh-token': { type: 'string' },
    'api-key': { type: 'string' },
    'api-url': { type: 'string' },
    'token-url': { type: 'string' },
    locations: { type: 'string' },
    schedule: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});

const usage = 'usage: npm run ingest -- square|lightspeed [--since ISO] [--stream NAME]... | connect square|lightspeed ... | connections';
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};

const config = loadConfig();
// The CLI's own lines are the progress and the summary; the service's logs are kept for problems.
const logger = createLogger(values.quiet ? 'silent' : 'warn');
const database = createDatabase(config.database);
let exitCode = 0;
try {
  await migrateDatabase(database);
  const warehouse = createWarehouse(config.warehouse, database);
  await warehouse.ensureSchema();
  const ingest = new IngestService({ database, warehouse, sync: new DatabaseSyncService(database.db), config: config.ingest, logger });
  const [command, provider] = positionals;
  if (command === 'connections') {
    for (const c of await ingest.connections()) {
      process.stdout.write(`${JSON.stringify({ id: c.id, businessId: c.businessId, provider: c.provider, accountId: c.accountId, apiUrl: c.apiUrl, schedule: c.schedule, enabled: c.enabled })}\n`);
    }
  } else if (command === 'connect') {
    const created = await ingest.createConnection(connectionFromFlags(provider));
    process.stdout.write(`${JSON.stringify({ id: created.id, provider: created.provider, accountId: created.accountId })}\n`);
  } else if (command === 'square' || command === 'lightspeed') {
    const since = values.since ? new Date(values.since) : undefined;
    if (since && Number.isNaN(since.getTime())) fail(`--since must be an ISO-8601 time, e.g. 2025-01-01T00:00:00Z`);
    const progress = throttledProgress();
    const options = { trigger: 'cli' as const, ...(values.stream ? { streams: values.stream } : {}), ...(since ? { since } : {}), onProgress: progress };
    const outcomes = values.connection
      ? [await ingest.runConnection(values.connection, options)]
      : await ingest.runProvider(command, { ...options, ...(values.business ? { businessId: values.business } : {}) });
    if (outcomes.length === 0) fail(`no enabled ${command} connection${values.business ? ` for business ${values.business}` : ''}; add one with: npm run ingest -- connect ${command} ...`);
    for (const outcome of outcomes) {
      if (outcome.skipped) {
        process.stdout.write(`${JSON.stringify({ connectionId: outcome.connectionId, skipped: 'another run of this connection is in progress' })}\n`);
        continue;
      }
      const { run } = outcome;
      if (run.status !== 'succeeded') exitCode = 1;
      process.stdout.write(
        `${JSON.stringify({ runId: run.id, connectionId: run.connectionId, status: run.status, pages: run.pages, rows: run.rows, quarantined: run.quarantined, linked: run.linked, unlinked: run.unlinked, profilesCreated: run.profilesCreated, error: run.error })}\n`,
      );
    }
  } else {
    fail(usage);
  }
} catch (err) {
  console.error('ingest failed:', err instanceof Error ? err.message : err);
  exitCode = 1;
} finally {
  await database.close();
}
process.exit(exitCode);

function connectionFromFlags(provider: string | undefined): NewConnection {
  if (provider !== 'square' && provider !== 'lightspeed') return fail(usage);
  const business = values.business ?? fail('--business is required');
  const account = values.account ?? fail('--account is required (Square merchant id or Lightspeed account id)');
  const common = {
    businessId: business,
    accountId: account,
    ...(values['api-url'] ? { apiUrl: values['api-url'] } : {}),
    ...(values.schedule ? { schedule: values.schedule } : {}),
  };
  if (provider === 'square') {
    return {
      ...common,
      provider,
      credentials: { accessToken: values['access-token'] ?? fail('--access-token is required') },
      ...(values.locations ? { locationIds: values.locations.split(',').map((l) => l.trim()) } : {}),
    };
  }
  const credentials = values['api-key']
    ? { apiKey: values['api-key'] }
    : {
        clientId: values['client-id'] ?? fail('--client-id is required (or --api-key)'),
        clientSecret: values['client-secret'] ?? fail('--client-secret is required'),
        refreshToken: values['refresh-token'] ?? fail('--refresh-token is required'),
      };
  return { ...common, provider, credentials, ...(values['token-url'] ? { tokenUrl: values['token-url'] } : {}) };
}

function throttledProgress(): (event: ProgressEvent) => void {
  let last = 0;
  return (event) => {
    const now = Date.now();
    if (now - last < 2000) return;
    last = now;
    const rate = event.elapsedMs > 0 ? (event.rows / event.elapsedMs) * 1000 : 0;
    const eta =
      event.fraction !== undefined && event.fraction > 0 && event.fraction < 1
        ? ` ETA ${formatDuration((event.elapsedMs * (1 - event.fraction)) / event.fraction)}`
        : '';
    const done = event.fraction !== undefined ? ` ${(event.fraction * 100).toFixed(0)}%` : '';
    process.stderr.write(`${event.provider} ${event.stream}: ${event.pages} pages, ${event.rows} rows, ${rate.toFixed(0)} rows/s${done}${eta}\n`);
  };
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

