// The one catalogue of where a customer's data lives: every PostgreSQL table, warehouse table,
// Firestore path and cache key that holds data about a customer, with how to find one
// customer's rows for one business, which columns identify the person, what erasure does to
// them, and, for GDPR Art. 15, the category, purpose, source, recipients and retention of each.
//
// Export (src/privacy/exports) reads through it and writes one CSV per entry; erasure deletes or
// de-identifies through it. Adding a table here is all it takes for both to cover it; a test
// compares this list with the database's tables that have a customer column.
//
// Stable API (other modules build on it):
//   PG_CUSTOMER_TABLES            PgTableEntry[]   PostgreSQL tables, in export order
//   WAREHOUSE_CUSTOMER_TABLES     WarehouseEntry[] warehouse tables linked to a profile
//   FIRESTORE_CUSTOMER_PATHS      FirestorePathEntry[]
//   CACHE_ENTRIES                 CacheEntry[]     Redis / in-process caches
//   ART15_GENERAL                 controller-level facts (purposes, rights, automated decisions)
//   personProfiles(ex, customerId, businessId)  [customer, ...merged-away duplicates]: what export and erasure cover
//   pgEntry(table), pgWhere(entry, customerId, businessId)  SQL condition over alias `t` selecting ONE profile's rows
//   readPgRows(ex, customerId, businessId, tables?) rows as JSON objects, per table
//   CUSTOMER_SUBCOLLECTIONS                         subcollections of customers/{id} (private, addresses, …)
//   readFirestoreDocs(firestore, customerId)        every document under customers/{id}, plus syncState/{id}
//   readWarehouseRows(warehouse, customerId, businessId, tables?) rows per table
//   memoryProfileCacheKeys(businessId, customerId)  the Redis keys of the memory profile cache
//
// Not here: customer_name_vocabulary, the first and last names the search looks misspellings up
// in, with no link to any customer. Triggers on customers remove a name from it when no live
// customer has it any more (migration 0006), so erasure needs no step of its own for it.
//
// Scoping: tables with a business_id are filtered by it. The customer-global parts of the
// aggregate (customers, addresses, activities, …) are shared by every business the customer is
// linked with (business_customers), so they are selected for a business only while that link
// exists.
import { sql, type SQL } from 'drizzle-orm';
import type { Firestore } from 'firebase-admin/firestore';
import { queryRows, type Executor } from '../db/db.client.js';
import { MEMORY_PROFILE_CACHE_PREFIX } from '../memory/profile-cache.js';
import type { Warehouse, WarehouseRow } from '../warehouse/warehouse.port.js';
import type { WarehouseTableName } from '../warehouse/warehouse-tables.js';

/** Plain-language facts for GDPR Art. 15(1) about one place data is kept. */
export interface Art15Facts {
  /** Category of personal data (Art. 15(1)(b)). */
  category: string;
  /** Why it is processed (Art. 15(1)(a)). */
  purpose: string;
  /** Where it came from (Art. 15(1)(g)). */
  source: string;
  /** Who receives it (Art. 15(1)(c)). */
  recipients: string;
  /** How long it is kept (Art. 15(1)(d)). */
  retention: string;
}

/**
 * What erasure does to a PostgreSQL table's rows of the customer:
 * - delete: the rows go.
 * - overwrite: the rows stay (a tombstone or a record needed for accounting/audit) and `columns`
 *   are overwritten with random tokens or null.
 * - unlink: the rows stay for accounting; `columns` (the link to the person) are set to null.
 * - keep: nothing personal is in the row (ids, counts, hashes); it stays as proof or history.
 */
export type PgErasure =
  | { action: 'delete' }
  | { action: 'overwrite'; columns: string[] }
  | { action: 'unlink'; columns: string[] }
  | { action: 'keep'; why: string };

export interface PgTableEntry {
  table: string;
  /** Columns that identify a row (to compare stores, order output). */
  key: string[];
  /** Columns that hold personal data that identifies the person or is sensitive (free text, contact, device, location). */
  pii: string[];
  /** Customer-global table (no business_id): shared by the customer's businesses, selected while linked. */
  global: boolean;
  /** Part of a GDPR_BASIC export (profile and transactions). */
  basic: boolean;
  erasure: PgErasure;
  art15: Art15Facts;
  /** Condition selecting one customer's rows for one business; columns through alias `t`. */
  where(customerId: string, businessId: string): SQL;
}

/** What erasure does to a warehouse table's rows of the customer. */
export type WarehouseErasure =
  | { action: 'delete' }
  /** Kept for accounting: these columns are cleared (the link column included). */
  | { action: 'deidentify'; columns: string[] };

export interface WarehouseEntry {
  table: WarehouseTableName;
  /** Column holding our customer (profile) id. */
  linkColumn: 'profile_id' | 'customer_id';
  /** Tenant column. */
  businessColumn: 'business_id';
  /** Columns that identify the person (names, contact, POS customer ids, card digits, raw payloads, free text). */
  identifying: string[];
  basic: boolean;
  erasure: WarehouseErasure;
  art15: Art15Facts;
}

export interface FirestorePathEntry {
  /** Path template; `{id}` is the customer id, `{docId}` any document of a collection. */
  path: string;
  kind: 'document' | 'collection';
  description: string;
  /** Holds personal data (the main document holds none by design: PII is under private/pii). */
  pii: boolean;
  /** Erasure: the projector deletes all of customers/{id} once the customer is erased (isProjected false). */
  erasure: 'deleted by the projector' | 'bookkeeping (no PII): deleted with the document';
  art15: Art15Facts;
}

export interface CacheEntry {
  store: 'redis' | 'in-process';
  /** Key template: `{businessId}`, `{customerId}`. */
  key: string;
  description: string;
  /** How to clear it for one customer. */
  clear: string;
}

// ---------------------------------------------------------------------------------------------
// Art. 15 facts, shared phrases
// ---------------------------------------------------------------------------------------------

const RECIPIENTS_INTERNAL =
  'Staff of the business you deal with, through its admin tools; our hosting providers (database, Google Cloud Firestore and BigQuery) as processors. Not sold or shared with third parties.';
const RETENTION_PROFILE =
  'For as long as you are a customer of the business; erased on request (GDPR Art. 17 / CCPA deletion), except what the law requires to be kept for accounting.';
const RETENTION_ACCOUNTING =
  'Kept for the statutory accounting period (typically 6-10 years depending on the country); on erasure the link to you is removed and the record stays unlinked.';
const SOURCE_DIRECT = 'Provided by you or by the business on your behalf (sign-up, store staff, the business\'s own systems).';
const SOURCE_POS = 'The business\'s point-of-sale systems (Square, Lightspeed) when you buy in store or online.';
const SOURCE_DERIVED = 'Computed by this service from your purchases and interactions.';

const art = (category: string, purpose: string, source: string, retention = RETENTION_PROFILE, recipients = RECIPIENTS_INTERNAL): Art15Facts => ({
  category,
  purpose,
  source,
  recipients,
  retention,
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/** The customer is linked with the business (customer-global tables are visible to it only then). */
const linked = (customerId: string, businessId: string): SQL =>
  sql`EXISTS (SELECT 1 FROM business_customers bc WHERE bc.business_id = ${businessId}::uuid AND bc.customer_id = ${customerId}::uuid)`;

const globalByCustomer =
  (column = 'customer_id') =>
  (customerId: string, businessId: string): SQL =>
    sql`${sql.raw(`t.${column}`)} = ${customerId}::uuid AND ${linked(customerId, businessId)}`;

const perBusiness = (customerId: string, businessId: string): SQL =>
  sql`t.customer_id = ${customerId}::uuid AND t.business_id = ${businessId}::uuid`;

export const PG_CUSTOMER_TABLES: PgTableEntry[] = [
  {
    table: 'customers',
    key: ['id'],
    pii: ['email', 'email_lowercase', 'phone', 'phone_normalized', 'first_name', 'last_name', 'full_name', 'date_of_birth', 'notes', 'internal_notes', 'custom_attributes', 'tags'],
    global: true,
    basic: true,
    erasure: {
      action: 'overwrite',
      // email_lowercase and full_name are generated from these.
      columns: ['email', 'phone', 'phone_normalized', 'first_name', 'last_name', 'date_of_birth', 'notes', 'internal_notes', 'custom_attributes', 'tags'],
    },
    art15: art('Identity and contact data (name, email, phone, date of birth), status, tags and notes', 'Keeping your customer profile so the business can serve you, run its loyalty programme and contact you as you allowed', SOURCE_DIRECT),
    // Exactly one profile: duplicates merged into it are visited on their own (personProfiles).
    where: (customerId, businessId) => sql`t.id = ${customerId}::uuid AND ${linked(customerId, businessId)}`,
  },
  {
    table: 'business_customers',
    key: ['business_id', 'customer_id'],
    pii: ['email_lowercase', 'notes', 'tier_override_reason'],
    global: false,
    basic: true,
    erasure: { action: 'overwrite', columns: ['email_lowercase', 'notes', 'tier_override_reason'] },
    art15: art('Your relationship with the business: loyalty tier, manual tier changes and their reasons, notes', 'Running the business\'s loyalty programme', SOURCE_DERIVED),
    where: perBusiness,
  },
  {
    table: 'customer_sources',
    key: ['id'],
    pii: ['external_id', 'source_data'],
    global: true,
    basic: true,
    erasure: { action: 'delete' },
    art15: art('Your identifiers in the business\'s other systems (POS customer ids) and the record as received from them', 'Recognising you across the business\'s systems so your purchases land on one profile', SOURCE_POS),
    where: globalByCustomer(),
  },
  {
    table: 'customer_addresses',
    key: ['id'],
    pii: ['first_name', 'last_name', 'company', 'address_line1', 'address_line2', 'city', 'state_province', 'state_province_code', 'postal_code', 'phone', 'email', 'latitude', 'longitude', 'validation_result'],
    global: true,
    basic: true,
    erasure: { action: 'delete' },
    art15: art('Postal addresses (billing, shipping), their geolocation and neighbourhood estimates', 'Delivering orders, billing, and fraud checks', SOURCE_DIRECT),
    where: globalByCustomer(),
  },
  {
    table: 'customer_ip_addresses',
    key: ['id'],
    pii: ['ip_address', 'city', 'postal_code', 'latitude', 'longitude', 'user_agent', 'device_model', 'isp', 'organization'],
    global: true,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('IP addresses you used, their approximate location, network and device', 'Security and fraud prevention', 'Collected from your visits to the business\'s online shop.'),
    where: globalByCustomer(),
  },
  {
    table: 'customer_activities',
    key: ['id'],
    pii: ['event_data', 'ip_address', 'session_id', 'user_agent', 'referrer', 'city', 'region'],
    global: true,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Activity log: what you viewed or did, when, from where', 'Understanding your interests to personalise offers; customer service history', 'Collected from your visits and orders.'),
    where: globalByCustomer(),
  },
  {
    table: 'customer_metrics',
    key: ['customer_id'],
    pii: ['favorite_category', 'favorite_brand'],
    global: true,
    basic: true,
    erasure: { action: 'delete' },
    art15: art('Purchase summary: orders, amounts, favourite category, predicted churn and lifetime value', 'Loyalty tiers, segments for marketing, customer service', SOURCE_DERIVED),
    where: globalByCustomer(),
  },
  {
    table: 'customer_demographics',
    key: ['customer_id'],
    pii: ['gender', 'age', 'age_range', 'birth_date', 'birth_year', 'income_range', 'household_income_percentile', 'education_level', 'occupation', 'industry', 'job_title', 'company', 'marital_status', 'has_children', 'number_of_children', 'home_ownership_status', 'dwelling_type', 'interests', 'hobbies', 'preferred_brands', 'lifestyle_segment', 'social_profiles', 'demographic_sources'],
    global: true,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Demographics and interests (gender, age, income range, occupation, household, social profiles)', 'Segmenting customers for relevant offers', 'Provided by you or by the business, or from enrichment providers the business uses (named in demographic_sources).'),
    where: globalByCustomer(),
  },
  {
    table: 'customer_engagement',
    key: ['customer_id'],
    pii: ['push_tokens', 'app_version'],
    global: true,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Marketing consent, email/SMS/push engagement, app usage, loyalty points, reviews', 'Respecting your consent, measuring engagement, running the loyalty programme', `${SOURCE_DIRECT} Engagement counts come from the business's messaging tools.`),
    where: globalByCustomer(),
  },
  {
    table: 'customer_risk_assessments',
    key: ['id'],
    pii: ['related_account_ids', 'blocked_reason', 'review_notes'],
    global: true,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Fraud-risk assessment: scores, indicators, blocks and review notes', 'Preventing fraud (legitimate interest)', `${SOURCE_DERIVED} Scores may come from fraud-screening providers (Sift, Riskified, MaxMind).`),
    where: globalByCustomer(),
  },
  {
    table: 'customer_communication_preferences',
    key: ['customer_id', 'business_id'],
    pii: ['timezone', 'quiet_hours_start', 'quiet_hours_end'],
    global: false,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Your communication preferences (channels, frequency, quiet hours, time zone)', 'Contacting you only as you allowed', SOURCE_DIRECT),
    where: perBusiness,
  },
  {
    table: 'customer_segment_assignments',
    key: ['segment_id', 'customer_id'],
    pii: [],
    global: false,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('The customer segments you are in', 'Targeting marketing and offers', `${SOURCE_DERIVED} From rules the business defined over your profile.`),
    where: perBusiness,
  },
  {
    table: 'customer_tier_history',
    key: ['id'],
    pii: ['note'],
    global: false,
    basic: false,
    erasure: { action: 'overwrite', columns: ['note', 'changed_by'] },
    art15: art('History of your loyalty tier changes', 'Running the loyalty programme and explaining its decisions', SOURCE_DERIVED),
    where: perBusiness,
  },
  {
    table: 'customer_transactions',
    key: ['business_id', 'source', 'transaction_id'],
    pii: ['source_customer_id'],
    global: false,
    basic: true,
    erasure: { action: 'unlink', columns: ['customer_id', 'source_customer_id'] },
    art15: art('Your purchases: when, amount, status, number of items, categories', 'Sales records, loyalty, purchase history, predictions', SOURCE_POS, RETENTION_ACCOUNTING),
    where: perBusiness,
  },
  {
    table: 'customer_metrics_pending',
    key: ['customer_id'],
    pii: [],
    global: true,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('A note that your purchase summary is due to be recomputed (transient)', 'Keeping your purchase summary up to date', SOURCE_DERIVED, 'Removed within seconds, once the summary is recomputed.'),
    where: globalByCustomer(),
  },
  {
    table: 'memory_interactions',
    key: ['id'],
    pii: ['message', 'response', 'entities', 'session_id'],
    global: false,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Your conversations with the business\'s assistants (email, voice, chat): messages, replies, detected intent and sentiment', 'Answering you with the context of earlier conversations; improving service', 'Recorded by the business\'s assistant tools when you contact it.'),
    where: perBusiness,
  },
  {
    table: 'customer_predictions',
    key: ['customer_id', 'business_id'],
    pii: ['recommendations'],
    global: false,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Predictions about you: churn risk, expected purchases and spend, lifetime value, engagement, product recommendations', 'Personalised offers and retention (profiling, Art. 22 does not apply: no decision with legal or similarly significant effect is made on it)', SOURCE_DERIVED),
    where: perBusiness,
  },
  {
    table: 'customer_data_exports',
    key: ['id'],
    pii: ['request_reason'],
    global: false,
    basic: false,
    // The archives hold PII: erasure deletes the files (storage_key) with the rows.
    erasure: { action: 'delete' },
    art15: art('Your data access requests: when, by whom, status', 'Answering your access requests (legal obligation)', 'Created when you or the business asked for an export.', 'Archives are deleted 30 days after the request; the request record is kept as proof for 3 years.'),
    where: perBusiness,
  },
  {
    table: 'customer_merges',
    key: ['id'],
    pii: ['snapshot', 'decisions', 'reason'],
    global: false,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Records of duplicate profiles of yours being merged, with the state before the merge', 'Keeping one accurate profile per person, and undoing a wrong merge', SOURCE_DERIVED, 'Undo is possible for 30 days; the record is kept until erasure.'),
    where: (customerId, businessId) =>
      sql`t.business_id = ${businessId}::uuid AND (t.survivor_id = ${customerId}::uuid OR t.merged_id = ${customerId}::uuid)`,
  },
  {
    table: 'customer_erasures',
    key: ['id'],
    pii: [],
    global: false,
    basic: false,
    erasure: { action: 'keep', why: 'proof of erasure, without personal data (Art. 5(2) accountability)' },
    art15: art('Records of erasure requests about you (no personal data)', 'Proving that an erasure was carried out (legal obligation)', 'Created when erasure was requested.', 'Kept as proof for 3 years.'),
    where: perBusiness,
  },
  {
    table: 'domain_events',
    key: ['id'],
    pii: [],
    global: false,
    basic: false,
    erasure: { action: 'keep', why: 'event payloads hold ids and field names, never personal values' },
    art15: art('Events about your profile (created, updated, tier and segment changes) with ids only', 'Informing the business\'s other systems of changes', SOURCE_DERIVED, 'Kept as the audit trail of changes; no personal values are in it.'),
    where: perBusiness,
  },
  {
    table: 'sync_logs',
    key: ['id'],
    pii: [],
    global: true,
    basic: false,
    erasure: { action: 'keep', why: 'outbox rows hold ids, versions, hashes and field names, never values' },
    art15: art('Technical log of copies of your profile to the admin interface (ids, versions and changed field names only)', 'Keeping the admin interface in step with the record', SOURCE_DERIVED, 'Kept as the audit trail of changes; no personal values are in it.'),
    where: (customerId, businessId) => sql`t.entity_type = 'customer' AND t.entity_id = ${customerId}::uuid AND ${linked(customerId, businessId)}`,
  },
  {
    table: 'ingest_quarantine',
    key: ['id'],
    pii: ['payload'],
    global: false,
    basic: false,
    erasure: { action: 'delete' },
    art15: art('POS records about you that could not be processed, kept as received for repair', 'Repairing data import errors', SOURCE_POS, 'Until repaired, or erasure.'),
    // Quarantined records failed to parse, so nothing links them to a profile: they are matched by
    // whole values, never substrings (an@shop.com is not jan@shop.com): a JSON string equal to the
    // customer's email (case-insensitive) or to their phone (same digits as the E.164 form, or its
    // national digits), or the record id / a value equal to one of the customer's POS ids from the
    // same provider (a Lightspeed id is `account/customerID`).
    where: (customerId, businessId) => sql`t.business_id = ${businessId}::uuid AND ${linked(customerId, businessId)} AND EXISTS (
      SELECT 1 FROM customers c
      WHERE c.id = ${customerId}::uuid AND (
        (c.email_lowercase IS NOT NULL
          AND jsonb_path_exists(lower(t.payload::text)::jsonb, 'strict $.** ? (@ == $v)', jsonb_build_object('v', c.email_lowercase)))
        OR (c.phone_normalized IS NOT NULL AND EXISTS (
          SELECT 1 FROM jsonb_path_query(t.payload, 'strict $.** ? (@.type() == "string")') AS value(v)
          CROSS JOIN LATERAL (SELECT regexp_replace(value.v #>> '{}', '[^0-9]', '', 'g') AS d, regexp_replace(c.phone_normalized, '[^0-9]', '', 'g') AS p) n
          WHERE n.d = n.p OR (length(n.d) >= 9 AND length(n.p) - length(n.d) BETWEEN 1 AND 3 AND right(n.p, length(n.d)) = n.d)))
        OR EXISTS (
          SELECT 1 FROM customer_sources s JOIN pos_connections pc ON pc.id = t.connection_id AND pc.provider = s.source
          WHERE s.customer_id = c.id
            AND (t.record_id = s.external_id OR pc.account_id || '/' || t.record_id = s.external_id
                 OR jsonb_path_exists(t.payload, 'strict $.** ? (@ == $v)', jsonb_build_object('v', s.external_id))))))`,
  },
];

/**
 * Duplicates merged into the customer, directly or through a chain of merges (customer_merges
 * keeps them as merged-away rows, their identity intact for undo): the same person. Only those
 * linked to this business alone; one shared with another business is that business's to answer for.
 */
export async function mergedAwayDuplicates(ex: Executor, customerId: string, businessId: string): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    ex,
    sql`WITH RECURSIVE merged(id) AS (
          SELECT id FROM customers WHERE merged_into_id = ${customerId}::uuid
          UNION SELECT c.id FROM customers c JOIN merged m ON c.merged_into_id = m.id
        )
        SELECT c.id::text AS id FROM merged m JOIN customers c ON c.id = m.id
        JOIN business_customers bc ON bc.customer_id = c.id AND bc.business_id = ${businessId}::uuid
        WHERE c.erased_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM business_customers o WHERE o.customer_id = c.id AND o.business_id <> ${businessId}::uuid)
        ORDER BY c.id`,
  );
  return rows.map((r) => r.id);
}

/**
 * The profiles of the person one request is about: the customer, then its merged-away duplicates
 * (mergedAwayDuplicates). Export reads and erasure erases exactly these, each through the data
 * map's single-profile conditions.
 */
export async function personProfiles(ex: Executor, customerId: string, businessId: string): Promise<string[]> {
  return [customerId, ...(await mergedAwayDuplicates(ex, customerId, businessId))];
}

/** The entry of a PostgreSQL table (throws for a table not in the map). */
export function pgEntry(table: string): PgTableEntry {
  const entry = PG_CUSTOMER_TABLES.find((e) => e.table === table);
  if (!entry) throw new Error(`${table} is not in the customer data map`);
  return entry;
}

/** The SQL condition of an entry (columns through alias `t`). */
export function pgWhere(entry: PgTableEntry, customerId: string, businessId: string): SQL {
  return entry.where(customerId, businessId);
}

export type PgRows = Record<string, Record<string, unknown>[]>;

/**
 * One customer's rows for one business in every listed table, each row as its JSON form
 * (to_jsonb: timestamps as ISO text, numerics as numbers, inet as text), in key order.
 */
export async function readPgRows(ex: Executor, customerId: string, businessId: string, tables: PgTableEntry[] = PG_CUSTOMER_TABLES): Promise<PgRows> {
  const out: PgRows = {};
  for (const entry of tables) {
    const order = sql.raw(entry.key.map((k) => `t.${k}`).join(', '));
    const rows = await queryRows<{ row: Record<string, unknown> }>(
      ex,
      sql`SELECT to_jsonb(t) AS row FROM ${sql.identifier(entry.table)} t WHERE ${entry.where(customerId, businessId)} ORDER BY ${order}`,
    );
    out[entry.table] = rows.map((r) => r.row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Warehouse
// ---------------------------------------------------------------------------------------------

const accounting = (category: string): Art15Facts => art(category, 'Sales and accounting records of the business; purchase history and predictions', SOURCE_POS, RETENTION_ACCOUNTING);

export const WAREHOUSE_CUSTOMER_TABLES: WarehouseEntry[] = [
  {
    table: 'square_customers',
    linkColumn: 'profile_id',
    businessColumn: 'business_id',
    identifying: ['id', 'given_name', 'family_name', 'email_address', 'phone_number', 'reference_id', 'raw', 'profile_id'],
    basic: true,
    erasure: { action: 'delete' },
    art15: art('Your customer record in the business\'s Square account (name, email, phone)', 'Recognising you across the business\'s systems', SOURCE_POS),
  },
  {
    table: 'lightspeed_customers',
    linkColumn: 'profile_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'first_name', 'last_name', 'email', 'phone', 'raw', 'profile_id'],
    basic: true,
    erasure: { action: 'delete' },
    art15: art('Your customer record in the business\'s Lightspeed account (name, email, phone)', 'Recognising you across the business\'s systems', SOURCE_POS),
  },
  {
    table: 'square_payments',
    linkColumn: 'profile_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'card_brand', 'card_last4', 'receipt_number', 'raw', 'profile_id'],
    basic: true,
    erasure: { action: 'deidentify', columns: ['customer_id', 'card_brand', 'card_last4', 'receipt_number', 'raw', 'profile_id'] },
    art15: accounting('Your Square payments: amount, time, status, card brand and last four digits'),
  },
  {
    table: 'square_refunds',
    linkColumn: 'profile_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'reason', 'raw', 'profile_id'],
    basic: true,
    erasure: { action: 'deidentify', columns: ['customer_id', 'reason', 'raw', 'profile_id'] },
    art15: accounting('Your Square refunds: amount, time, status, reason'),
  },
  {
    table: 'lightspeed_sales',
    linkColumn: 'profile_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'raw', 'profile_id'],
    basic: true,
    erasure: { action: 'deidentify', columns: ['customer_id', 'raw', 'profile_id'] },
    art15: accounting('Your Lightspeed sales: totals, time, status'),
  },
  {
    table: 'lightspeed_sale_lines',
    linkColumn: 'profile_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'profile_id'],
    basic: true,
    erasure: { action: 'deidentify', columns: ['customer_id', 'profile_id'] },
    art15: accounting('The items of your Lightspeed sales'),
  },
  {
    table: 'purchases',
    linkColumn: 'customer_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'source_customer_id'],
    basic: true,
    erasure: { action: 'deidentify', columns: ['customer_id', 'source_customer_id'] },
    art15: accounting('All your purchases in one shape (both POS systems and purchases recorded by the business\'s assistants), with their items'),
  },
  {
    table: 'interactions',
    linkColumn: 'customer_id',
    businessColumn: 'business_id',
    identifying: ['customer_id', 'session_id', 'message', 'response', 'entities'],
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Your conversations with the business\'s assistants, as loaded into the analytics warehouse', 'Analysing conversations to improve service and predictions', 'Copied from the conversation record.'),
  },
  {
    table: 'predictions',
    linkColumn: 'customer_id',
    businessColumn: 'business_id',
    identifying: ['customer_id'],
    basic: false,
    erasure: { action: 'delete' },
    art15: art('Every prediction made about you, and later how accurate it was', 'Measuring and improving the prediction models', SOURCE_DERIVED),
  },
];

export type WarehouseRows = Partial<Record<WarehouseTableName, WarehouseRow[]>>;

/** One customer's current rows for one business in every listed warehouse table. */
export async function readWarehouseRows(
  warehouse: Warehouse,
  customerId: string,
  businessId: string,
  tables: WarehouseEntry[] = WAREHOUSE_CUSTOMER_TABLES,
): Promise<WarehouseRows> {
  const out: WarehouseRows = {};
  for (const entry of tables) {
    const rows: WarehouseRow[] = [];
    for await (const row of warehouse.read(entry.table, { [entry.businessColumn]: businessId, [entry.linkColumn]: customerId })) rows.push(row);
    out[entry.table] = rows;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Firestore (a projection of PostgreSQL: src/sync/firestore-mapping.ts, sync-projector.ts)
// ---------------------------------------------------------------------------------------------

const PROJECTION_RETENTION = 'A copy of the record above, kept only while the record exists; removed at once when you are erased or your profile is merged into another.';

export const FIRESTORE_CUSTOMER_PATHS: FirestorePathEntry[] = [
  {
    path: 'customers/{id}',
    kind: 'document',
    description: 'The profile as the admin UI lists it: status, tags, sources, per-business tier, segments and preferences, metrics, risk, engagement (no names or contact data)',
    pii: false,
    erasure: 'deleted by the projector',
    art15: art('A copy of your profile for the business\'s real-time admin interface', 'Showing your profile to the business\'s staff', 'Copied from the record.', PROJECTION_RETENTION),
  },
  {
    path: 'customers/{id}/private/pii',
    kind: 'document',
    description: 'Names, email, phone, birth date, notes, custom attributes, demographics, POS source data, push tokens',
    pii: true,
    erasure: 'deleted by the projector',
    art15: art('A copy of your identity and contact data for the admin interface', 'Showing your profile to authorised staff', 'Copied from the record.', PROJECTION_RETENTION),
  },
  {
    path: 'customers/{id}/addresses/{docId}',
    kind: 'collection',
    description: 'One document per address',
    pii: true,
    erasure: 'deleted by the projector',
    art15: art('A copy of your addresses', 'Showing your profile to authorised staff', 'Copied from the record.', PROJECTION_RETENTION),
  },
  {
    path: 'customers/{id}/ipAddresses/{docId}',
    kind: 'collection',
    description: 'One document per IP address',
    pii: true,
    erasure: 'deleted by the projector',
    art15: art('A copy of your IP addresses and devices', 'Showing your profile to authorised staff', 'Copied from the record.', PROJECTION_RETENTION),
  },
  {
    path: 'customers/{id}/activities/{docId}',
    kind: 'collection',
    description: 'One document per activity',
    pii: true,
    erasure: 'deleted by the projector',
    art15: art('A copy of your activity log', 'Showing your profile to authorised staff', 'Copied from the record.', PROJECTION_RETENTION),
  },
  {
    path: 'syncState/{id}',
    kind: 'document',
    description: 'Projection bookkeeping: projected version and content hashes (no personal values)',
    pii: false,
    erasure: 'bookkeeping (no PII): deleted with the document',
    art15: art('Technical state of the copy (versions and hashes only)', 'Keeping the copy in step with the record', SOURCE_DERIVED, PROJECTION_RETENTION),
  },
];

export interface FirestoreDoc {
  /** Full path, e.g. customers/<id>/addresses/<addressId>. */
  path: string;
  data: Record<string, unknown>;
}

/** The subcollections of customers/{id}, from the paths above (`private`, `addresses`, …). */
export const CUSTOMER_SUBCOLLECTIONS = [
  ...new Set(FIRESTORE_CUSTOMER_PATHS.filter((p) => p.path.startsWith('customers/{id}/')).map((p) => p.path.split('/')[2]!)),
];

/**
 * Every document of the customer: customers/{id}, each document of its subcollections, and
 * syncState/{id}; none when not projected. Subcollections are read by name (the emulator cannot
 * list them), so a new one must be added to FIRESTORE_CUSTOMER_PATHS, as the projector's are.
 */
export async function readFirestoreDocs(firestore: Firestore, customerId: string): Promise<FirestoreDoc[]> {
  const out: FirestoreDoc[] = [];
  const root = firestore.collection('customers').doc(customerId);
  const main = await root.get();
  if (main.exists) out.push({ path: root.path, data: main.data() ?? {} });
  for (const name of CUSTOMER_SUBCOLLECTIONS) {
    const snapshot = await root.collection(name).get();
    for (const doc of snapshot.docs) out.push({ path: doc.ref.path, data: doc.data() });
  }
  const state = await firestore.collection('syncState').doc(customerId).get();
  if (state.exists) out.push({ path: state.ref.path, data: state.data() ?? {} });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Caches
// ---------------------------------------------------------------------------------------------


export const CACHE_ENTRIES: CacheEntry[] = [
  {
    store: 'redis',
    key: `${MEMORY_PROFILE_CACHE_PREFIX}{businessId}:{customerId}`,
    description: 'The built memory profile (identity, preferences, behaviour, recent conversations, predictions), for MEMORY_PROFILE_TTL_SECONDS; plus `…:gen`, a generation counter (no PII)',
    clear: 'profileCache.purge(businessId, customerId) (src/memory/profile-cache.ts): deletes the profile and its generation key (erasure); invalidate is for ordinary changes',
  },
  {
    store: 'in-process',
    key: '{businessId}:{customerId}',
    description: 'The same memory profile cache when REDIS_URL is not set',
    clear: 'profileCache.purge(businessId, customerId)',
  },
];

/** The Redis keys of one customer's memory profile cache: the profile, then its generation counter. */
export function memoryProfileCacheKeys(businessId: string, customerId: string): [string, string] {
  const key = `${MEMORY_PROFILE_CACHE_PREFIX}${businessId}:${customerId}`;
  return [key, `${key}:gen`];
}

// ---------------------------------------------------------------------------------------------
// Controller-level Art. 15 facts
// ---------------------------------------------------------------------------------------------

export const ART15_GENERAL = {
  controller: 'The business named in this export is the controller of your data; this service processes it on the business\'s behalf.',
  purposes: [
    'Keeping one customer profile across the business\'s shops and systems (contract, legitimate interest).',
    'Running the loyalty programme: tiers, points, benefits (contract).',
    'Marketing and offers you agreed to, respecting your communication preferences (consent, legitimate interest).',
    'Predicting churn, future purchases and lifetime value to tailor offers (legitimate interest; you may object).',
    'Fraud prevention and security (legitimate interest).',
    'Accounting records of sales and refunds (legal obligation).',
  ],
  rights:
    'You may ask for access (this export), rectification, erasure, restriction, portability (the JSON and CSV files here are machine-readable) and object to profiling or marketing, and you may complain to your data protection authority.',
  transfers: 'Data is hosted on the business\'s chosen cloud region; transfers outside the EEA, if any, rely on the provider\'s standard contractual clauses.',
  automatedDecisions: {
    summary:
      'Predictions are made automatically, but no decision with legal or similarly significant effect is based on them alone (Art. 22): they inform offers and staff.',
    logic: [
      'Churn risk and expected purchases: the BG/NBD model (Fader, Hardie & Lee 2005) fitted by maximum likelihood to all customers of the business. From your number of repeat purchases, the time of your last purchase and how long you have been a customer, it estimates how often you buy while active and the chance you have stopped buying. Churn risk = 1 − probability you are still active.',
      'Expected spend per purchase: the Gamma-Gamma model (Fader & Hardie 2013), which combines your average purchase value with the spread of averages across all customers.',
      '12-month customer lifetime value: expected purchases month by month × expected spend, discounted monthly.',
      'Next purchase date: the first day within a year by which one purchase is expected.',
      'Propensity to buy in 30 days = 1 − exp(−expected purchases in 30 days).',
      'Engagement = 0.5 × probability still active + 0.3 × exp(−days since last purchase / 90) + 0.2 × min(1, conversations in 90 days / 5).',
      'Confidence = min(1, purchases / 5) × min(1, days observed / 90).',
      'Recommendations: items often bought by customers who bought the same items as you (co-occurrence), leaving out what you already bought twice or more.',
      'Loyalty tier: the business\'s published thresholds on spend, visits or points over a period; staff may set a tier by hand (with a recorded reason).',
      'Segments: rules the business defined over your profile (e.g. spend, last visit, tier).',
    ],
    significance: 'They decide which offers and messages you may receive and how staff prioritise retention; they never refuse you a purchase or a service.',
  },
} as const;
