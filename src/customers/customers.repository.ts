// All SQL of the customer aggregate: load whole aggregates (one relational query), lock a root,
// write each part, and the tenant-scoped list query. Every function takes the executor it runs
// on, so the write path can run them inside its one transaction.
import { and, desc, eq, getTableColumns, inArray, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db, Executor, Tx } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import type {
  customerCommunicationPreferences} from '../db/schema/index.js';
import {
  businessCustomers,
  customerActivities,
  customerSegmentAssignments,
  customerAddresses,
  customerDemographics,
  customerEngagement,
  customerIpAddresses,
  customerMetrics,
  customerRiskAssessments,
  customerSources,
  customers,
} from '../db/schema/index.js';
import type { CustomerInput } from './customers.schema.js';
import { insightsJson, type InsightRow } from './customer-insights.repository.js';

/** How many of the newest activities an aggregate read includes; the timeline pages the rest. */
export const AGGREGATE_ACTIVITY_LIMIT = 100;

type Omit2<T, K extends PropertyKey> = Omit<T, K | 'customerId'>;
export type SourceRow = Omit2<typeof customerSources.$inferSelect, never>;
export type MetricsRow = Omit2<typeof customerMetrics.$inferSelect, never>;
export type DemographicsRow = Omit2<typeof customerDemographics.$inferSelect, never>;
export type EngagementRow = Omit2<typeof customerEngagement.$inferSelect, never>;
export type RiskRow = Omit2<typeof customerRiskAssessments.$inferSelect, never>;
export type AddressRow = Omit2<typeof customerAddresses.$inferSelect, never>;
export type IpAddressRow = Omit2<typeof customerIpAddresses.$inferSelect, never>;
export type ActivityRow = Omit2<typeof customerActivities.$inferSelect, never>;
export type PreferencesRow = Omit<typeof customerCommunicationPreferences.$inferSelect, 'customerId' | 'businessId'>;

/** The customer's standing with one business: tier, segments, communication preferences. */
export interface BusinessStanding {
  businessId: string;
  loyaltyTier: (typeof businessCustomers.$inferSelect)['loyaltyTier'];
  tierUpdatedAt: Date;
  tierOverride: (typeof businessCustomers.$inferSelect)['tierOverride'];
  tierOverrideReason: string | null;
  segmentIds: string[];
  /** Null while the customer keeps the defaults. */
  preferences: PreferencesRow | null;
}

/** The whole customer as PostgreSQL holds it: the read model of the API and the projector's input. */
export type CustomerAggregate = typeof customers.$inferSelect & {
  businessIds: string[];
  standing: BusinessStanding[];
  sources: SourceRow[];
  metrics: MetricsRow | null;
  demographics: DemographicsRow | null;
  engagement: EngagementRow | null;
  risk: RiskRow | null;
  addresses: AddressRow[];
  ipAddresses: IpAddressRow[];
  activities: ActivityRow[];
};

const withoutOwner = <T extends { customerId: string }>({ customerId: _c, ...rest }: T) => rest;

/** The relational query's parts: every section of the aggregate in a stable order. */
const T = true as const;
const aggregateWith = (activityLimit: number) => ({
  businessLinks: {
    columns: { businessId: T, loyaltyTier: T, tierUpdatedAt: T, tierOverride: T, tierOverrideReason: T },
    orderBy: [businessCustomers.businessId],
  },
  segmentAssignments: { columns: { segmentId: T, businessId: T }, orderBy: [customerSegmentAssignments.segmentId] },
  preferences: T,
  sources: { orderBy: [customerSources.source, customerSources.externalId] },
  metrics: T,
  demographics: T,
  engagement: T,
  risk: T,
  addresses: { orderBy: [customerAddresses.createdAt, customerAddresses.id] },
  ipAddresses: { orderBy: [customerIpAddresses.firstSeenAt, customerIpAddresses.id] },
  // The projector reads activities apart (append-only feed), so it asks for none here.
  activities: {
    orderBy: [desc(customerActivities.occurredAt), desc(customerActivities.id)],
    limit: Math.max(activityLimit, 1),
  },
});

const findAggregates = (ex: Executor, ids: string[], activityLimit: number) =>
  ex.query.customers.findMany({ where: inArray(customers.id, ids), with: aggregateWith(activityLimit) });
type AggregateRow = Awaited<ReturnType<typeof findAggregates>>[number];

function toAggregate(
  { businessLinks, segmentAssignments, preferences, sources, metrics, demographics, engagement, risk, addresses, ipAddresses, activities, ...root }: AggregateRow,
  activityLimit: number,
): CustomerAggregate {
  return {
    ...root,
    businessIds: businessLinks.map((l) => l.businessId),
    standing: businessLinks.map((link) => standingOf(link, segmentAssignments, preferences)),
    sources: sources.map(withoutOwner),
    metrics: metrics ? withoutOwner(metrics) : null,
    demographics: demographics ? withoutOwner(demographics) : null,
    engagement: engagement ? withoutOwner(engagement) : null,
    risk: risk ? withoutOwner(risk) : null,
    addresses: addresses.map(withoutOwner),
    ipAddresses: ipAddresses.map(withoutOwner),
    activities: activityLimit > 0 ? activities.map(withoutOwner) : [],
  };
}

/**
 * Whether the customer has a Firestore projection: an erased customer (a tombstone) and one merged
 * into another have none, so the projector removes their documents and reconcile expects none.
 */
export const isProjected = (a: Pick<CustomerAggregate, 'erasedAt' | 'mergedIntoId'>): boolean => a.erasedAt === null && a.mergedIntoId === null;

/** Loads whole aggregates by id, soft-deleted ones included; missing ids are absent from the map. */
export async function loadAggregates(
  ex: Executor,
  ids: string[],
  activityLimit = AGGREGATE_ACTIVITY_LIMIT,
): Promise<Map<string, CustomerAggregate>> {
  if (ids.length === 0) return new Map();
  const rows = await findAggregates(ex, ids, activityLimit);
  return new Map(rows.map((row) => [row.id, toAggregate(row, activityLimit)]));
}

/** What the profile read returns: the aggregate, its insights for the business, and that business's stored tier configuration row. */
export interface ProfileRead {
  aggregate: CustomerAggregate;
  insights: InsightRow | null;
  tierConfiguration: unknown;
}

/**
 * The profile's loader: the aggregate, the insights for one business and that business's tier
 * configuration in one prepared statement (one round trip, planned once).
 */
export function prepareProfileReader(db: Db): (id: string, businessId: string, asOf: Date) => Promise<ProfileRead | undefined> {
  const businessId = sql.placeholder('businessId');
  const query = db.query.customers
    .findFirst({
      where: eq(customers.id, sql.placeholder('id')),
      with: aggregateWith(AGGREGATE_ACTIVITY_LIMIT),
      extras: {
        insights: sql<InsightRow | null>`${insightsJson(sql`${customers.id}`, sql`${businessId}`, sql`${sql.placeholder('asOf')}`)}`.as('insights'),
        tierConfiguration: sql<unknown>`(SELECT row_to_json(t) FROM tier_configurations t WHERE t.business_id = ${businessId}::uuid)`.as('tier_configuration'),
      },
    })
    .prepare('load_customer_profile');
  return async (id, business, asOf) => {
    const row = await query.execute({ id, businessId: business, asOf: asOf.toISOString() });
    if (!row) return undefined;
    const { insights, tierConfiguration, ...rest } = row;
    return { aggregate: toAggregate(rest, AGGREGATE_ACTIVITY_LIMIT), insights, tierConfiguration };
  };
}

function standingOf(
  link: Omit<BusinessStanding, 'segmentIds' | 'preferences'>,
  assignments: { segmentId: string; businessId: string }[],
  preferences: (typeof customerCommunicationPreferences.$inferSelect)[],
): BusinessStanding {
  const prefs = preferences.find((p) => p.businessId === link.businessId);
  return {
    ...link,
    segmentIds: assignments.filter((a) => a.businessId === link.businessId).map((a) => a.segmentId),
    preferences: prefs ? (({ customerId: _c, businessId: _b, ...rest }) => rest)(prefs) : null,
  };
}

export async function loadAggregate(ex: Executor, id: string): Promise<CustomerAggregate | undefined> {
  return (await loadAggregates(ex, [id])).get(id);
}

/** Is the customer linked to the business? (Soft-deleted customers included.) */
export async function belongsToBusiness(ex: Executor, customerId: string, businessId: string): Promise<boolean> {
  const rows = await ex
    .select({ one: sql`1` })
    .from(businessCustomers)
    .where(and(eq(businessCustomers.customerId, customerId), eq(businessCustomers.businessId, businessId)))
    .limit(1);
  return rows.length > 0;
}

/** Locks the aggregate root for the rest of the transaction, if the business may see it. */
export async function lockCustomerForBusiness(
  tx: Tx,
  customerId: string,
  businessId: string,
): Promise<{ version: number; deletedAt: Date | null; erasedAt: Date | null; mergedIntoId: string | null } | undefined> {
  const rows = await tx
    .select({ version: customers.version, deletedAt: customers.deletedAt, erasedAt: customers.erasedAt, mergedIntoId: customers.mergedIntoId })
    .from(customers)
    .innerJoin(businessCustomers, eq(businessCustomers.customerId, customers.id))
    .where(and(eq(customers.id, customerId), eq(businessCustomers.businessId, businessId)))
    .for('update', { of: customers });
  return rows[0];
}

export type CoreValues = Pick<
  CustomerInput,
  | 'email'
  | 'phone'
  | 'firstName'
  | 'lastName'
  | 'dateOfBirth'
  | 'status'
  | 'customerType'
  | 'lastActiveAt'
  | 'tags'
  | 'notes'
  | 'internalNotes'
  | 'customAttributes'
> & { phoneNormalized: string | null };

function coreRow(core: CoreValues) {
  return {
    email: core.email ?? null,
    phone: core.phone ?? null,
    phoneNormalized: core.phoneNormalized,
    firstName: core.firstName ?? null,
    lastName: core.lastName ?? null,
    dateOfBirth: core.dateOfBirth ?? null,
    status: core.status ?? 'active',
    customerType: core.customerType ?? 'registered',
    lastActiveAt: core.lastActiveAt ?? null,
    tags: core.tags ?? [],
    notes: core.notes ?? null,
    internalNotes: core.internalNotes ?? null,
    customAttributes: core.customAttributes ?? {},
  };
}

/** Inserts the root row alone (the benchmark's reference-style baseline writes part by part). */
export async function insertCustomer(tx: Tx, core: CoreValues): Promise<{ id: string; version: number }> {
  const [row] = await tx.insert(customers).values(coreRow(core)).returning({ id: customers.id, version: customers.version });
  return row!;
}

/** Writes the root's fields and bumps its version; returns the new version. */
export async function updateCustomerCore(tx: Tx, id: string, core: CoreValues): Promise<number> {
  const [row] = await tx
    .update(customers)
    .set({ ...coreRow(core), version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
    .where(eq(customers.id, id))
    .returning({ version: customers.version });
  return row!.version;
}

export async function softDeleteCustomer(tx: Tx, id: string): Promise<number> {
  const [row] = await tx
    .update(customers)
    .set({ deletedAt: sql`now()`, version: sql`${customers.version} + 1`, updatedAt: sql`now()` })
    .where(eq(customers.id, id))
    .returning({ version: customers.version });
  return row!.version;
}

export async function linkCustomerToBusiness(tx: Tx, businessId: string, customerId: string, email: string | null): Promise<BusinessStanding | undefined> {
  const [link] = await tx
    .insert(businessCustomers)
    .values({ businessId, customerId, emailLowercase: email?.toLowerCase() ?? null })
    // Only an existing link is ignored; the per-business email index must still fail loudly.
    .onConflictDoNothing({ target: [businessCustomers.businessId, businessCustomers.customerId] })
    .returning({
      businessId: businessCustomers.businessId,
      loyaltyTier: businessCustomers.loyaltyTier,
      tierUpdatedAt: businessCustomers.tierUpdatedAt,
      tierOverride: businessCustomers.tierOverride,
      tierOverrideReason: businessCustomers.tierOverrideReason,
    });
  return link && { ...link, segmentIds: [], preferences: null };
}

/** Keeps each business link's copy of the email (the per-business uniqueness key) current. */
export async function refreshBusinessEmail(tx: Tx, customerId: string, email: string | null) {
  await tx
    .update(businessCustomers)
    .set({ emailLowercase: email?.toLowerCase() ?? null })
    .where(eq(businessCustomers.customerId, customerId));
}

export async function replaceSources(tx: Tx, customerId: string, sources: NonNullable<CustomerInput['sources']>) {
  const keep = sources.map((s) => sql`(${s.source}, ${s.externalId})`);
  await tx
    .delete(customerSources)
    .where(
      and(
        eq(customerSources.customerId, customerId),
        keep.length > 0
          ? sql`(${customerSources.source}, ${customerSources.externalId}) NOT IN (${sql.join(keep, sql`, `)})`
          : undefined,
      ),
    );
  if (sources.length === 0) return;
  // A (source, external id) owned by another customer is left alone, which fails the
  // ownership check below: an id is never silently moved between customers.
  await tx
    .insert(customerSources)
    .values(
      sources.map((s) => ({
        customerId,
        source: s.source,
        externalId: s.externalId,
        sourceData: s.data ?? {},
        syncStatus: s.syncStatus ?? 'active',
      })),
    )
    .onConflictDoUpdate({
      target: [customerSources.source, customerSources.externalId],
      set: {
        sourceData: sql`excluded.source_data`,
        syncStatus: sql`excluded.sync_status`,
        lastSyncedAt: sql`CASE WHEN ${customerSources.sourceData} IS DISTINCT FROM excluded.source_data THEN now() ELSE ${customerSources.lastSyncedAt} END`,
        updatedAt: sql`now()`,
      },
      setWhere: eq(customerSources.customerId, customerId),
    });
  const owners = await tx
    .select({ customerId: customerSources.customerId })
    .from(customerSources)
    .where(or(...sources.map((s) => and(eq(customerSources.source, s.source), eq(customerSources.externalId, s.externalId)))));
  if (owners.some((o) => o.customerId !== customerId)) {
    throw Object.assign(new Error('source owned by another customer'), {
      code: '23505',
      constraint: 'uq_customer_sources_source_external',
    });
  }
}

/**
 * Writes a one-row section whole (fields left out take their defaults), or removes it for null.
 * Every column is taken from the new row, so the section ends exactly as given.
 */
export async function replaceSection(
  tx: Tx,
  table: typeof customerMetrics | typeof customerDemographics | typeof customerEngagement | typeof customerRiskAssessments,
  customerId: string,
  values: Record<string, unknown> | null,
) {
  if (values === null) {
    await tx.delete(table).where(eq(table.customerId, customerId));
    return;
  }
  const set = excludedColumns(table, ['customerId', 'id']);
  await tx
    .insert(table)
    .values({ ...values, customerId } as typeof table.$inferInsert)
    .onConflictDoUpdate({ target: table.customerId, set: { ...set, updatedAt: sql`now()` } });
}

export async function replaceAddresses(tx: Tx, customerId: string, addresses: NonNullable<CustomerInput['addresses']>) {
  const keepIds = addresses.flatMap((a) => (a.id ? [a.id] : []));
  await tx
    .delete(customerAddresses)
    .where(
      and(
        eq(customerAddresses.customerId, customerId),
        keepIds.length > 0 ? notInArray(customerAddresses.id, keepIds) : undefined,
      ),
    );
  if (addresses.length === 0) return;
  const set = excludedColumns(customerAddresses, ['id', 'customerId', 'createdAt']);
  await tx
    .insert(customerAddresses)
    .values(addresses.map((a) => ({ ...a, customerId })))
    .onConflictDoUpdate({
      target: customerAddresses.id,
      set: { ...set, updatedAt: sql`now()` },
      // An address id that belongs to another customer is never taken over.
      setWhere: eq(customerAddresses.customerId, customerId),
    });
  await assertOwned(tx, customerAddresses, customerId, keepIds, 'addresses');
}

export async function replaceIpAddresses(tx: Tx, customerId: string, ips: NonNullable<CustomerInput['ipAddresses']>) {
  const keep = ips.map((ip) => ip.ipAddress);
  await tx
    .delete(customerIpAddresses)
    .where(
      and(
        eq(customerIpAddresses.customerId, customerId),
        keep.length > 0 ? sql`${customerIpAddresses.ipAddress} NOT IN (${sql.join(keep.map((k) => sql`${k}::inet`), sql`, `)})` : undefined,
      ),
    );
  if (ips.length === 0) return;
  const set = excludedColumns(customerIpAddresses, ['id', 'customerId', 'ipAddress', 'createdAt']);
  await tx
    .insert(customerIpAddresses)
    .values(ips.map((ip) => ({ ...ip, customerId, ipVersion: ip.ipAddress.includes(':') ? 6 : 4 })))
    .onConflictDoUpdate({
      target: [customerIpAddresses.customerId, customerIpAddresses.ipAddress],
      set: { ...set, updatedAt: sql`now()` },
    });
}

/**
 * Inserts a whole new aggregate: nothing to replace or to check for ownership, so plain INSERTs.
 * An id that exists anywhere (a source id, an address or activity id) fails with a unique
 * violation, which the API reports as a conflict. Every INSERT returns its rows, so the aggregate
 * is assembled from them, ordered as `loadAggregates` orders it, without reading it back.
 */
export async function insertNewAggregate(
  tx: Tx,
  businessId: string,
  core: CoreValues,
  parts: CustomerInput,
): Promise<CustomerAggregate> {
  const [root] = await tx.insert(customers).values(coreRow(core)).returning();
  const customerId = root!.id;
  const link = await linkCustomerToBusiness(tx, businessId, customerId, core.email ?? null);
  const sources = parts.sources?.length
    ? await tx
        .insert(customerSources)
        .values(
          parts.sources.map((s) => ({
            customerId,
            source: s.source,
            externalId: s.externalId,
            sourceData: s.data ?? {},
            syncStatus: s.syncStatus ?? 'active',
          })),
        )
        .returning()
    : [];
  const section = async (
    table: typeof customerMetrics | typeof customerDemographics | typeof customerEngagement | typeof customerRiskAssessments,
    values: Record<string, unknown> | null | undefined,
  ) => {
    if (!values) return null;
    const [row] = await tx
      .insert(table)
      .values({ ...values, customerId } as typeof table.$inferInsert)
      .returning();
    return withoutOwner(row!);
  };
  const addresses = parts.addresses?.length
    ? await tx.insert(customerAddresses).values(parts.addresses.map((a) => ({ ...a, customerId }))).returning()
    : [];
  const ipAddresses = parts.ipAddresses?.length
    ? await tx
        .insert(customerIpAddresses)
        .values(parts.ipAddresses.map((ip) => ({ ...ip, customerId, ipVersion: ip.ipAddress.includes(':') ? 6 : 4 })))
        .returning()
    : [];
  const activities = parts.activities?.length
    ? await tx
        .insert(customerActivities)
        .values(parts.activities.map((a) => ({ ...a, customerId, createdAt: sql`clock_timestamp()` })))
        .returning()
    : [];
  const by = <R>(...keys: ((row: R) => string | number)[]) => (x: R, y: R) => {
    for (const key of keys) {
      const a = key(x);
      const b = key(y);
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  };
  return {
    ...root!,
    businessIds: [businessId],
    standing: [link!],
    sources: sources.map(withoutOwner).sort(by((r) => r.source, (r) => r.externalId)),
    metrics: (await section(customerMetrics, parts.metrics)) as MetricsRow | null,
    demographics: (await section(customerDemographics, parts.demographics)) as DemographicsRow | null,
    engagement: (await section(customerEngagement, parts.engagement)) as EngagementRow | null,
    risk: (await section(customerRiskAssessments, parts.risk)) as RiskRow | null,
    addresses: addresses.map(withoutOwner).sort(by((r) => r.createdAt.getTime(), (r) => r.id)),
    ipAddresses: ipAddresses.map(withoutOwner).sort(by((r) => r.firstSeenAt.getTime(), (r) => r.id)),
    // Newest first, as loadAggregates reads them.
    activities: activities
      .map(withoutOwner)
      .sort((x, y) => y.occurredAt.getTime() - x.occurredAt.getTime() || (x.id > y.id ? -1 : x.id < y.id ? 1 : 0))
      .slice(0, AGGREGATE_ACTIVITY_LIMIT),
  };
}

/** Appends activities that are not stored yet; returns how many were added. Never updates one. */
export async function appendActivities(
  tx: Tx,
  customerId: string,
  activities: NonNullable<CustomerInput['activities']>,
): Promise<number> {
  if (activities.length === 0) return 0;
  const inserted = await tx
    .insert(customerActivities)
    // clock_timestamp(), not now(): taken under the customer's row lock, so per customer the
    // insertion times follow commit order and the projector's (created_at, id) watermark never
    // skips an activity committed late.
    .values(activities.map((a) => ({ ...a, customerId, createdAt: sql`clock_timestamp()` })))
    .onConflictDoNothing({ target: customerActivities.id })
    .returning({ id: customerActivities.id });
  const givenIds = activities.flatMap((a) => (a.id ? [a.id] : []));
  await assertOwned(tx, customerActivities, customerId, givenIds, 'activities');
  return inserted.length;
}

export type ActivityWatermark = KeysetPosition;

/**
 * Activities inserted after the watermark, in insertion order (the projector's append-only feed),
 * and the watermark of the last one.
 */
export async function loadActivitiesAfter(ex: Executor, customerId: string, after: ActivityWatermark | null, limit: number) {
  const rows = await ex
    .select({
      ...getTableColumns(customerActivities),
      exactCreatedAt: exactTimestamp(customerActivities.createdAt),
    })
    .from(customerActivities)
    .where(
      and(
        eq(customerActivities.customerId, customerId),
        after ? beyond(customerActivities.createdAt, customerActivities.id, after, 'asc') : undefined,
      ),
    )
    .orderBy(customerActivities.createdAt, customerActivities.id)
    .limit(limit);
  const last = rows[rows.length - 1];
  return {
    activities: rows.map(({ exactCreatedAt: _exact, ...row }) => withoutOwner(row)),
    watermark: last ? { at: last.exactCreatedAt, id: last.id } : after,
  };
}

async function assertOwned(
  tx: Tx,
  table: typeof customerAddresses | typeof customerActivities,
  customerId: string,
  ids: string[],
  field: string,
) {
  if (ids.length === 0) return;
  const foreign = await tx
    .select({ id: table.id })
    .from(table)
    .where(and(inArray(table.id, ids), sql`${table.customerId} <> ${customerId}`))
    .limit(1);
  if (foreign.length > 0) {
    throw Object.assign(new Error(`${field} id belongs to another customer`), { code: '23505', constraint: `${field}_id_owner` });
  }
}

/** `SET col = excluded.col` for every column but the given ones. */
function excludedColumns(table: PgTable, except: string[]): Record<string, SQL> {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  return Object.fromEntries(
    Object.entries(columns)
      .filter(([key, col]) => !except.includes(key) && !col.generated)
      .map(([key, col]) => [key, sql.raw(`excluded."${col.name}"`)]),
  );
}
