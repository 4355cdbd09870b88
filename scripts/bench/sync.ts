// npm run bench:sync [-- --n 2000] [--concurrency 8] [--rounds 1] [--skip-live]
//
// Sync engine vs the reference's dual write, same run, same machine, each side on its own
// in-process Firestore emulator (the emulator slows down as a collection grows, so sharing one
// would penalise whichever side runs second).
//
// Engine:   N customers through DatabaseSyncService.syncCustomer (`concurrency` writers), then
//           SyncProjector.drain(). Then 100 identical re-sends (must be no-ops: zero Firestore
//           writes) and 100 one-field patches. Unless --skip-live is given, a further pass of
//           min(N, 500) customers runs with the projector woken on every commit, as the service
//           runs it, for a realistic commit→Firestore lag.
// Baseline: the reference's syncCustomer/writeToFs (003): per customer, in sequence, BEGIN,
//           write the aggregate tables, await one `set` per document (main, then each address,
//           IP and activity), COMMIT, then insert a success sync_logs row. No artificial delays.
//
// PostgreSQL: DATABASE_URL if set (migrated, left in place), otherwise a throwaway database on
// postgres://postgres@127.0.0.1:5432 (BENCH_PG_ADMIN_URL overrides), dropped at the end.
// --rounds R alternates the two sides in R slices of N/R customers (each engine slice written,
// then drained), so a load change on a shared machine hits both sides alike. Default 1: all N
// engine writes, one drain, then all N baseline customers.
// The last line printed is one JSON object with every figure.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Firestore } from 'firebase-admin/firestore';
import { parsePhoneNumberWithError } from 'libphonenumber-js';
import pg from 'pg';
import { BusinessesService } from '../../src/businesses/businesses.service.js';
import { parseConfig } from '../../src/config.js';
import {
  appendActivities,
  insertCustomer,
  linkCustomerToBusiness,
  loadAggregate,
  refreshBusinessEmail,
  replaceAddresses,
  replaceIpAddresses,
  replaceSection,
  replaceSources,
  updateCustomerCore,
} from '../../src/customers/customers.repository.js';
import { customerInput } from '../../src/customers/customers.schema.js';
import { createDatabase, queryRows, type DatabaseHandle, type Db } from '../../src/db/db.client.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { customerDemographics, customerEngagement, customerMetrics, customerRiskAssessments, syncLogs } from '../../src/db/schema/index.js';
import { FirestoreWriter } from '../../src/firestore/firestore-writer.js';
import { createFirestore, type FirestoreHandle } from '../../src/firestore/firestore.client.js';
import { createLogger } from '../../src/logger.js';
import { aggregateHash } from '../../src/sync/aggregate-diff.js';
import { DatabaseSyncService } from '../../src/sync/database-sync.service.js';
import { CUSTOMERS, mapActivity, mapCustomer, withSync } from '../../src/sync/firestore-mapping.js';
import { SyncProjector } from '../../src/sync/sync-projector.js';
import { percentile, positiveInt, round } from './bench-kit.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    'skip-live': { type: 'boolean', default: false },
  },
});
const N = positiveInt(args.n, '--n');
const CONCURRENCY = positiveInt(args.concurrency, '--concurrency');
const ROUNDS = Math.min(positiveInt(args.rounds, '--rounds'), N);
const SAMPLE = Math.min(100, N); // customers in the no-op and update passes
const WARMUP = Math.min(20, Math.max(1, Math.floor(N / 20)));
const LIVE_N = args['skip-live'] ? 0 : Math.min(N, 500);
const RUN = randomBytes(4).toString('hex');

// The emulator needs no Google credentials; without this the client probes the GCE metadata
// server and prints a MetadataLookupWarning.
process.env.METADATA_SERVER_DETECTION ??= 'none';
const config = parseConfig({});
const logger = createLogger('silent');
const started = performance.now();

// ---------------------------------------------------------------------------------------------
// Workload: one body per customer, 2 addresses, 1 IP address, 3 activities (like test builders).

type Body = Record<string, unknown>;

function buildBody(side: string, i: number): Body {
  const tag = `${RUN}.${side}.${i}`;
  const ip = `${11 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.${side === 'engine' ? 7 : 9}`;
  return {
    email: `bench.${tag}@example.com`,
    phone: `+1415555${String(1000 + (i % 9000)).padStart(4, '0')}`,
    firstName: 'Pauline',
    lastName: `Bench${i}`,
    status: 'active',
    customerType: 'registered',
    tags: ['loyal'],
    customAttributes: { preferredContactTime: 'morning' },
    sources: [{ source: 'square', externalId: `sq-${tag}`, data: { locationId: 'L1' } }],
    metrics: { totalOrders: 3, totalSpent: 120.5, averageOrderValue: 40.17, churnProbability: 0.2 },
    demographics: { gender: 'female', ageRange: '35-44', interests: ['fashion'] },
    engagement: { emailConsent: true, loyaltyMember: true, loyaltyTier: 'gold', loyaltyPoints: 450 },
    risk: { riskScore: 15, riskLevel: 'low' },
    addresses: [
      {
        addressType: 'shipping',
        isDefault: true,
        addressLine1: `${100 + i} S Doheny Dr`,
        city: 'Beverly Hills',
        country: 'United States',
        countryCode: 'US',
        postalCode: '90211',
      },
      {
        addressType: 'billing',
        addressLine1: `${200 + i} Wilshire Blvd`,
        city: 'Los Angeles',
        country: 'United States',
        countryCode: 'US',
        postalCode: '90010',
      },
    ],
    ipAddresses: [{ ipAddress: ip, countryCode: 'US', city: 'Beverly Hills' }],
    activities: [
      { id: randomUUID(), activityType: 'product_view', eventData: { productId: 'p-1' }, occurredAt: '2025-08-01T10:00:00Z' },
      { id: randomUUID(), activityType: 'add_to_cart', eventData: { productId: 'p-1', qty: 1 }, occurredAt: '2025-08-01T10:02:00Z' },
      { id: randomUUID(), activityType: 'purchase', eventData: { orderId: `o-${tag}`, total: 40.17 }, occurredAt: '2025-08-01T10:05:00Z' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers.

async function pool<T>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const seconds = (ms: number) => round(ms / 1000, 2);

async function emulator(): Promise<FirestoreHandle> {
  return createFirestore({ kind: 'embedded', port: 0, projectId: config.firestore.projectId });
}

/** commit→completed lag of the engine's outbox rows (ms), from PostgreSQL's own clock. */
async function outboxLags(db: Db, ids: string[], operation: string): Promise<number[]> {
  const lags: number[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const rows = await queryRows<{ lag_ms: number | string; status: string }>(
      db,
      sql`SELECT EXTRACT(EPOCH FROM (${syncLogs.completedAt} - ${syncLogs.createdAt})) * 1000 AS lag_ms, ${syncLogs.firestoreStatus} AS status
          FROM ${syncLogs}
          WHERE ${syncLogs.entityId} IN (${sql.join(chunk.map((id) => sql`${id}::uuid`), sql`, `)}) AND ${syncLogs.operation} = ${operation}`,
    );
    for (const r of rows) {
      if (r.status !== 'completed') throw new Error(`outbox row not completed (${r.status})`);
      lags.push(Number(r.lag_ms));
    }
  }
  return lags;
}

// ---------------------------------------------------------------------------------------------
// Engine side.

interface Phase {
  n: number;
  elapsedMs: number;
  cpuMs: number;
  loads: number[];
}

const newPhase = (): Phase => ({ n: 0, elapsedMs: 0, cpuMs: 0, loads: [] });

async function measured<T>(phase: Phase, n: number, work: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  phase.elapsedMs += performance.now() - t0;
  const c = process.cpuUsage(c0);
  phase.cpuMs += (c.user + c.system) / 1000;
  phase.n += n;
  phase.loads.push(loadavg()[0]!);
  return value;
}

class EngineSide {
  readonly main = newPhase();
  writeMs = 0;
  projectMs = 0;
  readonly ids: string[] = [];
  readonly bodies: Body[] = [];
  private readonly sync: DatabaseSyncService;
  private readonly writer: FirestoreWriter;
  private readonly projector: SyncProjector;
  private readonly ctx: { businessId: string };
  private mainRpcs = { commits: 0, reads: 0, queries: 0, writes: 0 };

  private constructor(
    private readonly db: Db,
    readonly firestore: FirestoreHandle,
    businessId: string,
  ) {
    this.sync = new DatabaseSyncService(db);
    this.writer = new FirestoreWriter(firestore.db, config.sync.firestoreTimeoutMs);
    this.projector = new SyncProjector(db, this.writer, config.sync, logger.child({ module: 'projector' }));
    this.ctx = { businessId };
  }

  static async open(db: Db, businessId: string): Promise<EngineSide> {
    const side = new EngineSide(db, await emulator(), businessId);
    // Warm-up (JIT, pool connections, emulator): not measured.
    await pool(Array.from({ length: WARMUP }, (_, i) => buildBody('engine-warm', i)), CONCURRENCY, async (b) => {
      await side.sync.syncCustomer(null, b, side.ctx);
    });
    await side.projector.drain();
    return side;
  }

  private rpcTotal(): number {
    return this.writer.rpcs.commits + this.writer.rpcs.reads + this.writer.rpcs.queries;
  }

  /** Writes the customers (`concurrency` writers), then drains the projector. */
  async round(from: number, to: number): Promise<void> {
    const bodies = Array.from({ length: to - from }, (_, i) => buildBody('engine', from + i));
    const before = { ...this.writer.rpcs };
    await measured(this.main, bodies.length, async () => {
      const t0 = performance.now();
      await pool(bodies, CONCURRENCY, async (b, i) => {
        this.ids[from + i] = (await this.sync.syncCustomer(null, b, this.ctx)).customer.id;
      });
      const t1 = performance.now();
      const drained = await this.projector.drain();
      this.writeMs += t1 - t0;
      this.projectMs += performance.now() - t1;
      if (drained.failed > 0) throw new Error(`engine projection failed for ${drained.failed} customers`);
    });
    this.bodies.push(...bodies);
    for (const k of ['commits', 'reads', 'queries', 'writes'] as const) this.mainRpcs[k] += this.writer.rpcs[k] - before[k];
  }

  async finish() {
    const { db, sync, projector, writer, ctx } = this;
    const lags = await outboxLags(db, this.ids, 'create');
    if (lags.length !== N) throw new Error(`expected ${N} completed create rows, found ${lags.length}`);

    // No-op: the same body again must change nothing, in PostgreSQL or in Firestore.
    const sample = this.ids.slice(0, SAMPLE);
    let noopChanged = 0;
    let mark = { ...writer.rpcs };
    let markRpc = this.rpcTotal();
    await pool(sample, CONCURRENCY, async (id, i) => {
      if ((await sync.syncCustomer(id, this.bodies[i], ctx)).changed) noopChanged += 1;
    });
    await projector.drain();
    const noopWrites = writer.rpcs.writes - mark.writes;
    const noopRpcs = this.rpcTotal() - markRpc;

    // A realistic update: one field of one section changes (a PATCH of metrics.totalOrders).
    mark = { ...writer.rpcs };
    markRpc = this.rpcTotal();
    const u0 = performance.now();
    await pool(sample, CONCURRENCY, async (id) => {
      const r = await sync.patchCustomer(id, { metrics: { totalOrders: 4 } }, ctx);
      if (!r.changed) throw new Error('the update pass changed nothing');
    });
    const u1 = performance.now();
    const up = await projector.drain();
    const updateMs = performance.now() - u0;
    if (up.failed > 0) throw new Error(`engine update projection failed for ${up.failed} customers`);
    const update = { ms: updateMs, writeMs: u1 - u0, writes: writer.rpcs.writes - mark.writes, rpcs: this.rpcTotal() - markRpc };

    // Live: the projector wakes on each commit, as in the service (createApplication).
    let live: { n: number; elapsedMs: number; rpcs: number; writes: number; lags: number[] } | undefined;
    if (LIVE_N > 0) {
      const liveBodies = Array.from({ length: LIVE_N }, (_, i) => buildBody('engine-live', i));
      const liveIds: string[] = new Array<string>(LIVE_N);
      mark = { ...writer.rpcs };
      markRpc = this.rpcTotal();
      const unsubscribe = sync.onCommitted(() => projector.wake());
      const l0 = performance.now();
      await pool(liveBodies, CONCURRENCY, async (b, i) => {
        liveIds[i] = (await sync.syncCustomer(null, b, ctx)).customer.id;
      });
      unsubscribe();
      await projector.stop(); // waits for the running loop
      const rest = await projector.drain();
      const elapsedMs = performance.now() - l0;
      if (rest.failed > 0) throw new Error(`live projection failed for ${rest.failed} customers`);
      const liveLags = await outboxLags(db, liveIds, 'create');
      if (liveLags.length !== LIVE_N) throw new Error(`expected ${LIVE_N} completed live rows, found ${liveLags.length}`);
      live = { n: LIVE_N, elapsedMs, rpcs: this.rpcTotal() - markRpc, writes: writer.rpcs.writes - mark.writes, lags: liveLags };
    }
    const r = this.mainRpcs;
    return { lags, rpcs: r.commits + r.reads + r.queries, ...r, noopChanged, noopWrites, noopRpcs, update, live };
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline: the reference's sequential dual write (003 syncCustomer / writeToPg / writeToFs).

class DualWriter {
  rpcs = 0;
  docs = 0;
  /** Time spent awaiting Firestore sets (the rest of a customer's time is PostgreSQL and mapping). */
  fsMs = 0;

  constructor(
    private readonly db: Db,
    private readonly fs: Firestore,
    private readonly businessId: string,
  ) {}

  /** One customer: BEGIN, PG tables, one awaited set per document, COMMIT, success log. Returns lag (ms). */
  async syncCustomer(customerId: string | null, body: unknown): Promise<{ id: string; lagMs: number }> {
    const t0 = performance.now();
    const data = customerInput.parse(body);
    let lastFsWrite = t0;
    const aggregate = await this.db.transaction(async (tx) => {
      // writeToPg
      const core = { ...data, phoneNormalized: data.phone ? parsePhoneNumberWithError(data.phone).number : null };
      let id: string;
      if (customerId) {
        id = customerId;
        await updateCustomerCore(tx, id, core);
      } else {
        id = (await insertCustomer(tx, core)).id;
        await linkCustomerToBusiness(tx, this.businessId, id, data.email ?? null);
      }
      await refreshBusinessEmail(tx, id, data.email ?? null);
      await replaceSources(tx, id, data.sources ?? []);
      await replaceSection(tx, customerMetrics, id, data.metrics ?? null);
      await replaceSection(tx, customerDemographics, id, data.demographics ?? null);
      await replaceSection(tx, customerEngagement, id, data.engagement ?? null);
      await replaceSection(tx, customerRiskAssessments, id, data.risk ?? null);
      await replaceAddresses(tx, id, data.addresses ?? []);
      await replaceIpAddresses(tx, id, data.ipAddresses ?? []);
      await appendActivities(tx, id, data.activities ?? []);
      const a = (await loadAggregate(tx, id))!;

      // writeToFs, inside the open transaction: every document, one awaited RPC each.
      const docs = mapCustomer(a);
      const now = new Date();
      const base = this.fs.collection(CUSTOMERS).doc(id);
      const set = async (path: string, content: Record<string, unknown>, merge: boolean) => {
        const ref = path ? base.collection(path.split('/')[0]!).doc(path.split('/')[1]!) : base;
        this.rpcs += 1;
        this.docs += 1;
        const t = performance.now();
        if (merge) await ref.set(content, { merge: true });
        else await ref.set(content);
        this.fsMs += performance.now() - t;
      };
      await set('', withSync(docs.main, a.version, now), true);
      await set(docs.pii.path, withSync(docs.pii, a.version, now), true);
      for (const d of docs.addresses) await set(d.path, withSync(d, a.version, now), true);
      for (const d of docs.ipAddresses) await set(d.path, withSync(d, a.version, now), true);
      // The reference writes the activities the request carried (without merge).
      const sent = new Set((data.activities ?? []).flatMap((act) => (act.id ? [act.id] : [])));
      for (const act of a.activities.filter((row) => sent.has(row.id))) {
        const d = mapActivity(act);
        await set(d.path, withSync(d, a.version, now), false);
      }
      lastFsWrite = performance.now();
      return a;
    }); // COMMIT

    // logSync(syncId, 'success', ...): a row after the commit.
    await this.db.insert(syncLogs).values({
      entityType: 'customer',
      entityId: aggregate.id,
      operation: customerId ? 'update' : 'create',
      entityVersion: aggregate.version,
      contentHash: aggregateHash(aggregate),
      changedFields: [],
      postgresStatus: 'completed',
      firestoreStatus: 'completed',
      completedAt: new Date(),
    });
    return { id: aggregate.id, lagMs: lastFsWrite - t0 };
  }
}

class BaselineSide {
  readonly main = newPhase();
  readonly lags: number[] = [];
  readonly ids: string[] = [];
  readonly bodies: Body[] = [];
  rpcs = 0;
  docs = 0;
  fsMs = 0;

  private constructor(
    private readonly db: Db,
    readonly firestore: FirestoreHandle,
    private readonly dual: DualWriter,
  ) {}

  static async open(db: Db, businessId: string): Promise<BaselineSide> {
    const firestore = await emulator();
    const dual = new DualWriter(db, firestore.db, businessId);
    for (let i = 0; i < WARMUP; i++) await dual.syncCustomer(null, buildBody('baseline-warm', i));
    return new BaselineSide(db, firestore, dual);
  }

  /** The customers one after the other, each a complete dual write. */
  async round(from: number, to: number): Promise<void> {
    const bodies = Array.from({ length: to - from }, (_, i) => buildBody('baseline', from + i));
    const { rpcs, docs, fsMs } = this.dual;
    await measured(this.main, bodies.length, async () => {
      for (const body of bodies) {
        const r = await this.dual.syncCustomer(null, body);
        this.ids.push(r.id);
        this.lags.push(r.lagMs);
      }
    });
    this.bodies.push(...bodies);
    this.rpcs += this.dual.rpcs - rpcs;
    this.docs += this.dual.docs - docs;
    this.fsMs += this.dual.fsMs - fsMs;
  }

  async finish() {
    const dual = this.dual;
    // The same body again (with the stored address ids, as the reference's callers send them):
    // the reference has no change detection and rewrites every document.
    const withIds = async (i: number, change?: (b: Body) => void) => {
      const a = (await loadAggregate(this.db, this.ids[i]!))!;
      const b = structuredClone(this.bodies[i]!);
      (b.addresses as Record<string, unknown>[]).forEach((ad, k) => (ad.id = a.addresses[k]!.id));
      change?.(b);
      return b;
    };
    let mark = dual.docs;
    for (let i = 0; i < SAMPLE; i++) await dual.syncCustomer(this.ids[i]!, await withIds(i));
    const noopWrites = dual.docs - mark;

    // The same one-field update as the engine's (metrics.totalOrders), as a whole-aggregate write.
    const updates = await Promise.all(
      Array.from({ length: SAMPLE }, (_, i) => withIds(i, (b) => void ((b.metrics as Record<string, unknown>).totalOrders = 4))),
    );
    mark = dual.docs;
    const u0 = performance.now();
    for (let i = 0; i < SAMPLE; i++) await dual.syncCustomer(this.ids[i]!, updates[i]);
    return { noopWrites, update: { ms: performance.now() - u0, writes: dual.docs - mark } };
  }
}

// ---------------------------------------------------------------------------------------------
// Database: DATABASE_URL, or a throwaway one.

async function openDatabase(): Promise<{ database: DatabaseHandle; describe: string; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL?.trim();
  if (url) {
    const database = createDatabase({ kind: 'postgres', url, poolMax: CONCURRENCY + 2 });
    return { database, describe: `DATABASE_URL (${database.describe})`, drop: () => database.close() };
  }
  const adminUrl = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `bench_sync_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const database = createDatabase({ kind: 'postgres', url: dbUrl.toString(), poolMax: CONCURRENCY + 2 });
  // One drop, whoever asks first (the end of the run or a signal); every caller awaits it.
  let dropping: Promise<void> | undefined;
  const dropOnce = async () => {
    await database.close().catch(() => undefined);
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    try {
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await a.end();
    }
  };
  return {
    database,
    describe: `throwaway database ${name}`,
    drop: () => (dropping ??= dropOnce()),
  };
}

// ---------------------------------------------------------------------------------------------
// Main.

const { database, describe, drop } = await openDatabase();
let interrupted = false;
const onSignal = () => {
  interrupted = true;
  console.error('interrupted: dropping the bench database');
  void drop()
    .catch((err: unknown) => console.error('could not drop the bench database:', err))
    .finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const handles: FirestoreHandle[] = [];
let exitCode = 1;
try {
  await migrateDatabase(database);
  const businesses = new BusinessesService(database.db);
  const engineBusiness = await businesses.create(`bench-sync engine ${RUN}`);
  const baselineBusiness = await businesses.create(`bench-sync baseline ${RUN}`);
  process.stdout.write(
    `bench sync: n=${N}, concurrency=${CONCURRENCY}, rounds=${ROUNDS}, cpus=${availableParallelism()}, PostgreSQL: ${describe}\n`,
  );

  const engine = await EngineSide.open(database.db, engineBusiness.id);
  handles.push(engine.firestore);
  const baseline = await BaselineSide.open(database.db, baselineBusiness.id);
  handles.push(baseline.firestore);

  // With --rounds > 1 the two sides alternate in slices of N/rounds, so a load change on a shared
  // machine hits both alike. Each slice of the engine is written, then drained.
  for (let r = 0; r < ROUNDS; r++) {
    const from = Math.floor((N * r) / ROUNDS);
    const to = Math.floor((N * (r + 1)) / ROUNDS);
    await engine.round(from, to);
    await baseline.round(from, to);
    if (ROUNDS > 1) process.stdout.write(`round ${r + 1}/${ROUNDS}: ${to} customers per side\n`);
  }
  const e = await engine.finish();
  const b = await baseline.finish();
  const em = engine.main;
  const bm = baseline.main;
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  process.stdout.write(
    `engine:   ${seconds(em.elapsedMs)} s (writes ${seconds(engine.writeMs)} s, projection ${seconds(engine.projectMs)} s), ` +
      `node CPU ${round(em.cpuMs / N, 2)} ms/customer, load avg ${round(mean(em.loads), 2)}\n` +
      `baseline: ${seconds(bm.elapsedMs)} s (awaiting Firestore ${seconds(baseline.fsMs)} s, PostgreSQL and the rest ${seconds(bm.elapsedMs - baseline.fsMs)} s), ` +
      `node CPU ${round(bm.cpuMs / N, 2)} ms/customer, load avg ${round(mean(bm.loads), 2)}\n\n`,
  );

  const cps = N / (em.elapsedMs / 1000);
  const bcps = N / (bm.elapsedMs / 1000);
  const rpc100 = (e.rpcs / N) * 100;
  const brpc100 = (baseline.rpcs / N) * 100;
  const docs = e.writes / N;
  const bdocs = baseline.docs / N;
  const lag = { p50: percentile(e.lags, 50), p95: percentile(e.lags, 95) };
  const blag = { p50: percentile(baseline.lags, 50), p95: percentile(baseline.lags, 95) };

  const rows: [string, number, number, number][] = [
    ['customers/s (first write → projected)', cps, bcps, cps / bcps],
    ['Firestore RPCs per 100 customers', rpc100, brpc100, brpc100 / rpc100],
    ['docs written per customer', docs, bdocs, bdocs / docs],
    ['lag p50 ms', lag.p50, blag.p50, lag.p50 / blag.p50],
    ['lag p95 ms', lag.p95, blag.p95, lag.p95 / blag.p95],
    ['no-op re-send: Firestore writes / 100', (e.noopWrites / SAMPLE) * 100, (b.noopWrites / SAMPLE) * 100, NaN],
    ['1-field update: docs written / customer', e.update.writes / SAMPLE, b.update.writes / SAMPLE, b.update.writes / e.update.writes],
  ];
  const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2)) : '–');
  const table = [
    `${'metric'.padEnd(42)}${'engine'.padStart(12)}${'baseline'.padStart(12)}${'ratio'.padStart(10)}`,
    '-'.repeat(76),
    ...rows.map(([name, a, c, r]) => `${name.padEnd(42)}${fmt(a).padStart(12)}${fmt(c).padStart(12)}${fmt(r).padStart(10)}`),
  ];
  process.stdout.write(`${table.join('\n')}\n`);
  process.stdout.write(
    'ratio: throughput engine/baseline; RPCs and docs baseline/engine; lag engine/baseline.\n' +
      `engine lag = sync_logs.completed_at - created_at, with all ${Math.ceil(N / ROUNDS)} writes of a round committed before drain() starts (mostly the write phase);\n` +
      'baseline lag = PG write start → its last Firestore set (in-process clock).\n',
  );
  if (e.live) {
    process.stdout.write(
      `live projector (woken per commit, ${e.live.n} customers): ${fmt(e.live.n / (e.live.elapsedMs / 1000))} customers/s, ` +
        `lag p50 ${fmt(percentile(e.live.lags, 50))} ms, p95 ${fmt(percentile(e.live.lags, 95))} ms, ` +
        `${fmt((e.live.rpcs / e.live.n) * 100)} RPCs/100 customers, ${fmt(e.live.writes / e.live.n)} docs/customer\n`,
    );
  }
  const elapsedS = (performance.now() - started) / 1000;
  process.stdout.write(`n=${N}, total elapsed ${elapsedS.toFixed(1)} s\n`);

  const result = {
    bench: 'sync',
    n: N,
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    customers_per_s: round(cps),
    baseline_customers_per_s: round(bcps),
    throughput_ratio: round(cps / bcps, 2),
    rpcs_per_100: round(rpc100, 2),
    baseline_rpcs_per_100: round(brpc100, 2),
    rpc_ratio: round(brpc100 / rpc100, 1),
    engine_commits: e.commits,
    engine_reads: e.reads,
    engine_queries: e.queries,
    docs_per_customer: round(docs, 2),
    baseline_docs_per_customer: round(bdocs, 2),
    noop_update_writes: e.noopWrites,
    noop_update_rpcs: e.noopRpcs,
    noop_reported_changed: e.noopChanged,
    baseline_noop_update_writes: b.noopWrites,
    update_docs_per_customer: round(e.update.writes / SAMPLE, 2),
    update_rpcs: e.update.rpcs,
    update_customers_per_s: round(SAMPLE / (e.update.ms / 1000)),
    update_write_s: seconds(e.update.writeMs),
    update_project_s: seconds(e.update.ms - e.update.writeMs),
    baseline_update_docs_per_customer: round(b.update.writes / SAMPLE, 2),
    baseline_update_customers_per_s: round(SAMPLE / (b.update.ms / 1000)),
    lag_p50_ms: round(lag.p50),
    lag_p95_ms: round(lag.p95),
    baseline_lag_p50_ms: round(blag.p50),
    baseline_lag_p95_ms: round(blag.p95),
    live_n: e.live?.n ?? 0,
    live_customers_per_s: e.live ? round(e.live.n / (e.live.elapsedMs / 1000)) : null,
    live_lag_p50_ms: e.live ? round(percentile(e.live.lags, 50)) : null,
    live_lag_p95_ms: e.live ? round(percentile(e.live.lags, 95)) : null,
    live_rpcs_per_100: e.live ? round((e.live.rpcs / e.live.n) * 100, 2) : null,
    engine_write_s: seconds(engine.writeMs),
    engine_project_s: seconds(engine.projectMs),
    engine_elapsed_s: seconds(em.elapsedMs),
    engine_node_cpu_ms_per_customer: round(em.cpuMs / N, 2),
    engine_load_avg: round(mean(em.loads), 2),
    baseline_elapsed_s: seconds(bm.elapsedMs),
    baseline_firestore_ms_per_customer: round(baseline.fsMs / N, 2),
    baseline_other_ms_per_customer: round((bm.elapsedMs - baseline.fsMs) / N, 2),
    baseline_node_cpu_ms_per_customer: round(bm.cpuMs / N, 2),
    baseline_load_avg: round(mean(bm.loads), 2),
    cpus: availableParallelism(),
    elapsed_s: round(elapsedS, 1),
    targets: {
      rpc_ratio_ge_5: brpc100 / rpc100 >= 5,
      throughput_ratio_ge_3: cps / bcps >= 3,
      noop_zero_writes: e.noopWrites === 0 && e.noopChanged === 0,
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  exitCode = 0;
} catch (err) {
  if (!interrupted) console.error('bench:sync failed:', err instanceof Error ? (err.stack ?? err.message) : err);
} finally {
  for (const h of handles) await h.close().catch(() => undefined);
  await drop().catch((err: unknown) => console.error('could not drop the bench database:', err));
}
process.exit(interrupted ? 130 : exitCode);
