// What the profile read adds to the aggregate for one business: the pending downgrade, the names
// of the customer's segments, and spend and visits over each tier evaluation period.
import { sql, type SQL } from 'drizzle-orm';

export interface InsightRow {
  downgrade_due_at: string | null;
  segments: { id: string; name: string }[];
  points: number;
  spend_lifetime: string;
  visits_lifetime: number;
  spend_monthly: string;
  visits_monthly: number;
  spend_quarterly: string;
  visits_quarterly: number;
  spend_yearly: string;
  visits_yearly: number;
}

/**
 * The insights of one customer for one business as one JSON value (null when not linked), for the
 * profile's prepared statement: parameters may be placeholders. Windowed values count this
 * business's completed transactions (net of refunds).
 */
export function insightsJson(customerId: SQL, businessId: SQL, asOf: SQL): SQL {
  const window = (months: number) =>
    sql`coalesce(sum(t.amount - t.refunded_amount) FILTER (WHERE t.occurred_at > ${asOf}::timestamptz - ${`${months} months`}::interval), 0)::text,
        count(*) FILTER (WHERE t.occurred_at > ${asOf}::timestamptz - ${`${months} months`}::interval)::int`;
  return sql`(SELECT row_to_json(i) FROM (
        SELECT bc.downgrade_due_at::text AS downgrade_due_at,
          coalesce((SELECT json_agg(json_build_object('id', s.id, 'name', s.name) ORDER BY s.name)
                    FROM customer_segment_assignments a JOIN customer_segments s ON s.id = a.segment_id
                    WHERE a.customer_id = bc.customer_id AND a.business_id = bc.business_id AND s.deleted_at IS NULL), '[]'::json) AS segments,
          coalesce(e.loyalty_points, 0) AS points,
          coalesce(m.net_revenue, 0)::text AS spend_lifetime, coalesce(m.completed_orders, 0) AS visits_lifetime,
          w.spend_monthly, w.visits_monthly, w.spend_quarterly, w.visits_quarterly, w.spend_yearly, w.visits_yearly
        FROM business_customers bc
        LEFT JOIN customer_metrics m ON m.customer_id = bc.customer_id
        LEFT JOIN customer_engagement e ON e.customer_id = bc.customer_id
        CROSS JOIN LATERAL (
          SELECT x.* FROM (SELECT ${window(1)}, ${window(3)}, ${window(12)}
            FROM customer_transactions t
            WHERE t.business_id = bc.business_id AND t.customer_id = bc.customer_id AND t.status = 'completed'
              AND t.occurred_at <= ${asOf}::timestamptz) AS x(spend_monthly, visits_monthly, spend_quarterly, visits_quarterly, spend_yearly, visits_yearly)
        ) w
        WHERE bc.business_id = ${businessId}::uuid AND bc.customer_id = ${customerId}) i)`;
}
