// npm run bench:customers [-- --n 1000000] [--concurrency 32] [--requests 20000] [--search-requests 5000]
//                             [--small-n 2000] [--skip-recalc] [--keep]
//
// The customer API at scale. N customers of one business (default 1,000,000) are generated
// straight into PostgreSQL, set-based (customers-dataset.ts: names, emails, phones, metrics,
// engagement, addresses, POS links, with realistic skew), then the real service is started
// in-process (startService, API mode) on that database and driven over loopback HTTP with
// keep-alive by `concurrency` closed-loop clients in a child process (load-clients.ts), every
// request timed on its own:
//   bare Express  the lower bounds of a profile GET (bare-express.ts): Express with none of our
//                 middleware answering a constant, then one customers row read by primary key
//   floor         GET /healthz: the same stack and clients with no work, the fastest any route can be here
//   profile GET   GET /api/v1/customers/{id}, ids drawn at random from the whole business
//   search        GET /api/v1/customers?q=…&limit=20, a mix of what staff type: a last name,
//                 first + last name with one typo (letters swapped or dropped), an email prefix,
//                 the last 4 or 7 digits of a phone number; reported overall and per kind
//   typing        searches of text being typed, reported apart from the mix above: the first 3 to
//                 5 letters of a last name, an email up to the first dot after its first letter
//   small business  a second business of `small-n` customers (default 2,000; 0: none), generated
//                 alike (the same names, so most of its searches match the large one's customers
//                 too), after the large one: its list (GET /api/v1/customers?limit=20 and the same
//                 with tier=GOLD, which few match) and the same search mix, under the same clients
//   tiers         POST /api/v1/tiers/recalculate on the fresh data (everyone BRONZE, default
//                 thresholds: tier_recalc_s), then PUT /api/v1/tiers/configuration with lower
//                 thresholds (silver 300/6 visits, gold 1000/15, platinum 3000/40; the service
//                 re-evaluates everyone: tier_config_s), then one more recalculate with nothing
//                 left to change. Tiers come first so the segment's loyaltyTier rule means something.
//   segment       POST /api/v1/segments (totalSpent > 500 AND daysSinceLastVisit < 180 AND
//                 loyaltyTier in SILVER/GOLD/PLATINUM): its first full calculation, which creation
//                 does at once (or POST …/{id}/recalculate if creation deferred it), is
//                 segment_recalc_s; then POST …/{id}/recalculate again, which changes little
// Warm-up requests are not counted. Any non-2xx response is an error: the run says so and exits 1.
//
// Only the API runs here, as in production where the projector is a separate worker
// (SYNC_IN_PROCESS=false, JOBS_IN_PROCESS=false): the outbox rows the recalculations append are
// not projected during the run, so their backlog does not compete with the measured API. Firestore
// is an in-process emulator handed to the service as FIRESTORE_EMULATOR_HOST (the embedded default
// would re-project every customer at start). The clients have their own process, as callers on
// other machines would, but share this machine's cores with the service and PostgreSQL; each
// phase reports the CPU per request of the service and of the clients.
// Targets (N = 1,000,000): profile GET p95 ≤ 10 ms, search p95 ≤ 50 ms, segment recalculation ≤ 20 s,
// tier recalculation ≤ 30 s. Other environment variables pass through to the service's config
// (e.g. DATABASE_POOL_MAX, REDIS_URL).
//
// PostgreSQL: DATABASE_URL if set (migrated, data left in place), otherwise a throwaway database on
// postgres://postgres@127.0.0.1:5432 (BENCH_PG_ADMIN_URL overrides), dropped at the end, on failure
// and on Ctrl-C (--keep leaves it, and prints its URL, for EXPLAIN afterwards).
// Prints the generation time (not a target), the tables, peak RSS; the last line is one JSON object.
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { TokenService } from '../../src/auth/tokens.js';
import { parseConfig } from '../../src/config.js';
import { startEmbeddedEmulator, type EmbeddedEmulator } from '../../src/firestore/embedded-emulator.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { createDatabase } from '../../src/db/db.client.js';
import { generateCustomers, type GenerateReport } from './customers-dataset.js';
import { Prng } from '../../src/pos-simulator/data/prng.js';
import { LoadClients } from './load-clients.js';
import { startBareExpress } from './bare-express.js';
import { at, LoopbackClient, percentile, positiveInt, round, throwawayDatabase, type Reply } from './bench-kit.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '32' },
    requests: { type: 'string', default: '20000' },
    'search-requests': { type: 'string', default: '5000' },
    'small-n': { type: 'string', default: '2000' },
    'skip-recalc': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const N = positiveInt(args.n, '--n');
const CONCURRENCY = positiveInt(args.concurrency, '--concurrency');
const GET_REQUESTS = positiveInt(args.requests, '--requests');
const SEARCH_REQUESTS = positiveInt(args['search-requests'], '--search-requests');
const SMALL_N = args['small-n'] === '0' ? 0 : positiveInt(args['small-n'], '--small-n');
const GET_WARMUP = Math.min(1000, Math.max(CONCURRENCY, Math.floor(GET_REQUESTS / 10)));
const SEARCH_WARMUP = Math.min(300, Math.max(CONCURRENCY, Math.floor(SEARCH_REQUESTS / 10)));
const LONG_TIMEOUT_MS = 30 * 60_000;
const RUN = randomBytes(4).toString('hex');
const TARGETS = { getP95Ms: 10, searchP95Ms: 50, segmentRecalcS: 20, tierRecalcS: 30 };

// The emulator needs no Google credentials; without this the client probes the GCE metadata server.
process.env.METADATA_SERVER_DETECTION ??= 'none';
const started = performance.now();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
sampler.unref();

// ---------------------------------------------------------------------------------------------
// Helpers.

/** A deterministic stream (the simulator's seeded PRNG), so two runs ask for the same customers and terms. */
function prng(seed: number): () => number {
  const stream = new Prng(seed);
  return () => stream.next();
}

function num(body: unknown, ...paths: string[]): number | null {
  for (const p of paths) {
    const v = at(body, p);
    if (typeof v === 'number') return v;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Loopback HTTP: one keep-alive agent with a socket per client.

const loopback = new LoopbackClient(CONCURRENCY);
const request = loopback.request.bind(loopback);

const errorSamples: string[] = [];
let errors = 0;

/** Counts a failed request and keeps the first few reasons (a client's error, a reply, or its description). */
function recordError(what: string, reason: Reply | Error | string): void {
  errors += 1;
  if (errorSamples.length < 10) {
    const why = typeof reason === 'string' ? reason : reason instanceof Error ? reason.message : `HTTP ${reason.status} ${reason.text.slice(0, 300)}`;
    errorSamples.push(`${what}: ${why}`);
  }
}

interface LoadResult<K extends string> {
  latencies: number[];
  byKind: Map<K, { latencies: number[]; hits: number[] }>;
  elapsedMs: number;
  /** The service's CPU time per request (this process; the clients run in another). */
  cpuMsPerRequest: number;
  /** The clients' CPU time per request. */
  clientCpuMsPerRequest: number;
  /** How busy the service's event loop was (0–1). */
  serviceElu: number;
  errors: number;
}

let clients: LoadClients | undefined;

/**
 * `concurrency` clients in the clients' process each take the next item until none is left (a
 * closed loop); against the service unless other clients (another server's) are given.
 */
async function drive<T extends { path: string; kind: K }, K extends string>(items: T[], countHits: boolean, via = clients): Promise<LoadResult<K>> {
  if (!via) throw new Error('the load clients have not started');
  const c0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const done = await via.run(items, countHits);
  const cpu = process.cpuUsage(c0);
  const result: LoadResult<K> = {
    latencies: [],
    byKind: new Map(),
    elapsedMs: done.elapsedMs,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / items.length,
    serviceElu: performance.eventLoopUtilization(elu0).utilization,
    clientCpuMsPerRequest: done.clientCpuMs / items.length,
    errors: 0,
  };
  for (const reply of done.replies) {
    if (reply.error !== undefined) {
      result.errors += 1;
      recordError(reply.kind, reply.error);
      continue;
    }
    result.latencies.push(reply.ms);
    const kindName = reply.kind as K;
    let kind = result.byKind.get(kindName);
    if (!kind) result.byKind.set(kindName, (kind = { latencies: [], hits: [] }));
    kind.latencies.push(reply.ms);
    if (reply.hits !== undefined) kind.hits.push(reply.hits);
  }
  return result;
}

/** CPU per request of the service and of the clients, and how busy the service's event loop was. */
const busy = (r: LoadResult<string>) =>
  `CPU per request: service ${r.cpuMsPerRequest.toFixed(2)} ms, clients ${r.clientCpuMsPerRequest.toFixed(2)} ms; ` +
  `service event loop busy ${Math.round(r.serviceElu * 100)}%`;

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  rps: number;
  hits?: number;
}

function stats(latencies: number[], elapsedMs: number, hits?: number[]): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    rps: sorted.length / (elapsedMs / 1000),
    hits: hits && hits.length > 0 ? hits.reduce((a, b) => a + b, 0) / hits.length : undefined,
  };
}

/** One long request (a recalculation): its time, and an error if it was not 2xx. */
async function timed(what: string, method: string, path: string, body?: unknown): Promise<{ seconds: number; body: unknown; ok: boolean }> {
  let reply: Reply;
  try {
    reply = await request(method, path, body, LONG_TIMEOUT_MS);
  } catch (err) {
    recordError(what, err as Error);
    return { seconds: NaN, body: undefined, ok: false };
  }
  const ok = reply.status >= 200 && reply.status <= 299;
  if (!ok) recordError(what, reply);
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.text) as unknown;
  } catch {
    parsed = undefined;
  }
  return { seconds: reply.ms / 1000, body: parsed, ok };
}

// ---------------------------------------------------------------------------------------------
// Workload: which customers to read, what to search for.

type SearchKind = 'last name' | 'name + typo' | 'email prefix' | 'phone digits';
const SEARCH_KINDS: SearchKind[] = ['last name', 'name + typo', 'email prefix', 'phone digits'];

interface Person {
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone_normalized: string | null;
}

/** One typo in a name: two neighbouring letters swapped, or one letter dropped (never the first). */
function typo(word: string, rnd: () => number): string {
  const chars = [...word];
  if (chars.length < 4) return word;
  const j = 1 + Math.floor(rnd() * (chars.length - 2));
  if (rnd() < 0.5 && chars[j] !== chars[j + 1]) [chars[j], chars[j + 1]] = [chars[j + 1]!, chars[j]!];
  else chars.splice(j, 1);
  return chars.join('');
}

function searchTerm(kind: SearchKind, p: Person, rnd: () => number): string | undefined {
  switch (kind) {
    case 'last name':
      return p.last_name ?? undefined;
    case 'name + typo': {
      if (!p.first_name || !p.last_name) return undefined;
      // Mostly the last name is misspelt (the longer, less familiar word), sometimes the first.
      return rnd() < 0.7 && [...p.last_name].length >= 4
        ? `${p.first_name} ${typo(p.last_name, rnd)}`
        : `${typo(p.first_name, rnd)} ${p.last_name}`;
    }
    case 'email prefix': {
      // What is typed before the address is recognisable: the local part, or most of it.
      const local = p.email?.split('@')[0];
      if (!local) return undefined;
      return rnd() < 0.5 ? local : local.slice(0, Math.max(6, Math.ceil(local.length * 0.7)));
    }
    case 'phone digits': {
      const digits = p.phone_normalized?.replace(/\D/g, '');
      if (!digits || digits.length < 7) return undefined;
      return rnd() < 0.5 ? digits.slice(-4) : digits.slice(-7);
    }
  }
}

/** What staff have typed so far: the start of a last name ("smi"), an email's first name and its dot ("clara."). */
function typingWorkload(people: Person[], count: number, rnd: () => number): { path: string; kind: 'typing' }[] {
  const items: { path: string; kind: 'typing' }[] = [];
  for (let p = 0; items.length < count; p++) {
    const person = people[p % people.length]!;
    const local = person.email?.split('@')[0] ?? '';
    const dot = local.indexOf('.', 1);
    const term = (items.length % 2 === 0 || dot < 2 ? person.last_name?.slice(0, 3 + Math.floor(rnd() * 3)) : local.slice(0, dot + 1))?.trim();
    if (term && term.length >= 3) items.push({ kind: 'typing', path: `/api/v1/customers?q=${encodeURIComponent(term)}&limit=20` });
  }
  return items;
}

function searchWorkload(people: Person[], count: number, rnd: () => number): { path: string; kind: SearchKind }[] {
  const items: { path: string; kind: SearchKind }[] = [];
  let p = 0;
  while (items.length < count) {
    const kind = SEARCH_KINDS[items.length % SEARCH_KINDS.length]!;
    let term: string | undefined;
    for (let tries = 0; term === undefined && tries < people.length; tries++) term = searchTerm(kind, people[p++ % people.length]!, rnd);
    if (term === undefined) throw new Error(`no customer to build a "${kind}" search from`);
    items.push({ kind, path: `/api/v1/customers?q=${encodeURIComponent(term)}&limit=20` });
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Database: DATABASE_URL, or a throwaway one.

const givenUrl = process.env.DATABASE_URL?.trim();
const throwaway = throwawayDatabase('bench_customers', RUN);
const databaseUrl = givenUrl || throwaway.url;

let service: RunningService | undefined;
let emulator: EmbeddedEmulator | undefined;
let dropping: Promise<void> | undefined;
/** Stops the service and drops the throwaway database, once, whoever asks first. */
const cleanUp = () =>
  (dropping ??= (async () => {
    clearInterval(sampler);
    await service?.close().catch(() => undefined);
    emulator?.stop();
    loopback.close();
    clients?.close();
    if (!givenUrl && !args.keep) await throwaway.drop();
  })());

let interrupted = false;
const onSignal = () => {
  interrupted = true;
  console.error('interrupted: dropping the bench database');
  void cleanUp()
    .catch((err: unknown) => console.error('could not drop the bench database:', err))
    .finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

// ---------------------------------------------------------------------------------------------
// Main.

let exitCode = 1;
try {
  if (!givenUrl) await throwaway.create();
  console.log(
    `bench customers: n=${N}, concurrency=${CONCURRENCY}, GET requests=${GET_REQUESTS}, search requests=${SEARCH_REQUESTS}, ` +
      `cpus=${availableParallelism()}, PostgreSQL: ${givenUrl ? 'DATABASE_URL' : `throwaway database ${throwaway.name}`}`,
  );

  // Schema and data, before the service starts (its own start-up migration is then a no-op).
  const setup = createDatabase({ kind: 'postgres', url: databaseUrl, poolMax: 2 });
  if (setup.kind !== 'postgres') throw new Error('expected a PostgreSQL handle');
  let generated: GenerateReport;
  let businessId: string;
  let ids: string[];
  let people: Person[];
  let smallBusinessId: string | undefined;
  let smallPeople: Person[] = [];
  try {
    await migrateDatabase(setup);
    const client = await setup.pool.connect();
    try {
      const { rows } = await client.query<{ id: string }>(`INSERT INTO businesses (name) VALUES ($1) RETURNING id::text`, [`bench-customers ${RUN}`]);
      businessId = rows[0]!.id;
      const { rows: existing } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM customers`);
      generated = await generateCustomers({
        client,
        businessId,
        n: N,
        // Dropping and rebuilding indexes is for a database this run owns and that starts empty.
        rebuildIndexes: !givenUrl && existing[0]!.n === 0,
        connect: async () => {
          const c = new pg.Client({ connectionString: databaseUrl });
          await c.connect();
          return c;
        },
        now: new Date(),
        salt: RUN,
        onProgress: (line) => console.log(`  ${line}`),
      });
    } finally {
      client.release(true); // its session holds the generator's pg_temp functions: do not reuse it
    }
    console.log(
      `generated ${N} customers in ${generated.seconds.toFixed(1)} s (rows ${generated.loadSeconds.toFixed(1)} s, ` +
        `indexes ${generated.indexSeconds.toFixed(1)} s, vacuum analyze ${generated.analyzeSeconds.toFixed(1)} s): ` +
        Object.entries(generated.rows).map(([t, n]) => `${t} ${n}`).join(', '),
    );

    // The customers to read (random over the whole business) and the people to search for.
    const idRows = await setup.pool.query<{ id: string }>(
      `SELECT customer_id::text AS id FROM business_customers WHERE business_id = $1 ORDER BY md5(customer_id::text || $2) LIMIT $3`,
      [businessId, RUN, Math.min(N, GET_REQUESTS + GET_WARMUP)],
    );
    ids = idRows.rows.map((r) => r.id);
    const peopleRows = await setup.pool.query<Person>(
      `SELECT c.first_name, c.last_name, c.email, c.phone_normalized FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
        WHERE bc.business_id = $1 ORDER BY md5(bc.customer_id::text || $2 || 'search') LIMIT 5000`,
      [businessId, RUN],
    );
    people = peopleRows.rows;

    // The small business, generated alike after the large one (its indexes are in place).
    if (SMALL_N > 0) {
      const smallClient = await setup.pool.connect();
      try {
        const { rows } = await smallClient.query<{ id: string }>(`INSERT INTO businesses (name) VALUES ($1) RETURNING id::text`, [`bench-customers small ${RUN}`]);
        smallBusinessId = rows[0]!.id;
        const small = await generateCustomers({ client: smallClient, businessId: smallBusinessId, n: SMALL_N, rebuildIndexes: false, now: new Date(), salt: randomBytes(4).toString('hex') });
        console.log(`generated ${SMALL_N} customers of a small business in ${small.seconds.toFixed(1)} s`);
      } finally {
        smallClient.release(true);
      }
      const smallRows = await setup.pool.query<Person>(
        `SELECT c.first_name, c.last_name, c.email, c.phone_normalized FROM business_customers bc JOIN customers c ON c.id = bc.customer_id
          WHERE bc.business_id = $1 ORDER BY md5(bc.customer_id::text || $2 || 'search')`,
        [smallBusinessId, RUN],
      );
      smallPeople = smallRows.rows;
    }
  } finally {
    await setup.close();
  }

  // The service, API only, as deployed: the projector and schedules belong to the worker.
  emulator = await startEmbeddedEmulator(0);
  const config = parseConfig({
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    DEMO_MODE: 'false',
    SYNC_IN_PROCESS: 'false',
    JOBS_IN_PROCESS: 'false',
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'silent',
    FIRESTORE_EMULATOR_HOST: emulator.host,
  });
  service = await startService(config, createLogger('silent'));
  loopback.baseUrl = service.url;
  loopback.authorization = `Bearer ${new TokenService(config.jwt).sign({ subject: 'bench-admin', role: 'admin', businessId })}`;
  clients = new LoadClients({ baseUrl: loopback.baseUrl, authorization: loopback.authorization, concurrency: CONCURRENCY });
  console.log(`service at ${loopback.baseUrl} (pool ${config.database.kind === 'postgres' ? config.database.poolMax : '-'} connections)`);

  // The lower bounds of the profile GET, on a bare Express server in a process of its own (the
  // service idles meanwhile): if even one primary-key read through Express misses the GET target,
  // no profile GET can meet it on this machine. First, before the service's clients open their
  // connections: idle for the length of this, they would meet connections the service has closed
  // (its keep-alive timeout is 5 s) and fail with "socket hang up".
  const bare = await startBareExpress({ databaseUrl, poolMax: config.database.kind === 'postgres' ? config.database.poolMax : 10 });
  const bareClients = new LoadClients({ baseUrl: bare.url, authorization: '', concurrency: CONCURRENCY });
  let bareStats: Stats & { errors: number };
  let barePkStats: Stats & { errors: number };
  try {
    const bareItems = (count: number) => Array.from({ length: count }, () => ({ kind: 'bare' as const, path: '/bare' }));
    await drive(bareItems(GET_WARMUP), false, bareClients);
    const bareRun = await drive(bareItems(Math.min(GET_REQUESTS, 10_000)), false, bareClients);
    bareStats = { ...stats(bareRun.latencies, bareRun.elapsedMs), errors: bareRun.errors };
    const pkRnd = prng(0xba5e);
    const pkItems = (count: number) =>
      Array.from({ length: count }, () => ({ kind: 'bare pk' as const, path: `/bare/customers/${ids[Math.floor(pkRnd() * ids.length)]!}` }));
    await drive(pkItems(GET_WARMUP), false, bareClients);
    const pkRun = await drive(pkItems(Math.min(GET_REQUESTS, 10_000)), false, bareClients);
    barePkStats = { ...stats(pkRun.latencies, pkRun.elapsedMs), errors: pkRun.errors };
    // Its CPU is not measured: it runs in its own process.
    console.log(`bare Express: ${bareRun.latencies.length} ok; CPU per request: clients ${bareRun.clientCpuMsPerRequest.toFixed(2)} ms`);
    console.log(`bare Express + primary-key SELECT: ${pkRun.latencies.length} ok; CPU per request: clients ${pkRun.clientCpuMsPerRequest.toFixed(2)} ms`);
  } finally {
    bareClients.close();
    bare.close();
  }

  // The floor: GET /healthz (no auth, no database) through the same stack and clients. No route
  // can answer faster than this under the same load, so it shows what the machine allows.
  const floorItems = (count: number) => Array.from({ length: count }, () => ({ kind: 'floor' as const, path: '/healthz' }));
  await drive(floorItems(GET_WARMUP), false);
  const floor = await drive(floorItems(Math.min(GET_REQUESTS, 10_000)), false);
  const floorStats = stats(floor.latencies, floor.elapsedMs);
  console.log(`floor (GET /healthz): ${floor.latencies.length} ok; ${busy(floor)}`);

  // Profile GET.
  const rnd = prng(0x5eed);
  const pick = () => ids[Math.floor(rnd() * ids.length)]!;
  const getItems = (count: number) => Array.from({ length: count }, () => ({ kind: 'get' as const, path: `/api/v1/customers/${pick()}` }));
  const warmGet = await drive(getItems(GET_WARMUP), false);
  const get = await drive(getItems(GET_REQUESTS), false);
  const getStats = stats(get.latencies, get.elapsedMs);
  console.log(
    `profile GET: ${get.latencies.length} ok, ${get.errors} errors in ${(get.elapsedMs / 1000).toFixed(1)} s (warm-up ${warmGet.latencies.length}); ` +
      `${busy(get)}; load average ${loadavg()[0]!.toFixed(2)}`,
  );

  // Search.
  const searchItems = searchWorkload(people, SEARCH_WARMUP + SEARCH_REQUESTS, rnd);
  const warmSearch = await drive(searchItems.slice(0, SEARCH_WARMUP), true);
  const search = await drive(searchItems.slice(SEARCH_WARMUP), true);
  const searchStats = stats(search.latencies, search.elapsedMs);
  const searchByKind = SEARCH_KINDS.map((k) => {
    const r = search.byKind.get(k);
    return { kind: k, ...stats(r?.latencies ?? [], search.elapsedMs, r?.hits) };
  });
  console.log(
    `search: ${search.latencies.length} ok, ${search.errors} errors in ${(search.elapsedMs / 1000).toFixed(1)} s (warm-up ${warmSearch.latencies.length}); ` +
      `${busy(search)}; load average ${loadavg()[0]!.toFixed(2)}`,
  );

  // Text being typed, apart from the mix.
  const typingItems = typingWorkload(people, SEARCH_WARMUP + SEARCH_REQUESTS, rnd);
  await drive(typingItems.slice(0, SEARCH_WARMUP), true);
  const typing = await drive(typingItems.slice(SEARCH_WARMUP), true);
  const typingStats = stats(typing.latencies, typing.elapsedMs, [...typing.byKind.values()].flatMap((k) => k.hits));
  console.log(`typing: ${typing.latencies.length} ok, ${typing.errors} errors; ${busy(typing)}`);

  // The small business beside the large one: its list and the same search mix, its own token.
  let smallList: { stats: Stats; errors: number } | undefined;
  let smallSearch: { stats: Stats; errors: number } | undefined;
  if (smallBusinessId) {
    const smallAuth = `Bearer ${new TokenService(config.jwt).sign({ subject: 'bench-admin', role: 'admin', businessId: smallBusinessId })}`;
    const smallClients = new LoadClients({ baseUrl: loopback.baseUrl, authorization: smallAuth, concurrency: CONCURRENCY });
    try {
      const listItems = (count: number) =>
        Array.from({ length: count }, (_, i) => ({ kind: 'list' as const, path: `/api/v1/customers?limit=20${i % 2 ? '&tier=GOLD' : ''}` }));
      await drive(listItems(SEARCH_WARMUP), true, smallClients);
      const list = await drive(listItems(SEARCH_REQUESTS), true, smallClients);
      smallList = { stats: stats(list.latencies, list.elapsedMs), errors: list.errors };
      const items = searchWorkload(smallPeople, SEARCH_WARMUP + SEARCH_REQUESTS, rnd);
      await drive(items.slice(0, SEARCH_WARMUP), true, smallClients);
      const found = await drive(items.slice(SEARCH_WARMUP), true, smallClients);
      const hits = [...found.byKind.values()].flatMap((k) => k.hits);
      smallSearch = { stats: stats(found.latencies, found.elapsedMs, hits), errors: found.errors };
      console.log(`small business (${SMALL_N} customers): list ${list.latencies.length} ok, ${busy(list)}; search ${found.latencies.length} ok, ${busy(found)}`);
    } finally {
      smallClients.close();
    }
  }

  // Tiers, then the segment (which selects by tier). Each whole-business run is timed where it
  // does its full work: the first tier recalculation (everyone is BRONZE, the default thresholds
  // are in force), the configuration change (new thresholds: everyone re-evaluated, the newly
  // qualifying moved), and the segment's first calculation (which POST /segments does at once;
  // POST …/recalculate only if creation deferred it). A further recalculation of each, with
  // little left to change, shows the cost of evaluating alone.
  type Timed = Awaited<ReturnType<typeof timed>>;
  const ops: { what: string; seconds: number; counts: string }[] = [];
  let tierFull: Timed | undefined;
  let tierConfig: Timed | undefined;
  let tierAgain: Timed | undefined;
  let segCreate: Timed | undefined;
  let segFull: Timed | undefined;
  let segAgain: Timed | undefined;
  let segCreateCalculated = false;
  // The numbers (and status) a response reports, e.g. "status completed, entered 81234, durationMs 9120".
  const countsOf = (body: unknown, base: string, keys: string[]) =>
    ['status', ...keys, 'durationMs']
      .map((k) => [k, at(body, `${base}.${k}`)] as const)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string')
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
  if (!args['skip-recalc']) {
    const TIER_KEYS = ['evaluated', 'changed', 'upgraded', 'downgraded'];
    tierFull = await timed('POST /tiers/recalculate', 'POST', '/api/v1/tiers/recalculate');
    ops.push({ what: 'tiers: POST recalculate (all BRONZE before)', seconds: tierFull.seconds, counts: countsOf(tierFull.body, 'data', TIER_KEYS) });
    tierConfig = await timed('PUT /tiers/configuration', 'PUT', '/api/v1/tiers/configuration', {
      thresholds: {
        silver: { spendingThreshold: 300, visitThreshold: 6, evaluationPeriod: 'lifetime' },
        gold: { spendingThreshold: 1000, visitThreshold: 15, evaluationPeriod: 'lifetime' },
        platinum: { spendingThreshold: 3000, visitThreshold: 40, evaluationPeriod: 'lifetime' },
      },
      reason: 'benchmark',
    });
    ops.push({ what: 'tiers: PUT configuration (lower thresholds)', seconds: tierConfig.seconds, counts: countsOf(tierConfig.body, 'meta.recalculation', TIER_KEYS) });
    tierAgain = await timed('POST /tiers/recalculate (again)', 'POST', '/api/v1/tiers/recalculate');
    ops.push({ what: 'tiers: POST recalculate again', seconds: tierAgain.seconds, counts: countsOf(tierAgain.body, 'data', TIER_KEYS) });

    const SEGMENT_KEYS = ['entered', 'exited', 'customerCount'];
    segCreate = await timed('POST /segments', 'POST', '/api/v1/segments', {
      name: `High-value recent members ${RUN}`,
      description: 'bench:customers',
      criteria: {
        operator: 'AND',
        rules: [
          { field: 'totalSpent', operator: 'greater_than', value: 500 },
          { field: 'daysSinceLastVisit', operator: 'less_than', value: 180 },
          { field: 'loyaltyTier', operator: 'in', value: ['SILVER', 'GOLD', 'PLATINUM'] },
        ],
      },
    });
    segCreateCalculated = at(segCreate.body, 'meta.recalculation.status') === 'completed';
    ops.push({
      what: `segment: POST create${segCreateCalculated ? ' (first calculation)' : ''}`,
      seconds: segCreate.seconds,
      counts: [countsOf(segCreate.body, 'data', SEGMENT_KEYS), countsOf(segCreate.body, 'meta.recalculation', SEGMENT_KEYS)].filter(Boolean).join(', '),
    });
    const segmentId = at(segCreate.body, 'data.id');
    if (typeof segmentId === 'string') {
      if (!segCreateCalculated) {
        segFull = await timed('POST /segments/{id}/recalculate', 'POST', `/api/v1/segments/${segmentId}/recalculate`);
        ops.push({ what: 'segment: POST recalculate (first calculation)', seconds: segFull.seconds, counts: countsOf(segFull.body, 'data', SEGMENT_KEYS) });
      }
      segAgain = await timed('POST /segments/{id}/recalculate (again)', 'POST', `/api/v1/segments/${segmentId}/recalculate`);
      ops.push({ what: 'segment: POST recalculate again', seconds: segAgain.seconds, counts: countsOf(segAgain.body, 'data', SEGMENT_KEYS) });
    } else if (segCreate.ok) {
      recordError('POST /segments', new Error('the response has no data.id'));
    }
  }

  // The resulting standing, read from PostgreSQL (not timed).
  const check = new pg.Client({ connectionString: databaseUrl });
  await check.connect();
  let tierCounts: Record<string, number> = {};
  let segmentSize: number | null = null;
  try {
    const { rows } = await check.query<{ tier: string; n: number }>(
      `SELECT loyalty_tier AS tier, count(*)::int AS n FROM business_customers WHERE business_id = $1 GROUP BY 1 ORDER BY 1`,
      [businessId],
    );
    tierCounts = Object.fromEntries(rows.map((r) => [r.tier, r.n]));
    const segmentId = at(segCreate?.body, 'data.id');
    if (typeof segmentId === 'string') {
      const r = await check.query<{ n: number }>(`SELECT count(*)::int AS n FROM customer_segment_assignments WHERE segment_id = $1`, [segmentId]);
      segmentSize = r.rows[0]?.n ?? null;
    }
  } finally {
    await check.end();
  }

  // ---- report ----
  const f = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
  const line = (name: string, s: Stats, errs: number | string) =>
    `${name.padEnd(24)}${String(s.n).padStart(8)}${f(s.p50).padStart(9)}${f(s.p95).padStart(9)}${f(s.p99).padStart(9)}${f(s.max).padStart(9)}` +
    `${f(s.rps, 0).padStart(9)}${String(errs).padStart(8)}${f(s.hits).padStart(8)}`;
  console.log('');
  console.log(`${'requests'.padEnd(24)}${'ok'.padStart(8)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'max ms'.padStart(9)}${'req/s'.padStart(9)}${'errors'.padStart(8)}${'hits'.padStart(8)}`);
  console.log('-'.repeat(92));
  console.log(line('floor: GET /healthz', floorStats, floor.errors));
  console.log(line('bare Express', bareStats, bareStats.errors));
  console.log(line('bare Express + PK read', barePkStats, barePkStats.errors));
  console.log(line('profile GET', getStats, get.errors));
  const allHits = [...search.byKind.values()].flatMap((k) => k.hits);
  console.log(line('search (all)', { ...searchStats, hits: allHits.reduce((a, b) => a + b, 0) / allHits.length }, search.errors));
  for (const k of searchByKind) console.log(line(`  ${k.kind}`, { ...k, rps: NaN }, ''));
  console.log(line('typing (start of a word)', typingStats, typing.errors));
  if (smallList && smallSearch) {
    console.log(line(`small (${SMALL_N}): list`, smallList.stats, smallList.errors));
    console.log(line(`small (${SMALL_N}): search`, smallSearch.stats, smallSearch.errors));
  }
  console.log('hits: mean rows returned (limit 20); req/s of a kind is not shown (the kinds run interleaved).');
  if (ops.length > 0) {
    console.log('');
    console.log(`${'operation'.padEnd(44)}${'seconds'.padStart(9)}  counts`);
    console.log('-'.repeat(92));
    for (const o of ops) console.log(`${o.what.padEnd(44)}${f(o.seconds, 2).padStart(9)}  ${o.counts}`);
    console.log(`tiers now: ${Object.entries(tierCounts).map(([t, n]) => `${t} ${n}`).join(', ')}; segment size ${segmentSize ?? '–'}`);
  }
  const elapsedS = (performance.now() - started) / 1000;
  const peakRssMb = Math.round(peakRss / 1048576);
  console.log(`\npeak RSS ${peakRssMb} MB (the service's process); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; total ${elapsedS.toFixed(1)} s`);

  const ok = (t: Timed | undefined) => (t?.ok ? t.seconds : null);
  const segmentFirst = segCreateCalculated ? segCreate : segFull;
  const segmentRecalcS = ok(segmentFirst);
  const tierRecalcS = ok(tierFull);
  const tierConfigS = ok(tierConfig);
  const slowestTierS = tierRecalcS === null || tierConfigS === null ? null : Math.max(tierRecalcS, tierConfigS);
  const r2 = (x: number | null) => (x === null ? null : round(x, 2));
  const result = {
    bench: 'customers',
    n: N,
    concurrency: CONCURRENCY,
    floor_p50_ms: round(floorStats.p50, 2),
    floor_p95_ms: round(floorStats.p95, 2),
    floor_rps: round(floorStats.rps, 0),
    bare_express_p95_ms: round(bareStats.p95, 2),
    bare_express_rps: round(bareStats.rps, 0),
    bare_pk_p50_ms: round(barePkStats.p50, 2),
    bare_pk_p95_ms: round(barePkStats.p95, 2),
    bare_pk_rps: round(barePkStats.rps, 0),
    get_requests: getStats.n,
    get_p50_ms: round(getStats.p50, 2),
    get_p95_ms: round(getStats.p95, 2),
    get_p99_ms: round(getStats.p99, 2),
    get_max_ms: round(getStats.max, 2),
    get_rps: round(getStats.rps, 0),
    get_service_cpu_ms: round(get.cpuMsPerRequest, 2),
    get_client_cpu_ms: round(get.clientCpuMsPerRequest, 2),
    search_requests: searchStats.n,
    search_p50_ms: round(searchStats.p50, 2),
    search_p95_ms: round(searchStats.p95, 2),
    search_p99_ms: round(searchStats.p99, 2),
    search_max_ms: round(searchStats.max, 2),
    search_rps: round(searchStats.rps, 0),
    search_service_cpu_ms: round(search.cpuMsPerRequest, 2),
    search_client_cpu_ms: round(search.clientCpuMsPerRequest, 2),
    search_by_kind: Object.fromEntries(
      searchByKind.map((k) => [k.kind.replace(/\W+/g, '_'), { p50_ms: round(k.p50, 2), p95_ms: round(k.p95, 2), p99_ms: round(k.p99, 2), mean_hits: round(k.hits ?? NaN, 2) }]),
    ),
    typing_p95_ms: round(typingStats.p95, 2),
    typing_rps: round(typingStats.rps, 0),
    small_n: smallBusinessId ? SMALL_N : 0,
    small_list_p95_ms: smallList ? round(smallList.stats.p95, 2) : null,
    small_list_rps: smallList ? round(smallList.stats.rps, 0) : null,
    small_search_p95_ms: smallSearch ? round(smallSearch.stats.p95, 2) : null,
    small_search_rps: smallSearch ? round(smallSearch.stats.rps, 0) : null,
    tier_recalc_s: r2(tierRecalcS),
    tier_changed: num(tierFull?.body, 'data.changed'),
    tier_config_s: r2(tierConfigS),
    tier_config_changed: num(tierConfig?.body, 'meta.recalculation.changed'),
    tier_recalc_again_s: r2(ok(tierAgain)),
    tier_recalc_again_changed: num(tierAgain?.body, 'data.changed'),
    tier_counts: tierCounts,
    segment_recalc_s: r2(segmentRecalcS),
    segment_recalc_by: segmentFirst ? (segCreateCalculated ? 'POST /segments' : 'POST /segments/{id}/recalculate') : null,
    segment_entered: segCreateCalculated ? num(segCreate?.body, 'meta.recalculation.entered') : num(segFull?.body, 'data.entered'),
    segment_recalc_again_s: r2(ok(segAgain)),
    segment_again_entered: num(segAgain?.body, 'data.entered'),
    segment_again_exited: num(segAgain?.body, 'data.exited'),
    segment_size: segmentSize,
    generate_s: round(generated.seconds, 1),
    generate_rows_s: round(generated.loadSeconds, 1),
    generate_indexes_s: round(generated.indexSeconds, 1),
    peak_rss_mb: peakRssMb,
    cpus: availableParallelism(),
    load_avg_1m: round(loadavg()[0]!, 2),
    elapsed_s: round(elapsedS, 1),
    errors,
    targets: {
      get_p95_le_10ms: getStats.p95 <= TARGETS.getP95Ms,
      search_p95_le_50ms: searchStats.p95 <= TARGETS.searchP95Ms,
      segment_recalc_le_20s: segmentRecalcS === null ? null : segmentRecalcS <= TARGETS.segmentRecalcS,
      tier_recalc_le_30s: slowestTierS === null ? null : slowestTierS <= TARGETS.tierRecalcS,
    },
  };
  if (errors > 0) {
    console.error(`\n!!! ${errors} REQUESTS FAILED (non-2xx or no answer); the figures above are not valid. First ones:`);
    for (const s of errorSamples) console.error(`  ${s}`);
  }
  if (args.keep && !givenUrl) console.log(`database kept: ${databaseUrl}`);
  console.log(JSON.stringify(result));
  exitCode = errors > 0 ? 1 : 0;
} catch (err) {
  if (!interrupted) console.error('bench:customers failed:', err instanceof Error ? (err.stack ?? err.message) : err);
} finally {
  await cleanUp().catch((err: unknown) => console.error('could not drop the bench database:', err));
}
process.exit(interrupted ? 130 : exitCode);
