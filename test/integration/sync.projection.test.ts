// The projector against real PostgreSQL and the in-process Firestore emulator: Firestore ends
// equal to the projection of the PostgreSQL aggregate, writes only what changed, never moves a
// version backwards, and isolates a poison customer.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadAggregate } from '../../src/customers/customers.repository.js';
import { mapCustomer } from '../../src/sync/firestore-mapping.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let h: { Authorization: string };

beforeAll(async () => {
  // The projector is driven by the tests (drain), not woken by each commit.
  t = await createTestApp({ env: { SYNC_IN_PROCESS: 'false', SYNC_BACKOFF_BASE_MS: '10', SYNC_BACKOFF_MAX_MS: '20', SYNC_MAX_ATTEMPTS: '3' } });
  const b = await t.newBusiness();
  h = { Authorization: `Bearer ${b.token}` };
});
afterAll(() => t.close());
beforeEach(() => {
  t.writer.rpcs = { commits: 0, reads: 0, queries: 0, writes: 0 };
});

const fsDoc = async (path: string) => (await t.firestore.db.doc(path).get()).data();
const fsIds = async (path: string) => (await t.firestore.db.collection(path).get()).docs.map((d) => d.id).sort();

async function create(body = buildCustomer()) {
  const res = await request(t.app).post('/api/v1/customers').set(h).send(body).expect(201);
  return res.body.data.id as string;
}

async function expectProjected(id: string) {
  const aggregate = (await loadAggregate(t.database.handle.db, id))!;
  const expected = mapCustomer(aggregate);
  const main = await fsDoc(`customers/${id}`);
  const pii = await fsDoc(`customers/${id}/private/pii`);
  const state = await fsDoc(`syncState/${id}`);
  expect(state?.version).toBe(aggregate.version);
  expect(state?.hashes.main).toBe(expected.main.hash);
  expect(main?._sync.hash).toBe(expected.main.hash);
  expect(pii?._sync.hash).toBe(expected.pii.hash);
  expect(main).toMatchObject({ id, businessIds: aggregate.businessIds, status: aggregate.status, tags: aggregate.tags });
  expect(pii).toMatchObject({ email: aggregate.email, firstName: aggregate.firstName, phoneNormalized: aggregate.phoneNormalized });
  expect(await fsIds(`customers/${id}/addresses`)).toEqual(aggregate.addresses.map((a) => a.id).sort());
  expect(await fsIds(`customers/${id}/ipAddresses`)).toEqual(aggregate.ipAddresses.map((a) => a.id).sort());
  const { rows } = await t.database.pool.query('SELECT id FROM customer_activities WHERE customer_id = $1 ORDER BY id', [id]);
  expect(await fsIds(`customers/${id}/activities`)).toEqual(rows.map((r: { id: string }) => r.id).sort());
  return { main: main!, pii: pii!, aggregate };
}

describe('projection', () => {
  it('projects create, update and soft delete so Firestore equals the PostgreSQL aggregate', async () => {
    const id = await create();
    const run = await t.projector.drain();
    expect(run.projected).toBe(1);
    const { main } = await expectProjected(id);
    // The list document holds no PII; the PII document does.
    expect(main).not.toHaveProperty('email');
    expect(main).not.toHaveProperty('firstName');
    expect(JSON.stringify(main)).not.toContain('Doheny');

    await request(t.app)
      .patch(`/api/v1/customers/${id}`)
      .set(h)
      .send({ status: 'vip', addresses: [{ addressLine1: '1 New St', city: 'Paris', country: 'France', countryCode: 'FR' }], activities: [{ activityType: 'purchase' }] })
      .expect(200);
    await t.projector.drain();
    const updated = await expectProjected(id);
    expect(updated.main.status).toBe('vip');

    await request(t.app).delete(`/api/v1/customers/${id}`).set(h).expect(200);
    await t.projector.drain();
    const deleted = await expectProjected(id);
    expect(deleted.main.deletedAt).not.toBeNull();

    const { rows } = await t.database.pool.query("SELECT DISTINCT firestore_status FROM sync_logs WHERE entity_id = $1", [id]);
    expect(rows).toEqual([{ firestore_status: 'completed' }]);
  });

  it('writes only the documents whose content changed, and nothing for a repeated projection', async () => {
    const id = await create();
    await t.projector.drain();
    const before = await fsDoc(`customers/${id}/private/pii`);

    // Only an address changes: the PII document is not written again (the list document is: its
    // updatedAt moved, and the admin list sorts by it).
    await request(t.app)
      .patch(`/api/v1/customers/${id}`)
      .set(h)
      .send({ addresses: [{ addressLine1: '2 Other St', city: 'Lyon', country: 'France', countryCode: 'FR' }] })
      .expect(200);
    t.writer.rpcs.writes = 0;
    await t.projector.drain();
    const after = await fsDoc(`customers/${id}/private/pii`);
    expect(after?._sync.syncedAt.toMillis()).toBe(before?._sync.syncedAt.toMillis());
    // the list document, one address set, one address deleted, the sync state
    expect(t.writer.rpcs.writes).toBe(4);

    // The same version again (a duplicate outbox row): nothing is written at all.
    const version = (await loadAggregate(t.database.handle.db, id))!.version;
    await t.database.pool.query(
      "INSERT INTO sync_logs (entity_type, entity_id, operation, entity_version, content_hash) VALUES ('customer', $1, 'update', $2, 'x')",
      [id, version],
    );
    t.writer.rpcs = { commits: 0, reads: 0, queries: 0, writes: 0 };
    const run = await t.projector.drain();
    expect(run.projected).toBe(1);
    expect(t.writer.rpcs.writes).toBe(0);
    expect(t.writer.rpcs.commits).toBe(0);
  });

  it('never lets an older version overwrite a newer one', async () => {
    const id = await create();
    await request(t.app).patch(`/api/v1/customers/${id}`).set(h).send({ tags: ['newer'] }).expect(200);
    await t.projector.drain();
    // A stale outbox row for version 1 arrives late.
    await t.database.pool.query(
      "INSERT INTO sync_logs (entity_type, entity_id, operation, entity_version, content_hash) VALUES ('customer', $1, 'update', 1, 'x')",
      [id],
    );
    await t.projector.drain();
    const main = await fsDoc(`customers/${id}`);
    expect(main?.tags).toEqual(['newer']);
    expect((await fsDoc(`syncState/${id}`))?.version).toBe(2);
  });

  it('batches several customers into one commit', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => create()));
    t.writer.rpcs = { commits: 0, reads: 0, queries: 0, writes: 0 };
    await t.projector.drain();
    // 20 customers × (main, pii, address, ip, activity, state) = 120 writes: one commit.
    expect(t.writer.rpcs.commits).toBe(1);
    expect(t.writer.rpcs.writes).toBe(120);
    for (const id of ids.slice(0, 3)) await expectProjected(id);
  });

  it('deletes the documents and subcollections of a customer removed from PostgreSQL', async () => {
    const id = await create();
    await t.projector.drain();
    expect(await fsIds(`customers/${id}/addresses`)).toHaveLength(1);
    await t.database.pool.query('DELETE FROM customers WHERE id = $1', [id]);
    await t.database.pool.query(
      "INSERT INTO sync_logs (entity_type, entity_id, operation, entity_version, content_hash) VALUES ('customer', $1, 'purge', 0, '')",
      [id],
    );
    await t.projector.drain();
    expect(await fsDoc(`customers/${id}`)).toBeUndefined();
    expect(await fsDoc(`customers/${id}/private/pii`)).toBeUndefined();
    expect(await fsDoc(`syncState/${id}`)).toBeUndefined();
    for (const sub of ['addresses', 'ipAddresses', 'activities']) expect(await fsIds(`customers/${id}/${sub}`)).toEqual([]);
  });

  it('sends a poison customer to dead without holding back the others', async () => {
    const poison = await create();
    const healthy = await Promise.all([create(), create()]);
    // Over Firestore's 1 MiB document limit.
    await t.database.pool.query(`UPDATE customers SET custom_attributes = jsonb_build_object('blob', repeat('x', 1100000)) WHERE id = $1`, [poison]);
    await t.projector.drain();
    const { rows } = await t.database.pool.query(
      'SELECT entity_id, firestore_status, error_message FROM sync_logs WHERE entity_id = ANY($1)',
      [[poison, ...healthy]],
    );
    const byId = new Map(rows.map((r: { entity_id: string; firestore_status: string; error_message: string | null }) => [r.entity_id, r]));
    expect(byId.get(poison)).toMatchObject({ firestore_status: 'dead' });
    expect(byId.get(poison)?.error_message).toMatch(/1 MiB/);
    for (const id of healthy) {
      expect(byId.get(id)).toMatchObject({ firestore_status: 'completed' });
      await expectProjected(id);
    }
  });

  it('answers a write with ?wait=sync only after Firestore has it', async () => {
    const waiting = await createTestApp({ env: { SYNC_IN_PROCESS: 'true', SYNC_WAIT_TIMEOUT_MS: '5000' } });
    try {
      const b = await waiting.newBusiness();
      const res = await request(waiting.app)
        .post('/api/v1/customers?wait=sync')
        .set({ Authorization: `Bearer ${b.token}` })
        .send(buildCustomer({ activities: [{ id: randomUUID(), activityType: 'signup' }] }))
        .expect(201);
      expect(res.body.meta.sync).toBe('completed');
      const doc = await waiting.firestore.db.doc(`customers/${res.body.data.id}`).get();
      expect(doc.data()?._sync.version).toBe(1);
    } finally {
      await waiting.projector.stop();
      await waiting.close();
    }
  });
});
