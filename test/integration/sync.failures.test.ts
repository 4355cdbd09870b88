// Failures between PostgreSQL and Firestore: Firestore unreachable while the API keeps writing,
// and a projector killed with SIGKILL half-way. In both cases Firestore converges afterwards,
// with nothing lost and nothing duplicated.
import { spawn } from 'node:child_process';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEmulator, type EmbeddedEmulator } from '../../src/firestore/embedded-emulator.js';
import { connectToEmulator } from '../../src/firestore/firestore.client.js';
import { buildCustomer } from '../support/builders.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const PROJECT = 'demo-failures';
let emulator: EmbeddedEmulator;
let proxy: TcpProxy;
let t: TestApp;
let h: { Authorization: string };

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  const [host, port] = emulator.host.split(':') as [string, string];
  proxy = await startTcpProxy({ host, port: Number(port) });
  t = await createTestApp({
    firestore: connectToEmulator(proxy.host, PROJECT),
    env: {
      SYNC_IN_PROCESS: 'false',
      SYNC_FIRESTORE_TIMEOUT_MS: '1500',
      SYNC_BACKOFF_BASE_MS: '10',
      SYNC_BACKOFF_MAX_MS: '100',
      SYNC_MAX_ATTEMPTS: '100',
      SYNC_WAIT_TIMEOUT_MS: '300',
    },
  });
  const b = await t.newBusiness();
  h = { Authorization: `Bearer ${b.token}` };
});
afterAll(async () => {
  await t.close();
  await proxy.close();
  emulator.stop();
});

async function statuses(): Promise<Record<string, number>> {
  const { rows } = await t.database.pool.query('SELECT firestore_status AS s, count(*)::int AS n FROM sync_logs GROUP BY 1');
  return Object.fromEntries(rows.map((r: { s: string; n: number }) => [r.s, r.n]));
}

async function drainUntilConverged(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await t.projector.drain();
    const s = await statuses();
    if (!s.pending && !s.failed) return;
    if (Date.now() > deadline) throw new Error(`not converged: ${JSON.stringify(s)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function expectNoDrift(): Promise<void> {
  const report = await t.reconciler.run({ fix: false });
  expect(report.drift).toMatchObject({
    missing: { count: 0 },
    orphan: { count: 0 },
    stale: { count: 0 },
    mismatch: { count: 0 },
    subcollection: { count: 0 },
  });
}

describe('Firestore unavailable', () => {
  it('keeps accepting writes, holds them in the outbox, and converges when Firestore returns', async () => {
    const first = await request(t.app).post('/api/v1/customers').set(h).send(buildCustomer()).expect(201);
    await t.projector.drain();

    proxy.cut();
    const ids: string[] = [first.body.data.id];
    for (let i = 0; i < 5; i++) {
      const res = await request(t.app).post('/api/v1/customers').set(h).send(buildCustomer()).expect(201);
      ids.push(res.body.data.id);
    }
    const updated = await request(t.app).patch(`/api/v1/customers/${ids[0]}?wait=sync`).set(h).send({ status: 'vip' }).expect(200);
    // The write is committed in PostgreSQL; the response says Firestore has not caught up.
    expect(updated.body.meta).toMatchObject({ changed: true, sync: 'pending', version: 2 });

    const failedRun = await t.projector.runOnce();
    expect(failedRun.failed).toBeGreaterThan(0);
    expect(failedRun.projected).toBe(0);
    const during = await statuses();
    expect(during.completed).toBe(1);
    expect((during.failed ?? 0) + (during.pending ?? 0)).toBe(6);
    const { rows } = await t.database.pool.query("SELECT max(retry_count)::int AS r FROM sync_logs WHERE firestore_status = 'failed'");
    expect(rows[0].r).toBeGreaterThanOrEqual(1);

    proxy.restore();
    await drainUntilConverged(60_000);
    await expectNoDrift();
    const doc = await t.firestore.db.doc(`customers/${ids[0]}`).get();
    expect(doc.data()).toMatchObject({ status: 'vip', _sync: { version: 2 } });
    for (const id of ids) expect((await t.firestore.db.doc(`customers/${id}`).get()).exists).toBe(true);
  });
});

describe('projector killed mid-run', () => {
  it('converges after a SIGKILL and a restart, without duplicates', async () => {
    for (let i = 0; i < 150; i++) {
      await t.sync.syncCustomer(
        null,
        buildCustomer({ activities: Array.from({ length: 4 }, (_, k) => ({ activityType: 'page_view', eventData: { k } })) }),
        { businessId: (await t.database.pool.query('SELECT id FROM businesses LIMIT 1')).rows[0].id },
      );
    }
    // node itself (with tsx as a loader), so SIGKILL reaches the projector and not a wrapper.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/projector-child.ts', t.database.url, emulator.host, PROJECT], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // Kill it as soon as it has projected something, well before it could finish.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await statuses();
      if ((s.completed ?? 0) > 15) break;
      if (Date.now() > deadline) throw new Error('child projector made no progress');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const afterKill = await statuses();
    expect(afterKill.pending ?? 0).toBeGreaterThan(0);

    await drainUntilConverged(120_000);
    await expectNoDrift();
    const { rows } = await t.database.pool.query(
      'SELECT c.id, count(a.id)::int AS n FROM customers c LEFT JOIN customer_activities a ON a.customer_id = c.id GROUP BY c.id',
    );
    for (const row of rows.slice(0, 20) as { id: string; n: number }[]) {
      const snap = await t.firestore.db.collection(`customers/${row.id}/activities`).get();
      expect(snap.size).toBe(row.n);
    }
  }, 240_000);
});
