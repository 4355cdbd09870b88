// All SQL of merging two customers and undoing it: the rows a merge moves to the survivor, the
// before/after images of every row of both customers it changes (the snapshot that makes it
// undoable), the undo that reverses exactly those changes, and the customer_merges records.
//
// The snapshot holds, per tracked table, the rows of either customer the merge created, changed
// or deleted, as `to_jsonb` images before and after it (exact PostgreSQL values: timestamps to
// the microsecond, numerics as written). High-volume rows the merge only re-owns (activities,
// transactions, memory interactions) are kept as keys: their content is not the merge's to
// restore (a refund recorded on a moved transaction after the merge must survive an undo).
//
// Undo is three-way, per row and column: a value still equal to what the merge wrote goes back to
// what it was before; a value changed since (an edit, a new tier) is kept. Rows the merge created
// are removed unless changed since; rows it deleted come back unless something took their place.
import { and, desc, eq, getTableColumns, getTableName, or, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { queryRows, type Executor, type Tx, uuidArray } from '../db/db.client.js';
import { exactTimestamp, beyond, type KeysetPosition } from '../db/keyset.js';
import {
  businessCustomers,
  customerAddresses,
  customerCommunicationPreferences,
  customerDemographics,
  customerEngagement,
  customerIpAddresses,
  customerMerges,
  customerMetrics,
  customerPredictions,
  customerRiskAssessments,
  customerSegmentAssignments,
  customerSources,
  customerTierHistory,
  customers,
} from '../db/schema/index.js';
import { canonicalJson } from '../sync/content-hash.js';

export type Row = Record<string, unknown>;

interface TrackedTable {
  table: PgTable;
  key: string[];
  /** The column holding the customer id. */
  owner: string;
  /** Columns an undo never sets back (the version only ever grows; updated_at says when it changed). */
  keep?: string[];
}

/** Every table holding rows of a customer that a merge may change, in the order an undo restores them. */
const TRACKED: TrackedTable[] = [
  { table: customers, key: ['id'], owner: 'id', keep: ['version', 'updated_at'] },
  { table: businessCustomers, key: ['business_id', 'customer_id'], owner: 'customer_id' },
  { table: customerSources, key: ['id'], owner: 'customer_id' },
  { table: customerAddresses, key: ['id'], owner: 'customer_id' },
  { table: customerIpAddresses, key: ['id'], owner: 'customer_id' },
  { table: customerMetrics, key: ['customer_id'], owner: 'customer_id' },
  { table: customerDemographics, key: ['customer_id'], owner: 'customer_id' },
  { table: customerEngagement, key: ['customer_id'], owner: 'customer_id' },
  { table: customerRiskAssessments, key: ['id'], owner: 'customer_id' },
  { table: customerCommunicationPreferences, key: ['customer_id', 'business_id'], owner: 'customer_id' },
  { table: customerSegmentAssignments, key: ['segment_id', 'customer_id'], owner: 'customer_id' },
  { table: customerTierHistory, key: ['id'], owner: 'customer_id' },
  { table: customerPredictions, key: ['customer_id', 'business_id'], owner: 'customer_id' },
];

/** Rows the merge re-owns without changing them, kept in the snapshot by key. */
export const MOVED_IN_BULK = {
  customer_activities: { key: ['id'], types: { id: 'uuid' } },
  customer_transactions: { key: ['business_id', 'source', 'transaction_id'], types: { business_id: 'uuid', source: 'text', transaction_id: 'text' } },
  memory_interactions: { key: ['id'], types: { id: 'uuid' } },
} as const;
export type BulkTable = keyof typeof MOVED_IN_BULK;

export interface RowChange {
  table: string;
  before: Row | null;
  after: Row | null;
}

export interface MergeSnapshot {
  format: 1;
  survivorId: string;
  mergedId: string;
  rows: RowChange[];
  /** Keys of the rows moved from the merged customer to the survivor, per table. */
  moved: Record<BulkTable, Row[]>;
}

const tableName = (t: PgTable) => getTableName(t);
const id = (name: string) => sql.identifier(name);

function columnsOf(t: TrackedTable): string[] {
  return Object.values(getTableColumns(t.table))
    .filter((c) => !(c as { generated?: unknown }).generated)
    .map((c) => c.name);
}

const keyOf = (t: TrackedTable, row: Row) => canonicalJson(t.key.map((k) => row[k]));

/** Every row of these customers in every tracked table, as `to_jsonb` images. */
export async function captureRows(tx: Tx, customerIds: string[]): Promise<Map<string, Row[]>> {
  const images = new Map<string, Row[]>();
  for (const t of TRACKED) {
    const rows = await queryRows<{ row: Row }>(
      tx,
      sql`SELECT to_jsonb(t) AS row FROM ${id(tableName(t.table))} t WHERE t.${id(t.owner)} = ANY(${uuidArray(customerIds)})
          ORDER BY ${sql.join(t.key.map((k) => sql`t.${id(k)}`), sql`, `)}`,
    );
    images.set(tableName(t.table), rows.map((r) => r.row));
  }
  return images;
}

/** The rows that differ between two captures: created (before null), changed, or deleted (after null). */
export function diffRows(before: Map<string, Row[]>, after: Map<string, Row[]>): RowChange[] {
  const changes: RowChange[] = [];
  for (const t of TRACKED) {
    const name = tableName(t.table);
    const b = new Map((before.get(name) ?? []).map((r) => [keyOf(t, r), r]));
    const a = new Map((after.get(name) ?? []).map((r) => [keyOf(t, r), r]));
    for (const key of new Set([...b.keys(), ...a.keys()])) {
      const was = b.get(key) ?? null;
      const now = a.get(key) ?? null;
      if (was && now && canonicalJson(was) === canonicalJson(now)) continue;
      changes.push({ table: name, before: was, after: now });
    }
  }
  return changes;
}

/** When each customer last changed each field, from the outbox's changed-field names. */
export async function loadFieldTimes(ex: Executor, customerIds: string[]): Promise<Map<string, Map<string, Date>>> {
  const rows = await queryRows<{ customer_id: string; field: string; at: string | Date }>(
    ex,
    sql`SELECT s.entity_id::text AS customer_id, f AS field, max(s.created_at) AS at
        FROM sync_logs s CROSS JOIN LATERAL unnest(s.changed_fields) AS f
        WHERE s.entity_type = 'customer' AND s.entity_id = ANY(${uuidArray(customerIds)})
        GROUP BY 1, 2`,
  );
  const times = new Map<string, Map<string, Date>>();
  for (const r of rows) {
    const m = times.get(r.customer_id) ?? new Map<string, Date>();
    m.set(r.field, new Date(r.at));
    times.set(r.customer_id, m);
  }
  return times;
}

// ---------------------------------------------------------------------------------------------
// The merge's moves

export interface MoveCounts {
  sources: number;
  addresses: number;
  /** The merged customer's addresses the survivor already has (same lines, city, postal code, country): left with it. */
  addressesAlreadyHeld: number;
  ipAddresses: number;
  ipAddressesAlreadyHeld: number;
  activities: number;
  transactions: number;
  memoryInteractions: number;
  staticSegments: number;
}

/**
 * Moves the merged customer's rows to the survivor, de-duplicating where the survivor already has
 * the same thing (an address with the same lines, an IP address: unique per customer). A moved
 * address stays the default only if the survivor has none (one default per customer). Returns
 * the counts and the keys of the rows moved in bulk.
 */
export async function moveRows(tx: Tx, survivorId: string, mergedId: string): Promise<{ counts: MoveCounts; moved: MergeSnapshot['moved'] }> {
  const count = async (q: SQL) => (await queryRows<{ n: number }>(tx, q))[0]!.n;
  const sources = await count(sql`WITH m AS (UPDATE customer_sources SET customer_id = ${survivorId}::uuid, updated_at = now()
      WHERE customer_id = ${mergedId}::uuid RETURNING 1) SELECT count(*)::int AS n FROM m`);
  const sameAddress = sql`lower(btrim(s.address_line1)) = lower(btrim(a.address_line1))
      AND lower(btrim(coalesce(s.address_line2, ''))) = lower(btrim(coalesce(a.address_line2, '')))
      AND lower(btrim(s.city)) = lower(btrim(a.city)) AND lower(btrim(coalesce(s.postal_code, ''))) = lower(btrim(coalesce(a.postal_code, '')))
      AND s.country_code = a.country_code`;
  const addresses = await count(sql`WITH m AS (
      UPDATE customer_addresses a SET customer_id = ${survivorId}::uuid,
        is_default = a.is_default AND NOT EXISTS (SELECT 1 FROM customer_addresses s WHERE s.customer_id = ${survivorId}::uuid AND s.is_default)
      WHERE a.customer_id = ${mergedId}::uuid
        AND NOT EXISTS (SELECT 1 FROM customer_addresses s WHERE s.customer_id = ${survivorId}::uuid AND ${sameAddress})
      RETURNING 1) SELECT count(*)::int AS n FROM m`);
  const addressesAlreadyHeld = await count(sql`SELECT count(*)::int AS n FROM customer_addresses WHERE customer_id = ${mergedId}::uuid`);
  const ipAddresses = await count(sql`WITH m AS (
      UPDATE customer_ip_addresses i SET customer_id = ${survivorId}::uuid
      WHERE i.customer_id = ${mergedId}::uuid
        AND NOT EXISTS (SELECT 1 FROM customer_ip_addresses s WHERE s.customer_id = ${survivorId}::uuid AND s.ip_address = i.ip_address)
      RETURNING 1) SELECT count(*)::int AS n FROM m`);
  const ipAddressesAlreadyHeld = await count(sql`SELECT count(*)::int AS n FROM customer_ip_addresses WHERE customer_id = ${mergedId}::uuid`);

  const activities = await queryRows<Row>(tx, sql`UPDATE customer_activities SET customer_id = ${survivorId}::uuid
      WHERE customer_id = ${mergedId}::uuid RETURNING id::text AS id`);
  const transactions = await queryRows<Row>(tx, sql`UPDATE customer_transactions SET customer_id = ${survivorId}::uuid
      WHERE customer_id = ${mergedId}::uuid RETURNING business_id::text AS business_id, source, transaction_id`);
  const interactions = await queryRows<Row>(tx, sql`UPDATE memory_interactions SET customer_id = ${survivorId}::uuid
      WHERE customer_id = ${mergedId}::uuid RETURNING id::text AS id`);

  // Hand-assigned (static) memberships go with the person; dynamic ones are derived again for the
  // survivor by the standing refresh, and the merged-away customer leaves every segment.
  const staticSegments = await count(sql`WITH m AS (
      INSERT INTO customer_segment_assignments (segment_id, customer_id, business_id, assigned_at)
      SELECT a.segment_id, ${survivorId}::uuid, a.business_id, a.assigned_at
      FROM customer_segment_assignments a JOIN customer_segments s ON s.id = a.segment_id AND s.kind = 'static'
      WHERE a.customer_id = ${mergedId}::uuid
      ON CONFLICT DO NOTHING
      RETURNING segment_id, business_id
    ), events AS (
      INSERT INTO domain_events (business_id, event_type, customer_id, payload)
      SELECT business_id, 'customers.segment.assigned', ${survivorId}::uuid, jsonb_build_object('segmentId', segment_id::text) FROM m
    )
    SELECT count(*)::int AS n FROM m`);

  return {
    counts: {
      sources,
      addresses,
      addressesAlreadyHeld,
      ipAddresses,
      ipAddressesAlreadyHeld,
      activities: activities.length,
      transactions: transactions.length,
      memoryInteractions: interactions.length,
      staticSegments,
    },
    moved: { customer_activities: activities, customer_transactions: transactions, memory_interactions: interactions },
  };
}

export interface PreferenceDecision {
  businessId: string;
  /** moved: only the merged customer had preferences; merged-newer / survivor-newer: the latest expressed ones were kept. */
  rule: 'moved' | 'merged-newer' | 'survivor-newer';
}

/**
 * Communication preferences, per business: the merged customer's move to the survivor when it has
 * none; when both have some, the more recently updated ones are kept (the person's latest choice).
 */
export async function mergePreferences(tx: Tx, survivorId: string, mergedId: string): Promise<PreferenceDecision[]> {
  const rows = await queryRows<{ business_id: string; merged_at: string; survivor_at: string | null }>(
    tx,
    sql`SELECT m.business_id::text, m.updated_at AS merged_at, s.updated_at AS survivor_at
        FROM customer_communication_preferences m
        LEFT JOIN customer_communication_preferences s ON s.customer_id = ${survivorId}::uuid AND s.business_id = m.business_id
        WHERE m.customer_id = ${mergedId}::uuid ORDER BY m.business_id`,
  );
  const decisions: PreferenceDecision[] = [];
  for (const r of rows) {
    const take = r.survivor_at === null || new Date(r.merged_at) > new Date(r.survivor_at);
    if (take) {
      await tx.execute(sql`DELETE FROM customer_communication_preferences WHERE customer_id = ${survivorId}::uuid AND business_id = ${r.business_id}::uuid`);
      await tx.execute(sql`UPDATE customer_communication_preferences SET customer_id = ${survivorId}::uuid
          WHERE customer_id = ${mergedId}::uuid AND business_id = ${r.business_id}::uuid`);
    }
    decisions.push({ businessId: r.business_id, rule: r.survivor_at === null ? 'moved' : take ? 'merged-newer' : 'survivor-newer' });
  }
  return decisions;
}

/** The merged-away customer: a tombstone pointing at the survivor, its email free for the survivor. */
export async function markMergedAway(tx: Tx, mergedId: string, survivorId: string, at: Date): Promise<void> {
  await tx.execute(sql`UPDATE customers SET merged_into_id = ${survivorId}::uuid, deleted_at = ${at.toISOString()}::timestamptz
      WHERE id = ${mergedId}::uuid`);
  // The per-business email copy is the uniqueness key: the survivor may take this email now.
  await tx.execute(sql`UPDATE business_customers SET email_lowercase = NULL WHERE customer_id = ${mergedId}::uuid`);
}

/** Customers whose transactions exist (their metrics are derived from them). */
export async function customersWithTransactions(ex: Executor, customerIds: string[]): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    ex,
    sql`SELECT DISTINCT customer_id::text AS id FROM customer_transactions WHERE customer_id = ANY(${uuidArray(customerIds)})`,
  );
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Undo

export interface RestoreReport {
  /** Rows put back as they were (columns changed since the merge kept their newer values). */
  restored: number;
  /** Rows the merge created, removed again. */
  removed: number;
  /** Rows the merge created and that changed since: kept. */
  keptChanged: number;
  /** Rows that could not come back because another row has taken their place since (per table). */
  notRestored: Record<string, number>;
  /** Rows moved back to the merged customer, per bulk table. */
  movedBack: Record<BulkTable, number>;
}

const trackedByName = new Map(TRACKED.map((t) => [tableName(t.table), t]));

/** Reverses a merge's row changes (three-way) and moves the bulk rows back; the caller holds both customers' locks. */
export async function restoreSnapshot(tx: Tx, snapshot: MergeSnapshot): Promise<RestoreReport> {
  const report: RestoreReport = {
    restored: 0,
    removed: 0,
    keptChanged: 0,
    notRestored: {},
    movedBack: { customer_activities: 0, customer_transactions: 0, memory_interactions: 0 },
  };
  const ids = [snapshot.survivorId, snapshot.mergedId];
  // Business links are restored with their email copies cleared, then the copies follow the
  // customers' restored emails: no transient clash on the per-business unique email.
  await tx.execute(sql`UPDATE business_customers SET email_lowercase = NULL WHERE customer_id = ANY(${uuidArray(ids)})`);

  const ordered = [...snapshot.rows].sort((x, y) => order(x.table) - order(y.table));
  for (const change of ordered.filter((c) => c.before === null)) {
    const t = tracked(change.table);
    const deleted = await queryRows<{ n: number }>(
      tx,
      sql`WITH d AS (DELETE FROM ${id(change.table)} t USING jsonb_populate_record(NULL::${id(change.table)}, ${JSON.stringify(change.after)}::jsonb) a
            WHERE ${keyMatch(t, 't', 'a')} AND to_jsonb(t) = ${JSON.stringify(change.after)}::jsonb RETURNING 1)
          SELECT count(*)::int AS n FROM d`,
    );
    if (deleted[0]!.n > 0) report.removed += 1;
    else report.keptChanged += 1;
  }
  for (const change of ordered.filter((c) => c.before !== null && c.after !== null)) {
    const t = tracked(change.table);
    const keep = new Set([...t.key, ...(t.keep ?? [])]);
    const columns = columnsOf(t).filter((c) => !keep.has(c));
    const updated = await queryRows<{ n: number }>(
      tx,
      sql`WITH u AS (
            UPDATE ${id(change.table)} AS t SET ${sql.join(
              columns.map((c) => sql`${id(c)} = CASE WHEN t.${id(c)} IS NOT DISTINCT FROM a.${id(c)} THEN b.${id(c)} ELSE t.${id(c)} END`),
              sql`, `,
            )}
            FROM jsonb_populate_record(NULL::${id(change.table)}, ${JSON.stringify(change.after)}::jsonb) a,
                 jsonb_populate_record(NULL::${id(change.table)}, ${JSON.stringify(change.before)}::jsonb) b
            WHERE ${keyMatch(t, 't', 'a')} RETURNING 1)
          SELECT count(*)::int AS n FROM u`,
    );
    if (updated[0]!.n > 0) report.restored += 1;
    else await reinsert(tx, t, change.table, change.before!, report);
  }
  for (const change of ordered.filter((c) => c.after === null)) {
    await reinsert(tx, tracked(change.table), change.table, change.before!, report);
  }

  for (const [table, spec] of Object.entries(MOVED_IN_BULK) as [BulkTable, (typeof MOVED_IN_BULK)[BulkTable]][]) {
    const keys = snapshot.moved[table];
    if (keys.length === 0) continue;
    const types: Record<string, string> = spec.types;
    const rows = await queryRows<{ n: number }>(
      tx,
      sql`WITH k AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS k(${sql.raw(spec.key.map((c) => `${c} ${types[c]}`).join(', '))})),
          m AS (UPDATE ${id(table)} t SET customer_id = ${snapshot.mergedId}::uuid FROM k
                WHERE ${sql.join(spec.key.map((c) => sql`t.${id(c)} = k.${id(c)}`), sql` AND `)} AND t.customer_id = ${snapshot.survivorId}::uuid
                RETURNING 1)
          SELECT count(*)::int AS n FROM m`,
    );
    report.movedBack[table] = rows[0]!.n;
  }

  // Each link's email copy follows its customer's email as it now is.
  await tx.execute(sql`UPDATE business_customers bc SET email_lowercase = lower(c.email)
      FROM customers c WHERE bc.customer_id = c.id AND c.id = ANY(${uuidArray(ids)})`);
  return report;
}

async function reinsert(tx: Tx, t: TrackedTable, table: string, before: Row, report: RestoreReport): Promise<void> {
  const columns = columnsOf(t);
  const cols = sql.join(columns.map((c) => id(c)), sql`, `);
  const inserted = await queryRows<{ n: number }>(
    tx,
    sql`WITH i AS (INSERT INTO ${id(table)} (${cols})
          SELECT ${cols} FROM jsonb_populate_record(NULL::${id(table)}, ${JSON.stringify(before)}::jsonb)
          ON CONFLICT DO NOTHING RETURNING 1)
        SELECT count(*)::int AS n FROM i`,
  );
  if (inserted[0]!.n > 0) report.restored += 1;
  else report.notRestored[table] = (report.notRestored[table] ?? 0) + 1;
}

function tracked(table: string): TrackedTable {
  const t = trackedByName.get(table);
  // The snapshot was written by this module; a table it does not know would be a corrupt record.
  if (!t) throw new Error(`merge snapshot names an unknown table ${table}`);
  return t;
}

const order = (table: string) => TRACKED.findIndex((t) => tableName(t.table) === table);

function keyMatch(t: TrackedTable, left: string, right: string): SQL {
  return sql.join(t.key.map((k) => sql`${id(left)}.${id(k)} = ${id(right)}.${id(k)}`), sql` AND `);
}

// ---------------------------------------------------------------------------------------------
// customer_merges

export type MergeRecord = typeof customerMerges.$inferSelect;

/**
 * Data minimisation: a merge's snapshot (both customers' rows, with their PII) is kept only while
 * the merge can be undone. An hour after the window closed (so an undo checked just before the
 * close still finds it) it is replaced by an empty object; the record itself stays.
 */
export async function clearClosedSnapshots(ex: Executor, now: Date): Promise<number> {
  const closedBefore = new Date(now.getTime() - 3_600_000).toISOString();
  const rows = await queryRows<{ id: string }>(
    ex,
    sql`UPDATE customer_merges SET snapshot = '{}'::jsonb
        WHERE snapshot <> '{}'::jsonb AND undo_until < ${closedBefore}::timestamptz
        RETURNING id::text AS id`,
  );
  return rows.length;
}

export async function insertMerge(tx: Tx, values: typeof customerMerges.$inferInsert): Promise<MergeRecord> {
  const [row] = await tx.insert(customerMerges).values(values).returning();
  return row!;
}

/** A merge of the business, locked for the rest of the transaction when `forUpdate`. */
export async function findMerge(ex: Executor, businessId: string, mergeId: string, opts: { forUpdate?: boolean } = {}): Promise<MergeRecord | undefined> {
  const q = ex
    .select()
    .from(customerMerges)
    .where(and(eq(customerMerges.businessId, businessId), eq(customerMerges.id, mergeId)));
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

/** Marks the merge undone and keeps what the undo did (counts, no values) beside its decisions. */
export async function markUndone(tx: Tx, mergeId: string, by: string, at: Date, report: RestoreReport): Promise<MergeRecord> {
  const [row] = await tx
    .update(customerMerges)
    .set({ undoneAt: at, undoneBy: by, decisions: sql`${customerMerges.decisions} || jsonb_build_object('undo', ${JSON.stringify(report)}::jsonb)` })
    .where(eq(customerMerges.id, mergeId))
    .returning();
  return row!;
}

/** The business's merges, newest first; one row more than `limit`. The snapshot is left out (it holds PII). */
export async function listMerges(ex: Executor, q: { businessId: string; customerId?: string; limit: number; after?: KeysetPosition }) {
  const { snapshot: _snapshot, ...columns } = getTableColumns(customerMerges);
  return ex
    .select({ ...columns, cursorAt: exactTimestamp(customerMerges.createdAt) })
    .from(customerMerges)
    .where(
      and(
        eq(customerMerges.businessId, q.businessId),
        q.customerId ? or(eq(customerMerges.survivorId, q.customerId), eq(customerMerges.mergedId, q.customerId)) : undefined,
        q.after ? beyond(customerMerges.createdAt, customerMerges.id, q.after, 'desc') : undefined,
      ),
    )
    .orderBy(desc(customerMerges.createdAt), desc(customerMerges.id))
    .limit(q.limit + 1);
}
