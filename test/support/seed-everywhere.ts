// Test support: seeds one customer with data in every store and every table of the customer data
// map (src/privacy/customer-data-map.ts), so export and erasure tests can check that they reach
// all of it. Writes go through the API or the real services and repositories wherever they exist:
//
//   customers, customer_sources, addresses, ip addresses, activities, metrics, demographics,
//   engagement, risk, business_customers        POST /api/v1/customers
//   customer_communication_preferences           PUT  /api/v1/customers/{id}/preferences
//   customer_segment_assignments                 POST /api/v1/segments (criteria on a unique tag)
//   customer_tier_history                        PUT  /api/v1/customers/{id}/tier-override
//   memory_interactions (+ warehouse interactions) POST /api/memory/learn, then the loader
//   customer_transactions (memory) + warehouse purchases  POST /api/memory/purchase/{id}
//   customer_predictions + warehouse predictions POST /api/memory/predict/{id}
//   warehouse raw POS tables (square_*, lightspeed_*, purchases) with profile_id set  Warehouse.upsert
//   customer_transactions (square, lightspeed) + customer_metrics_pending  upsertTransactions (ingest repository)
//   ingest_quarantine                            a POS connection, a run and quarantined records (ingest repository):
//                                                one naming the customer, one naming the merged-away duplicate's email
//   customer_merges                              a duplicate profile of the same person (with its own rows and warehouse rows) merged into this one (POST /api/v1/customers/{id}/merge)
//   customer_data_exports                        POST /api/v1/customers/{id}/export, processed by the queue worker
//   domain_events, sync_logs                     written by all of the above
//   Firestore customers/{id}, private/pii, subcollections   projector.drain()
//   memory profile cache (Redis or in-process)    GET /api/memory/profile/{id} and /context/{id}, last
//
// Not seeded: customer_erasures (exists only once a customer is erased). Every identifying value
// (email, phone, names, POS ids) is unique per call, so a second call seeds an unrelated
// customer and tests can search every store for one customer's values.
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import request from 'supertest';
import { queryRows } from '../../src/db/db.client.js';
import { insertConnection, insertQuarantine, startRun, upsertTransactions } from '../../src/ingest/ingest.repository.js';
import { buildCustomer } from './builders.js';
import type { TestApp } from './test-app.js';

export interface SeededCustomer {
  businessId: string;
  customerId: string;
  /** A second profile of the same person, merged into customerId (customer_merges). */
  mergedAwayId: string | null;
  /** Identifying values, each unique to this customer. */
  email: string;
  /** As sent (E.164, which is also the normalised form). */
  phone: string;
  firstName: string;
  lastName: string;
  /** Other emails of the person (the merged-away profile's). */
  otherEmails: string[];
  /** POS customer ids: Square customer id, Lightspeed customerID (and its `account/id` source id). */
  squareCustomerId: string;
  lightspeedCustomerId: string;
  lightspeedAccountId: string;
  segmentId: string;
  exportId: string | null;
  orderId: string;
  squarePaymentId: string;
  squareRefundId: string;
  lightspeedSaleId: string;
  /** Every value above that identifies the person, for "appears nowhere" scans. */
  identifying: string[];
}

export interface SeedOptions {
  /** Merge a duplicate profile of the person into this one (customer_merges). Default true. */
  merge?: boolean;
  /** Request a GDPR_BASIC export and let the queue worker process it. Default true. */
  exportRequest?: boolean;
}

/** Tables of the data map that seedEverywhere leaves empty, and why. */
export const NOT_SEEDED: Record<string, string> = {
  customer_erasures: 'exists only once the customer is erased',
};

const DAY = 86_400_000;
let calls = 0;

/** Random lowercase letters, so a name looks like a name and is unique. */
function letters(n: number): string {
  return [...randomBytes(n)].map((b) => String.fromCharCode(97 + (b % 26))).join('');
}

/** A valid, unique-enough US number in the 555 range libphonenumber accepts. */
function phoneNumber(): string {
  calls += 1;
  const digits = String((randomBytes(2).readUInt16BE(0) + calls * 7919) % 10_000).padStart(4, '0');
  const area = ['415', '212', '646', '310', '617'][calls % 5]!;
  return `+1${area}555${digits}`;
}

export async function seedEverywhere(t: TestApp, business: { id: string; token: string }, opts: SeedOptions = {}): Promise<SeededCustomer> {
  const auth = { authorization: `Bearer ${business.token}` };
  const tag = letters(8);
  const firstName = `Zephyrine${tag.slice(0, 4)}`;
  const lastName = `Quillfeather${tag.slice(4)}`;
  const email = `zephyrine.${tag}@seed-${letters(4)}.example.org`;
  const phone = phoneNumber();
  const squareCustomerId = `SQC${tag.toUpperCase()}${randomUUID().slice(0, 6)}`;
  const lightspeedAccountId = `ls-acct-${tag}`;
  const lightspeedCustomerId = String(100_000 + Math.floor(Math.random() * 800_000));
  const now = new Date();
  const at = (daysAgo: number) => new Date(now.getTime() - daysAgo * DAY);

  // 1. The aggregate, through the API: every customer-global table of the data map.
  const body = buildCustomer({
    email,
    phone,
    firstName,
    lastName,
    dateOfBirth: '1984-03-09',
    notes: `Prefers ${firstName} by phone`,
    internalNotes: `Called ${lastName} about a late order`,
    tags: ['loyal', `seed-${tag}`],
    customAttributes: { nickname: `${firstName}-${tag}` },
    sources: [
      { source: 'square', externalId: squareCustomerId, data: { given_name: firstName, family_name: lastName, email_address: email } },
      { source: 'lightspeed', externalId: `${lightspeedAccountId}/${lightspeedCustomerId}`, data: { firstName, lastName } },
    ],
    demographics: { gender: 'female', ageRange: '35-44', occupation: 'Luthier', company: `${lastName} Instruments`, interests: ['violins'] },
    engagement: { emailConsent: true, loyaltyMember: true, loyaltyPoints: 450, pushTokens: [`push-${tag}`] },
    risk: { riskScore: 12, riskLevel: 'low', reviewNotes: `Checked ${lastName}'s card` },
    addresses: [
      {
        addressType: 'shipping',
        isDefault: true,
        firstName,
        lastName,
        addressLine1: `${(calls % 900) + 100} ${lastName} Lane`,
        city: 'Beverly Hills',
        country: 'United States',
        countryCode: 'US',
        postalCode: '90211',
        phone,
        email,
      },
      { addressType: 'billing', addressLine1: '1 Rue de Rivoli', city: 'Paris', country: 'France', countryCode: 'FR', postalCode: '75001' },
    ],
    ipAddresses: [{ ipAddress: `10.${calls % 250}.${randomBytes(1)[0]}.${randomBytes(1)[0]! % 250}`, countryCode: 'US', city: 'Beverly Hills', userAgent: `Mozilla/5.0 (${tag})` }],
    activities: [
      { id: randomUUID(), activityType: 'product_view', eventData: { productId: 'violin-1' }, occurredAt: at(20).toISOString() },
      { id: randomUUID(), activityType: 'login', eventData: { method: 'password' }, sessionId: `sess-${tag}`, occurredAt: at(2).toISOString() },
    ],
  });
  const created = await request(t.app).post('/api/v1/customers').set(auth).send(body).expect(201);
  const customerId = (created.body as { data: { id: string } }).data.id;

  // 2. Standing with the business: preferences, a segment, a manual tier (tier history).
  await request(t.app)
    .put(`/api/v1/customers/${customerId}/preferences`)
    .set(auth)
    .send({ smsMarketing: false, frequency: 'WEEKLY_DIGEST', timezone: 'Europe/Paris', quietHoursStart: '21:00', quietHoursEnd: '08:00' })
    .expect(200);
  const segment = await request(t.app)
    .post('/api/v1/segments')
    .set(auth)
    .send({ name: `Seeded ${tag}`, criteria: { operator: 'AND', rules: [{ field: 'tags', operator: 'contains', value: `seed-${tag}` }] } })
    .expect(201);
  const segmentId = (segment.body as { data: { id: string } }).data.id;
  await request(t.app).put(`/api/v1/customers/${customerId}/tier-override`).set(auth).send({ tier: 'GOLD', reason: 'Seeded for privacy tests' }).expect(200);

  // 3. Memory: a conversation (loaded into the warehouse), a purchase outside the POS, predictions.
  await request(t.app)
    .post('/api/memory/learn')
    .set(auth)
    .send({ customerId, sessionId: `chat-${tag}`, message: `Hi, this is ${firstName} ${lastName}, call me on ${phone}`, response: 'Noted!', intent: 'contact', sentiment: 0.4, entities: { email }, channel: 'chat', occurredAt: at(3).toISOString() })
    .expect(201);
  await t.interactionsLoader.loadAll();
  const orderId = `mem-${tag}`;
  await request(t.app)
    .post(`/api/memory/purchase/${customerId}`)
    .set(auth)
    .send({ orderId, amount: 64, currency: 'usd', purchasedAt: at(10).toISOString(), items: [{ itemId: 'strings-1', name: 'Violin strings', category: 'Strings', quantity: 2, unitPrice: 32 }] })
    .expect(201);

  // 4. Raw POS rows in the warehouse, linked to the profile as the ingesters link them.
  const squarePaymentId = `PAY${tag.toUpperCase()}`;
  const squareRefundId = `REF${tag.toUpperCase()}`;
  const lightspeedSaleId = String(500_000 + Math.floor(Math.random() * 400_000));
  const ingestedAt = now;
  const up = async (table: Parameters<TestApp['warehouse']['upsert']>[0], rows: Parameters<TestApp['warehouse']['upsert']>[1]) => {
    const result = await t.warehouse.upsert(table, rows);
    if (result.rejected.length > 0) throw new Error(`seed: warehouse refused ${table}: ${result.rejected.map((r) => r.reason).join('; ')}`);
  };
  await up('square_customers', [
    { business_id: business.id, id: squareCustomerId, given_name: firstName, family_name: lastName, email_address: email, phone_number: phone, reference_id: `ref-${tag}`, created_at: at(60), updated_at: at(30), version: 2, profile_id: customerId, raw: { id: squareCustomerId, given_name: firstName, family_name: lastName, email_address: email, phone_number: phone }, ingested_at: ingestedAt },
  ]);
  await up('lightspeed_customers', [
    { business_id: business.id, account_id: lightspeedAccountId, customer_id: lightspeedCustomerId, first_name: firstName, last_name: lastName, email, phone, archived: false, create_time: at(60), time_stamp: at(30), profile_id: customerId, raw: { customerID: lightspeedCustomerId, firstName, lastName, Contact: { Emails: { ContactEmail: { address: email } } } }, ingested_at: ingestedAt },
  ]);
  await up('square_payments', [
    { business_id: business.id, id: squarePaymentId, created_at: at(15), updated_at: at(14), status: 'COMPLETED', amount: 4_500, tip: 0, total: 4_500, refunded: 1_000, currency: 'USD', source_type: 'CARD', card_brand: 'VISA', card_last4: '4242', location_id: 'L1', order_id: `ORD${tag}`, customer_id: squareCustomerId, profile_id: customerId, refund_ids: [squareRefundId], receipt_number: tag.slice(0, 4).toUpperCase(), raw: { id: squarePaymentId, buyer_email_address: email }, ingested_at: ingestedAt },
  ]);
  await up('square_refunds', [
    { business_id: business.id, id: squareRefundId, payment_id: squarePaymentId, location_id: 'L1', order_id: `ORD${tag}`, status: 'COMPLETED', amount: 1_000, currency: 'USD', reason: `${firstName} returned a bow`, created_at: at(14), updated_at: at(14), customer_id: squareCustomerId, profile_id: customerId, raw: { id: squareRefundId }, ingested_at: ingestedAt },
  ]);
  await up('lightspeed_sales', [
    { business_id: business.id, account_id: lightspeedAccountId, sale_id: lightspeedSaleId, shop_id: '1', register_id: '1', customer_id: lightspeedCustomerId, profile_id: customerId, time_stamp: at(8), create_time: at(8), complete_time: at(8), completed: true, voided: false, archived: false, subtotal: 30, discount: 0, tax: 2.4, total: 32.4, raw: { saleID: lightspeedSaleId, customerID: lightspeedCustomerId }, ingested_at: ingestedAt },
  ]);
  await up('lightspeed_sale_lines', [
    { business_id: business.id, account_id: lightspeedAccountId, sale_line_id: `${lightspeedSaleId}1`, sale_id: lightspeedSaleId, item_id: 'rosin-1', quantity: 1, unit_price: 30, total: 30, customer_id: lightspeedCustomerId, profile_id: customerId, time_stamp: at(8), create_time: at(8), ingested_at: ingestedAt },
  ]);
  await up('purchases', [
    { business_id: business.id, source: 'square', transaction_id: squarePaymentId, order_id: `ORD${tag}`, customer_id: customerId, source_customer_id: squareCustomerId, purchased_at: at(15), status: 'completed', amount: 45, refunded_amount: 10, currency: 'USD', item_count: 1, items: [{ itemId: 'bow-1', sku: null, name: 'Bow', category: 'Bows', quantity: 1, unitPrice: 45 }], location_id: 'L1', updated_at: at(14), ingested_at: ingestedAt },
    { business_id: business.id, source: 'lightspeed', transaction_id: `${lightspeedAccountId}:${lightspeedSaleId}`, order_id: null, customer_id: customerId, source_customer_id: `${lightspeedAccountId}/${lightspeedCustomerId}`, purchased_at: at(8), status: 'completed', amount: 32.4, refunded_amount: 0, currency: 'USD', item_count: 1, items: [{ itemId: 'rosin-1', sku: null, name: 'Rosin', category: 'Accessories', quantity: 1, unitPrice: 30 }], location_id: '1', updated_at: at(8), ingested_at: ingestedAt },
  ]);

  // 5. Predictions now that there are purchases (customer_predictions, warehouse predictions, metrics).
  await request(t.app).post(`/api/memory/predict/${customerId}`).set(auth).expect(200);

  // 6. The POS transactions in the system of record, as ingestion links them; their metrics stay
  // queued (customer_metrics_pending) until the next refresh.
  await upsertTransactions(t.database.handle.db, [
    { businessId: business.id, source: 'square', transactionId: squarePaymentId, customerId, sourceCustomerId: squareCustomerId, occurredAt: at(15), status: 'completed', amount: 45, refundedAmount: 10, currency: 'USD', itemCount: 1, categories: ['Bows'], sourceUpdatedAt: at(14) },
    { businessId: business.id, source: 'lightspeed', transactionId: `${lightspeedAccountId}:${lightspeedSaleId}`, customerId, sourceCustomerId: `${lightspeedAccountId}/${lightspeedCustomerId}`, occurredAt: at(8), status: 'completed', amount: 32.4, refundedAmount: 0, currency: 'USD', itemCount: 1, categories: ['Accessories'], sourceUpdatedAt: at(8) },
  ]);

  // 7. A POS record about the person that failed to parse (quarantined with the record as received).
  const connection = await insertConnection(t.database.handle.db, {
    businessId: business.id,
    provider: 'square',
    accountId: `seed-${tag}`,
    apiUrl: 'http://127.0.0.1:9',
    credentials: 'not-a-real-credential',
  });
  const runId = await startRun(t.database.handle.db, connection, 'seed');
  await insertQuarantine(t.database.handle.db, connection, runId, [
    { stream: 'customers', recordId: squareCustomerId, reason: 'created_at: must be a timestamp', payload: { id: squareCustomerId, given_name: firstName, family_name: lastName, email_address: email, created_at: 'yesterday' } },
  ]);

  // 8. A duplicate profile of the same person (an old email), merged into this one.
  let mergedAwayId: string | null = null;
  const oldEmail = `z.${tag}.old@seed-${letters(4)}.example.net`;
  if (opts.merge ?? true) {
    mergedAwayId = await mergeDuplicate(t, business, customerId, { email: oldEmail, firstName, lastName, tag });
    // A quarantined record that names the person by the duplicate's (old) email only.
    await insertQuarantine(t.database.handle.db, connection, runId, [
      { stream: 'customers', recordId: `SQOLD${tag.toUpperCase()}`, reason: 'updated_at: must be a timestamp', payload: { id: `SQOLD${tag.toUpperCase()}`, email_address: oldEmail.toUpperCase(), updated_at: 'never' } },
    ]);
  }

  // 9. Firestore, then an export request (processed, so an archive exists), then the cache, last:
  // every write above invalidates it.
  await t.projector.drain();
  let exportId: string | null = null;
  if (opts.exportRequest ?? true) {
    const exp = await request(t.app).post(`/api/v1/customers/${customerId}/export`).set(auth).send({ type: 'GDPR_BASIC', reason: 'Seeded request' }).expect(202);
    exportId = (exp.body as { data: { id: string } }).data.id;
    await t.queueWorker.drain();
  }
  await request(t.app).get(`/api/memory/profile/${customerId}`).set(auth).expect(200);
  await request(t.app).get(`/api/memory/context/${customerId}`).set(auth).expect(200);

  return {
    businessId: business.id,
    customerId,
    mergedAwayId,
    email,
    phone,
    firstName,
    lastName,
    otherEmails: mergedAwayId ? [oldEmail] : [],
    squareCustomerId,
    lightspeedCustomerId,
    lightspeedAccountId,
    segmentId,
    exportId,
    orderId,
    squarePaymentId,
    squareRefundId,
    lightspeedSaleId,
    identifying: [email, phone, firstName, lastName, squareCustomerId, ...(mergedAwayId ? [oldEmail] : [])],
  };
}

/**
 * A second profile of the person (an old email, no POS sources), with its own rows, merged into
 * `survivorId` through the real merge (POST /api/v1/customers/{id}/merge): its sources, addresses,
 * activities and transactions move to the survivor, and what a merge leaves with the merged-away
 * profile stays there: the customers row (merged_into_id), its business link, metrics,
 * demographics, engagement, risk, its sync_logs and events, and its warehouse rows (an old Square
 * customer record and a purchase, linked to it). The ranking makes the survivor's POS-backed
 * fields win, so the survivor keeps its email and names.
 */
async function mergeDuplicate(
  t: TestApp,
  business: { id: string; token: string },
  survivorId: string,
  person: { email: string; firstName: string; lastName: string; tag: string },
): Promise<string> {
  const auth = { authorization: `Bearer ${business.token}` };
  const { tag, ...names } = person;
  const created = await request(t.app)
    .post('/api/v1/customers')
    .set(auth)
    .send(buildCustomer({ ...names, phone: undefined, tags: ['loyal'], sources: [], addresses: [], ipAddresses: [], activities: [] }))
    .expect(201);
  const duplicateId = (created.body as { data: { id: string } }).data.id;
  const now = new Date();
  const old = new Date(now.getTime() - 400 * DAY);
  const oldSquareId = `SQO${tag.toUpperCase()}${randomUUID().slice(0, 6)}`;
  const up = async (table: Parameters<TestApp['warehouse']['upsert']>[0], rows: Parameters<TestApp['warehouse']['upsert']>[1]) => {
    const result = await t.warehouse.upsert(table, rows);
    if (result.rejected.length > 0) throw new Error(`seed: warehouse refused ${table}: ${result.rejected.map((r) => r.reason).join('; ')}`);
  };
  await up('square_customers', [
    { business_id: business.id, id: oldSquareId, given_name: person.firstName, family_name: person.lastName, email_address: person.email, created_at: old, updated_at: old, version: 1, profile_id: duplicateId, raw: { id: oldSquareId, email_address: person.email }, ingested_at: now },
  ]);
  await up('purchases', [
    { business_id: business.id, source: 'memory', transaction_id: `old-${tag}`, order_id: null, customer_id: duplicateId, source_customer_id: null, purchased_at: old, status: 'completed', amount: 12, refunded_amount: 0, currency: 'USD', item_count: 1, items: [], location_id: null, updated_at: old, ingested_at: now },
  ]);
  await request(t.app)
    .post(`/api/v1/customers/${survivorId}/merge`)
    .set(auth)
    .send({ sourceId: duplicateId, reason: 'Same person, old email', sourceRanking: ['square', 'lightspeed', 'import', 'manual'] })
    .expect(201);
  return duplicateId;
}

/**
 * A quarantined POS record of the business with this payload (its own connection and run): for
 * near-miss tests, a record about someone else whose email or phone merely contains the person's.
 */
export async function quarantineRecord(t: TestApp, businessId: string, recordId: string, payload: Record<string, unknown>): Promise<string> {
  const connection = await insertConnection(t.database.handle.db, {
    businessId,
    provider: 'square',
    accountId: `near-${letters(8)}`,
    apiUrl: 'http://127.0.0.1:9',
    credentials: 'not-a-real-credential',
  });
  const runId = await startRun(t.database.handle.db, connection, 'seed');
  await insertQuarantine(t.database.handle.db, connection, runId, [{ stream: 'customers', recordId, reason: 'created_at: must be a timestamp', payload }]);
  const rows = await queryRows<{ id: string }>(t.database.handle.db, sql`SELECT id::text AS id FROM ingest_quarantine WHERE connection_id = ${connection.id}::uuid`);
  return rows[0]!.id;
}
