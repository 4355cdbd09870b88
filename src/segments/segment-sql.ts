// Compiles validated segment criteria to one parameterised PostgreSQL boolean expression over
// the member query's aliases (bc, c, m, e; see segmentMembersQuery). Every rule compiles to
// `coalesce((…), false)`, so logic is two-valued and a missing value makes any rule false —
// the same semantics as segment-evaluate.ts, which the agreement test holds it to.
import { sql, type SQL } from 'drizzle-orm';
import {
  customAttributeKey,
  fieldSpec,
  isRuleGroup,
  ruleTimeframe,
  windowStart,
  type Scalar,
  type SegmentCriteria,
  type SegmentRule,
  type Timeframe,
} from './segment-criteria.js';

export interface SegmentSqlContext {
  businessId: string;
  asOf: Date;
}

/** A boolean expression to put in the WHERE of segmentMembersQuery's FROM. */
export function compileCriteria(criteria: SegmentCriteria, ctx: SegmentSqlContext): SQL {
  const parts = criteria.rules.map((node) => (isRuleGroup(node) ? compileCriteria(node, ctx) : compileRule(node, ctx)));
  return sql`(${sql.join(parts, criteria.operator === 'AND' ? sql` AND ` : sql` OR `)})`;
}

/** `SELECT c.id` of every live customer of the business whom the criteria select. */
export function segmentMembersQuery(criteria: SegmentCriteria, ctx: SegmentSqlContext): SQL {
  return sql`SELECT c.id
    FROM business_customers bc
    JOIN customers c ON c.id = bc.customer_id AND c.deleted_at IS NULL
    LEFT JOIN customer_metrics m ON m.customer_id = c.id
    LEFT JOIN customer_engagement e ON e.customer_id = c.id
    WHERE bc.business_id = ${ctx.businessId}::uuid AND ${compileCriteria(criteria, ctx)}`;
}

function compileRule(rule: SegmentRule, ctx: SegmentSqlContext): SQL {
  return sql`coalesce((${ruleExpression(rule, ctx)}), false)`;
}

const num = (v: Scalar) => sql`${String(v)}::numeric`;
const typedArray = (values: Scalar[], type: SQL) => sql`ARRAY[${sql.join(values.map((v) => sql`${String(v)}`), sql`, `)}]::${type}[]`;
const textArray = (values: Scalar[]) => typedArray(values, sql`text`);

type Operand = (v: Scalar) => SQL;

/** `expr <op> value` for scalar-valued fields; `operand` renders one value as a typed parameter. */
function compare(expr: SQL, rule: SegmentRule, operand: Operand, arrayOf: (values: Scalar[]) => SQL): SQL {
  switch (rule.operator) {
    case 'equals':
      return sql`${expr} = ${operand(rule.value)}`;
    case 'not_equals':
      return sql`${expr} <> ${operand(rule.value)}`;
    case 'greater_than':
      return sql`${expr} > ${operand(rule.value)}`;
    case 'less_than':
      return sql`${expr} < ${operand(rule.value)}`;
    case 'between':
      return sql`${expr} BETWEEN ${operand(rule.value[0])} AND ${operand(rule.value[1])}`;
    case 'in':
      return sql`${expr} = ANY(${arrayOf(rule.value)})`;
    case 'not_in':
      return sql`NOT (${expr} = ANY(${arrayOf(rule.value)}))`;
    case 'contains':
      throw new Error(`contains is not a scalar comparison (${rule.field})`);
  }
}

const compareNumber = (expr: SQL, rule: SegmentRule) => compare(expr, rule, num, (vs) => typedArray(vs, sql`numeric`));
const compareText = (expr: SQL, rule: SegmentRule) => compare(expr, rule, (v) => sql`${String(v)}::text`, textArray);
const compareDate = (expr: SQL, rule: SegmentRule) =>
  compare(expr, rule, (v) => sql`${String(v)}::date`, (vs) => typedArray(vs, sql`date`));

/** This business's completed transactions of the customer in the timeframe, never after asOf. */
function transactionsIn(timeframe: Timeframe, ctx: SegmentSqlContext): SQL {
  const start = windowStart(ctx.asOf, timeframe);
  return sql`t.business_id = ${ctx.businessId}::uuid AND t.customer_id = c.id AND t.status = 'completed'
    AND t.occurred_at <= ${ctx.asOf.toISOString()}::timestamptz${
      start ? sql` AND t.occurred_at > ${start.toISOString()}::timestamptz` : sql``
    }`;
}

/**
 * An aggregate test over the customer's transactions in the timeframe, evaluated inside the
 * subquery so that BETWEEN or a list does not run the subquery once per comparison.
 */
function overTransactions(test: SQL, timeframe: Timeframe, ctx: SegmentSqlContext): SQL {
  return sql`(SELECT ${test} FROM customer_transactions t WHERE ${transactionsIn(timeframe, ctx)})`;
}

function ruleExpression(rule: SegmentRule, ctx: SegmentSqlContext): SQL {
  const spec = fieldSpec(rule.field);
  if (!spec) throw new Error(`unknown segment field ${rule.field}; parse criteria with parseSegmentCriteria first`);
  const timeframe = ruleTimeframe(rule);
  const windowed = spec.windowed && timeframe !== 'lifetime';
  switch (rule.field) {
    case 'totalSpent':
      return windowed
        ? overTransactions(compareNumber(sql`coalesce(sum(t.amount), 0)`, rule), timeframe, ctx)
        : compareNumber(sql`coalesce(m.total_spent, 0)`, rule);
    case 'visitCount':
      return windowed
        ? overTransactions(compareNumber(sql`count(*)`, rule), timeframe, ctx)
        : compareNumber(sql`coalesce(m.completed_orders, 0)`, rule);
    case 'avgOrderValue':
      return windowed
        ? overTransactions(windowedAverage(rule), timeframe, ctx)
        : compareNumber(sql`coalesce(m.average_order_value, 0)`, rule);
    case 'loyaltyPoints':
      return compareNumber(sql`coalesce(e.loyalty_points, 0)`, rule);
    case 'daysSinceLastVisit':
      return compareNumber(sql`((${ctx.asOf.toISOString()}::timestamptz AT TIME ZONE 'UTC')::date - m.last_order_date)`, rule);
    case 'churnRisk':
      return compareNumber(sql`m.churn_probability`, rule);
    case 'predictedLtv':
      return compareNumber(sql`m.predicted_lifetime_value`, rule);
    case 'lastVisit':
      return compareDate(sql`m.last_order_date`, rule);
    case 'loyaltyTier':
      return compareText(sql`bc.loyalty_tier`, rule);
    case 'status':
      return compareText(sql`c.status`, rule);
    case 'country':
      return compareText(
        sql`(SELECT a.country_code FROM customer_addresses a WHERE a.customer_id = c.id
             ORDER BY a.is_default DESC, a.created_at, a.id LIMIT 1)`,
        rule,
      );
    case 'tags':
      return arrayRule(sql`c.tags`, rule);
    case 'productCategories':
      return categoriesRule(rule, timeframe, ctx);
  }
  const key = customAttributeKey(rule.field);
  if (key === null) throw new Error(`segment field ${rule.field} has no SQL`);
  return customAttributeRule(sql`(c.custom_attributes -> ${key}::text)`, rule);
}

/**
 * Windowed average against the value without division: `sum > v * count` with count > 0, exact in
 * numeric. An aggregate over no rows gives a NULL sum, which the count guard turns into false.
 */
function windowedAverage(rule: SegmentRule): SQL {
  const eq = (v: Scalar) => sql`sum(t.amount) = ${num(v)} * count(*)`;
  const anyOf = (vs: Scalar[]) => sql`(${sql.join(vs.map(eq), sql` OR `)})`;
  let test: SQL;
  switch (rule.operator) {
    case 'equals':
      test = eq(rule.value);
      break;
    case 'not_equals':
      test = sql`sum(t.amount) <> ${num(rule.value)} * count(*)`;
      break;
    case 'greater_than':
      test = sql`sum(t.amount) > ${num(rule.value)} * count(*)`;
      break;
    case 'less_than':
      test = sql`sum(t.amount) < ${num(rule.value)} * count(*)`;
      break;
    case 'between':
      test = sql`sum(t.amount) >= ${num(rule.value[0])} * count(*) AND sum(t.amount) <= ${num(rule.value[1])} * count(*)`;
      break;
    case 'in':
      test = anyOf(rule.value);
      break;
    case 'not_in':
      test = sql`NOT ${anyOf(rule.value)}`;
      break;
    case 'contains':
      throw new Error('contains is not allowed for avgOrderValue');
  }
  return sql`count(*) > 0 AND ${test}`;
}

function arrayRule(array: SQL, rule: SegmentRule): SQL {
  switch (rule.operator) {
    case 'contains':
      return sql`${array} @> ${textArray([rule.value])}`;
    case 'in':
      return sql`${array} && ${textArray(rule.value)}`;
    case 'not_in':
      return sql`NOT (${array} && ${textArray(rule.value)})`;
    default:
      throw new Error(`operator ${rule.operator} is not allowed for ${rule.field}`);
  }
}

/** Whether any of the customer's completed transactions in the timeframe has one of these categories. */
function categoriesRule(rule: SegmentRule, timeframe: Timeframe, ctx: SegmentSqlContext): SQL {
  const bought = (categories: Scalar[]) =>
    sql`EXISTS (SELECT 1 FROM customer_transactions t WHERE ${transactionsIn(timeframe, ctx)} AND t.categories && ${textArray(categories)})`;
  switch (rule.operator) {
    case 'contains':
      return bought([rule.value]);
    case 'in':
      return bought(rule.value);
    case 'not_in':
      return sql`NOT ${bought(rule.value)}`;
    default:
      throw new Error(`operator ${rule.operator} is not allowed for productCategories`);
  }
}

/**
 * A custom attribute (`attr` is its jsonb, NULL when absent). Equality compares JSON scalars and
 * applies only when the attribute is one; order comparisons apply only to JSON numbers. CASE
 * keeps the numeric cast from running on a non-number (AND does not promise an order).
 */
function customAttributeRule(attr: SQL, rule: SegmentRule): SQL {
  const json = (v: Scalar) => sql`${JSON.stringify(v)}::jsonb`;
  const scalar = sql`jsonb_typeof(${attr}) IN ('string', 'number', 'boolean')`;
  const whenNumber = (test: SQL) => sql`CASE WHEN jsonb_typeof(${attr}) = 'number' THEN ${test} ELSE false END`;
  const jsonArray = (vs: Scalar[]) => sql`ARRAY[${sql.join(vs.map((v) => sql`${JSON.stringify(v)}`), sql`, `)}]::jsonb[]`;
  switch (rule.operator) {
    case 'equals':
      return sql`${scalar} AND ${attr} = ${json(rule.value)}`;
    case 'not_equals':
      return sql`${scalar} AND ${attr} <> ${json(rule.value)}`;
    case 'in':
      return sql`${scalar} AND ${attr} = ANY(${jsonArray(rule.value)})`;
    case 'not_in':
      return sql`${scalar} AND NOT (${attr} = ANY(${jsonArray(rule.value)}))`;
    case 'greater_than':
      return whenNumber(sql`(${attr})::numeric > ${num(rule.value)}`);
    case 'less_than':
      return whenNumber(sql`(${attr})::numeric < ${num(rule.value)}`);
    case 'between':
      return whenNumber(sql`(${attr})::numeric BETWEEN ${num(rule.value[0])} AND ${num(rule.value[1])}`);
    case 'contains':
      return sql`CASE jsonb_typeof(${attr})
        WHEN 'string' THEN strpos(${attr} #>> '{}', ${String(rule.value)}::text) > 0
        WHEN 'array' THEN ${attr} @> jsonb_build_array(${String(rule.value)}::text)
        ELSE false END`;
  }
}
