// POS ingestion end to end against the built-in POS simulator (Square- and Lightspeed-shaped
// APIs on loopback) and real PostgreSQL: warehouse rows, identity linking through
// DatabaseSyncService, metrics, checkpoints, re-runs, refunds after capture, faults and the API.
import { spawn } from 'node:child_process';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPosSimulator, type PosSimulator } from '../../src/pos-simulator/pos-simulator.js';
import { ADVISORY_LOCKS } from '../../src/db/advisory-locks.js';
import type { RunOutcome } from '../../src/ingest/ingest.service.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let sim: PosSimulator;
let business: { id: string; token: string };
let square: string;
let lightspeed: string;

const DATASET = { seed: 'ingest-test', customers: 60, startAt: '2026-03-01T00:00:00Z', endAt: '2026-05-01T00:00:00Z', transactionsPerDay: 4 } as const;

beforeAll(async () => {
  t = await createTestApp({ env: { INGEST_BACKOFF_BASE_MS: '1', INGEST_BACKOFF_MAX_MS: '20', INGEST_MAX_RETRIES: '4', INGEST_LOOKBACK_MINUTES: '5' } });
  business = await t.newBusiness('Ingest shop');
  sim = await startPosSimulator({ ...DATASET, lightspeed: { rateLimit: { burst: null } } });
  square = (
    await t.ingest.createConnection({ businessId: business.id, provider: 'square', accountId: 'MSQ1', apiUrl: sim.square.url, credentials: { accessToken: sim.square.token } })
  ).id;
  lightspeed = (
    await t.ingest.createConnection({
      businessId: business.id,
      provider: 'lightspeed',
      accountId: sim.lightspeed.accountId,
      apiUrl: sim.lightspeed.apiUrl,
      tokenUrl: sim.lightspeed.tokenUrl,
      credentials: { clientId: sim.lightspeed.clientId, clientSecret: sim.lightspeed.clientSecret, refreshToken: sim.lightspeed.refreshToken },
    })
  ).id;
});
afterAll(async () => {
  await sim.close();
  await t.close();
});

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await t.database.pool.query(text, params)).rows as T[];
const one = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await q<T>(text, params))[0]!;

function succeeded(outcome: RunOutcome) {
  if (outcome.skipped) throw new Error('run was skipped');
  expect(outcome.run.error).toBeNull();
  expect(outcome.run.status).toBe('succeeded');
  return outcome.run;
}

/** Everything a re-run must leave exactly as it was. */
async function snapshot() {
  return {
    warehouse: await q(`SELECT 'p' t, count(*)::int n FROM warehouse.purchases UNION ALL SELECT 'sp', count(*)::int FROM warehouse.square_payments
                        UNION ALL SELECT 'ls', count(*)::int FROM warehouse.lightspeed_sales UNION ALL SELECT 'll', count(*)::int FROM warehouse.lightspeed_sale_lines
                        UNION ALL SELECT 'sc', count(*)::int FROM warehouse.square_customers UNION ALL SELECT 'lc', count(*)::int FROM warehouse.lightspeed_customers`),
    customers: await q(`SELECT c.id, c.version, m.total_orders, m.total_spent::text, m.total_refunded::text, m.last_order_date::text, m.favorite_category
                        FROM customers c LEFT JOIN customer_metrics m ON m.customer_id = c.id ORDER BY c.id`),
    transactions: await q(`SELECT transaction_id, customer_id, status, amount::text, refunded_amount::text FROM customer_transactions ORDER BY source, transaction_id`),
    outbox: (await one<{ n: number }>('SELECT count(*)::int n FROM sync_logs')).n,
  };
}

describe('POS ingestion', () => {
  it('backfills both sources, links every transaction that names a customer, and merges people known to both', async () => {
    succeeded(await t.ingest.runConnection(square, { trigger: 'cli' }));
    const ls = succeeded(await t.ingest.runConnection(lightspeed, { trigger: 'cli' }));
    expect(ls.pages).toBeGreaterThan(3);

    const dataset = sim.dataset;
    const counts = await one<{ sq: number; ls: number; lines: number }>(
      `SELECT count(*) FILTER (WHERE source = 'square')::int sq, count(*) FILTER (WHERE source = 'lightspeed')::int ls,
              (SELECT count(*)::int FROM warehouse.lightspeed_sale_lines) lines FROM warehouse.purchases`,
    );
    expect(counts.sq).toBe(dataset.square.payments.length);
    expect(counts.ls).toBe(dataset.lightspeed.sales.length);
    expect(counts.lines).toBe(dataset.lightspeed.sales.reduce((n, s) => n + s.lines.length, 0));

    // 100% of transactions that name a customer are linked; the others are counted, not linked.
    const links = await one<{ named: number; linked: number; anonymous: number }>(
      `SELECT count(source_customer_id)::int named, count(customer_id)::int linked, count(*) FILTER (WHERE source_customer_id IS NULL)::int anonymous FROM customer_transactions`,
    );
    const namedInDataset = dataset.square.payments.filter((p) => p.customerId).length + dataset.lightspeed.sales.filter((s) => s.customerId !== 0).length;
    expect(links.named).toBe(namedInDataset);
    expect(links.linked).toBe(links.named);
    expect(links.anonymous).toBeGreaterThan(0);
    const purchasesUnlinked = await one<{ n: number }>('SELECT count(*)::int n FROM warehouse.purchases WHERE source_customer_id IS NOT NULL AND customer_id IS NULL');
    expect(purchasesUnlinked.n).toBe(0);

    // A person in both systems (different email case, different phone format) is ONE profile with two sources.
    const both = dataset.people.filter((p) => p.presence === 'both');
    expect(both.length).toBeGreaterThan(5);
    for (const person of both) {
      const rows = await q<{ customer_id: string; source: string }>(
        `SELECT customer_id::text, source FROM customer_sources WHERE (source, external_id) IN (('square', $1), ('lightspeed', $2))`,
        [`MSQ1/${person.squareCustomerId}`, `${sim.lightspeed.accountId}/${person.lightspeedCustomerId}`],
      );
      expect(rows.map((r) => r.source).sort()).toEqual(['lightspeed', 'square']);
      expect(new Set(rows.map((r) => r.customer_id)).size).toBe(1);
    }
    // Nobody got two profiles in this business for one email.
    const dupes = await one<{ n: number }>(`SELECT count(*)::int n FROM (SELECT lower(email) FROM customers WHERE email IS NOT NULL GROUP BY 1 HAVING count(*) > 1) d`);
    expect(dupes.n).toBe(0);

    // Metrics agree with the source data: spend of completed payments and sales that name a customer.
    const expectedSpent =
      dataset.square.payments.filter((p) => p.customerId && p.status === 'COMPLETED').reduce((s, p) => s + p.amountCents, 0) / 100 +
      dataset.lightspeed.sales.filter((s) => s.customerId !== 0 && s.completed && !s.voided && s.totalCents >= 0).reduce((s, x) => s + x.totalCents, 0) / 100;
    const spent = await one<{ total: string }>('SELECT sum(total_spent)::text total FROM customer_metrics');
    expect(Number(spent.total)).toBeCloseTo(expectedSpent, 2);
    const withOrders = await one<{ n: number }>('SELECT count(*)::int n FROM customer_metrics WHERE total_orders > 0 AND last_order_date IS NOT NULL');
    expect(withOrders.n).toBeGreaterThan(20);
    // Lightspeed lines carry item categories: some favourite categories are known.
    const favourites = await one<{ n: number }>('SELECT count(*)::int n FROM customer_metrics WHERE favorite_category IS NOT NULL');
    expect(favourites.n).toBeGreaterThan(0);
  });

  it('changes nothing when run again, incrementally or as a full backfill', async () => {
    const before = await snapshot();
    succeeded(await t.ingest.runConnection(square, { trigger: 'cli' }));
    succeeded(await t.ingest.runConnection(lightspeed, { trigger: 'cli' }));
    expect(await snapshot()).toEqual(before);
    succeeded(await t.ingest.runConnection(square, { trigger: 'cli', since: new Date('2020-01-01T00:00:00Z') }));
    succeeded(await t.ingest.runConnection(lightspeed, { trigger: 'cli', since: new Date('2020-01-01T00:00:00Z') }));
    expect(await snapshot()).toEqual(before);
  });

  it('picks up a refund issued after the payment on the next incremental run', async () => {
    const target = sim.control.square.store.payments.listLatest().find((p) => p.customerId && p.status === 'COMPLETED' && p.refundedCents === 0)!;
    const { refund, payment } = sim.control.square.issueRefund({ paymentId: target.id, reason: 'damaged' });
    const profile = await one<{ customer_id: string; refunded: string }>(
      `SELECT t.customer_id::text, m.total_refunded::text refunded FROM customer_transactions t JOIN customer_metrics m ON m.customer_id = t.customer_id
       WHERE t.source = 'square' AND t.transaction_id = $1`,
      [payment.id],
    );
    const run = succeeded(await t.ingest.runConnection(square, { trigger: 'schedule' }));
    expect(run.rows).toBeLessThan(20);

    const row = await one<{ refunded: number; refund_ids: string[] }>('SELECT refunded::int, refund_ids FROM warehouse.square_payments WHERE id = $1', [payment.id]);
    expect(row).toEqual({ refunded: refund.amountCents, refund_ids: [refund.id] });
    const refundRow = await one<{ profile_id: string; reason: string }>('SELECT profile_id, reason FROM warehouse.square_refunds WHERE id = $1', [refund.id]);
    expect(refundRow).toEqual({ profile_id: profile.customer_id, reason: 'damaged' });
    const after = await one<{ refunded: string }>('SELECT total_refunded::text refunded FROM customer_metrics WHERE customer_id = $1', [profile.customer_id]);
    expect(Number(after.refunded)).toBeCloseTo(Number(profile.refunded) + refund.amountCents / 100, 2);
    // The metrics change went through the outbox, so Firestore follows.
    const outbox = await one<{ n: number }>(`SELECT count(*)::int n FROM sync_logs WHERE entity_id = $1 AND 'metrics' = ANY(changed_fields)`, [profile.customer_id]);
    expect(outbox.n).toBeGreaterThan(0);
    await t.projector.drain();
    const doc = (await t.firestore.db.doc(`customers/${profile.customer_id}`).get()).data();
    expect(doc?.metrics.totalRefunded).toBeCloseTo(Number(after.refunded), 2);
  });

  it('picks up a change that became visible late, behind the checkpoint, thanks to the lookback window', async () => {
    // A payment changed now but visible only in 1.5 s (Square lists are eventually consistent)...
    sim.control.square.setFaults({ consistencyDelayMs: 1500 });
    const late = sim.control.square.addPayment({ customerId: sim.dataset.people.find((p) => p.squareCustomerId)!.squareCustomerId! });
    // ...then a later change that is visible at once moves the checkpoint past it.
    sim.control.square.setFaults({ consistencyDelayMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const early = sim.control.square.addPayment({});
    succeeded(await t.ingest.runConnection(square, { trigger: 'schedule', streams: ['payments'] }));
    const ids = async () => (await q<{ id: string }>('SELECT id FROM warehouse.square_payments WHERE id = ANY($1)', [[late.id, early.id]])).map((r) => r.id).sort();
    expect(await ids()).toEqual([early.id]);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    succeeded(await t.ingest.runConnection(square, { trigger: 'schedule', streams: ['payments'] }));
    expect(await ids()).toEqual([early.id, late.id].sort());
    const link = await one<{ customer_id: string | null }>(`SELECT customer_id FROM customer_transactions WHERE source = 'square' AND transaction_id = $1`, [late.id]);
    expect(link.customer_id).not.toBeNull();
  });

  it('resumes from its checkpoint after a run dies half-way, without loss or duplicates', async () => {
    const base = await snapshot();
    // New sales arrive; the run then dies on a persistent server error after a few pages.
    for (let i = 0; i < 250; i++) sim.control.lightspeed.addSale({});
    sim.control.lightspeed.setFaults({ serverErrors: { onRequests: [3, 4, 5, 6, 7, 8, 9, 10], status: 503 } });
    const failed = await t.ingest.runConnection(lightspeed, { trigger: 'schedule', streams: ['sales'] });
    if (failed.skipped) throw new Error('skipped');
    expect(failed.run.status).toBe('failed');
    expect(failed.run.error).toMatch(/503/);
    const partial = await one<{ n: number }>(`SELECT count(*)::int n FROM warehouse.purchases WHERE source = 'lightspeed'`);
    expect(partial.n).toBeGreaterThan((base.warehouse.find((w) => w.t === 'ls') as { n: number }).n);
    expect(partial.n).toBeLessThan(sim.dataset.lightspeed.sales.length + 250);

    sim.control.lightspeed.clearFaults();
    succeeded(await t.ingest.runConnection(lightspeed, { trigger: 'schedule', streams: ['sales'] }));
    const total = await one<{ n: number; distinct: number }>(
      `SELECT count(*)::int n, count(DISTINCT transaction_id)::int "distinct" FROM warehouse.purchases WHERE source = 'lightspeed'`,
    );
    expect(total.n).toBe(sim.control.lightspeed.store.sales.size);
    expect(total.distinct).toBe(total.n);
    const unlinked = await one<{ n: number }>(`SELECT count(*)::int n FROM customer_transactions WHERE source_customer_id IS NOT NULL AND customer_id IS NULL`);
    expect(unlinked.n).toBe(0);
  });

  it('resumes without loss or duplicates after the process is killed mid-run', async () => {
    for (let i = 0; i < 300; i++) sim.control.lightspeed.addSale({});
    sim.control.lightspeed.setFaults({ latencyMs: 60 });
    const env = { ...process.env, DATABASE_URL: t.database.url, LOG_LEVEL: 'silent', INGEST_BACKOFF_BASE_MS: '1' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/ingest.ts', 'lightspeed', '--connection', lightspeed, '--since', '2020-01-01T00:00:00Z', '--quiet'], {
      env,
      stdio: 'ignore',
    });
    let killedRun: { id: string; pages: number } | undefined;
    for (let i = 0; i < 300 && !killedRun; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      killedRun = (await q<{ id: string; pages: number }>(`SELECT id, pages FROM ingest_runs WHERE connection_id = $1 AND status = 'running' AND pages >= 3`, [lightspeed]))[0];
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(killedRun).toBeDefined();
    sim.control.lightspeed.clearFaults();

    // PostgreSQL frees the killed process's lock once it notices the dead connection; until
    // then a run is skipped, as the next scheduled tick would be.
    let resumed = await t.ingest.runConnection(lightspeed, { trigger: 'cli' });
    for (let i = 0; i < 100 && resumed.skipped; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      resumed = await t.ingest.runConnection(lightspeed, { trigger: 'cli' });
    }
    succeeded(resumed);
    const total = await one<{ n: number; distinct: number; unlinked: number }>(
      `SELECT count(*)::int n, count(DISTINCT transaction_id)::int "distinct",
              count(*) FILTER (WHERE source_customer_id IS NOT NULL AND customer_id IS NULL)::int unlinked
       FROM warehouse.purchases WHERE source = 'lightspeed'`,
    );
    expect(total.n).toBe(sim.control.lightspeed.store.sales.size);
    expect(total.distinct).toBe(total.n);
    expect(total.unlinked).toBe(0);
    const lines = await one<{ n: number }>('SELECT count(*)::int n FROM warehouse.lightspeed_sale_lines');
    expect(lines.n).toBe(sim.control.lightspeed.store.sales.listLatest().reduce((n, s) => n + s.lines.length, 0));
    // The killed run's record is closed as interrupted, not left running forever.
    const record = await one<{ status: string; error: string }>('SELECT status, error FROM ingest_runs WHERE id = $1', [killedRun!.id]);
    expect(record).toEqual({ status: 'failed', error: expect.stringMatching(/^interrupted/) });
  });

  it('survives 429 bursts, 5xx, an expired token with refresh-token rotation, and quarantines malformed rows', async () => {
    sim.control.lightspeed.addSale({});
    sim.control.square.addPayment({});
    sim.control.lightspeed.setFaults({
      rateLimitBurst: { startAt: 1, count: 2, retryAfterSeconds: 1 },
      expireTokenOnRequest: 4,
      malformedRows: { resource: 'Sale', count: 1, kind: 'invalid_value' },
    });
    sim.control.square.setFaults({ serverErrors: { onRequests: [1, 3], status: 502 }, malformedRows: { resource: 'payments', count: 1, kind: 'missing_field' } });
    const ls = succeeded(await t.ingest.runConnection(lightspeed, { trigger: 'schedule', since: new Date('2026-01-01T00:00:00Z') }));
    const sq = succeeded(await t.ingest.runConnection(square, { trigger: 'schedule', since: new Date('2026-01-01T00:00:00Z') }));
    expect(ls.quarantined).toBe(1);
    expect(sq.quarantined).toBe(1);
    const [badPayment] = sim.control.square.malformedIds();
    const squareQuarantine = await one<{ reason: string }>('SELECT reason FROM ingest_quarantine WHERE connection_id = $1 AND record_id = $2', [square, badPayment]);
    expect(squareQuarantine.reason).toMatch(/: missing|: expected/);
    const [bad] = sim.control.lightspeed.malformedIds();
    const quarantined = await one<{ stream: string; record_id: string; reason: string }>(
      `SELECT stream, record_id, reason FROM ingest_quarantine WHERE connection_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [lightspeed],
    );
    expect(quarantined).toMatchObject({ stream: 'sales', record_id: bad });
    expect(quarantined.reason).toMatch(/^[A-Za-z.0-9]+: /);
    // The rotated refresh token was stored (sealed) and is the one the fake accepts now.
    const valid = sim.control.lightspeed.validRefreshTokens();
    expect(valid).toHaveLength(1);
    const stored = await one<{ credentials: string }>('SELECT credentials FROM pos_connections WHERE id = $1', [lightspeed]);
    expect(stored.credentials).not.toContain(valid[0]);
    sim.control.lightspeed.clearFaults();
    sim.control.lightspeed.expireAccessTokens();
    succeeded(await t.ingest.runConnection(lightspeed, { trigger: 'schedule' }));
    sim.control.square.clearFaults();
  });

  it('fails a run at once with a clear message when Square rejects the token', async () => {
    sim.control.square.expireToken();
    const started = Date.now();
    const outcome = await t.ingest.runConnection(square, { trigger: 'schedule' });
    if (outcome.skipped) throw new Error('skipped');
    expect(outcome.run.status).toBe('failed');
    expect(outcome.run.error).toMatch(/Square rejected the access token \(401/);
    expect(outcome.run.error).not.toContain(sim.square.token);
    expect(Date.now() - started).toBeLessThan(5000);
    const attempts = sim.control.square.requestLog().filter((r) => r.status === 401).length;
    expect(attempts).toBe(1);
    await t.ingest.updateConnection(square, { apiUrl: sim.square.url, credentials: { accessToken: sim.control.square.renewToken() } });
    succeeded(await t.ingest.runConnection(square, { trigger: 'schedule' }));
  });

  it('skips a run while another instance holds the connection lock', async () => {
    const client = await t.database.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [ADVISORY_LOCKS.ingest, square]);
      const runsBefore = await one<{ n: number }>('SELECT count(*)::int n FROM ingest_runs');
      const outcome = await t.ingest.runConnection(square, { trigger: 'schedule' });
      expect(outcome).toEqual({ skipped: true, connectionId: square });
      expect(await one('SELECT count(*)::int n FROM ingest_runs')).toEqual(runsBefore);
    } finally {
      await client.query('SELECT pg_advisory_unlock_all()');
      client.release();
    }
  });

  it('reports runs and per-source status through the API, to admins and analysts of the business only', async () => {
    const h = { Authorization: `Bearer ${business.token}` };
    const runs = await request(t.app).get('/api/v1/ingest/runs?limit=3').set(h).expect(200);
    expect(runs.body.data).toHaveLength(3);
    expect(runs.body.meta.nextCursor).toEqual(expect.any(String));
    const next = await request(t.app).get(`/api/v1/ingest/runs?limit=3&cursor=${runs.body.meta.nextCursor}`).set(h).expect(200);
    expect(next.body.data[0].id).not.toBe(runs.body.data[2].id);
    const status = await request(t.app).get('/api/v1/ingest/status').set(h).expect(200);
    const bySource = Object.fromEntries(status.body.data.map((s: { source: string }) => [s.source, s]));
    expect(bySource.square).toMatchObject({ connections: 1, linkedPct: 100, lastRun: { status: 'succeeded' } });
    expect(bySource.lightspeed).toMatchObject({ connections: 1, linkedPct: 100, quarantined: 1 });
    expect(bySource.lightspeed.lagSeconds).toBeLessThan(120);

    await request(t.app).get('/api/v1/ingest/runs?source=paypal').set(h).expect(400);
    await request(t.app).get('/api/v1/ingest/status').set({ Authorization: `Bearer ${t.tokenFor(business.id, 'staff')}` }).expect(403);
    const other = await t.newBusiness('Other shop');
    const foreign = await request(t.app).get('/api/v1/ingest/runs').set({ Authorization: `Bearer ${other.token}` }).expect(200);
    expect(foreign.body.data).toEqual([]);
  });
});
