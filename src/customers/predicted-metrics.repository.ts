// The prediction fields of customer_metrics (churn probability, predicted next order date,
// predicted lifetime value, propensity), written set-based for a batch of customers: only rows
// whose values change are written, and only those customers get a version bump.
import { sql } from 'drizzle-orm';
import { queryRows, type Tx } from '../db/db.client.js';

export interface PredictedMetrics {
  customerId: string;
  churnProbability: number;
  predictedNextOrderDate: string | null;
  predictedLifetimeValue: number;
  propensityScore: number;
}

export async function writePredictedMetrics(tx: Tx, rows: PredictedMetrics[]): Promise<{ id: string; version: number }[]> {
  if (rows.length === 0) return [];
  const payload = JSON.stringify(rows);
  return queryRows<{ id: string; version: number }>(
    tx,
    sql`
    WITH x AS (
      SELECT "customerId" AS customer_id, round("churnProbability"::numeric, 2) AS churn,
             "predictedNextOrderDate" AS next_date, round("predictedLifetimeValue"::numeric, 2) AS ltv,
             round("propensityScore"::numeric, 2) AS propensity
      FROM jsonb_to_recordset(${payload}::jsonb)
        AS x("customerId" uuid, "churnProbability" float8, "predictedNextOrderDate" date, "predictedLifetimeValue" float8, "propensityScore" float8)
    ), locked AS (
      SELECT c.id FROM customers c WHERE c.id IN (SELECT customer_id FROM x) AND c.deleted_at IS NULL ORDER BY c.id FOR UPDATE
    ), written AS (
      INSERT INTO customer_metrics AS m (customer_id, churn_probability, predicted_next_order_date, predicted_lifetime_value, propensity_score)
      SELECT customer_id, churn, next_date, ltv, propensity FROM x WHERE customer_id IN (SELECT id FROM locked)
      ON CONFLICT (customer_id) DO UPDATE SET
        churn_probability = EXCLUDED.churn_probability, predicted_next_order_date = EXCLUDED.predicted_next_order_date,
        predicted_lifetime_value = EXCLUDED.predicted_lifetime_value, propensity_score = EXCLUDED.propensity_score,
        calculated_at = now(), updated_at = now()
      WHERE (m.churn_probability, m.predicted_next_order_date, m.predicted_lifetime_value, m.propensity_score)
        IS DISTINCT FROM (EXCLUDED.churn_probability, EXCLUDED.predicted_next_order_date, EXCLUDED.predicted_lifetime_value, EXCLUDED.propensity_score)
      RETURNING customer_id
    )
    UPDATE customers c SET version = c.version + 1, updated_at = now()
    FROM written w WHERE c.id = w.customer_id
    RETURNING c.id::text AS id, c.version::int AS version`,
  );
}
