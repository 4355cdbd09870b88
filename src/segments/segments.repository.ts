// SQL of segment definitions (tenant-scoped CRUD, soft delete) and of reading their members.
import { and, asc, count, desc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import { businessCustomers, customerSegmentAssignments, customerSegments, customers } from '../db/schema/index.js';

export type SegmentRow = typeof customerSegments.$inferSelect;

const columns = {
  id: customerSegments.id,
  businessId: customerSegments.businessId,
  name: customerSegments.name,
  description: customerSegments.description,
  kind: customerSegments.kind,
  criteria: customerSegments.criteria,
  isActive: customerSegments.isActive,
  timeRelative: customerSegments.timeRelative,
  lastCalculatedAt: customerSegments.lastCalculatedAt,
  createdAt: customerSegments.createdAt,
  updatedAt: customerSegments.updatedAt,
  deletedAt: customerSegments.deletedAt,
};

export async function findSegment(ex: Executor, businessId: string, id: string): Promise<SegmentRow | undefined> {
  const [row] = await ex
    .select(columns)
    .from(customerSegments)
    .where(and(eq(customerSegments.id, id), eq(customerSegments.businessId, businessId), isNull(customerSegments.deletedAt)));
  return row;
}

export async function insertSegment(ex: Executor, values: typeof customerSegments.$inferInsert): Promise<SegmentRow> {
  const [row] = await ex.insert(customerSegments).values(values).returning(columns);
  return row!;
}

export async function updateSegment(ex: Executor, businessId: string, id: string, values: Partial<typeof customerSegments.$inferInsert>) {
  const [row] = await ex
    .update(customerSegments)
    .set({ ...values, updatedAt: sql`now()` })
    .where(and(eq(customerSegments.id, id), eq(customerSegments.businessId, businessId), isNull(customerSegments.deletedAt)))
    .returning(columns);
  return row;
}

export async function markCalculated(ex: Executor, id: string, at: Date): Promise<void> {
  await ex.update(customerSegments).set({ lastCalculatedAt: at }).where(eq(customerSegments.id, id));
}

export async function listSegments(ex: Executor, businessId: string, limit: number, after?: KeysetPosition) {
  return ex
    .select({ ...columns, cursorAt: exactTimestamp(customerSegments.createdAt) })
    .from(customerSegments)
    .where(
      and(
        eq(customerSegments.businessId, businessId),
        isNull(customerSegments.deletedAt),
        after ? beyond(customerSegments.createdAt, customerSegments.id, after, 'desc') : undefined,
      ),
    )
    .orderBy(desc(customerSegments.createdAt), desc(customerSegments.id))
    .limit(limit + 1);
}

/** Members per segment, counted from the assignments (an index-only count per segment). */
export async function memberCounts(ex: Executor, segmentIds: string[]): Promise<Map<string, number>> {
  if (segmentIds.length === 0) return new Map();
  const rows = await ex
    .select({ segmentId: customerSegmentAssignments.segmentId, n: count() })
    .from(customerSegmentAssignments)
    .where(inArray(customerSegmentAssignments.segmentId, segmentIds))
    .groupBy(customerSegmentAssignments.segmentId);
  return new Map(rows.map((r) => [r.segmentId, r.n]));
}

/** A page of members in customer id order (a stable order while members come and go). */
export async function listMembers(ex: Executor, segmentId: string, businessId: string, limit: number, afterId?: string) {
  return ex
    .select({
      id: customers.id,
      email: customers.email,
      fullName: customers.fullName,
      status: customers.status,
      loyaltyTier: businessCustomers.loyaltyTier,
      assignedAt: customerSegmentAssignments.assignedAt,
    })
    .from(customerSegmentAssignments)
    .innerJoin(customers, eq(customers.id, customerSegmentAssignments.customerId))
    .innerJoin(
      businessCustomers,
      and(eq(businessCustomers.customerId, customerSegmentAssignments.customerId), eq(businessCustomers.businessId, businessId)),
    )
    .where(and(eq(customerSegmentAssignments.segmentId, segmentId), afterId ? gt(customerSegmentAssignments.customerId, afterId) : undefined))
    .orderBy(asc(customerSegmentAssignments.customerId))
    .limit(limit + 1);
}

/** Active, time-relative segments of every business: the schedule re-evaluates them. */
export async function timeRelativeSegments(ex: Executor) {
  return ex
    .select({ id: customerSegments.id, businessId: customerSegments.businessId })
    .from(customerSegments)
    .where(and(eq(customerSegments.timeRelative, true), eq(customerSegments.isActive, true), isNull(customerSegments.deletedAt)));
}
