// Segment membership as set-based SQL: who a segment's criteria select now, compared with who is
// assigned; entered customers are assigned and exited ones removed, each with a domain event.
// Only dynamic segments have criteria: a static segment's members are assigned by hand (bulk
// operations, src/bulk/) and no evaluation here adds or removes them, except that a customer who
// is gone (deleted, erased, merged away, or no longer linked to the business) leaves them too.
import { and, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Executor, type Tx, uuidArray } from '../db/db.client.js';
import { customerSegments } from '../db/schema/index.js';
import type { SegmentCriteria } from './segment-criteria.js';
import { segmentMembersQuery } from './segment-sql.js';

export interface ActiveSegment {
  id: string;
  businessId: string;
  criteria: SegmentCriteria;
}

export interface MembershipChange {
  segmentId: string;
  customerId: string;
  entered: boolean;
}


/** The active dynamic segments of these businesses: the ones whose membership evaluation decides. */
export async function loadActiveSegments(ex: Executor, businessIds: string[]): Promise<ActiveSegment[]> {
  if (businessIds.length === 0) return [];
  const rows = await ex
    .select({ id: customerSegments.id, businessId: customerSegments.businessId, criteria: customerSegments.criteria })
    .from(customerSegments)
    .where(
      and(
        inArray(customerSegments.businessId, businessIds),
        eq(customerSegments.kind, 'dynamic'),
        eq(customerSegments.isActive, true),
        isNull(customerSegments.deletedAt),
      ),
    );
  // Stored criteria were validated when written (and are never null for a dynamic segment).
  return rows.map((r) => ({ ...r, criteria: r.criteria as SegmentCriteria }));
}

/**
 * Removes these customers from static segments when they are gone: soft-deleted (erased and
 * merged-away customers are soft-deleted too) or no longer linked to the segment's business. A
 * deleted customer leaves every segment, static ones included; a live customer's static
 * memberships are never touched here. Appends customers.segment.unassigned events.
 */
export async function dropGoneStaticMembers(ex: Executor, customerIds: string[]): Promise<MembershipChange[]> {
  if (customerIds.length === 0) return [];
  const rows = await queryRows<{ segment_id: string; customer_id: string }>(
    ex,
    sql`WITH gone AS (
          DELETE FROM customer_segment_assignments a
          USING customer_segments s, customers c
          WHERE a.customer_id = ANY(${uuidArray(customerIds)}) AND s.id = a.segment_id AND s.kind = 'static' AND c.id = a.customer_id
            AND (c.deleted_at IS NOT NULL
                 OR NOT EXISTS (SELECT 1 FROM business_customers bc WHERE bc.business_id = a.business_id AND bc.customer_id = a.customer_id))
          RETURNING a.segment_id, a.customer_id, a.business_id
        ), events AS (
          INSERT INTO domain_events (business_id, event_type, customer_id, payload)
          SELECT business_id, 'customers.segment.unassigned', customer_id, jsonb_build_object('segmentId', segment_id::text) FROM gone
        )
        SELECT segment_id::text, customer_id::text FROM gone`,
  );
  return rows.map((r) => ({ segmentId: r.segment_id, customerId: r.customer_id, entered: false }));
}

/**
 * The members the criteria select (null criteria: nobody, for a deleted or inactive segment),
 * restricted to `ids` when given.
 */
function target(segment: { businessId: string; criteria: SegmentCriteria | null }, asOf: Date, ids: string[] | null): SQL {
  if (!segment.criteria) return sql`SELECT NULL::uuid AS id WHERE false`;
  const members = segmentMembersQuery(segment.criteria, { businessId: segment.businessId, asOf });
  return ids ? sql`SELECT id FROM (${members}) m WHERE id = ANY(${uuidArray(ids)})` : sql`SELECT id FROM (${members}) m`;
}

function current(segmentId: string, ids: string[] | null): SQL {
  return sql`SELECT customer_id AS id FROM customer_segment_assignments
             WHERE segment_id = ${segmentId} ${ids ? sql`AND customer_id = ANY(${uuidArray(ids)})` : sql``}`;
}

/** Customers who would enter or leave the segment, in id order (read only: nothing is locked). */
export async function membershipCandidates(
  ex: Executor,
  segment: { id: string; businessId: string; criteria: SegmentCriteria | null },
  asOf: Date,
): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(
    ex,
    sql`WITH t AS (${target(segment, asOf, null)}), c AS (${current(segment.id, null)})
        SELECT id::text FROM ((SELECT id FROM t EXCEPT SELECT id FROM c) UNION ALL (SELECT id FROM c EXCEPT SELECT id FROM t)) x
        ORDER BY id`,
  );
  return rows.map((r) => r.id);
}

/**
 * Brings the assignments of these segments up to date for the customers in `ids` (null: every
 * customer of the segment's business), one statement per segment: inserts entered customers,
 * deletes exited ones, appends customers.segment.assigned / unassigned events.
 */
export async function applyMemberships(
  ex: Executor,
  segments: { id: string; businessId: string; criteria: SegmentCriteria | null }[],
  asOf: Date,
  ids: string[] | null,
): Promise<MembershipChange[]> {
  const changes: MembershipChange[] = [];
  for (const segment of segments) {
    const rows = await queryRows<{ customer_id: string; entered: boolean }>(
      ex,
      sql`
      WITH t AS (${target(segment, asOf, ids)}), c AS (${current(segment.id, ids)}),
      entered AS (
        INSERT INTO customer_segment_assignments (segment_id, customer_id, business_id, assigned_at)
        SELECT ${segment.id}, id, ${segment.businessId}, ${asOf.toISOString()}::timestamptz FROM (SELECT id FROM t EXCEPT SELECT id FROM c) n
        ON CONFLICT DO NOTHING
        RETURNING customer_id
      ), exited AS (
        DELETE FROM customer_segment_assignments a
        WHERE a.segment_id = ${segment.id} AND a.customer_id IN (SELECT id FROM c EXCEPT SELECT id FROM t)
        RETURNING a.customer_id
      ), moved AS (
        SELECT customer_id, true AS entered FROM entered UNION ALL SELECT customer_id, false FROM exited
      ), events AS (
        INSERT INTO domain_events (business_id, event_type, customer_id, payload)
        SELECT ${segment.businessId}, CASE WHEN entered THEN 'customers.segment.assigned' ELSE 'customers.segment.unassigned' END,
          customer_id, jsonb_build_object('segmentId', ${segment.id}::text)
        FROM moved
      )
      SELECT customer_id::text, entered FROM moved`,
    );
    for (const r of rows) changes.push({ segmentId: segment.id, customerId: r.customer_id, entered: r.entered });
  }
  return changes;
}

/**
 * Adds customers to, or removes them from, a static segment (bulk operations): one statement that
 * changes the assignments and appends a customers.segment.assigned / unassigned event for each
 * customer whose membership changed. Returns those customers.
 */
export async function changeStaticMembers(
  tx: Tx,
  m: { businessId: string; segmentId: string; customerIds: string[]; add: boolean; at: Date },
): Promise<string[]> {
  const change = m.add
    ? sql`INSERT INTO customer_segment_assignments (segment_id, customer_id, business_id, assigned_at)
          SELECT ${m.segmentId}, id, ${m.businessId}, ${m.at.toISOString()}::timestamptz FROM unnest(${uuidArray(m.customerIds)}) AS id
          ON CONFLICT DO NOTHING
          RETURNING customer_id`
    : sql`DELETE FROM customer_segment_assignments WHERE segment_id = ${m.segmentId} AND customer_id = ANY(${uuidArray(m.customerIds)})
          RETURNING customer_id`;
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`WITH changed AS (${change}), events AS (
          INSERT INTO domain_events (business_id, event_type, customer_id, payload)
          SELECT ${m.businessId}, ${m.add ? 'customers.segment.assigned' : 'customers.segment.unassigned'}, customer_id,
                 jsonb_build_object('segmentId', ${m.segmentId}::text) FROM changed
        )
        SELECT customer_id::text AS id FROM changed`,
  );
  return rows.map((r) => r.id);
}
