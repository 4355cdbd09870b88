// The customer timeline: one stream, newest first, merging the customer's activities, this
// business's purchases and tier changes, and its segment and preference events. One SQL query:
// a UNION ALL whose every branch is filtered by the cursor and limited on its own index
// (customer_id, time desc), so a page costs the same for a customer with 100k activities as for
// one with ten.
//
// Total order: (occurredAt, type, key) descending, where `key` is a text that sorts (in the "C"
// collation) like the source row's id. Cursors carry the exact microsecond timestamp, so items
// within one millisecond are neither skipped nor repeated.
import { eq, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/db.client.js';
import { queryRows } from '../db/db.client.js';
import {
  customerActivities,
  customerSegments,
  customerTierHistory,
  customerTransactions,
  customers,
  domainEvents,
} from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { belongsToBusiness } from './customers.repository.js';

export const TIMELINE_TYPES = ['activity', 'purchase', 'tier_change', 'segment_change', 'preference_change'] as const;
export type TimelineType = (typeof TIMELINE_TYPES)[number];

/** Where a page ends: the last item's exact time, type and sort key. */
export interface TimelinePosition {
  at: string;
  type: TimelineType;
  key: string;
}

export interface TimelineItem {
  type: TimelineType;
  id: string;
  occurredAt: Date;
  data: Record<string, unknown>;
}

export interface TimelineQuery {
  businessId: string;
  customerId: string;
  types: readonly TimelineType[];
  limit: number;
  after?: TimelinePosition;
}

const SEGMENT_EVENTS = { assigned: 'customers.segment.assigned', unassigned: 'customers.segment.unassigned' } as const;
const PREFERENCE_EVENT = 'customers.preferences.updated';
const TIER_RANK = sql`ARRAY['BRONZE', 'SILVER', 'GOLD', 'PLATINUM']::text[]`;
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * Rows strictly after the position in (at, type, key) descending order. The type is constant in
 * a branch, so it is compared here: at the same instant, lower types come after the position.
 * `at <= position` alone is what the (customer_id, time desc) index range uses.
 */
function afterPosition(type: TimelineType, at: SQL, key: SQL, position: TimelinePosition | undefined): SQL {
  if (!position) return sql`true`;
  const positionAt = sql`${position.at}::timestamptz`;
  if (type === position.type) {
    return sql`${at} <= ${positionAt} AND (${at} < ${positionAt} OR ${key} < ${position.key} COLLATE "C")`;
  }
  // JavaScript compares these ASCII names as the "C" collation does.
  return type < position.type ? sql`${at} <= ${positionAt}` : sql`${at} < ${positionAt}`;
}

interface Branch {
  at: SQL;
  /** The item's id as the API shows it. */
  id: SQL;
  key: SQL;
  /** Columns after type, id, sort_key, occurred_at: segment_id (uuid or null) and data (jsonb). */
  select: SQL;
  from: SQL;
  where: SQL;
}

function branches(q: TimelineQuery): Record<TimelineType, Branch> {
  const eventKey = sql`lpad(${domainEvents.id}::text, 20, '0')`;
  const eventsOf = (types: string[]) =>
    sql`${domainEvents.customerId} = ${q.customerId} AND ${domainEvents.businessId} = ${q.businessId}
        AND ${domainEvents.eventType} IN (${sql.join(types.map((t) => sql`${t}`), sql`, `)})`;
  return {
    activity: {
      at: sql`${customerActivities.occurredAt}`,
      id: sql`${customerActivities.id}::text`,
      key: sql`${customerActivities.id}::text`,
      select: sql`NULL::uuid, jsonb_build_object(
        'activityType', ${customerActivities.activityType},
        'activityCategory', ${customerActivities.activityCategory},
        'eventData', ${customerActivities.eventData},
        'sessionId', ${customerActivities.sessionId})`,
      from: sql`${customerActivities}`,
      where: sql`${customerActivities.customerId} = ${q.customerId}`,
    },
    purchase: {
      at: sql`${customerTransactions.occurredAt}`,
      id: sql`(${customerTransactions.source} || ':' || ${customerTransactions.transactionId})`,
      key: sql`(${customerTransactions.source} || ':' || ${customerTransactions.transactionId})`,
      select: sql`NULL::uuid, jsonb_build_object(
        'source', ${customerTransactions.source},
        'transactionId', ${customerTransactions.transactionId},
        'status', ${customerTransactions.status},
        'amount', ${customerTransactions.amount},
        'refundedAmount', ${customerTransactions.refundedAmount},
        'currency', ${customerTransactions.currency},
        'itemCount', ${customerTransactions.itemCount},
        'categories', to_jsonb(${customerTransactions.categories}))`,
      from: sql`${customerTransactions}`,
      where: sql`${customerTransactions.customerId} = ${q.customerId} AND ${customerTransactions.businessId} = ${q.businessId}`,
    },
    tier_change: {
      at: sql`${customerTierHistory.changedAt}`,
      id: sql`${customerTierHistory.id}::text`,
      key: sql`lpad(${customerTierHistory.id}::text, 20, '0')`,
      select: sql`NULL::uuid, jsonb_build_object(
        'previousTier', ${customerTierHistory.previousTier},
        'newTier', ${customerTierHistory.newTier},
        'direction', CASE
          WHEN array_position(${TIER_RANK}, ${customerTierHistory.newTier}::text) > array_position(${TIER_RANK}, ${customerTierHistory.previousTier}::text) THEN 'upgrade'
          WHEN array_position(${TIER_RANK}, ${customerTierHistory.newTier}::text) < array_position(${TIER_RANK}, ${customerTierHistory.previousTier}::text) THEN 'downgrade'
          ELSE 'unchanged' END,
        'reason', ${customerTierHistory.reason},
        'changedBy', ${customerTierHistory.changedBy},
        'note', ${customerTierHistory.note})`,
      from: sql`${customerTierHistory}`,
      where: sql`${customerTierHistory.customerId} = ${q.customerId} AND ${customerTierHistory.businessId} = ${q.businessId}`,
    },
    segment_change: {
      at: sql`${domainEvents.occurredAt}`,
      id: sql`${domainEvents.id}::text`,
      key: eventKey,
      // A malformed segmentId in a payload must not fail the whole timeline: it is shown, unnamed.
      select: sql`CASE WHEN ${domainEvents.payload}->>'segmentId' ~ ${UUID_PATTERN} THEN (${domainEvents.payload}->>'segmentId')::uuid END,
        jsonb_build_object(
          'segmentId', ${domainEvents.payload}->>'segmentId',
          'change', CASE ${domainEvents.eventType} WHEN ${SEGMENT_EVENTS.assigned} THEN 'entered' ELSE 'exited' END)`,
      from: sql`${domainEvents}`,
      where: eventsOf([SEGMENT_EVENTS.assigned, SEGMENT_EVENTS.unassigned]),
    },
    preference_change: {
      at: sql`${domainEvents.occurredAt}`,
      id: sql`${domainEvents.id}::text`,
      key: eventKey,
      select: sql`NULL::uuid, jsonb_build_object(
        'changedFields', CASE WHEN jsonb_typeof(${domainEvents.payload}->'changedFields') = 'array'
          THEN ${domainEvents.payload}->'changedFields' ELSE '[]'::jsonb END)`,
      from: sql`${domainEvents}`,
      where: eventsOf([PREFERENCE_EVENT]),
    },
  };
}

interface TimelineRow {
  type: TimelineType;
  id: string;
  sort_key: string;
  occurred_at: string | Date;
  cursor_at: string;
  data: Record<string, unknown>;
}

/** Up to `limit + 1` items after the position (the extra one only says another page exists). */
export async function listTimeline(ex: Executor, q: TimelineQuery): Promise<(TimelineItem & { position: TimelinePosition })[]> {
  if (q.types.length === 0) return [];
  const fetch = q.limit + 1;
  const all = branches(q);
  const parts = q.types.map((type) => {
    const b = all[type];
    // Plain DESC (NULLS FIRST) is the order of the DESC indexes (schema: `.desc().nullsFirst()`);
    // the planner matches nulls order too, even on NOT NULL columns.
    return sql`(SELECT ${type}::text, ${b.id}, ${b.key}, ${b.at}, ${b.select}
      FROM ${b.from}
      WHERE ${b.where} AND ${afterPosition(type, b.at, b.key, q.after)}
      ORDER BY ${b.at} DESC, ${b.key} COLLATE "C" DESC
      LIMIT ${fetch})`;
  });
  // Branch columns are positional; the alias list names them once for the outer query.
  const rows = await queryRows<TimelineRow>(
    ex,
    sql`SELECT p.type, p.id, p.sort_key, p.occurred_at,
          to_char(p.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
          CASE WHEN p.type = 'segment_change' THEN p.data || jsonb_build_object('segmentName', s.name) ELSE p.data END AS data
        FROM (
          SELECT * FROM (${sql.join(parts, sql` UNION ALL `)}) AS u(type, id, sort_key, occurred_at, segment_id, data)
          ORDER BY u.occurred_at DESC, u.type COLLATE "C" DESC, u.sort_key COLLATE "C" DESC
          LIMIT ${fetch}
        ) AS p
        LEFT JOIN ${customerSegments} s
          ON s.id = p.segment_id AND s.business_id = ${q.businessId} AND s.deleted_at IS NULL
        ORDER BY p.occurred_at DESC, p.type COLLATE "C" DESC, p.sort_key COLLATE "C" DESC`,
  );
  return rows.map((r) => ({
    type: r.type,
    id: r.id,
    occurredAt: new Date(r.occurred_at),
    data: r.data,
    position: { at: r.cursor_at, type: r.type, key: r.sort_key },
  }));
}

/** Whether the business may see the customer's timeline: linked to it and not soft-deleted. */
export async function timelineCustomerState(ex: Executor, customerId: string, businessId: string): Promise<'visible' | 'missing'> {
  if (!(await belongsToBusiness(ex, customerId, businessId))) return 'missing';
  const rows = await ex
    .select({ deletedAt: customers.deletedAt })
    .from(customers)
    .where(eq(customers.id, customerId))
    .limit(1);
  return rows[0] && rows[0].deletedAt === null ? 'visible' : 'missing';
}

const EXACT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeTimelineCursor(position: TimelinePosition): string {
  return Buffer.from(JSON.stringify([position.at, position.type, position.key])).toString('base64url');
}

/** Decodes a cursor this API returned; anything else is a 400 naming query.cursor. */
export function decodeTimelineCursor(cursor: string): TimelinePosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 3) {
      const [at, type, key] = decoded as unknown[];
      if (
        typeof at === 'string' &&
        EXACT_TIME.test(at) &&
        // a real calendar instant (2025-02-31 and the like never reach PostgreSQL)
        !Number.isNaN(Date.parse(at)) &&
        new Date(at).toISOString().slice(0, 19) === at.slice(0, 19) &&
        typeof type === 'string' &&
        (TIMELINE_TYPES as readonly string[]).includes(type) &&
        typeof key === 'string' &&
        key.length > 0 &&
        key.length <= 600
      ) {
        return { at, type: type as TimelineType, key };
      }
    }
  } catch {
    // fall through to the error below
  }
  throw new AppError('INVALID_INPUT', 'Invalid input: query.cursor: is not a cursor this API returned', [
    { field: 'query.cursor', message: 'is not a cursor this API returned' },
  ]);
}

/** One page: items without their positions, and the cursor of the next page if there is one. */
export async function readTimelinePage(ex: Executor, q: TimelineQuery) {
  const rows = await listTimeline(ex, q);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ position: _position, ...item }) => item),
    nextCursor: rows.length > q.limit && last ? encodeTimelineCursor(last.position) : null,
  };
}
