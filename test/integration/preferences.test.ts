// Communication preferences and audiences over HTTP against real PostgreSQL: defaults, partial
// updates through the one write path (version, outbox, domain event, Firestore projection), input
// that names the field and writes nothing, and audiences that honour opt-outs, addresses,
// segments and quiet hours, page by page.
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_PREFERENCES } from '../../src/preferences/preferences.schema.js';
import { buildCustomer } from '../support/builders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let business: { id: string; token: string };
const auth = (token = business.token) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await createTestApp();
  business = await t.newBusiness();
});
afterAll(() => t.close());
afterEach(() => {
  vi.useRealTimers();
});

async function createCustomer(overrides: Record<string, unknown> = {}, token = business.token): Promise<string> {
  const res = await request(t.app).post('/api/v1/customers').set(auth(token)).send(buildCustomer(overrides)).expect(201);
  return res.body.data.id as string;
}

async function versionOf(id: string): Promise<number> {
  const { rows } = await t.database.pool.query<{ version: string }>('SELECT version FROM customers WHERE id = $1', [id]);
  return Number(rows[0]!.version);
}

async function syncLogs(id: string) {
  const { rows } = await t.database.pool.query<{ entity_version: string; changed_fields: string[] }>(
    'SELECT entity_version, changed_fields FROM sync_logs WHERE entity_id = $1 ORDER BY entity_version',
    [id],
  );
  return rows;
}

async function preferenceEvents(id: string) {
  const { rows } = await t.database.pool.query<{ business_id: string; payload: { changedFields: string[] } }>(
    "SELECT business_id, payload FROM domain_events WHERE customer_id = $1 AND event_type = 'customers.preferences.updated' ORDER BY id",
    [id],
  );
  return rows;
}

async function storedRows(id: string): Promise<number> {
  const { rows } = await t.database.pool.query('SELECT 1 FROM customer_communication_preferences WHERE customer_id = $1', [id]);
  return rows.length;
}

const putPreferences = (id: string, body: unknown, token = business.token) =>
  request(t.app).put(`/api/v1/customers/${id}/preferences`).set(auth(token)).send(body as object);

describe('GET /customers/:id/preferences', () => {
  it('returns the defaults, marked isDefault, when nothing is stored', async () => {
    const id = await createCustomer();
    const res = await request(t.app).get(`/api/v1/customers/${id}/preferences`).set(auth()).expect(200);
    expect(res.body).toMatchObject({ success: true, data: { ...DEFAULT_PREFERENCES, customerId: id, businessId: business.id, isDefault: true, createdAt: null } });
    expect(await storedRows(id)).toBe(0);
  });

  it('uses the same defaults as the table’s column defaults', async () => {
    const id = await createCustomer();
    const client = await t.database.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        'INSERT INTO customer_communication_preferences (customer_id, business_id) VALUES ($1, $2) RETURNING *',
        [id, business.id],
      );
      const r = rows[0];
      expect({
        emailMarketing: r.email_marketing,
        smsMarketing: r.sms_marketing,
        pushNotifications: r.push_notifications,
        loyaltyUpdates: r.loyalty_updates,
        transactionReceipts: r.transaction_receipts,
        promotionalOffers: r.promotional_offers,
        surveyInvitations: r.survey_invitations,
        newsletterSubscription: r.newsletter_subscription,
        frequency: r.frequency,
        preferredChannel: r.preferred_channel,
        timezone: r.timezone,
        quietHoursStart: r.quiet_hours_start,
        quietHoursEnd: r.quiet_hours_end,
      }).toEqual(DEFAULT_PREFERENCES);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('answers 404 for another business’s customer, a deleted customer and an unknown id', async () => {
    const other = await t.newBusiness('Other');
    const foreign = await createCustomer({}, other.token);
    await request(t.app).get(`/api/v1/customers/${foreign}/preferences`).set(auth()).expect(404);
    const deleted = await createCustomer();
    await request(t.app).delete(`/api/v1/customers/${deleted}`).set(auth()).expect(200);
    await request(t.app).get(`/api/v1/customers/${deleted}/preferences`).set(auth()).expect(404);
    await request(t.app).get(`/api/v1/customers/${randomUUID()}/preferences`).set(auth()).expect(404);
    const bad = await request(t.app).get('/api/v1/customers/not-a-uuid/preferences').set(auth()).expect(400);
    expect(bad.body.details).toEqual([{ field: 'params.id', message: 'must be a UUID' }]);
  });
});

describe('PUT /customers/:id/preferences', () => {
  it('merges a partial update onto the defaults, bumps the version and writes the outbox and one event', async () => {
    const id = await createCustomer();
    const before = await versionOf(id);
    const res = await putPreferences(id, { emailMarketing: false, timezone: 'Europe/Paris', quietHoursStart: '22:00', quietHoursEnd: '07:30' }).expect(200);
    expect(res.body.meta).toEqual({ version: before + 1, changed: true });
    expect(res.headers.etag).toBe(`"v${before + 1}"`);
    expect(res.body.data).toMatchObject({ ...DEFAULT_PREFERENCES, emailMarketing: false, timezone: 'Europe/Paris', quietHoursStart: '22:00', quietHoursEnd: '07:30', isDefault: false });
    expect(await versionOf(id)).toBe(before + 1);

    const read = await request(t.app).get(`/api/v1/customers/${id}/preferences`).set(auth()).expect(200);
    expect(read.body.data).toEqual(res.body.data);

    const logs = await syncLogs(id);
    expect(logs.map((l) => Number(l.entity_version))).toEqual([before, before + 1]);
    expect(logs[1]!.changed_fields[0]).toBe('preferences');

    const events = await preferenceEvents(id);
    expect(events).toEqual([{ business_id: business.id, payload: { changedFields: ['emailMarketing', 'timezone', 'quietHoursStart', 'quietHoursEnd'] } }]);
    // Names only: no values in the event.
    expect(JSON.stringify(events)).not.toContain('Paris');

    // A second partial update keeps what the first one set.
    const second = await putPreferences(id, { frequency: 'WEEKLY_DIGEST', quietHoursStart: null, quietHoursEnd: null }).expect(200);
    expect(second.body.data).toMatchObject({ emailMarketing: false, timezone: 'Europe/Paris', frequency: 'WEEKLY_DIGEST', quietHoursStart: null, quietHoursEnd: null });
    expect(second.body.meta).toEqual({ version: before + 2, changed: true });
    expect((await preferenceEvents(id)).map((e) => e.payload.changedFields)).toEqual([
      ['emailMarketing', 'timezone', 'quietHoursStart', 'quietHoursEnd'],
      ['frequency', 'quietHoursStart', 'quietHoursEnd'],
    ]);
  });

  it('changes nothing when the values are already those: no version bump, outbox row or event', async () => {
    const id = await createCustomer();
    await putPreferences(id, { smsMarketing: false }).expect(200);
    const version = await versionOf(id);
    const again = await putPreferences(id, { smsMarketing: false, emailMarketing: true }).expect(200);
    expect(again.body.meta).toEqual({ version, changed: false });
    expect(again.body.data).toMatchObject({ smsMarketing: false, isDefault: false });
    expect(await versionOf(id)).toBe(version);
    expect(await syncLogs(id)).toHaveLength(2);
    expect(await preferenceEvents(id)).toHaveLength(1);
  });

  it('stores no row when a customer with the defaults is sent the defaults', async () => {
    const id = await createCustomer();
    const version = await versionOf(id);
    const res = await putPreferences(id, { emailMarketing: true, timezone: 'UTC' }).expect(200);
    expect(res.body.meta).toEqual({ version, changed: false });
    expect(res.body.data.isDefault).toBe(true);
    expect(await storedRows(id)).toBe(0);
  });

  it.each([
    [{ timezone: 'Mars/Olympus' }, 'body.timezone'],
    [{ quietHoursStart: '25:00', quietHoursEnd: '07:00' }, 'body.quietHoursStart'],
    [{ quietHoursStart: '22:00', quietHoursEnd: '7am' }, 'body.quietHoursEnd'],
    [{ quietHoursStart: '22:00' }, 'body.quietHoursEnd'],
    [{ quietHoursEnd: '07:00' }, 'body.quietHoursStart'],
    [{ quietHoursStart: '22:00', quietHoursEnd: null }, 'body.quietHoursEnd'],
    [{ quietHoursStart: '22:00', quietHoursEnd: '22:00' }, 'body.quietHoursEnd'],
    [{ emailMarketing: 'no' }, 'body.emailMarketing'],
    [{ frequency: 'HOURLY' }, 'body.frequency'],
    [{ preferredChannel: 'FAX' }, 'body.preferredChannel'],
    [{ smsMarketing: false, favouriteColour: 'blue' }, 'body.favouriteColour'],
  ])('refuses %j naming %s, and writes nothing', async (body, field) => {
    const id = await createCustomer();
    const version = await versionOf(id);
    const res = await putPreferences(id, body).expect(400);
    expect(res.body).toMatchObject({ success: false, code: 'INVALID_INPUT' });
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await versionOf(id)).toBe(version);
    expect(await storedRows(id)).toBe(0);
    expect(await preferenceEvents(id)).toHaveLength(0);
  });

  it('answers 404 for another business’s customer and leaves it alone', async () => {
    const other = await t.newBusiness('Neighbour');
    const foreign = await createCustomer({}, other.token);
    const version = await versionOf(foreign);
    await putPreferences(foreign, { emailMarketing: false }).expect(404);
    expect(await versionOf(foreign)).toBe(version);
    expect(await storedRows(foreign)).toBe(0);
  });

  it('honours If-Match', async () => {
    const id = await createCustomer();
    const version = await versionOf(id);
    const stale = await putPreferences(id, { smsMarketing: false }).set('If-Match', `"v${version - 1 || 99}"`).expect(409);
    expect(stale.body.code).toBe('CONFLICT');
    await putPreferences(id, { smsMarketing: false }).set('If-Match', `"v${version}"`).expect(200);
  });

  it('refuses roles without customers:write', async () => {
    const id = await createCustomer();
    await putPreferences(id, { smsMarketing: false }, t.tokenFor(business.id, 'analyst')).expect(403);
  });

  it('projects the preferences to the customer’s Firestore document', async () => {
    const id = await createCustomer();
    await putPreferences(id, { smsMarketing: false, quietHoursStart: '21:00', quietHoursEnd: '08:00', timezone: 'America/New_York' }).expect(200);
    await t.projector.drain();
    const main = (await t.firestore.db.doc(`customers/${id}`).get()).data();
    expect(main?._sync?.version).toBe(await versionOf(id));
    expect(main?.businesses?.[business.id]?.preferences).toMatchObject({
      smsMarketing: false,
      emailMarketing: true,
      timezone: 'America/New_York',
      quietHoursStart: '21:00',
      quietHoursEnd: '08:00',
    });
  });
});

describe('GET /audiences', () => {
  let shop: { id: string; token: string };
  const c: Record<string, string> = {};
  const audience = async (query: string, token = shop.token) => {
    const res = await request(t.app).get(`/api/v1/audiences?${query}`).set(auth(token)).expect(200);
    return res.body as { data: { customerId: string; address: string | null; pushTokenCount?: number; nextAllowedSendAt: string }[]; meta: { nextCursor: string | null } };
  };
  const ids = (body: { data: { customerId: string }[] }) => body.data.map((r) => r.customerId);
  const named = (...names: string[]) => names.map((n) => c[n]!).sort();

  beforeAll(async () => {
    shop = await t.newBusiness('Audience shop');
    const put = (id: string, body: object) => putPreferences(id, body, shop.token).expect(200);
    c.plain = await createCustomer({ engagement: null }, shop.token);
    c.noEmailMarketing = await createCustomer({ engagement: null }, shop.token);
    await put(c.noEmailMarketing, { emailMarketing: false });
    c.noReceipts = await createCustomer({ engagement: null }, shop.token);
    await put(c.noReceipts, { transactionReceipts: false });
    c.noPromotions = await createCustomer({ engagement: null }, shop.token);
    await put(c.noPromotions, { promotionalOffers: false });
    c.phoneOnly = await createCustomer({ email: null, engagement: null }, shop.token);
    c.emailOnly = await createCustomer({ phone: null, engagement: null }, shop.token);
    c.push = await createCustomer({ engagement: { pushTokens: ['token-a', 'token-b'] } }, shop.token);
    c.blocked = await createCustomer({ status: 'blocked', engagement: null }, shop.token);
    c.deleted = await createCustomer({ engagement: null }, shop.token);
    await request(t.app).delete(`/api/v1/customers/${c.deleted}`).set(auth(shop.token)).expect(200);
    // Another business's customer never appears.
    await createCustomer({ engagement: { pushTokens: ['token-x'] } });
  });

  it('excludes opted-out customers from marketing but not from transactional messages', async () => {
    const marketing = await audience('channel=EMAIL&purpose=marketing');
    expect(ids(marketing).sort()).toEqual(named('plain', 'noReceipts', 'emailOnly', 'push'));
    const transactional = await audience('channel=EMAIL&purpose=transactional');
    expect(ids(transactional).sort()).toEqual(named('plain', 'noEmailMarketing', 'noPromotions', 'emailOnly', 'push'));
    // The email opt-out does not reach SMS.
    const sms = await audience('channel=SMS&purpose=marketing');
    expect(ids(sms).sort()).toEqual(named('plain', 'noEmailMarketing', 'noReceipts', 'phoneOnly', 'push'));
  });

  it('gives each recipient the channel’s address, and for PUSH only the token count', async () => {
    const email = await audience('channel=EMAIL&purpose=transactional');
    const { rows } = await t.database.pool.query<{ id: string; email: string; phone_normalized: string }>(
      'SELECT id, email, phone_normalized FROM customers WHERE id = ANY($1::uuid[])',
      [Object.values(c)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of email.data) expect(r.address).toBe(byId.get(r.customerId)!.email);
    const sms = await audience('channel=SMS&purpose=transactional');
    for (const r of sms.data) expect(r.address).toMatch(/^\+\d{8,15}$/);
    const push = await audience('channel=PUSH&purpose=marketing');
    expect(push.data).toEqual([expect.objectContaining({ customerId: c.push, channel: 'PUSH', address: null, pushTokenCount: 2, timezone: 'UTC', frequency: 'IMMEDIATE' })]);
    expect(JSON.stringify(push)).not.toContain('token-a');
  });

  it('filters by segment, and answers 404 for a segment that is not the business’s', async () => {
    // Segments are inserted directly: the segments API is built separately.
    const segmentId = randomUUID();
    await t.database.pool.query("INSERT INTO customer_segments (id, business_id, name, criteria) VALUES ($1, $2, 'VIPs', '{}'::jsonb)", [segmentId, shop.id]);
    await t.database.pool.query(
      'INSERT INTO customer_segment_assignments (segment_id, customer_id, business_id) SELECT $1, unnest($2::uuid[]), $3',
      [segmentId, [c.plain, c.noEmailMarketing, c.blocked], shop.id],
    );
    const marketing = await audience(`channel=EMAIL&purpose=marketing&segmentId=${segmentId}`);
    expect(ids(marketing)).toEqual([c.plain]);
    const transactional = await audience(`channel=EMAIL&purpose=transactional&segmentId=${segmentId}`);
    expect(ids(transactional).sort()).toEqual(named('plain', 'noEmailMarketing'));
    // An existing segment with nobody eligible is an empty page, not a 404.
    const empty = await audience(`channel=PUSH&purpose=marketing&segmentId=${segmentId}`);
    expect(empty.data).toEqual([]);

    await request(t.app).get(`/api/v1/audiences?channel=EMAIL&purpose=marketing&segmentId=${randomUUID()}`).set(auth(shop.token)).expect(404);
    // The same segment id seen from another business does not exist.
    await request(t.app).get(`/api/v1/audiences?channel=EMAIL&purpose=marketing&segmentId=${segmentId}`).set(auth()).expect(404);
  });

  it('delays recipients in quiet hours until the hours end in their time zone', async () => {
    const b = await t.newBusiness('Quiet hours');
    const newYork = await createCustomer({}, b.token);
    const tokyo = await createCustomer({}, b.token);
    const utc = await createCustomer({}, b.token);
    const none = await createCustomer({}, b.token);
    await putPreferences(newYork, { timezone: 'America/New_York', quietHoursStart: '22:00', quietHoursEnd: '08:00' }, b.token).expect(200);
    await putPreferences(tokyo, { timezone: 'Asia/Tokyo', quietHoursStart: '22:00', quietHoursEnd: '07:00' }, b.token).expect(200);
    await putPreferences(utc, { quietHoursStart: '01:00', quietHoursEnd: '05:00' }, b.token).expect(200);

    vi.useFakeTimers({ toFake: ['Date'] });
    // 22:00 in New York (EST), 12:00 in Tokyo, 03:00 UTC.
    vi.setSystemTime(new Date('2025-01-15T03:00:00.000Z'));
    const res = await audience('channel=EMAIL&purpose=transactional', b.token);
    const at = Object.fromEntries(res.data.map((r) => [r.customerId, r.nextAllowedSendAt]));
    expect(at).toEqual({
      [newYork]: '2025-01-15T13:00:00.000Z',
      [tokyo]: '2025-01-15T03:00:00.000Z',
      [utc]: '2025-01-15T05:00:00.000Z',
      [none]: '2025-01-15T03:00:00.000Z',
    });
  });

  it('returns every recipient exactly once across pages, in customer id order', async () => {
    const b = await t.newBusiness('Pages');
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push(await createCustomer({}, b.token));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const body = await audience(`channel=EMAIL&purpose=marketing&limit=3${cursor ? `&cursor=${cursor}` : ''}`, b.token);
      expect(body.data.length).toBeLessThanOrEqual(3);
      seen.push(...ids(body));
      cursor = body.meta.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].sort());
  });

  it('refuses bad queries naming the field', async () => {
    const cases: [string, string][] = [
      ['channel=FAX&purpose=marketing', 'query.channel'],
      ['channel=EMAIL', 'query.purpose'],
      ['channel=EMAIL&purpose=marketing&limit=1001', 'query.limit'],
      ['channel=EMAIL&purpose=marketing&segmentId=nope', 'query.segmentId'],
      ['channel=EMAIL&purpose=marketing&cursor=bm90LWEtY3Vyc29y', 'query.cursor'],
      ['channel=EMAIL&purpose=marketing&colour=blue', 'query.colour'],
    ];
    for (const [query, field] of cases) {
      const res = await request(t.app).get(`/api/v1/audiences?${query}`).set(auth(shop.token)).expect(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it('is open to staff and closed to analysts', async () => {
    await request(t.app).get('/api/v1/audiences?channel=EMAIL&purpose=marketing').set(auth(t.tokenFor(shop.id, 'staff'))).expect(200);
    await request(t.app).get('/api/v1/audiences?channel=EMAIL&purpose=marketing').set(auth(t.tokenFor(shop.id, 'analyst'))).expect(403);
  });
});
