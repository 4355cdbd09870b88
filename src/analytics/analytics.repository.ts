// SQL of the business analytics overview. Each figure is one set-based query over the business's
// customers (linked to it, not soft-deleted), so the cost is one scan of the business's rows,
// never a round trip per customer. Days are UTC days; `today` (YYYY-MM-DD) comes from the
// caller's clock so the figures do not depend on the database server's time zone.
import { sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../db/db.client.js';
import { queryRows } from '../db/db.client.js';
import {
  businessCustomers,
  customerMetrics,
  customerSegmentAssignments,
  customerSegments,
  customerTierHistory,
  customers,
} from '../db/schema/index.js';

const TIER_RANK = sql`ARRAY['BRONZE', 'SILVER', 'GOLD', 'PLATINUM']::text[]`;

/** Start of the window's first UTC day: `today` and the `days - 1` days before it. */
const windowStart = (today: string, days: number): SQL => sql`((${today}::date - ${days - 1}::int)::timestamp AT TIME ZONE 'UTC')`;

export interface TierFigures {
  tier: string;
  customers: number;
  /** Customers with a metrics row: the CLV averages are over them. */
  withMetrics: number;
  avgLifetimeValue: number | null;
  avgPredictedLifetimeValue: number | null;
  withLastOrder: number;
  /** Of those with a last order date, how many ordered last more than `inactiveDays` before today. */
  inactive: number;
}

/**
 * Per tier, in one pass over the business's live customers: head count, CLV averages and churn
 * counts. Tiers without customers are absent. The metrics row belongs to the customer, so a
 * customer of several businesses brings the same CLV to each.
 */
export async function tierFigures(ex: Executor, businessId: string, today: string, inactiveDays: number): Promise<TierFigures[]> {
  return queryRows<TierFigures>(
    ex,
    sql`SELECT bc.loyalty_tier AS tier,
               count(*)::int AS customers,
               count(m.customer_id)::int AS "withMetrics",
               round(avg(m.lifetime_value), 2)::float8 AS "avgLifetimeValue",
               round(avg(m.predicted_lifetime_value), 2)::float8 AS "avgPredictedLifetimeValue",
               count(m.last_order_date)::int AS "withLastOrder",
               (count(*) FILTER (WHERE m.last_order_date < ${today}::date - ${inactiveDays}::int))::int AS inactive
        FROM ${businessCustomers} bc
        JOIN ${customers} c ON c.id = bc.customer_id AND c.deleted_at IS NULL
        LEFT JOIN ${customerMetrics} m ON m.customer_id = bc.customer_id
        WHERE bc.business_id = ${businessId}
        GROUP BY bc.loyalty_tier`,
  );
}

export interface DayCount {
  date: string;
  count: number;
}

/** Live customers who joined the business per UTC day, `days` days up to today, oldest first, zero-filled. */
export async function newCustomersPerDay(ex: Executor, businessId: string, today: string, days: number): Promise<DayCount[]> {
  return queryRows<DayCount>(
    ex,
    sql`WITH joined AS (
          SELECT (bc.created_at AT TIME ZONE 'UTC')::date AS day, count(*)::int AS n
          FROM ${businessCustomers} bc
          JOIN ${customers} c ON c.id = bc.customer_id AND c.deleted_at IS NULL
          WHERE bc.business_id = ${businessId}
            AND bc.created_at >= ${windowStart(today, days)}
            AND bc.created_at < ((${today}::date + 1)::timestamp AT TIME ZONE 'UTC')
          GROUP BY 1
        )
        SELECT to_char(d.day, 'YYYY-MM-DD') AS date, coalesce(j.n, 0)::int AS count
        FROM generate_series(0, ${days - 1}::int) AS g(n)
        CROSS JOIN LATERAL (SELECT ${today}::date - ${days - 1}::int + g.n AS day) AS d
        LEFT JOIN joined j ON j.day = d.day
        ORDER BY d.day`,
  );
}

/** Live customers with at least one tier upgrade (new tier ranks above the previous) in the window. */
export async function countUpgradedCustomers(ex: Executor, businessId: string, today: string, days: number): Promise<number> {
  const rows = await queryRows<{ upgraded: number }>(
    ex,
    sql`SELECT count(DISTINCT h.customer_id)::int AS upgraded
        FROM ${customerTierHistory} h
        JOIN ${businessCustomers} bc ON bc.business_id = h.business_id AND bc.customer_id = h.customer_id
        JOIN ${customers} c ON c.id = h.customer_id AND c.deleted_at IS NULL
        WHERE h.business_id = ${businessId}
          AND h.changed_at >= ${windowStart(today, days)}
          AND array_position(${TIER_RANK}, h.new_tier::text) > array_position(${TIER_RANK}, h.previous_tier::text)`,
  );
  return rows[0]?.upgraded ?? 0;
}

export interface SegmentSize {
  id: string;
  name: string;
  size: number;
}

/**
 * Active, not deleted segments of the business with their member counts, by name. Counting the
 * assignments is enough: a soft-deleted customer leaves every segment in the same transaction
 * (DatabaseSyncService.deleteCustomer), so each count is an index-only scan of the segment's
 * primary-key range rather than a join with every customer.
 */
export async function segmentSizes(ex: Executor, businessId: string): Promise<SegmentSize[]> {
  return queryRows<SegmentSize>(
    ex,
    sql`SELECT s.id, s.name,
               (SELECT count(*) FROM ${customerSegmentAssignments} a WHERE a.segment_id = s.id)::int AS size
        FROM ${customerSegments} s
        WHERE s.business_id = ${businessId} AND s.is_active AND s.deleted_at IS NULL
        ORDER BY lower(s.name), s.id`,
  );
}
