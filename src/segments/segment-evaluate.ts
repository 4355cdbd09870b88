// Evaluates validated segment criteria for one customer in memory, with exactly the semantics of
// the SQL compiler (segment-sql.ts): two-valued logic, a missing value makes any rule false,
// money in integer cents so sums and averages are exact, dates as 'YYYY-MM-DD' strings.
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

export interface CustomerTransactionFact {
  amount: number;
  status: string;
  occurredAt: Date;
  categories: string[];
}

export interface CustomerFacts {
  loyaltyTier: string;
  status: string;
  tags: string[];
  customAttributes: Record<string, unknown>;
  metrics: {
    totalSpent: number;
    completedOrders: number;
    averageOrderValue: number;
    lastOrderDate: string | null;
    churnProbability: number | null;
    predictedLifetimeValue: number | null;
  } | null;
  /** null: the customer has no engagement row. */
  loyaltyPoints: number | null;
  country: string | null;
  /** This business's transactions only. */
  transactions: CustomerTransactionFact[];
}

/**
 * An exact number as `hundredths / divisor` (divisor > 0). Every number field is an integer or has
 * at most 2 decimals, so hundredths are integers; a windowed average keeps its count as divisor.
 */
interface Exact {
  hundredths: number;
  divisor: number;
}

const hundredths = (n: number) => Math.round(n * 100);
const exact = (n: number | null): Exact | null => (n === null ? null : { hundredths: hundredths(n), divisor: 1 });

interface Window {
  totalCents: number;
  count: number;
  /** With repeats; only membership is asked. */
  categories: string[];
}

class Evaluation {
  private windows: Partial<Record<Timeframe, Window>> | undefined;

  constructor(
    private readonly facts: CustomerFacts,
    private readonly asOf: Date,
  ) {}

  group(criteria: SegmentCriteria): boolean {
    const all = criteria.operator === 'AND';
    for (const node of criteria.rules) {
      const result = isRuleGroup(node) ? this.group(node) : this.rule(node);
      if (result !== all) return result;
    }
    return all;
  }

  rule(rule: SegmentRule): boolean {
    const spec = fieldSpec(rule.field);
    if (!spec) throw new Error(`unknown segment field ${rule.field}; parse criteria with parseSegmentCriteria first`);
    const timeframe = ruleTimeframe(rule);
    const windowed = spec.windowed && timeframe !== 'lifetime';
    const { facts } = this;
    const m = facts.metrics;
    switch (rule.field) {
      case 'totalSpent':
        return compareNumber(windowed ? { hundredths: this.window(timeframe).totalCents, divisor: 1 } : exact(m?.totalSpent ?? 0), rule);
      case 'visitCount':
        return compareNumber(exact(windowed ? this.window(timeframe).count : (m?.completedOrders ?? 0)), rule);
      case 'avgOrderValue': {
        if (!windowed) return compareNumber(exact(m?.averageOrderValue ?? 0), rule);
        const w = this.window(timeframe);
        return compareNumber(w.count > 0 ? { hundredths: w.totalCents, divisor: w.count } : null, rule);
      }
      case 'loyaltyPoints':
        return compareNumber(exact(facts.loyaltyPoints ?? 0), rule);
      case 'daysSinceLastVisit':
        return compareNumber(exact(daysBetween(m?.lastOrderDate ?? null, this.asOf)), rule);
      case 'churnRisk':
        return compareNumber(exact(m?.churnProbability ?? null), rule);
      case 'predictedLtv':
        return compareNumber(exact(m?.predictedLifetimeValue ?? null), rule);
      case 'lastVisit':
        return compareOrdered(m?.lastOrderDate ?? null, rule, textOrder);
      case 'loyaltyTier':
        return compareOrdered(facts.loyaltyTier, rule, textOrder);
      case 'status':
        return compareOrdered(facts.status, rule, textOrder);
      case 'country':
        return compareOrdered(facts.country, rule, textOrder);
      case 'tags':
        return arrayRule(facts.tags, rule);
      case 'productCategories':
        return arrayRule(this.window(timeframe).categories, rule);
    }
    const key = customAttributeKey(rule.field);
    if (key === null) throw new Error(`segment field ${rule.field} has no evaluator`);
    return customAttributeRule(Object.hasOwn(facts.customAttributes, key) ? facts.customAttributes[key] : undefined, rule);
  }

  /** Completed transactions with start < occurredAt <= asOf (no start for lifetime). */
  private window(timeframe: Timeframe): Window {
    this.windows ??= {};
    let w = this.windows[timeframe];
    if (!w) {
      const start = windowStart(this.asOf, timeframe)?.getTime() ?? -Infinity;
      const end = this.asOf.getTime();
      w = { totalCents: 0, count: 0, categories: [] };
      for (const t of this.facts.transactions) {
        const at = t.occurredAt.getTime();
        if (t.status !== 'completed' || at <= start || at > end) continue;
        w.totalCents += hundredths(t.amount);
        w.count += 1;
        w.categories.push(...t.categories);
      }
      this.windows[timeframe] = w;
    }
    return w;
  }
}

export function evaluateCriteria(criteria: SegmentCriteria, facts: CustomerFacts, asOf: Date): boolean {
  return new Evaluation(facts, asOf).group(criteria);
}

/** Code-unit order; values are compared only for equality and, as 'YYYY-MM-DD' dates, for order. */
const textOrder = (a: string, b: Scalar) => (a === b ? 0 : a < (b as string) ? -1 : 1);

/** Whole days from a 'YYYY-MM-DD' date to asOf's UTC date, like `(asOf AT TIME ZONE 'UTC')::date - d`. */
function daysBetween(date: string | null, asOf: Date): number | null {
  if (date === null) return null;
  const today = Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth(), asOf.getUTCDate());
  return Math.round((today - Date.parse(`${date}T00:00:00Z`)) / 86_400_000);
}

/** Sign of `x - v` where x = hundredths / divisor, computed in integers. */
function compareExact(x: Exact, v: Scalar): number {
  const value = hundredths(v as number);
  const scaled = value * x.divisor;
  if (Number.isSafeInteger(scaled) && Number.isSafeInteger(x.hundredths)) return Math.sign(x.hundredths - scaled);
  const diff = BigInt(x.hundredths) - BigInt(value) * BigInt(x.divisor);
  return diff === 0n ? 0 : diff > 0n ? 1 : -1;
}

function compareNumber(x: Exact | null, rule: SegmentRule): boolean {
  if (x === null) return false;
  return compareOrdered(x, rule, compareExact);
}

/** Scalar comparison; a missing value (null) is false for every operator, including the negative ones. */
function compareOrdered<T>(x: T | null, rule: SegmentRule, cmp: (x: T, v: Scalar) => number): boolean {
  if (x === null) return false;
  switch (rule.operator) {
    case 'equals':
      return cmp(x, rule.value) === 0;
    case 'not_equals':
      return cmp(x, rule.value) !== 0;
    case 'greater_than':
      return cmp(x, rule.value) > 0;
    case 'less_than':
      return cmp(x, rule.value) < 0;
    case 'between':
      return cmp(x, rule.value[0]) >= 0 && cmp(x, rule.value[1]) <= 0;
    case 'in':
    case 'not_in': {
      let found = false;
      for (const v of rule.value) if (cmp(x, v) === 0) found = true;
      return found === (rule.operator === 'in');
    }
    case 'contains':
      throw new Error(`contains is not a scalar comparison (${rule.field})`);
  }
}

function arrayRule(values: readonly string[], rule: SegmentRule): boolean {
  const has = (v: Scalar) => values.includes(v as string);
  switch (rule.operator) {
    case 'contains':
      return has(rule.value);
    case 'in':
      return rule.value.some(has);
    case 'not_in':
      return !rule.value.some(has);
    default:
      throw new Error(`operator ${rule.operator} is not allowed for ${rule.field}`);
  }
}

const isJsonScalar = (v: unknown): v is Scalar => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Same rules as the SQL: JSON scalar equality, order on JSON numbers, substring or element for contains. */
function customAttributeRule(attr: unknown, rule: SegmentRule): boolean {
  switch (rule.operator) {
    case 'equals':
      return isJsonScalar(attr) && attr === rule.value;
    case 'not_equals':
      return isJsonScalar(attr) && attr !== rule.value;
    case 'in':
      return isJsonScalar(attr) && rule.value.includes(attr);
    case 'not_in':
      return isJsonScalar(attr) && !rule.value.includes(attr);
    case 'greater_than':
      return typeof attr === 'number' && attr > (rule.value as number);
    case 'less_than':
      return typeof attr === 'number' && attr < (rule.value as number);
    case 'between':
      return typeof attr === 'number' && attr >= (rule.value[0] as number) && attr <= (rule.value[1] as number);
    case 'contains':
      if (typeof attr === 'string') return attr.includes(rule.value as string);
      return Array.isArray(attr) && attr.some((e) => e === rule.value);
  }
}
