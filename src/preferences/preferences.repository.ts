// All SQL of communication preferences and audiences. A customer without a stored row has
// DEFAULT_PREFERENCES; the audience query applies the same defaults with coalesce, so no row is
// ever written just to hold defaults.
import { and, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor, type Tx } from '../db/db.client.js';
import { businessCustomers, customerCommunicationPreferences as prefs, customers } from '../db/schema/index.js';
import {
  DEFAULT_PREFERENCES,
  PREFERENCE_FIELDS,
  type AudiencePurpose,
  type PreferenceChannel,
  type PreferenceFrequency,
  type PreferenceValues,
} from './preferences.schema.js';

export interface StoredPreferences extends PreferenceValues {
  createdAt: Date;
  updatedAt: Date;
}

const storedColumns = {
  ...Object.fromEntries(PREFERENCE_FIELDS.map((f) => [f, prefs[f]])),
  createdAt: prefs.createdAt,
  updatedAt: prefs.updatedAt,
} as { [K in keyof StoredPreferences]: (typeof prefs)[K] };

/**
 * Whether the customer belongs to the business (and is not deleted), with the stored
 * preferences if any; undefined when the business has no such customer.
 */
export async function findCustomerPreferences(
  ex: Executor,
  businessId: string,
  customerId: string,
): Promise<{ deleted: boolean; stored: StoredPreferences | undefined } | undefined> {
  const rows = await ex
    .select({ deletedAt: customers.deletedAt, hasRow: sql<boolean>`${prefs.customerId} IS NOT NULL`, ...storedColumns })
    .from(businessCustomers)
    .innerJoin(customers, eq(customers.id, businessCustomers.customerId))
    .leftJoin(prefs, and(eq(prefs.customerId, businessCustomers.customerId), eq(prefs.businessId, businessCustomers.businessId)))
    .where(and(eq(businessCustomers.businessId, businessId), eq(businessCustomers.customerId, customerId)));
  const row = rows[0];
  if (!row) return undefined;
  const { deletedAt, hasRow, ...stored } = row;
  return { deleted: deletedAt !== null, stored: hasRow ? (stored as StoredPreferences) : undefined };
}

/** The stored row, read inside the write transaction (the customer row is locked by then). */
export async function loadStoredPreferences(tx: Tx, businessId: string, customerId: string): Promise<StoredPreferences | undefined> {
  const rows = await tx
    .select(storedColumns)
    .from(prefs)
    .where(and(eq(prefs.customerId, customerId), eq(prefs.businessId, businessId)));
  return rows[0];
}

/**
 * Inserts or updates the whole row. Returns the row when it was written, undefined when the
 * stored values already were these (IS DISTINCT FROM: a no-op leaves updated_at alone).
 */
export async function upsertPreferences(
  tx: Tx,
  businessId: string,
  customerId: string,
  values: PreferenceValues,
): Promise<StoredPreferences | undefined> {
  const columns = getTableColumns(prefs);
  const names = PREFERENCE_FIELDS.map((f) => sql.identifier(columns[f].name));
  const current = sql.join(names.map((n) => sql`${prefs}.${n}`), sql`, `);
  const proposed = sql.join(names.map((n) => sql`excluded.${n}`), sql`, `);
  const rows = await tx
    .insert(prefs)
    .values({ customerId, businessId, ...values })
    .onConflictDoUpdate({
      target: [prefs.customerId, prefs.businessId],
      set: { ...Object.fromEntries(PREFERENCE_FIELDS.map((f) => [f, sql`excluded.${sql.identifier(columns[f].name)}`])), updatedAt: sql`now()` },
      setWhere: sql`(${current}) IS DISTINCT FROM (${proposed})`,
    })
    .returning(storedColumns);
  return rows[0];
}

/** Whether the segment is one of the business's, not deleted. */
export async function segmentExists(ex: Executor, businessId: string, segmentId: string): Promise<boolean> {
  const rows = await queryRows<{ found: number }>(
    ex,
    sql`SELECT 1 AS found FROM customer_segments WHERE id = ${segmentId} AND business_id = ${businessId} AND deleted_at IS NULL`,
  );
  return rows.length > 0;
}

export interface AudienceFilter {
  businessId: string;
  channel: PreferenceChannel;
  purpose: AudiencePurpose;
  segmentId?: string;
  /** Customer id of the last recipient of the previous page. */
  after?: string;
  /** Rows to fetch (the caller asks for one more than a page, to know whether another follows). */
  limit: number;
}

export interface AudienceRow {
  customerId: string;
  address: string | null;
  pushTokenCount: number | null;
  timezone: string;
  frequency: PreferenceFrequency;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
}

const d = DEFAULT_PREFERENCES;
/** A preference as the customer has it: the stored value, or the default without a row. */
const pref = {
  emailMarketing: sql`coalesce(p.email_marketing, ${d.emailMarketing}::boolean)`,
  smsMarketing: sql`coalesce(p.sms_marketing, ${d.smsMarketing}::boolean)`,
  pushNotifications: sql`coalesce(p.push_notifications, ${d.pushNotifications}::boolean)`,
  promotionalOffers: sql`coalesce(p.promotional_offers, ${d.promotionalOffers}::boolean)`,
  transactionReceipts: sql`coalesce(p.transaction_receipts, ${d.transactionReceipts}::boolean)`,
  frequency: sql`coalesce(p.frequency, ${d.frequency}::text)`,
  timezone: sql`coalesce(p.timezone, ${d.timezone}::text)`,
  // Nullable columns: a stored null means "none", so the default applies only without a row.
  quietHoursStart: sql`CASE WHEN p.customer_id IS NULL THEN ${d.quietHoursStart}::text ELSE p.quiet_hours_start END`,
  quietHoursEnd: sql`CASE WHEN p.customer_id IS NULL THEN ${d.quietHoursEnd}::text ELSE p.quiet_hours_end END`,
};

const MARKETING_OPT_IN: Record<PreferenceChannel, SQL> = {
  EMAIL: pref.emailMarketing,
  SMS: pref.smsMarketing,
  PUSH: pref.pushNotifications,
};

const ADDRESS: Record<PreferenceChannel, { address: SQL; pushTokenCount: SQL; present: SQL }> = {
  EMAIL: { address: sql`c.email`, pushTokenCount: sql`NULL::int`, present: sql`c.email IS NOT NULL AND c.email <> ''` },
  SMS: { address: sql`c.phone_normalized`, pushTokenCount: sql`NULL::int`, present: sql`c.phone_normalized IS NOT NULL AND c.phone_normalized <> ''` },
  // Engagement is LEFT JOINed and tested with a non-strict expression so the join stays an outer
  // join in key order: as an inner join the planner, misjudging the jsonb test's selectivity,
  // started from every customer with tokens and sorted them all (1 s at 1M customers).
  PUSH: {
    address: sql`NULL::text`,
    pushTokenCount: sql`jsonb_array_length(e.push_tokens)`,
    present: sql`coalesce(jsonb_typeof(e.push_tokens) = 'array' AND jsonb_array_length(e.push_tokens) > 0, false)`,
  },
};

/**
 * One page of eligible recipients in customer id order. The scan walks an index in key order
 * (business_customers' (business_id, customer_id) primary key, or the segment assignments'
 * (segment_id, customer_id) key) from the cursor and stops after `limit` matches, so a page costs
 * the same at any depth and any business size; customers, preferences and engagement are reached
 * through their primary keys (at 1M customers: 5–50 ms a page of 1,000 warm, at any depth).
 * The cursor bound is repeated on the left joins: the planner does not carry an inequality across
 * a join, and a merge join would otherwise read those indexes from their start on every page.
 */
export async function listAudience(ex: Executor, f: AudienceFilter): Promise<AudienceRow[]> {
  const a = ADDRESS[f.channel];
  const after = f.after ? sql`${f.after}::uuid` : undefined;
  const eligible = f.purpose === 'marketing' ? sql`${MARKETING_OPT_IN[f.channel]} AND ${pref.promotionalOffers}` : pref.transactionReceipts;
  const source = f.segmentId
    ? sql`customer_segment_assignments sa
          JOIN business_customers bc ON bc.business_id = ${f.businessId} AND bc.customer_id = sa.customer_id`
    : sql`business_customers bc`;
  const key = f.segmentId ? sql`sa.customer_id` : sql`bc.customer_id`;
  const scope = f.segmentId
    ? sql`sa.segment_id = ${f.segmentId}
          AND EXISTS (SELECT 1 FROM customer_segments s WHERE s.id = ${f.segmentId} AND s.business_id = ${f.businessId} AND s.deleted_at IS NULL)`
    : sql`bc.business_id = ${f.businessId}`;
  return queryRows<AudienceRow>(
    ex,
    sql`SELECT ${key} AS "customerId",
               ${a.address} AS "address",
               ${a.pushTokenCount} AS "pushTokenCount",
               ${pref.timezone} AS "timezone",
               ${pref.frequency} AS "frequency",
               ${pref.quietHoursStart} AS "quietHoursStart",
               ${pref.quietHoursEnd} AS "quietHoursEnd"
        FROM ${source}
        JOIN customers c ON c.id = bc.customer_id
        ${f.channel === 'PUSH' ? sql`LEFT JOIN customer_engagement e ON e.customer_id = bc.customer_id ${after ? sql`AND e.customer_id > ${after}` : sql``}` : sql``}
        LEFT JOIN customer_communication_preferences p ON p.customer_id = bc.customer_id AND p.business_id = bc.business_id
          ${after ? sql`AND p.customer_id > ${after}` : sql``}
        WHERE ${scope}
          ${after ? sql`AND ${key} > ${after}` : sql``}
          AND c.deleted_at IS NULL
          AND c.status <> 'blocked'
          AND ${a.present}
          AND ${eligible}
        ORDER BY ${key}
        LIMIT ${f.limit}`,
  );
}
