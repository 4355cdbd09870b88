// The transaction metrics of customers (orders, spend, refunds, AOV, items, favourite category,
// first and last order), recomputed set-based from customer_transactions: one statement for a
// whole batch of customers, writing only the rows whose values changed.
import { sql } from 'drizzle-orm';
import { queryRows, type Tx, uuidArray } from '../db/db.client.js';


/**
 * Locks the customers (id order, so two batches cannot deadlock), recomputes their metrics and
 * bumps the version of each customer whose metrics changed. Soft-deleted customers are left as
 * they are. Returns the changed customers with their new versions.
 */
export async function recomputeTransactionMetrics(tx: Tx, customerIds: string[]): Promise<{ id: string; version: number }[]> {
  if (customerIds.length === 0) return [];
  return queryRows<{ id: string; version: number }>(
    tx,
    sql`
    WITH locked AS (
      SELECT id FROM customers WHERE id = ANY(${uuidArray(customerIds)}) AND deleted_at IS NULL ORDER BY id FOR UPDATE
    ), agg AS (
      SELECT l.id AS customer_id,
        count(t.transaction_id) FILTER (WHERE t.status <> 'returned') AS total_orders,
        count(t.transaction_id) FILTER (WHERE t.status = 'completed') AS completed_orders,
        count(t.transaction_id) FILTER (WHERE t.status IN ('voided', 'failed')) AS cancelled_orders,
        count(t.transaction_id) FILTER (WHERE t.status = 'returned' OR t.refunded_amount > 0) AS returned_orders,
        coalesce(sum(t.amount) FILTER (WHERE t.status = 'completed'), 0) AS total_spent,
        coalesce(sum(t.refunded_amount), 0) AS total_refunded,
        coalesce(sum(t.item_count) FILTER (WHERE t.status = 'completed'), 0) AS items,
        min(t.occurred_at) FILTER (WHERE t.status = 'completed') AS first_order,
        max(t.occurred_at) FILTER (WHERE t.status = 'completed') AS last_order
      FROM locked l LEFT JOIN customer_transactions t ON t.customer_id = l.id
      GROUP BY l.id
    ), favourite AS (
      -- The category on most purchased lines, ties broken by name so the answer is stable.
      SELECT DISTINCT ON (t.customer_id) t.customer_id, c.category
      FROM customer_transactions t CROSS JOIN LATERAL unnest(t.categories) AS c(category)
      WHERE t.customer_id IN (SELECT id FROM locked) AND t.status = 'completed'
      GROUP BY t.customer_id, c.category
      ORDER BY t.customer_id, count(*) DESC, c.category
    ), computed AS (
      SELECT a.customer_id, a.total_orders, a.completed_orders, a.cancelled_orders, a.returned_orders,
        round(a.total_spent, 2) AS total_spent, round(a.total_refunded, 2) AS total_refunded,
        -- A return of goods bought before the backfill window can exceed what we saw spent.
        round(greatest(a.total_spent - a.total_refunded, 0), 2) AS net_revenue,
        round(CASE WHEN a.completed_orders > 0 THEN a.total_spent / a.completed_orders ELSE 0 END, 2) AS average_order_value,
        a.items AS total_items_purchased, left(f.category, 100) AS favorite_category,
        (a.first_order AT TIME ZONE 'UTC')::date AS first_order_date, (a.last_order AT TIME ZONE 'UTC')::date AS last_order_date
      FROM agg a LEFT JOIN favourite f ON f.customer_id = a.customer_id
    ), written AS (
      INSERT INTO customer_metrics AS m (customer_id, total_orders, completed_orders, cancelled_orders, returned_orders,
        total_spent, total_refunded, net_revenue, average_order_value, lifetime_value, total_items_purchased,
        favorite_category, first_order_date, last_order_date)
      SELECT customer_id, total_orders, completed_orders, cancelled_orders, returned_orders, total_spent, total_refunded,
        net_revenue, average_order_value, net_revenue, total_items_purchased, favorite_category, first_order_date, last_order_date
      FROM computed
      ON CONFLICT (customer_id) DO UPDATE SET
        total_orders = EXCLUDED.total_orders, completed_orders = EXCLUDED.completed_orders,
        cancelled_orders = EXCLUDED.cancelled_orders, returned_orders = EXCLUDED.returned_orders,
        total_spent = EXCLUDED.total_spent, total_refunded = EXCLUDED.total_refunded, net_revenue = EXCLUDED.net_revenue,
        average_order_value = EXCLUDED.average_order_value, lifetime_value = EXCLUDED.lifetime_value,
        total_items_purchased = EXCLUDED.total_items_purchased, favorite_category = EXCLUDED.favorite_category,
        first_order_date = EXCLUDED.first_order_date, last_order_date = EXCLUDED.last_order_date,
        calculated_at = now(), updated_at = now()
      WHERE (m.total_orders, m.completed_orders, m.cancelled_orders, m.returned_orders, m.total_spent, m.total_refunded,
             m.net_revenue, m.average_order_value, m.lifetime_value, m.total_items_purchased, m.favorite_category,
             m.first_order_date, m.last_order_date)
        IS DISTINCT FROM
            (EXCLUDED.total_orders, EXCLUDED.completed_orders, EXCLUDED.cancelled_orders, EXCLUDED.returned_orders,
             EXCLUDED.total_spent, EXCLUDED.total_refunded, EXCLUDED.net_revenue, EXCLUDED.average_order_value,
             EXCLUDED.lifetime_value, EXCLUDED.total_items_purchased, EXCLUDED.favorite_category,
             EXCLUDED.first_order_date, EXCLUDED.last_order_date)
      RETURNING customer_id
    )
    UPDATE customers c SET version = c.version + 1, updated_at = now()
    FROM written w WHERE c.id = w.customer_id
    RETURNING c.id::text AS id, c.version::int AS version`,
  );
}

export async function clearPendingMetrics(tx: Tx, customerIds: string[]): Promise<void> {
  if (customerIds.length === 0) return;
  await tx.execute(sql`DELETE FROM customer_metrics_pending WHERE customer_id = ANY(${uuidArray(customerIds)})`);
}
