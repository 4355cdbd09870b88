// Reconciliation finds each injected drift class exactly, repairs all of them through the outbox,
// and a second run finds nothing. Also through the CLI (`npm run reconcile`), whose exit code
// says whether drift was found.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedEmulator, type EmbeddedEmulator } from '../../src/firestore/embedded-emulator.js';
import { connectToEmulator } from '../../src/firestore/firestore.client.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);
const PROJECT = 'demo-reconcile';
let emulator: EmbeddedEmulator;
let t: TestApp;

beforeAll(async () => {
  emulator = await startEmbeddedEmulator();
  t = await createTestApp({ firestore: connectToEmulator(emulator.host, PROJECT), env: { SYNC_IN_PROCESS: 'false' } });
});
afterAll(async () => {
  await t.close();
  emulator.stop();
});

async function cli(...args: string[]): Promise<{ code: number; report: { driftCount: number; drift: Record<'missing' | 'orphan', { count: number }> } }> {
  const env = { ...process.env, DATABASE_URL: t.database.url, FIRESTORE_EMULATOR_HOST: emulator.host, GOOGLE_CLOUD_PROJECT: PROJECT, LOG_LEVEL: 'silent' };
  const out = await run(process.execPath, ['--import', 'tsx', 'scripts/reconcile.ts', '--json', ...args], { env }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
  return { code: out.code, report: JSON.parse(out.stdout.trim().split('\n').pop()!) };
}

describe('reconcile', () => {
  it('reports each drift class exactly, repairs them, and then finds none', async () => {
    const b = await t.newBusiness();
    const h = { Authorization: `Bearer ${b.token}` };
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await request(t.app).post('/api/v1/customers').set(h).send(buildCustomer()).expect(201)).body.data.id);
    await t.projector.drain();
    expect((await t.reconciler.run({ fix: false })).driftCount).toBe(0);

    const [missing, mismatch, stale, subcollection, piiMismatch] = ids as [string, string, string, string, string];
    const db = t.firestore.db;
    await db.doc(`customers/${missing}`).delete();
    await db.doc(`customers/${mismatch}`).update({ status: 'blocked' });
    await db.doc(`syncState/${stale}`).update({ version: 0 });
    const address = (await db.collection(`customers/${subcollection}/addresses`).get()).docs[0]!;
    await address.ref.delete();
    await db.doc(`customers/${piiMismatch}/private/pii`).update({ email: 'tampered@example.com' });
    const orphan = randomUUID();
    await db.doc(`customers/${orphan}`).set({ id: orphan, businessIds: [b.id], status: 'active' });

    const report = await t.reconciler.run({ fix: false });
    expect(report.drift.missing.ids).toEqual([missing]);
    expect(report.drift.orphan.ids).toEqual([orphan]);
    expect(report.drift.stale.ids).toEqual([stale]);
    expect(report.drift.mismatch.ids.sort()).toEqual([mismatch, piiMismatch].sort());
    expect(report.drift.subcollection.ids).toEqual([subcollection]);
    expect(report.driftCount).toBe(6);
    const { rows } = await t.database.pool.query('SELECT status, drift_count, fix FROM reconcile_runs WHERE id = $1', [report.runId]);
    expect(rows[0]).toEqual({ status: 'completed', drift_count: 6, fix: false });

    const fixing = await t.reconciler.run({ fix: true });
    expect(fixing.fixed).toBe(6);
    await t.projector.drain();
    const after = await t.reconciler.run({ fix: false });
    expect(after.driftCount).toBe(0);
    expect((await db.doc(`customers/${orphan}`).get()).exists).toBe(false);
    expect((await db.doc(`customers/${mismatch}`).get()).data()?.status).toBe('active');
  });

  it('exits non-zero from the command line when drift is found, and 0 after --fix', async () => {
    const b = await t.newBusiness('CLI');
    const res = await request(t.app).post('/api/v1/customers').set({ Authorization: `Bearer ${b.token}` }).send(buildCustomer()).expect(201);
    // Never projected: missing in Firestore.
    const found = await cli();
    expect(found.code).toBe(1);
    expect(found.report.drift.missing.count).toBeGreaterThanOrEqual(1);
    const fixed = await cli('--fix');
    expect(fixed.code).toBe(1); // drift was found (and repaired) in this run
    const clean = await cli();
    expect(clean.code).toBe(0);
    expect(clean.report.driftCount).toBe(0);
    expect((await t.firestore.db.doc(`customers/${res.body.data.id}`).get()).exists).toBe(true);
  }, 60_000);
});
