// Several writers update the same customers while two projectors run: every document ends at the
// final PostgreSQL version and no listener ever sees a version go backwards.
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirestoreWriter } from '../../src/firestore/firestore-writer.js';
import { SyncProjector } from '../../src/sync/sync-projector.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { SYNC_IN_PROCESS: 'false' } });
});
afterAll(() => t.close());

describe('concurrent writers and two projectors', () => {
  it('ends every customer at its final version, never going backwards', async () => {
    const b = await t.newBusiness();
    const h = { Authorization: `Bearer ${b.token}` };
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push((await request(t.app).post('/api/v1/customers').set(h).send(buildCustomer()).expect(201)).body.data.id);
    }

    // Every version each listener sees, in the order Firestore delivers them.
    const seen = new Map<string, number[]>(ids.map((id) => [id, []]));
    const unsubscribe = ids.map((id) =>
      t.firestore.db.doc(`customers/${id}`).onSnapshot((snap) => {
        const v = snap.data()?._sync?.version as number | undefined;
        if (v !== undefined) seen.get(id)!.push(v);
      }),
    );

    const options = { batchSize: 5, retry: { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 50 } };
    const projectors = [0, 1].map(
      () => new SyncProjector(t.database.handle.db, new FirestoreWriter(t.firestore.db), options, pino({ level: 'silent' })),
    );
    const projectedBy = [0, 0];
    projectors.forEach((p, i) => p.onProjected(() => (projectedBy[i]! += 1)));
    projectors.forEach((p) => p.start(15));

    // 4 writers × 12 updates, each changing the list document (tags), on overlapping customers.
    await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        for (let n = 0; n < 12; n++) {
          const id = ids[(w + n) % ids.length]!;
          await request(t.app).patch(`/api/v1/customers/${id}`).set(h).send({ tags: [`w${w}-n${n}`] }).expect(200);
        }
      }),
    );

    const deadline = Date.now() + 60_000;
    for (;;) {
      const { rows } = await t.database.pool.query("SELECT count(*)::int AS n FROM sync_logs WHERE firestore_status IN ('pending', 'failed')");
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error('projectors did not drain');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(projectors.map((p) => p.stop()));
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the last snapshots arrive
    unsubscribe.forEach((u) => u());

    // Both projectors did part of the work.
    expect(projectedBy[0]).toBeGreaterThan(0);
    expect(projectedBy[1]).toBeGreaterThan(0);
    const { rows } = await t.database.pool.query('SELECT id, version::int AS v, tags FROM customers WHERE id = ANY($1)', [ids]);
    for (const row of rows as { id: string; v: number; tags: string[] }[]) {
      const doc = (await t.firestore.db.doc(`customers/${row.id}`).get()).data();
      expect(doc?._sync.version).toBe(row.v);
      expect(doc?.tags).toEqual(row.tags);
      expect((await t.firestore.db.doc(`syncState/${row.id}`).get()).data()?.version).toBe(row.v);
      const versions = seen.get(row.id)!;
      expect(versions.length).toBeGreaterThan(0);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    }
  }, 120_000);
});
