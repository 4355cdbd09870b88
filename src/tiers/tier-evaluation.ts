// The tier rules (tier-rules.ts) as set-based SQL over many customers of one business: decide
// each customer's next tier and pending downgrade, then write the changes with their history rows
// and domain events in one statement.
//   - qualifying = the highest tier any of whose thresholds the customer meets over its period
//   - a manual override pins the tier
//   - an upgrade applies at once; below their tier a customer keeps it until the grace period
//     ends, then drops ONE tier, and a new grace period starts if they are still above
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, uuidArray, type Executor } from '../db/db.client.js';
import type { StoredTierThresholds, TierRequirement } from '../db/schema/index.js';
import { PERIOD_MONTHS, TIER_KEYS } from './tiers.schema.js';

export interface TierConfiguration {
  thresholds: StoredTierThresholds;
  downgradeGraceDays: number;
}

export interface TierMove {
  customerId: string;
  previousTier: string;
  newTier: string;
}

const RANK = sql.raw(`CASE bc.loyalty_tier WHEN 'SILVER' THEN 1 WHEN 'GOLD' THEN 2 WHEN 'PLATINUM' THEN 3 ELSE 0 END`);
const OVERRIDE_RANK = sql.raw(`CASE bc.tier_override WHEN 'SILVER' THEN 1 WHEN 'GOLD' THEN 2 WHEN 'PLATINUM' THEN 3 WHEN 'BRONZE' THEN 0 END`);
const tierName = (rank: SQL) => sql`(ARRAY['BRONZE','SILVER','GOLD','PLATINUM'])[${rank} + 1]`;

/** Which customers of the business to evaluate: all of them, or these ids. */
export type TierScope = { all: true } | { ids: string[] };

function scopeCondition(scope: TierScope): SQL {
  return 'all' in scope ? sql`true` : sql`bc.customer_id = ANY(${uuidArray(scope.ids)})`;
}

/**
 * The decision for every customer in scope whose stored state differs from it: columns
 * customer_id, cur, next (tier ranks 0–3), next_due, downgrade_due_at, overridden.
 */
function decisions(config: TierConfiguration, businessId: string, asOf: Date, scope: TierScope): SQL {
  const periods = [...new Set(TIER_KEYS.map((k) => config.thresholds[k].evaluationPeriod))].filter((p) => p !== 'lifetime');
  const windows = periods.map(
    (p) => sql`LEFT JOIN LATERAL (
      SELECT coalesce(sum(t.amount - t.refunded_amount), 0) AS spend, count(*) AS visits
      FROM customer_transactions t
      WHERE t.business_id = bc.business_id AND t.customer_id = bc.customer_id AND t.status = 'completed'
        AND t.occurred_at > ${asOf.toISOString()}::timestamptz - ${`${PERIOD_MONTHS[p]} months`}::interval
        AND t.occurred_at <= ${asOf.toISOString()}::timestamptz
    ) ${sql.raw(`w_${p}`)} ON true`,
  );
  const values = (req: TierRequirement) =>
    req.evaluationPeriod === 'lifetime'
      ? { spend: sql`coalesce(m.net_revenue, 0)`, visits: sql`coalesce(m.completed_orders, 0)` }
      : { spend: sql.raw(`w_${req.evaluationPeriod}.spend`), visits: sql.raw(`w_${req.evaluationPeriod}.visits`) };
  const meets = (req: TierRequirement): SQL => {
    const v = values(req);
    const parts: SQL[] = [];
    if (req.spendingThreshold !== undefined) parts.push(sql`${v.spend} >= ${String(req.spendingThreshold)}::numeric`);
    if (req.visitThreshold !== undefined) parts.push(sql`${v.visits} >= ${req.visitThreshold}`);
    if (req.pointsThreshold !== undefined) parts.push(sql`coalesce(e.loyalty_points, 0) >= ${req.pointsThreshold}`);
    return sql`(${sql.join(parts, sql` OR `)})`;
  };
  const t = config.thresholds;
  const asOfSql = sql`${asOf.toISOString()}::timestamptz`;
  const grace = sql`${asOfSql} + ${`${config.downgradeGraceDays} days`}::interval`;
  return sql`
    WITH q AS (
      SELECT bc.customer_id, bc.downgrade_due_at, bc.tier_override_reason, ${RANK} AS cur, ${OVERRIDE_RANK} AS pinned,
        CASE WHEN ${meets(t.platinum)} THEN 3 WHEN ${meets(t.gold)} THEN 2 WHEN ${meets(t.silver)} THEN 1 ELSE 0 END AS qualified
      FROM business_customers bc
      JOIN customers c ON c.id = bc.customer_id AND c.deleted_at IS NULL
      LEFT JOIN customer_metrics m ON m.customer_id = bc.customer_id
      LEFT JOIN customer_engagement e ON e.customer_id = bc.customer_id
      ${sql.join(windows, sql` `)}
      WHERE bc.business_id = ${businessId} AND ${scopeCondition(scope)}
    ), d AS (
      SELECT q.*,
        CASE WHEN pinned IS NOT NULL THEN pinned
             WHEN qualified > cur THEN qualified
             WHEN qualified < cur AND coalesce(downgrade_due_at, ${grace}) <= ${asOfSql} THEN cur - 1
             ELSE cur END AS next
      FROM q
    ), f AS (
      SELECT d.*,
        CASE WHEN pinned IS NOT NULL OR qualified >= next THEN NULL
             WHEN next < cur OR downgrade_due_at IS NULL THEN ${grace}
             ELSE downgrade_due_at END AS next_due
      FROM d
    )
    SELECT customer_id, cur, next, next_due, downgrade_due_at, pinned IS NOT NULL AS overridden, tier_override_reason FROM f
    WHERE next <> cur OR next_due IS DISTINCT FROM downgrade_due_at`;
}

/** Customers whose tier state would change, in id order (read only: nothing is locked). */
export async function tierCandidates(ex: Executor, config: TierConfiguration, businessId: string, asOf: Date): Promise<string[]> {
  const rows = await queryRows<{ customer_id: string }>(
    ex,
    sql`SELECT customer_id::text FROM (${decisions(config, businessId, asOf, { all: true })}) x ORDER BY customer_id`,
  );
  return rows.map((r) => r.customer_id);
}

/**
 * Decides and writes, in one statement, the tier state of the customers in scope: the link's
 * tier and pending downgrade, a history row and an upgraded/downgraded event per tier move.
 * The caller holds the customers' row locks and bumps the versions of those whose tier moved.
 */
export async function applyTierDecisions(
  ex: Executor,
  config: TierConfiguration,
  businessId: string,
  asOf: Date,
  scope: TierScope,
  changedBy: string | null,
): Promise<TierMove[]> {
  const asOfSql = sql`${asOf.toISOString()}::timestamptz`;
  const rows = await queryRows<{ customer_id: string; previous_tier: string; new_tier: string }>(
    ex,
    sql`
    WITH changes AS (${decisions(config, businessId, asOf, scope)}),
    updated AS (
      UPDATE business_customers bc
      SET loyalty_tier = ${tierName(sql`ch.next`)},
          tier_updated_at = CASE WHEN ch.next <> ch.cur THEN ${asOfSql} ELSE bc.tier_updated_at END,
          downgrade_due_at = ch.next_due
      FROM changes ch
      WHERE bc.business_id = ${businessId} AND bc.customer_id = ch.customer_id
      RETURNING bc.customer_id
    ), moved AS (
      SELECT customer_id, ${tierName(sql`cur`)} AS previous_tier, ${tierName(sql`next`)} AS new_tier, next > cur AS upgrade,
        CASE WHEN overridden THEN tier_override_reason END AS note,
        CASE WHEN overridden THEN 'manual_override' WHEN next > cur THEN 'qualified' ELSE 'grace_period_expired' END AS reason
      FROM changes WHERE next <> cur
    ), history AS (
      INSERT INTO customer_tier_history (business_id, customer_id, previous_tier, new_tier, reason, changed_by, note, changed_at)
      SELECT ${businessId}, customer_id, previous_tier, new_tier, reason, ${changedBy}, note, ${asOfSql} FROM moved
    ), events AS (
      INSERT INTO domain_events (business_id, event_type, customer_id, payload)
      SELECT ${businessId}, CASE WHEN upgrade THEN 'customers.tier.upgraded' ELSE 'customers.tier.downgraded' END, customer_id,
        jsonb_build_object('previousTier', previous_tier, 'newTier', new_tier, 'reason', reason)
      FROM moved
    )
    SELECT customer_id::text, previous_tier, new_tier FROM moved`,
  );
  return rows.map((r) => ({ customerId: r.customer_id, previousTier: r.previous_tier, newTier: r.new_tier }));
}
