// Bulk operations over HTTP against real PostgreSQL and the in-process Firestore emulator: tags,
// tier overrides and static segment membership changed for a list of ids or a customer-list
// filter, each audited; every changed customer gets a new version, an outbox row and an event,
// and Firestore follows after projection; a repeat changes nothing; a static segment keeps its
// members through recalculations and writes; bad requests are 400s naming the field and change
// nothing.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const MAX = 8;
let t: TestApp;
let business: { id: string; token: string };
const auth = (token = business.token) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await createTestApp({ env: { BULK_MAX_CUSTOMERS: String(MAX) } });
  business = await t.newBusiness();
});
afterAll(() => t.close());

async function createCustomer(overrides: Record<string, unknown>, token = business.token): Promise<string> {
  const res = await request(t.app).post('/api/v1/customers').set(auth(token)).send(buildCustomer(overrides)).expect(201);
  return res.body.data.id as string;
}
const bulk = (body: Record<string, unknown>, token = business.token) => request(t.app).post('/api/v1/customers/bulk').set(auth(token)).send(body);

async function versions(ids: string[]): Promise<Map<string, number>> {
  const { rows } = await t.database.pool.query<{ id: string; version: string }>('SELECT id, version FROM customers WHERE id = ANY($1)', [ids]);
  return new Map(rows.map((r) => [r.id, Number(r.version)]));
}
async function outboxVersions(id: string): Promise<number[]> {
  const { rows } = await t.database.pool.query<{ entity_version: string }>('SELECT entity_version FROM sync_logs WHERE entity_id = $1 ORDER BY entity_version', [id]);
  return rows.map((r) => Number(r.entity_version));
}
async function events(id: string, type: string) {
  const { rows } = await t.database.pool.query<{ payload: Record<string, unknown> }>('SELECT payload FROM domain_events WHERE customer_id = $1 AND event_type = $2 ORDER BY id', [id, type]);
  return rows.map((r) => r.payload);
}
const mainDoc = async (id: string) => (await t.firestore.db.doc(`customers/${id}`).get()).data()!;
const auditCount = async () => Number((await t.database.pool.query('SELECT count(*) AS n FROM bulk_operations')).rows[0].n);

describe('bulk tags', () => {
  it('adds tags to listed customers through the write path, audits it, and a repeat changes nothing', async () => {
    const a = await createCustomer({ tags: ['loyal'] });
    const b = await createCustomer({ tags: ['promo', 'loyal'] });
    const c = await createCustomer({ tags: ['other'] });
    const before = await versions([a, b, c]);
    const res = await bulk({ operation: 'tags.add', customerIds: [a, b], params: { tags: ['promo', 'spring'] }, reason: 'spring campaign' }).expect(200);
    expect(res.body.data).toMatchObject({ operation: 'tags.add', status: 'succeeded', matched: 2, changed: 2, skipped: 0, unchanged: 0, reason: 'spring campaign', requestedBy: 'test-admin', selection: { customerIds: [a, b] } });
    expect(res.headers.location).toBe(`/api/v1/bulk-operations/${res.body.data.id}`);

    const after = await versions([a, b, c]);
    expect(after.get(a)).toBe(before.get(a)! + 1);
    expect(after.get(b)).toBe(before.get(b)! + 1);
    expect(after.get(c)).toBe(before.get(c));
    expect(await outboxVersions(a)).toContain(after.get(a));
    expect(await events(a, 'customers.customer.updated')).toContainEqual({ changedFields: ['tags'] });
    const profile = (await request(t.app).get(`/api/v1/customers/${b}`).set(auth()).expect(200)).body.data;
    expect(profile.tags).toEqual(['promo', 'loyal', 'spring']);

    await t.projector.drain();
    expect((await mainDoc(a)).tags).toEqual(['loyal', 'promo', 'spring']);
    expect((await mainDoc(a))._sync.version).toBe(after.get(a));

    const again = await bulk({ operation: 'tags.add', customerIds: [a, b], params: { tags: ['spring'] }, reason: 'again' }).expect(200);
    expect(again.body.data).toMatchObject({ matched: 2, changed: 0, unchanged: 2 });
    expect(await versions([a, b])).toEqual(new Map([[a, after.get(a)], [b, after.get(b)]]));
  });

  it('removes tags from the customers a filter selects, and the audit keeps the filter', async () => {
    const tag = `flash-${Date.now()}`;
    const a = await createCustomer({ tags: [tag, 'keep'] });
    const b = await createCustomer({ tags: ['keep', tag] });
    const untouched = await createCustomer({ tags: ['keep'] });
    const before = await versions([untouched]);
    const res = await bulk({ operation: 'tags.remove', filter: { tag }, params: { tags: [tag] }, reason: 'sale over' }).expect(200);
    expect(res.body.data).toMatchObject({ matched: 2, changed: 2, selection: { filter: { tag } } });
    for (const id of [a, b]) expect((await request(t.app).get(`/api/v1/customers/${id}`).set(auth()).expect(200)).body.data.tags).toEqual(['keep']);
    expect(await versions([untouched])).toEqual(before);
    await t.projector.drain();
    expect((await mainDoc(b)).tags).toEqual(['keep']);
  });

  it('moves customers into a dynamic segment whose criteria the new tag meets, in the same change', async () => {
    const tag = `vip-${Date.now()}`;
    const segment = await request(t.app)
      .post('/api/v1/segments')
      .set(auth())
      .send({ name: `tagged ${tag}`, criteria: { operator: 'AND', rules: [{ field: 'tags', operator: 'contains', value: tag }] } })
      .expect(201);
    const id = await createCustomer({ tags: [] });
    const before = (await versions([id])).get(id)!;
    await bulk({ operation: 'tags.add', customerIds: [id], params: { tags: [tag] }, reason: 'promote' }).expect(200);
    expect((await versions([id])).get(id)).toBe(before + 1);
    expect(await events(id, 'customers.segment.assigned')).toContainEqual({ segmentId: segment.body.data.id });
    await t.projector.drain();
    expect((await mainDoc(id)).businesses[business.id].segmentIds).toContain(segment.body.data.id);
  });
});

describe('bulk tier overrides', () => {
  it('pins the tier of the customers a filter selects, with the reason, and clears it for a list of ids', async () => {
    const other = await t.newBusiness('tiers');
    const ids = [await createCustomer({ status: 'vip' }, other.token), await createCustomer({ status: 'vip' }, other.token)];
    const plain = await createCustomer({ status: 'active' }, other.token);
    const before = await versions([...ids, plain]);
    const res = await bulk({ operation: 'tier.override', filter: { status: 'vip' }, params: { tier: 'PLATINUM' }, reason: 'VIP programme' }, other.token).expect(200);
    expect(res.body.data).toMatchObject({ matched: 2, changed: 2 });
    for (const id of ids) {
      const profile = (await request(t.app).get(`/api/v1/customers/${id}`).set(auth(other.token)).expect(200)).body.data;
      expect(profile.loyalty).toMatchObject({ tier: 'PLATINUM', override: { tier: 'PLATINUM', reason: 'VIP programme' } });
      expect((await versions([id])).get(id)).toBe(before.get(id)! + 1);
    }
    expect((await versions([plain])).get(plain)).toBe(before.get(plain));
    const { rows: history } = await t.database.pool.query<{ changed_by: string }>('SELECT changed_by FROM customer_tier_history WHERE customer_id = $1', [ids[0]]);
    expect(history.map((h) => h.changed_by)).toContain('test-admin');
    await t.projector.drain();
    expect((await mainDoc(ids[0]!)).businesses[other.id]).toMatchObject({ tier: 'PLATINUM', tierOverride: 'PLATINUM' });

    const cleared = await bulk({ operation: 'tier.override_clear', customerIds: [ids[0], plain], reason: 'programme ended' }, other.token).expect(200);
    expect(cleared.body.data).toMatchObject({ matched: 2, changed: 1, unchanged: 1 });
    await t.projector.drain();
    expect((await mainDoc(ids[0]!)).businesses[other.id].tierOverride).toBeNull();
  });

  it('needs the tier permission: staff may tag but not override tiers', async () => {
    const id = await createCustomer({});
    const staff = t.tokenFor(business.id, 'staff');
    const audits = await auditCount();
    expect((await bulk({ operation: 'tier.override', customerIds: [id], params: { tier: 'GOLD' }, reason: 'x' }, staff)).status).toBe(403);
    expect((await bulk({ operation: 'tags.add', customerIds: [id], params: { tags: ['staff'] }, reason: 'x' }, staff)).status).toBe(200);
    expect((await bulk({ operation: 'tags.add', customerIds: [id], params: { tags: ['x'] }, reason: 'x' }, t.tokenFor(business.id, 'analyst'))).status).toBe(403);
    expect(await auditCount()).toBe(audits + 1);
  });
});

describe('bulk ids in upper case', () => {
  it('treats upper-case customer, segment and operation ids exactly as the lower-case ones', async () => {
    const other = await t.newBusiness('upper case');
    const a = await createCustomer({ tags: ['keep'] }, other.token);
    const b = await createCustomer({}, other.token);
    const up = (id: string) => id.toUpperCase();
    const before = await versions([a, b]);

    // Listed twice in two spellings: one customer, changed once.
    const res = await bulk({ operation: 'tags.add', customerIds: [up(a), a, up(b)], params: { tags: ['upper'] }, reason: 'case' }, other.token).expect(200);
    expect(res.body.data).toMatchObject({ matched: 2, changed: 2, selection: { customerIds: [a, b] } });
    expect(await versions([a, b])).toEqual(new Map([[a, before.get(a)! + 1], [b, before.get(b)! + 1]]));
    const get = (path: string) => request(t.app).get(path).set(auth(other.token));
    expect((await get(`/api/v1/customers/${up(a)}`).expect(200)).body.data).toEqual((await get(`/api/v1/customers/${a}`).expect(200)).body.data);
    expect((await get(`/api/v1/customers/${a}`).expect(200)).body.data.tags).toEqual(['keep', 'upper']);
    expect((await get(`/api/v1/bulk-operations/${up(res.body.data.id)}`).expect(200)).body.data).toEqual((await get(`/api/v1/bulk-operations/${res.body.data.id}`).expect(200)).body.data);

    const segment = await request(t.app).post('/api/v1/segments').set(auth(other.token)).send({ name: 'Upper', kind: 'static' }).expect(201);
    const segmentId = segment.body.data.id as string;
    const assigned = await bulk({ operation: 'segment.assign', customerIds: [up(a)], params: { segmentId: up(segmentId) }, reason: 'case' }, other.token).expect(200);
    expect(assigned.body.data).toMatchObject({ changed: 1, params: { segmentId } });
    expect((await get(`/api/v1/segments/${up(segmentId)}/customers`).expect(200)).body.data.map((m: { id: string }) => m.id)).toEqual([a]);
    const byFilter = await bulk({ operation: 'tags.remove', filter: { segmentId: up(segmentId) }, params: { tags: ['upper'] }, reason: 'case' }, other.token).expect(200);
    expect(byFilter.body.data).toMatchObject({ matched: 1, changed: 1, selection: { filter: { segmentId } } });
  });
});

describe('bulk static segments', () => {
  it('assigns and unassigns members of a static segment, which recalculations and writes leave alone', async () => {
    const other = await t.newBusiness('segments');
    const a = await createCustomer({}, other.token);
    const b = await createCustomer({}, other.token);
    const created = await request(t.app).post('/api/v1/segments').set(auth(other.token)).send({ name: 'Hand-picked', kind: 'static' }).expect(201);
    expect(created.body.data).toMatchObject({ kind: 'static', criteria: null, customerCount: 0 });
    expect(created.body.meta.recalculation.status).toBe('skipped');
    const segmentId = created.body.data.id as string;
    const before = await versions([a, b]);

    const res = await bulk({ operation: 'segment.assign', customerIds: [a, b], params: { segmentId }, reason: 'launch guests' }, other.token).expect(200);
    expect(res.body.data).toMatchObject({ matched: 2, changed: 2 });
    expect(await versions([a, b])).toEqual(new Map([[a, before.get(a)! + 1], [b, before.get(b)! + 1]]));
    expect(await events(a, 'customers.segment.assigned')).toEqual([{ segmentId }]);
    const members = async (): Promise<string[]> => {
      const res = await request(t.app).get(`/api/v1/segments/${segmentId}/customers`).set(auth(other.token)).expect(200);
      return (res.body.data as { id: string }[]).map((m) => m.id).sort();
    };
    expect(await members()).toEqual([a, b].sort());
    await t.projector.drain();
    expect((await mainDoc(a)).businesses[other.id].segmentIds).toEqual([segmentId]);

    // Recalculation on demand, the schedule, and a customer write: membership stays.
    expect((await request(t.app).post(`/api/v1/segments/${segmentId}/recalculate`).set(auth(other.token)).expect(200)).body.data.status).toBe('skipped');
    await t.standingJob.runOnce();
    await request(t.app).patch(`/api/v1/customers/${a}`).set(auth(other.token)).send({ notes: 'changed' }).expect(200);
    expect(await members()).toEqual([a, b].sort());
    // A static segment takes no criteria.
    const put = await request(t.app).put(`/api/v1/segments/${segmentId}`).set(auth(other.token)).send({ criteria: { operator: 'AND', rules: [] } });
    expect(put.status).toBe(400);
    expect(put.body.details[0].field).toBe('body.criteria');

    // Unassign by filter (the segment's own members), then a deleted customer leaves too.
    const c = await createCustomer({}, other.token);
    await bulk({ operation: 'segment.assign', customerIds: [c], params: { segmentId }, reason: 'add' }, other.token).expect(200);
    const email = (await request(t.app).get(`/api/v1/customers/${a}`).set(auth(other.token))).body.data.email as string;
    const out = await bulk({ operation: 'segment.unassign', filter: { segmentId, q: email }, params: { segmentId }, reason: 'opted out' }, other.token).expect(200);
    expect(out.body.data).toMatchObject({ matched: 1, changed: 1 });
    // The free-text q (here an email) is audited by its length only: not in the response, the audit API or the table.
    expect(out.body.data.selection).toEqual({ filter: { segmentId, q: { redacted: true, length: email.length } } });
    const audit = await request(t.app).get(`/api/v1/bulk-operations/${out.body.data.id}`).set(auth(other.token)).expect(200);
    expect(audit.body.data.selection).toEqual(out.body.data.selection);
    const { rows: stored } = await t.database.pool.query('SELECT b::text AS row FROM bulk_operations b');
    expect(stored.filter((r: { row: string }) => r.row.toLowerCase().includes(email.toLowerCase()))).toEqual([]);
    expect(await events(a, 'customers.segment.unassigned')).toEqual([{ segmentId }]);
    await request(t.app).delete(`/api/v1/customers/${c}`).set(auth(other.token)).expect(200);
    expect(await members()).toEqual([b]);
    await t.projector.drain();
    expect((await mainDoc(a)).businesses[other.id].segmentIds).toEqual([]);

    // Deleting the segment removes its members.
    await request(t.app).delete(`/api/v1/segments/${segmentId}`).set(auth(other.token)).expect(200);
    const { rows } = await t.database.pool.query('SELECT 1 FROM customer_segment_assignments WHERE segment_id = $1', [segmentId]);
    expect(rows).toHaveLength(0);
  });

  it('creates static segments without criteria and dynamic ones only with them', async () => {
    const withCriteria = await request(t.app).post('/api/v1/segments').set(auth()).send({ name: 'bad static', kind: 'static', criteria: { operator: 'AND', rules: [] } });
    expect(withCriteria.status).toBe(400);
    expect(withCriteria.body.details).toEqual([{ field: 'body.criteria', message: expect.stringMatching(/static segment has no criteria/) }]);
    const without = await request(t.app).post('/api/v1/segments').set(auth()).send({ name: 'bad dynamic' });
    expect(without.status).toBe(400);
    expect(without.body.details).toEqual([{ field: 'body.criteria', message: 'is required' }]);
    const kind = await request(t.app).post('/api/v1/segments').set(auth()).send({ name: 'bad kind', kind: 'frozen' });
    expect(kind.body.details.map((d: { field: string }) => d.field)).toContain('body.kind');
  });
});

describe('bulk requests that are refused', () => {
  it('answers 400 naming the field, and neither audits nor changes anything', async () => {
    const id = await createCustomer({});
    const dynamic = await request(t.app)
      .post('/api/v1/segments')
      .set(auth())
      .send({ name: `dynamic ${Date.now()}`, criteria: { operator: 'AND', rules: [{ field: 'totalSpent', operator: 'greater_than', value: 1 }] } })
      .expect(201);
    const missing = '00000000-0000-4000-8000-000000000000';
    const cases: [Record<string, unknown>, string][] = [
      [{ operation: 'tags.add', params: { tags: ['x'] }, reason: 'r' }, 'body.customerIds'],
      [{ operation: 'tags.add', customerIds: [id], filter: { status: 'vip' }, params: { tags: ['x'] }, reason: 'r' }, 'body.filter'],
      [{ operation: 'tags.rename', customerIds: [id], reason: 'r' }, 'body.operation'],
      [{ operation: 'tags.add', customerIds: [id], params: { tags: ['x'] } }, 'body.reason'],
      [{ operation: 'tags.add', customerIds: [id], params: { tags: [] }, reason: 'r' }, 'body.params.tags'],
      [{ operation: 'tags.add', customerIds: [id], params: { tags: ['x'.repeat(51)] }, reason: 'r' }, 'body.params.tags.0'],
      [{ operation: 'tier.override', customerIds: [id], params: { tier: 'DIAMOND' }, reason: 'r' }, 'body.params.tier'],
      [{ operation: 'segment.assign', customerIds: [id], params: {}, reason: 'r' }, 'body.params.segmentId'],
      [{ operation: 'segment.assign', customerIds: [id], params: { segmentId: dynamic.body.data.id }, reason: 'r' }, 'body.params.segmentId'],
      [{ operation: 'segment.assign', customerIds: [id], params: { segmentId: missing }, reason: 'r' }, 'body.params.segmentId'],
      [{ operation: 'tags.add', customerIds: [id, missing], params: { tags: ['x'] }, reason: 'r' }, 'body.customerIds[1]'],
      [{ operation: 'tags.add', customerIds: [id, 'nope'], params: { tags: ['x'] }, reason: 'r' }, 'body.customerIds.1'],
      [{ operation: 'tags.add', filter: { tier: 'DIAMOND' }, params: { tags: ['x'] }, reason: 'r' }, 'body.filter.tier'],
      [{ operation: 'tags.add', filter: { limit: 5 }, params: { tags: ['x'] }, reason: 'r' }, 'body.filter.limit'],
      [{ operation: 'tags.add', filter: { colour: 'red' }, params: { tags: ['x'] }, reason: 'r' }, 'body.filter.colour'],
    ];
    const audits = await auditCount();
    const before = await versions([id]);
    for (const [body, field] of cases) {
      const res = await bulk(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('INVALID_INPUT');
      expect(res.body.details.map((d: { field: string }) => d.field), JSON.stringify(body)).toContain(field);
    }
    expect(await auditCount()).toBe(audits);
    expect(await versions([id])).toEqual(before);
  });

  it('refuses more than BULK_MAX_CUSTOMERS customers, listed or matched by a filter', async () => {
    const other = await t.newBusiness('cap');
    const ids: string[] = [];
    for (let i = 0; i <= MAX; i++) ids.push(await createCustomer({}, other.token));
    const byFilter = await bulk({ operation: 'tags.add', filter: {}, params: { tags: ['x'] }, reason: 'r' }, other.token);
    expect(byFilter.status).toBe(400);
    expect(byFilter.body.details).toEqual([{ field: 'body.filter', message: expect.stringMatching(/more than 8 customers/) }]);
    const byIds = await bulk({ operation: 'tags.add', customerIds: ids, params: { tags: ['x'] }, reason: 'r' }, other.token);
    expect(byIds.status).toBe(400);
    expect(byIds.body.details[0].field).toBe('body.customerIds');
    await request(t.app).delete(`/api/v1/customers/${ids[0]}`).set(auth(other.token)).expect(200);
    const now = await bulk({ operation: 'tags.add', filter: {}, params: { tags: ['x'] }, reason: 'r' }, other.token).expect(200);
    expect(now.body.data).toMatchObject({ matched: MAX, changed: MAX });
  });

  it('lists the audit newest first and finds one operation, only in its own business', async () => {
    const other = await t.newBusiness('audit');
    const id = await createCustomer({}, other.token);
    const first = (await bulk({ operation: 'tags.add', customerIds: [id], params: { tags: ['one'] }, reason: 'first' }, other.token).expect(200)).body.data;
    const second = (await bulk({ operation: 'tags.remove', customerIds: [id], params: { tags: ['one'] }, reason: 'second' }, other.token).expect(200)).body.data;
    const page1 = await request(t.app).get('/api/v1/bulk-operations?limit=1').set(auth(other.token)).expect(200);
    expect(page1.body.data.map((o: { id: string }) => o.id)).toEqual([second.id]);
    const page2 = await request(t.app).get(`/api/v1/bulk-operations?limit=1&cursor=${page1.body.meta.nextCursor}`).set(auth(other.token)).expect(200);
    expect(page2.body.data.map((o: { id: string }) => o.id)).toEqual([first.id]);
    const one = await request(t.app).get(`/api/v1/bulk-operations/${first.id}`).set(auth(other.token)).expect(200);
    expect(one.body.data).toMatchObject({ id: first.id, operation: 'tags.add', params: { tags: ['one'] }, reason: 'first', status: 'succeeded', matched: 1, changed: 1 });
    expect(one.body.data.finishedAt).not.toBeNull();
    await request(t.app).get(`/api/v1/bulk-operations/${first.id}`).set(auth()).expect(404);
  });
});
