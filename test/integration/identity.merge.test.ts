// Merge and undo against real PostgreSQL and the in-process Firestore emulator: what moves to the
// survivor, the survivorship rule with its source ranking, metrics, segments, preferences, the
// merged-away customer's Firestore document, and an undo that restores both customers exactly
// (PostgreSQL aggregates and Firestore documents), keeps what the survivor gained afterwards,
// and is refused twice or after 30 days.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadAggregate, type CustomerAggregate } from '../../src/customers/customers.repository.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());
afterEach(() => {
  vi.useRealTimers();
});

type Business = { id: string; token: string };

async function q<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await t.database.pool.query(text, params)).rows as T[];
}

async function create(b: Business, overrides: Record<string, unknown>): Promise<string> {
  const res = await request(t.app).post('/api/v1/customers').set(auth(b.token)).send(buildCustomer(overrides)).expect(201);
  return res.body.data.id as string;
}

const address = (line1: string, isDefault: boolean) => ({
  addressType: 'shipping',
  isDefault,
  addressLine1: line1,
  city: 'Portland',
  country: 'United States',
  countryCode: 'US',
  postalCode: '97201',
});
const activity = (type: string, at: string) => ({ id: randomUUID(), activityType: type, eventData: { n: type }, occurredAt: at });
const order = (orderId: string, amount: number) => ({
  orderId,
  amount,
  currency: 'usd',
  purchasedAt: '2026-03-01T10:00:00Z',
  items: [{ itemId: `i-${orderId}`, name: 'Teapot', category: 'Tea', quantity: 1, unitPrice: amount }],
});

async function purchase(b: Business, customerId: string, orderId: string, amount: number) {
  await request(t.app).post(`/api/memory/purchase/${customerId}`).set(auth(b.token)).send(order(orderId, amount)).expect(201);
}

/**
 * Two records of one person: the survivor known from Square (trusted) and created first; the
 * other from Lightspeed (less trusted) with newer values, a name the survivor lacks, its own
 * address and a copy of the survivor's, a shared and an own IP address, activities, a purchase,
 * preferences, a memory interaction and a hand-assigned (static) segment.
 */
async function seedPair(b: Business) {
  const n = randomUUID().slice(0, 8);
  const survivor = await create(b, {
    email: `ann.${n}@example.com`,
    phone: '+14155550101',
    firstName: 'Ann',
    lastName: null,
    dateOfBirth: null,
    tags: ['vip'],
    sources: [{ source: 'square', externalId: `sq-${n}` }],
    addresses: [address('1 River Rd', true)],
    ipAddresses: [{ ipAddress: '10.0.0.1' }],
    activities: [activity('store_visit', '2026-01-05T10:00:00Z')],
    demographics: { gender: null, occupation: 'Nurse', interests: ['running'] },
  });
  const merged = await create(b, {
    email: `annie.${n}@example.com`,
    phone: null,
    firstName: 'Annie',
    lastName: 'Lee',
    dateOfBirth: '1990-05-01',
    tags: ['online'],
    sources: [{ source: 'lightspeed', externalId: `ls-${n}` }],
    addresses: [address('9 Hill St', true), address('1 River Rd', false)],
    ipAddresses: [{ ipAddress: '10.0.0.1' }, { ipAddress: '10.0.0.2' }],
    activities: [activity('product_view', '2026-01-06T10:00:00Z'), activity('cart_add', '2026-01-07T10:00:00Z')],
    demographics: { gender: 'female', occupation: 'Teacher', interests: ['books'] },
  });
  await purchase(b, survivor, `s-${n}`, 60);
  await purchase(b, merged, `m-${n}`, 70);
  await request(t.app).put(`/api/v1/customers/${merged}/preferences`).set(auth(b.token)).send({ emailMarketing: false, frequency: 'WEEKLY_DIGEST' }).expect(200);
  await request(t.app)
    .post('/api/memory/learn')
    .set(auth(b.token))
    .send({ customerId: merged, sessionId: `s-${n}`, message: 'Is the teapot back?', channel: 'chat' })
    .expect(201);
  // Hand-assigned membership (a static segment), then a write so the projection includes it.
  const [segment] = await q<{ id: string }>(
    "INSERT INTO customer_segments (business_id, name, kind, criteria) VALUES ($1, $2, 'static', NULL) RETURNING id::text",
    [b.id, `Hand picked ${n}`],
  );
  await q('INSERT INTO customer_segment_assignments (segment_id, customer_id, business_id) VALUES ($1, $2, $3)', [segment!.id, merged, b.id]);
  await request(t.app).patch(`/api/v1/customers/${merged}`).set(auth(b.token)).send({ notes: 'prefers email' }).expect(200);
  await t.projector.drain();
  return { survivor, merged, staticSegment: segment!.id, survivorOrder: `s-${n}` };
}

const merge = (b: Business, survivor: string, body: Record<string, unknown>, token = b.token) =>
  request(t.app).post(`/api/v1/customers/${survivor}/merge`).set(auth(token)).send(body);

async function aggregate(id: string): Promise<CustomerAggregate> {
  return (await loadAggregate(t.database.handle.db, id))!;
}

/**
 * The aggregate as undo must restore it. Left out: the root's `version` (only ever grows: the
 * undo is a new change) and `updatedAt` (when the row last changed: the undo changed it).
 */
function comparable(a: CustomerAggregate) {
  const { version: _v, updatedAt: _u, ...rest } = a;
  return rest;
}

/** Rows outside the aggregate that a merge moves, per customer. */
async function ownedRows(id: string) {
  return {
    transactions: await q('SELECT business_id, source, transaction_id, amount::text FROM customer_transactions WHERE customer_id = $1 ORDER BY transaction_id', [id]),
    interactions: await q('SELECT id FROM memory_interactions WHERE customer_id = $1 ORDER BY id', [id]),
    activities: await q('SELECT id, created_at FROM customer_activities WHERE customer_id = $1 ORDER BY id', [id]),
    tierHistory: await q('SELECT id, new_tier FROM customer_tier_history WHERE customer_id = $1 ORDER BY id', [id]),
  };
}

/** The customer's Firestore documents, without `_sync` and `updatedAt` (bookkeeping of the projection and the row). */
async function firestoreOf(id: string) {
  const strip = (data: Record<string, unknown> | undefined) => {
    if (!data) return undefined;
    const { _sync: _s, updatedAt: _u, ...rest } = data;
    return rest;
  };
  const db = t.firestore.db;
  const sub = async (name: string) =>
    Object.fromEntries((await db.collection(`customers/${id}/${name}`).get()).docs.map((d) => [d.id, strip(d.data())]));
  return {
    main: strip((await db.doc(`customers/${id}`).get()).data()),
    pii: strip((await db.doc(`customers/${id}/private/pii`).get()).data()),
    addresses: await sub('addresses'),
    ipAddresses: await sub('ipAddresses'),
    activities: await sub('activities'),
  };
}

describe('POST /customers/:id/merge', () => {
  let b: Business;
  beforeAll(async () => {
    b = await t.newBusiness('Merges');
  });

  it('moves everything to the survivor, follows the source ranking, recomputes metrics and removes the merged customer’s document', async () => {
    const { survivor, merged, staticSegment } = await seedPair(b);
    // A dynamic segment only the two together qualify for (60 + 70 spent).
    const seg = await request(t.app)
      .post('/api/v1/segments')
      .set(auth(b.token))
      .send({ name: `Over 100 ${survivor.slice(0, 6)}`, criteria: { operator: 'AND', rules: [{ field: 'totalSpent', operator: 'greater_than', value: 100 }] } })
      .expect(201);
    const dynamicSegment = seg.body.data.id as string;
    const before = { survivor: await aggregate(survivor), merged: await aggregate(merged) };
    expect(before.survivor.standing[0]!.segmentIds).not.toContain(dynamicSegment);

    const res = await merge(b, survivor, { sourceId: merged, reason: 'same person at two tills' }, t.tokenFor(b.id, 'staff')).expect(201);
    expect(res.headers.location).toBe(`/api/v1/merges/${res.body.data.merge.id}`);
    const { merge: record, customer } = res.body.data;
    expect(record).toMatchObject({ survivorId: survivor, mergedId: merged, mergedBy: 'test-staff', reason: 'same person at two tills', status: 'active', undoneAt: null });
    expect(record).not.toHaveProperty('snapshot');
    expect(Date.parse(record.undoUntil) - Date.parse(record.createdAt)).toBe(30 * 86_400_000);

    // Survivorship (ranking manual, square, lightspeed, import): the Square record is trusted.
    const decision = (f: string) => (record.decisions.fields as { field: string }[]).find((d) => d.field === f);
    expect(record.decisions.sources).toEqual({ survivor: 'square', merged: 'lightspeed' });
    expect(customer.firstName).toBe('Ann'); // the lightspeed value is newer, the square one trusted
    expect(decision('firstName')).toMatchObject({ rule: 'most-trusted-source', from: 'survivor', source: 'square' });
    expect(customer.lastName).toBe('Lee'); // the trusted record has none
    expect(decision('lastName')).toMatchObject({ rule: 'only-value', from: 'merged', source: 'lightspeed' });
    expect(customer.dateOfBirth).toBe('1990-05-01');
    expect(customer.email).toBe(before.survivor.email);
    expect(customer.phone).toBe('+14155550101');
    expect(customer.tags.sort()).toEqual(['online', 'vip']);
    expect(customer.demographics).toMatchObject({ gender: 'female', occupation: 'Nurse', interests: ['running', 'books'] });
    expect(JSON.stringify(record.decisions)).not.toContain('@example.com');

    // Everything moved, what the survivor already had once.
    const after = await aggregate(survivor);
    expect(after.sources.map((s) => s.source).sort()).toEqual(['lightspeed', 'square']);
    expect(after.addresses.map((a) => a.addressLine1).sort()).toEqual(['1 River Rd', '9 Hill St']);
    expect(after.addresses.filter((a) => a.isDefault)).toHaveLength(1);
    expect(after.ipAddresses.map((ip) => ip.ipAddress).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(after.activities.map((a) => a.activityType).sort()).toEqual(['cart_add', 'product_view', 'store_visit']);
    expect(after.standing[0]!.preferences).toMatchObject({ emailMarketing: false, frequency: 'WEEKLY_DIGEST' });
    expect(after.standing[0]!.segmentIds.sort()).toEqual([dynamicSegment, staticSegment].sort());
    expect(record.decisions.moved).toMatchObject({ sources: 1, addresses: 1, addressesAlreadyHeld: 1, ipAddresses: 1, ipAddressesAlreadyHeld: 1, activities: 2, transactions: 1, memoryInteractions: 1, staticSegments: 1 });
    expect((await ownedRows(survivor)).transactions).toHaveLength(2);
    expect((await ownedRows(survivor)).interactions).toHaveLength(1);
    expect(after.metrics).toMatchObject({ totalOrders: 2, completedOrders: 2, totalSpent: 130, averageOrderValue: 65 });

    // The merged customer is a tombstone pointing at the survivor: GET answers 404, no list shows it.
    await request(t.app).get(`/api/v1/customers/${merged}`).set(auth(b.token)).expect(404);
    await request(t.app).get(`/api/v1/customers/${merged}?includeDeleted=true`).set(auth(b.token)).expect(404);
    const gone = await aggregate(merged);
    expect(gone).toMatchObject({ mergedIntoId: survivor, standing: [{ segmentIds: [] }] });
    expect(gone.deletedAt).not.toBeNull();
    const list = await request(t.app).get('/api/v1/customers?limit=200').set(auth(b.token)).expect(200);
    expect(list.body.data.map((c: { id: string }) => c.id)).not.toContain(merged);

    const events = await q<{ customer_id: string; event_type: string; payload: Record<string, unknown> }>(
      "SELECT customer_id::text, event_type, payload FROM domain_events WHERE event_type = 'customers.customer.merged' AND customer_id = ANY($1::uuid[]) ORDER BY id",
      [[survivor, merged]],
    );
    expect(events.map((e) => e.customer_id).sort()).toEqual([survivor, merged].sort());
    // Ids only: either event leads to the merge and the other customer.
    const payloadOf = (id: string) => events.find((e) => e.customer_id === id)!.payload;
    expect(payloadOf(survivor)).toEqual({ mergeId: record.id, survivorId: survivor, mergedId: merged, changedFields: expect.arrayContaining(['lastName', 'activities']) });
    expect(payloadOf(merged)).toEqual({ mergeId: record.id, survivorId: survivor, mergedId: merged, changedFields: ['mergedIntoId', 'deletedAt'] });
    expect(JSON.stringify(events)).not.toMatch(/@|Ann|Lee/);

    // Firestore: the merged customer's document and subcollections are gone, the survivor shows the merged data.
    await t.projector.drain();
    const fsMerged = await firestoreOf(merged);
    expect(fsMerged).toEqual({ main: undefined, pii: undefined, addresses: {}, ipAddresses: {}, activities: {} });
    const fsSurvivor = await firestoreOf(survivor);
    expect(Object.keys(fsSurvivor.main!.sources as object).sort()).toEqual(['lightspeed', 'square']);
    expect(Object.keys(fsSurvivor.activities).sort()).toEqual(after.activities.map((a) => a.id).sort());
    expect(Object.keys(fsSurvivor.addresses)).toHaveLength(2);
    expect(fsSurvivor.pii).toMatchObject({ firstName: 'Ann', lastName: 'Lee' });
    const reconcile = await t.reconciler.run({ fix: false });
    expect(reconcile.driftCount).toBe(0);
  });

  it('follows a ranking given with the request', async () => {
    const { survivor, merged } = await seedPair(b);
    const res = await merge(b, survivor, { sourceId: merged, sourceRanking: ['lightspeed', 'square'] }).expect(201);
    expect(res.body.data.customer.firstName).toBe('Annie');
    expect(res.body.data.merge.decisions.ranking).toEqual(['lightspeed', 'square']);
    expect(res.body.data.merge.decisions.sources).toEqual({ survivor: 'square', merged: 'lightspeed' });
  });

  it('takes the newer value between equally trusted sources', async () => {
    const older = await create(b, { firstName: 'Jon', sources: [{ source: 'square', externalId: `sq-${randomUUID()}` }] });
    const newer = await create(b, { firstName: 'John', sources: [{ source: 'square', externalId: `sq-${randomUUID()}` }] });
    const res = await merge(b, older, { sourceId: newer }).expect(201);
    expect(res.body.data.customer.firstName).toBe('John');
    expect((res.body.data.merge.decisions.fields as { field: string; rule: string }[]).find((d) => d.field === 'firstName')?.rule).toBe('most-recent');
  });

  it('refuses a merge with itself, another business’s customer, an already merged one, or without the permission, and changes nothing', async () => {
    const a = await create(b, {});
    const c = await create(b, {});
    const other = await t.newBusiness('Other');
    const foreign = await create(other, {});
    const versions = async () => q<{ version: string }>('SELECT version FROM customers WHERE id = ANY($1::uuid[]) ORDER BY id', [[a, c, foreign]]);
    const was = await versions();

    const self = await merge(b, a, { sourceId: a }).expect(400);
    expect(self.body.details).toEqual([expect.objectContaining({ field: 'body.sourceId' })]);
    const missingField = await merge(b, a, {}).expect(400);
    expect(missingField.body.details[0].field).toBe('body.sourceId');
    const badRanking = await merge(b, a, { sourceId: c, sourceRanking: ['square', 'square'] }).expect(400);
    expect(badRanking.body.details[0].field).toBe('body.sourceRanking');
    const foreignRes = await merge(b, a, { sourceId: foreign }).expect(404);
    expect(foreignRes.body.details[0].field).toBe('body.sourceId');
    const foreignSurvivor = await merge(b, foreign, { sourceId: a }).expect(404);
    expect(foreignSurvivor.body.details[0].field).toBe('params.id');
    await merge(b, a, { sourceId: c }, t.tokenFor(b.id, 'analyst')).expect(403);
    expect(await versions()).toEqual(was);
    expect(await q('SELECT 1 FROM customer_merges WHERE survivor_id = ANY($1::uuid[])', [[a, c]])).toEqual([]);

    await merge(b, a, { sourceId: c }).expect(201);
    const again = await merge(b, a, { sourceId: c }).expect(409);
    expect(again.body).toMatchObject({ code: 'CONFLICT', details: [{ field: 'body.sourceId' }] });
    const intoMerged = await merge(b, c, { sourceId: a }).expect(409);
    expect(intoMerged.body.details[0].field).toBe('params.id');
  });

  it('refuses to merge away a customer another business also has', async () => {
    const a = await create(b, {});
    const shared = await create(b, {});
    const other = await t.newBusiness('Shares a customer');
    await q('INSERT INTO business_customers (business_id, customer_id) VALUES ($1, $2)', [other.id, shared]);
    const res = await merge(b, a, { sourceId: shared }).expect(409);
    expect(res.body.details[0].field).toBe('body.sourceId');
  });
});

describe('POST /merges/:id/undo', () => {
  let b: Business;
  beforeAll(async () => {
    b = await t.newBusiness('Undo');
    // Silver from 100 spent: each record alone (60, 70) is Bronze, the merged customer (130) Silver.
    await request(t.app)
      .put('/api/v1/tiers/configuration')
      .set(auth(b.token))
      .send({
        thresholds: {
          silver: { spendingThreshold: 100, evaluationPeriod: 'lifetime' },
          gold: { spendingThreshold: 500, evaluationPeriod: 'lifetime' },
          platinum: { spendingThreshold: 1000, evaluationPeriod: 'lifetime' },
        },
        reason: 'merge tests',
      })
      .expect(200);
  });

  it('restores both customers exactly as they were, in PostgreSQL and Firestore, once', async () => {
    const { survivor, merged } = await seedPair(b);
    const before = {
      survivor: comparable(await aggregate(survivor)),
      merged: comparable(await aggregate(merged)),
      survivorRows: await ownedRows(survivor),
      mergedRows: await ownedRows(merged),
      fsSurvivor: await firestoreOf(survivor),
      fsMerged: await firestoreOf(merged),
    };
    expect(before.fsMerged.main).toBeDefined();

    expect(before.survivor.standing[0]!.loyaltyTier).toBe('BRONZE');

    const merged1 = await merge(b, survivor, { sourceId: merged }).expect(201);
    const mergeId = merged1.body.data.merge.id as string;
    expect(merged1.body.data.customer.standing[0].loyaltyTier).toBe('SILVER');
    expect((await ownedRows(survivor)).tierHistory.map((h) => h.new_tier)).toEqual([...before.survivorRows.tierHistory.map((h) => h.new_tier), 'SILVER']);
    await t.projector.drain();

    const res = await request(t.app).post(`/api/v1/merges/${mergeId}/undo`).set(auth(b.token)).expect(200);
    expect(res.body.data.merge).toMatchObject({ id: mergeId, status: 'undone', undoneBy: 'test-admin' });
    expect(res.body.data.merge.decisions.undo).toMatchObject({ notRestored: {}, keptChanged: 0 });
    expect(comparable(await aggregate(survivor))).toEqual(before.survivor);
    expect(comparable(await aggregate(merged))).toEqual(before.merged);
    expect(await ownedRows(survivor)).toEqual(before.survivorRows);
    expect(await ownedRows(merged)).toEqual(before.mergedRows);

    await t.projector.drain();
    expect(await firestoreOf(survivor)).toEqual(before.fsSurvivor);
    expect(await firestoreOf(merged)).toEqual(before.fsMerged);
    expect((await t.reconciler.run({ fix: false })).driftCount).toBe(0);

    const events = await q<{ customer_id: string; payload: { changedFields: string[] } }>(
      "SELECT customer_id::text, payload FROM domain_events WHERE event_type = 'customers.customer.unmerged' AND customer_id = ANY($1::uuid[])",
      [[survivor, merged]],
    );
    expect(events.map((e) => e.customer_id).sort()).toEqual([survivor, merged].sort());
    for (const e of events) {
      expect(e.payload).toEqual({ mergeId, survivorId: survivor, mergedId: merged, changedFields: expect.any(Array) });
      expect(e.payload.changedFields.length).toBeGreaterThan(0);
    }
    expect(events.find((e) => e.customer_id === merged)!.payload.changedFields).toEqual(expect.arrayContaining(['mergedIntoId', 'deletedAt']));

    const twice = await request(t.app).post(`/api/v1/merges/${mergeId}/undo`).set(auth(b.token)).expect(409);
    expect(twice.body).toMatchObject({ code: 'CONFLICT', details: [{ field: 'params.id' }] });
    const shown = await request(t.app).get(`/api/v1/merges/${mergeId}`).set(auth(b.token)).expect(200);
    expect(shown.body.data).toMatchObject({ status: 'undone', survivorId: survivor, mergedId: merged });
    expect(shown.body.data).not.toHaveProperty('snapshot');
  });

  it('keeps what the survivor gained after the merge and what was edited since', async () => {
    const { survivor, merged, survivorOrder } = await seedPair(b);
    const mergedBefore = comparable(await aggregate(merged));
    const res = await merge(b, survivor, { sourceId: merged }).expect(201);
    // After the merge: a new purchase and a corrected first name on the survivor.
    await purchase(b, survivor, `late-${survivorOrder}`, 15);
    await request(t.app).patch(`/api/v1/customers/${survivor}`).set(auth(b.token)).send({ firstName: 'Anna' }).expect(200);

    await request(t.app).post(`/api/v1/merges/${res.body.data.merge.id}/undo`).set(auth(b.token)).expect(200);
    const s = await aggregate(survivor);
    expect(s.firstName).toBe('Anna'); // edited since the merge: kept
    expect(s.lastName).toBeNull(); // the merge's value, untouched since: undone
    expect((await ownedRows(survivor)).transactions.map((r) => r.transaction_id)).toEqual([`late-${survivorOrder}`, survivorOrder]);
    expect(s.metrics).toMatchObject({ totalOrders: 2, totalSpent: 75 });
    // The PATCH after the merge rewrote the survivor's sources, addresses and IP addresses, the
    // moved ones included: their updatedAt says so (kept, as every change since the merge); their
    // content is the merged customer's again.
    const rowTimesLeftOut = (a: ReturnType<typeof comparable>) => {
      const strip = <R extends { updatedAt: Date }>(rows: R[]) => rows.map(({ updatedAt: _u, ...row }) => row);
      return { ...a, sources: strip(a.sources), addresses: strip(a.addresses), ipAddresses: strip(a.ipAddresses) };
    };
    expect(rowTimesLeftOut(comparable(await aggregate(merged)))).toEqual(rowTimesLeftOut(mergedBefore));
  });

  it('refuses after 30 days', async () => {
    const { survivor, merged } = await seedPair(b);
    // Signed before the clock moves, valid long enough for the jump.
    const token = t.tokens.sign({ subject: 'test-admin', role: 'admin', businessId: b.id }, '90d');
    const res = await merge(b, survivor, { sourceId: merged }, token).expect(201);
    const mergeId = res.body.data.merge.id as string;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse(res.body.data.merge.undoUntil) + 1000);
    const late = await request(t.app).post(`/api/v1/merges/${mergeId}/undo`).set(auth(token)).expect(409);
    expect(late.body.details[0].field).toBe('params.id');
    expect(late.body.error).toMatch(/30-day/);
    const shown = await request(t.app).get(`/api/v1/merges/${mergeId}`).set(auth(token)).expect(200);
    expect(shown.body.data.status).toBe('final');
    expect((await aggregate(merged)).mergedIntoId).toBe(survivor);
  });

  it('drops the snapshot (both customers’ PII) once the undo window has closed, keeping the record', async () => {
    const { survivor, merged } = await seedPair(b);
    const res = await merge(b, survivor, { sourceId: merged }).expect(201);
    const mergeId = res.body.data.merge.id as string;
    const snapshotOf = async () =>
      (await t.database.pool.query<{ snapshot: Record<string, unknown> }>(`SELECT snapshot FROM customer_merges WHERE id = $1`, [mergeId])).rows[0]!.snapshot;
    const undoUntil = Date.parse(res.body.data.merge.undoUntil);
    vi.useFakeTimers({ toFake: ['Date'] });
    // Still undoable (and just after the close, within the hour's margin): the sweep keeps it.
    for (const at of [undoUntil - 60_000, undoUntil + 60_000]) {
      vi.setSystemTime(at);
      await t.queueWorker.drain();
      expect(Object.keys(await snapshotOf()).length).toBeGreaterThan(0);
    }
    vi.setSystemTime(undoUntil + 2 * 3_600_000);
    await t.queueWorker.drain();
    expect(await snapshotOf()).toEqual({});
    const { rows } = await t.database.pool.query(`SELECT survivor_id::text AS s, merged_id::text AS m FROM customer_merges WHERE id = $1`, [mergeId]);
    expect(rows[0]).toEqual({ s: survivor, m: merged });
  });

  it('answers 404 for another business’s merge and 403 without the permission', async () => {
    const { survivor, merged } = await seedPair(b);
    const res = await merge(b, survivor, { sourceId: merged }).expect(201);
    const other = await t.newBusiness('Not yours');
    await request(t.app).post(`/api/v1/merges/${res.body.data.merge.id}/undo`).set(auth(other.token)).expect(404);
    await request(t.app).get(`/api/v1/merges/${res.body.data.merge.id}`).set(auth(other.token)).expect(404);
    await request(t.app).post(`/api/v1/merges/${res.body.data.merge.id}/undo`).set(auth(t.tokenFor(b.id, 'analyst'))).expect(403);
    expect((await aggregate(merged)).mergedIntoId).toBe(survivor);
  });
});

describe('GET /merges', () => {
  it('lists the business’s merges newest first, a page at a time, and by customer', async () => {
    const b = await t.newBusiness('Listing');
    const ids: string[] = [];
    const survivors: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await create(b, {});
      const c = await create(b, {});
      survivors.push(a);
      ids.push((await merge(b, a, { sourceId: c }).expect(201)).body.data.merge.id as string);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await request(t.app)
        .get(`/api/v1/merges?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(auth(b.token))
        .expect(200);
      seen.push(...res.body.data.map((m: { id: string }) => m.id));
      for (const m of res.body.data) expect(m).not.toHaveProperty('snapshot');
      cursor = res.body.meta.nextCursor as string | null;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const one = await request(t.app).get(`/api/v1/merges?customerId=${survivors[1]}`).set(auth(b.token)).expect(200);
    expect(one.body.data.map((m: { id: string }) => m.id)).toEqual([ids[1]]);
    const bad = await request(t.app).get('/api/v1/merges?cursor=nope').set(auth(b.token)).expect(400);
    expect(bad.body.details[0].field).toBe('query.cursor');
  });
});

describe('ids in upper case', () => {
  it('merge, self-merge, GET, list, duplicates and undo behave exactly as with the lower-case ids', async () => {
    const b = await t.newBusiness('Upper case');
    const { survivor, merged } = await seedPair(b);
    const up = (id: string) => id.toUpperCase();
    const get = (path: string) => request(t.app).get(path).set(auth(b.token));

    // A customer read by either spelling is the same customer.
    expect((await get(`/api/v1/customers/${up(survivor)}`).expect(200)).body.data).toEqual((await get(`/api/v1/customers/${survivor}`).expect(200)).body.data);
    const dupes = async (id: string): Promise<unknown[]> => (await get(`/api/v1/customers/duplicates?customerId=${id}&minScore=0.25`).expect(200)).body.data as unknown[];
    // A third record of the same person (same phone and name) is a candidate duplicate.
    await create(b, { phone: '+14155550101', firstName: 'Ann', lastName: null });
    expect((await dupes(survivor)).length).toBeGreaterThan(0);
    expect(await dupes(up(survivor))).toEqual(await dupes(survivor));

    // Itself, written in another case, is still itself.
    const self = await merge(b, survivor, { sourceId: up(survivor) }).expect(400);
    expect(self.body.details).toEqual([expect.objectContaining({ field: 'body.sourceId' })]);

    const res = await merge(b, up(survivor), { sourceId: up(merged) }).expect(201);
    const mergeId = res.body.data.merge.id as string;
    expect(res.body.data.merge).toMatchObject({ survivorId: survivor, mergedId: merged });
    expect(res.body.data.customer.id).toBe(survivor);
    expect((await aggregate(merged)).mergedIntoId).toBe(survivor);
    expect((await get(`/api/v1/merges/${up(mergeId)}`).expect(200)).body.data).toEqual((await get(`/api/v1/merges/${mergeId}`).expect(200)).body.data);
    expect((await get(`/api/v1/merges?customerId=${up(merged)}`).expect(200)).body.data.map((m: { id: string }) => m.id)).toEqual([mergeId]);
    await get(`/api/v1/customers/${up(merged)}`).expect(404);

    const undone = await request(t.app).post(`/api/v1/merges/${up(mergeId)}/undo`).set(auth(b.token)).expect(200);
    expect(undone.body.data.merge).toMatchObject({ id: mergeId, status: 'undone' });
    expect((await aggregate(merged)).mergedIntoId).toBeNull();
  });
});
