// The segment criteria language: its types, the field catalogue (what each field is, which
// operators and timeframes it takes), and validation that turns untrusted JSON into criteria
// the SQL compiler (segment-sql.ts) and the in-memory evaluator (segment-evaluate.ts) can
// trust. Both of those read their semantics from the catalogue here, so they cannot drift.
import { z } from 'zod';
import { CUSTOMER_STATUSES, LOYALTY_TIERS } from '../db/schema/index.js';
import { AppError, type FieldProblem } from '../errors.js';

export const GROUP_OPERATORS = ['AND', 'OR'] as const;
export const RULE_OPERATORS = [
  'equals',
  'not_equals',
  'greater_than',
  'less_than',
  'in',
  'not_in',
  'between',
  'contains',
] as const;
export const TIMEFRAMES = ['last_30_days', 'last_90_days', 'last_365_days', 'lifetime'] as const;

export type GroupOperator = (typeof GROUP_OPERATORS)[number];
export type RuleOperator = (typeof RULE_OPERATORS)[number];
export type Timeframe = (typeof TIMEFRAMES)[number];
export type Scalar = string | number | boolean;

interface RuleBase {
  field: string;
  timeframe?: Timeframe;
}
/** The shape of `value` follows the operator; its type follows the field (see SEGMENT_FIELDS). */
export type SegmentRule = RuleBase &
  (
    | { operator: 'equals' | 'not_equals' | 'greater_than' | 'less_than' | 'contains'; value: Scalar }
    | { operator: 'in' | 'not_in'; value: Scalar[] }
    | { operator: 'between'; value: [Scalar, Scalar] }
  );

export interface SegmentCriteria {
  operator: GroupOperator;
  rules: (SegmentRule | SegmentCriteria)[];
}

export const MAX_GROUP_DEPTH = 5;
export const MAX_RULES = 50;
export const MAX_LIST_ITEMS = 100;
const MAX_PROBLEMS = 20;

/** Days covered by each timeframe; lifetime has no lower bound. */
export const TIMEFRAME_DAYS: Record<Timeframe, number | null> = {
  last_30_days: 30,
  last_90_days: 90,
  last_365_days: 365,
  lifetime: null,
};

const DAY_MS = 86_400_000;

/**
 * The exclusive lower bound of a timeframe: transactions count when `start < occurred_at <= asOf`.
 * A day is 24 hours, so the window does not depend on any time zone's daylight-saving rules.
 */
export function windowStart(asOf: Date, timeframe: Timeframe): Date | null {
  const days = TIMEFRAME_DAYS[timeframe];
  return days === null ? null : new Date(asOf.getTime() - days * DAY_MS);
}

// ---- field catalogue ----------------------------------------------------------------------

export type FieldType = 'number' | 'date' | 'enum' | 'string_array' | 'json';

export const OPERATORS_BY_TYPE: Record<FieldType, readonly RuleOperator[]> = {
  number: ['equals', 'not_equals', 'greater_than', 'less_than', 'between', 'in', 'not_in'],
  date: ['equals', 'not_equals', 'greater_than', 'less_than', 'between', 'in', 'not_in'],
  enum: ['equals', 'not_equals', 'in', 'not_in'],
  string_array: ['contains', 'in', 'not_in'],
  json: ['equals', 'not_equals', 'greater_than', 'less_than', 'between', 'in', 'not_in', 'contains'],
};

const TYPE_NOUN: Record<FieldType, string> = {
  number: 'a number',
  date: 'a date',
  enum: 'a fixed set of values',
  string_array: 'a list of strings',
  json: 'a JSON value',
};

interface ValueRule {
  schema: z.ZodType<Scalar>;
  /** What one value must be, completing "must be …". */
  expects: string;
}

export interface FieldSpec {
  type: FieldType;
  /** Whether a timeframe other than lifetime may be given (values then come from transactions). */
  windowed: boolean;
  description: string;
  /** Absent for json, whose value rule depends on the operator (see valueRule). */
  value?: ValueRule;
}

const hasAtMostTwoDecimals = (n: number) => Math.round(n * 100) / 100 === n;
const noNul = (s: string) => !s.includes('\u0000');
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

const MAX_MONEY = 9_999_999_999.99;
const MAX_INT = 2_147_483_647;

function valueRule(schema: z.ZodType<Scalar>, expects: string): ValueRule {
  return { schema, expects };
}

const numberValue = (expects: string, check: (n: number) => boolean) =>
  valueRule(z.number({ error: `must be ${expects}` }).refine(check, { message: `must be ${expects}` }), expects);
const money = numberValue(
  'an amount ≥ 0 with at most 2 decimals',
  (n) => Number.isFinite(n) && n >= 0 && n <= MAX_MONEY && hasAtMostTwoDecimals(n),
);
const count = numberValue('an integer ≥ 0', (n) => Number.isInteger(n) && n >= 0 && n <= MAX_INT);
const integer = numberValue('an integer', (n) => Number.isInteger(n) && Math.abs(n) <= MAX_INT);
const ratio = numberValue(
  'a number from 0 to 1 with at most 2 decimals',
  (n) => Number.isFinite(n) && n >= 0 && n <= 1 && hasAtMostTwoDecimals(n),
);
const anyNumber = numberValue('a finite number', (n) => Number.isFinite(n));

const text = (max: number, expects: string, min = 1) =>
  valueRule(
    z
      .string({ error: `must be ${expects}` })
      .min(min, `must be ${expects}`)
      .max(max, `must be at most ${max} characters`)
      .refine(noNul, 'must not contain NUL characters')
      .refine(wellFormed, 'must be well-formed Unicode'),
    expects,
  );

const isoDate = valueRule(
  z
    .string({ error: "must be a date 'YYYY-MM-DD'" })
    .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date 'YYYY-MM-DD'")
    .refine((s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s) && !s.startsWith('0000');
    }, "must be a real calendar date 'YYYY-MM-DD'"),
  "a date 'YYYY-MM-DD'",
);

const oneOf = (values: readonly string[]) => {
  const expects = `one of ${values.join(', ')}`;
  return valueRule(
    z.string({ error: `must be ${expects}` }).refine((s) => values.includes(s), `must be ${expects}`),
    expects,
  );
};

const country = valueRule(
  z
    .string({ error: 'must be an ISO 3166-1 alpha-2 country code, e.g. US' })
    .transform((s) => s.trim().toUpperCase())
    .refine((c) => /^[A-Z]{2}$/.test(c) && regionNames.of(c) !== c && regionNames.of(c) !== 'Unknown Region', {
      message: 'must be an ISO 3166-1 alpha-2 country code, e.g. US',
    }),
  'an ISO 3166-1 alpha-2 country code, e.g. US',
);

const jsonScalar = valueRule(
  z.union([text(1000, 'a string', 0).schema, anyNumber.schema, z.boolean()], {
    error: 'must be a string, number or boolean',
  }),
  'a string, number or boolean',
);

export const SEGMENT_FIELDS = {
  totalSpent: { type: 'number', windowed: true, value: money, description: 'Total spent; windowed: sum of completed transactions' },
  visitCount: { type: 'number', windowed: true, value: count, description: 'Completed orders; windowed: completed transactions' },
  avgOrderValue: { type: 'number', windowed: true, value: money, description: 'Average order value; windowed: exact average of completed transactions, none when there are none' },
  loyaltyPoints: { type: 'number', windowed: false, value: integer, description: 'Loyalty points balance (0 without engagement data)' },
  daysSinceLastVisit: { type: 'number', windowed: false, value: count, description: 'Days from the last order date to today (UTC)' },
  churnRisk: { type: 'number', windowed: false, value: ratio, description: 'Predicted churn probability, 0..1' },
  predictedLtv: { type: 'number', windowed: false, value: money, description: 'Predicted lifetime value' },
  lastVisit: { type: 'date', windowed: false, value: isoDate, description: 'Date of the last order' },
  loyaltyTier: { type: 'enum', windowed: false, value: oneOf(LOYALTY_TIERS), description: "The customer's tier with this business" },
  status: { type: 'enum', windowed: false, value: oneOf(CUSTOMER_STATUSES), description: 'Customer status' },
  country: { type: 'enum', windowed: false, value: country, description: 'Country of the default (else first) address' },
  tags: { type: 'string_array', windowed: false, value: text(255, 'a non-empty string'), description: 'Customer tags' },
  productCategories: { type: 'string_array', windowed: true, value: text(255, 'a non-empty string'), description: 'Categories bought in completed transactions' },
} as const satisfies Record<string, FieldSpec>;

export type SegmentField = keyof typeof SEGMENT_FIELDS;
export const CUSTOM_ATTRIBUTE_PREFIX = 'customAttributes.';
const CUSTOM_KEY = /^[A-Za-z0-9_]{1,64}$/;
const CUSTOM_ATTRIBUTE_SPEC: FieldSpec = {
  type: 'json',
  windowed: false,
  description: 'A custom attribute; compares JSON scalars, numbers, substrings and array elements',
};

const KNOWN_FIELDS = [...Object.keys(SEGMENT_FIELDS), `${CUSTOM_ATTRIBUTE_PREFIX}<key>`].join(', ');
const WINDOWED_FIELDS = Object.entries(SEGMENT_FIELDS)
  .filter(([, spec]) => spec.windowed)
  .map(([name]) => name)
  .join(', ');

/** The key of a `customAttributes.<key>` field, or null for any other field. */
export function customAttributeKey(field: string): string | null {
  return field.startsWith(CUSTOM_ATTRIBUTE_PREFIX) ? field.slice(CUSTOM_ATTRIBUTE_PREFIX.length) : null;
}

export function isSegmentField(field: string): field is SegmentField {
  return Object.hasOwn(SEGMENT_FIELDS, field);
}

/** The catalogue entry of a field, or undefined when the field is unknown. */
export function fieldSpec(field: string): FieldSpec | undefined {
  if (isSegmentField(field)) return SEGMENT_FIELDS[field];
  const key = customAttributeKey(field);
  return key !== null && CUSTOM_KEY.test(key) ? CUSTOM_ATTRIBUTE_SPEC : undefined;
}

function valueRuleFor(spec: FieldSpec, operator: RuleOperator): ValueRule {
  if (spec.value) return spec.value;
  if (operator === 'greater_than' || operator === 'less_than' || operator === 'between') return anyNumber;
  if (operator === 'contains') return text(1000, 'a non-empty string');
  return jsonScalar;
}

// ---- validation ---------------------------------------------------------------------------

export function isRuleGroup(node: SegmentRule | SegmentCriteria): node is SegmentCriteria {
  return 'rules' in node;
}

export function ruleTimeframe(rule: SegmentRule): Timeframe {
  return rule.timeframe ?? 'lifetime';
}

/** Documents the shape for OpenAPI; parseSegmentCriteria does the validation (types, operators, limits). */
export const segmentCriteriaSchema = z
  .object({
    operator: z.enum(GROUP_OPERATORS),
    rules: z.array(
      z.union([
        z.object({
          field: z.string().meta({ description: `One of ${KNOWN_FIELDS}` }),
          operator: z.enum(RULE_OPERATORS),
          value: z.unknown(),
          timeframe: z.enum(TIMEFRAMES).optional().meta({ description: `Only for ${WINDOWED_FIELDS}; default lifetime` }),
        }),
        z.looseObject({ operator: z.enum(GROUP_OPERATORS), rules: z.array(z.unknown()) }).meta({ description: 'A nested group' }),
      ]),
    ),
  })
  .meta({
    id: 'SegmentCriteria',
    description: `Rules combined with AND/OR; groups nest up to ${MAX_GROUP_DEPTH} levels, at most ${MAX_RULES} rules in total.`,
  });

type Problems = FieldProblem[];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const quote = (v: unknown) => (typeof v === 'string' ? `'${v.length > 60 ? `${v.slice(0, 60)}…` : v}'` : JSON.stringify(v));

class CriteriaParser {
  readonly problems: Problems = [];
  ruleCount = 0;

  problem(field: string, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ field, message });
  }

  group(input: unknown, path: string, depth: number): SegmentCriteria | undefined {
    if (!isPlainObject(input)) {
      this.problem(path, "must be a group { operator: 'AND' | 'OR', rules: [...] }");
      return undefined;
    }
    if (depth > MAX_GROUP_DEPTH) {
      this.problem(path, `groups nest at most ${MAX_GROUP_DEPTH} levels deep`);
      return undefined;
    }
    for (const key of Object.keys(input)) {
      if (key !== 'operator' && key !== 'rules') this.problem(`${path}.${key}`, 'unknown property; a group has operator and rules');
    }
    const operator = input.operator;
    if (operator !== 'AND' && operator !== 'OR') this.problem(`${path}.operator`, `${describeGot(operator)}; must be 'AND' or 'OR'`);
    const rules = input.rules;
    if (!Array.isArray(rules) || rules.length === 0) {
      this.problem(`${path}.rules`, 'must be a non-empty list of rules or groups');
      return undefined;
    }
    const out: (SegmentRule | SegmentCriteria)[] = [];
    rules.forEach((node: unknown, i) => {
      const at = `${path}.rules[${i}]`;
      const parsed = isPlainObject(node) && 'rules' in node ? this.group(node, at, depth + 1) : this.rule(node, at);
      if (parsed) out.push(parsed);
    });
    return operator === 'AND' || operator === 'OR' ? { operator, rules: out } : undefined;
  }

  rule(input: unknown, path: string): SegmentRule | undefined {
    if (!isPlainObject(input) || !('field' in input)) {
      this.problem(
        path,
        "must be a rule { field, operator, value, timeframe? } or a group { operator: 'AND' | 'OR', rules: [...] }",
      );
      return undefined;
    }
    this.ruleCount++;
    for (const key of Object.keys(input)) {
      if (!['field', 'operator', 'value', 'timeframe'].includes(key)) {
        this.problem(`${path}.${key}`, 'unknown property; a rule has field, operator, value and timeframe');
      }
    }
    const { field, operator, value, timeframe } = input;
    const spec = typeof field === 'string' ? fieldSpec(field) : undefined;
    if (typeof field !== 'string') {
      this.problem(`${path}.field`, `must be a field name; known fields: ${KNOWN_FIELDS}`);
      return undefined;
    }
    if (!spec) {
      const key = customAttributeKey(field);
      this.problem(
        `${path}.field`,
        key !== null
          ? `custom attribute key ${quote(key)} must be 1 to 64 letters, digits or underscores`
          : `unknown field ${quote(field)}; known fields: ${KNOWN_FIELDS}`,
      );
      return undefined;
    }
    const allowed = OPERATORS_BY_TYPE[spec.type];
    if (typeof operator !== 'string' || !(RULE_OPERATORS as readonly string[]).includes(operator)) {
      this.problem(`${path}.operator`, `${describeGot(operator, 'operator')}; for ${field} use one of ${allowed.join(', ')}`);
      return undefined;
    }
    const op = operator as RuleOperator;
    if (!allowed.includes(op)) {
      this.problem(
        `${path}.operator`,
        `operator '${op}' is not allowed for ${field} (${TYPE_NOUN[spec.type]}); use one of ${allowed.join(', ')}`,
      );
      return undefined;
    }
    let tf: Timeframe | undefined;
    if (timeframe !== undefined) {
      if (typeof timeframe !== 'string' || !(TIMEFRAMES as readonly string[]).includes(timeframe)) {
        this.problem(`${path}.timeframe`, `${describeGot(timeframe, 'timeframe')}; use one of ${TIMEFRAMES.join(', ')}`);
        return undefined;
      }
      if (!spec.windowed) {
        this.problem(`${path}.timeframe`, `${field} takes no timeframe; only ${WINDOWED_FIELDS} do`);
        return undefined;
      }
      tf = timeframe as Timeframe;
    }
    const parsedValue = this.value(value, `${path}.value`, field, spec, op);
    if (parsedValue === undefined) return undefined;
    return { field, operator: op, value: parsedValue, ...(tf ? { timeframe: tf } : {}) } as SegmentRule;
  }

  value(value: unknown, path: string, field: string, spec: FieldSpec, op: RuleOperator): SegmentRule['value'] | undefined {
    const rule = valueRuleFor(spec, op);
    const one = (v: unknown, at: string): Scalar | undefined => {
      const result = rule.schema.safeParse(v);
      if (result.success) return result.data;
      const message = v === undefined ? `is required; must be ${rule.expects}` : (result.error.issues[0]?.message ?? `must be ${rule.expects}`);
      this.problem(at, `${message} (${field} ${op})`);
      return undefined;
    };
    if (op === 'in' || op === 'not_in') {
      if (!Array.isArray(value) || value.length < 1 || value.length > MAX_LIST_ITEMS) {
        this.problem(path, `must be a list of 1 to ${MAX_LIST_ITEMS} values, each ${rule.expects}`);
        return undefined;
      }
      const items = value.map((v: unknown, i) => one(v, `${path}[${i}]`));
      return items.every((v) => v !== undefined) ? items : undefined;
    }
    if (op === 'between') {
      if (!Array.isArray(value) || value.length !== 2) {
        this.problem(path, `must be [low, high], both ${rule.expects}, low ≤ high (inclusive)`);
        return undefined;
      }
      const low = one(value[0], `${path}[0]`);
      const high = one(value[1], `${path}[1]`);
      if (low === undefined || high === undefined) return undefined;
      if (low > high) {
        this.problem(path, `low ${quote(low)} is greater than high ${quote(high)}; must be [low, high] with low ≤ high`);
        return undefined;
      }
      return [low, high];
    }
    return one(value, path);
  }
}

function describeGot(v: unknown, what?: string): string {
  if (v === undefined) return 'is required';
  return what ? `unknown ${what} ${quote(v)}` : `got ${quote(v)}`;
}

/**
 * Validates untrusted criteria. Returns a normalized copy (only known properties, country codes
 * uppercased); throws AppError INVALID_INPUT whose details name each offending rule, such as
 * `criteria.rules[1].rules[0].operator`.
 */
export function parseSegmentCriteria(input: unknown, path = 'criteria'): SegmentCriteria {
  const parser = new CriteriaParser();
  const criteria = parser.group(input, path, 1);
  if (parser.ruleCount > MAX_RULES) {
    parser.problems.unshift({ field: path, message: `has ${parser.ruleCount} rules; at most ${MAX_RULES} are allowed in total` });
  }
  if (parser.problems.length > 0 || !criteria) {
    const problems = parser.problems.length > 0 ? parser.problems : [{ field: path, message: 'is not valid segment criteria' }];
    const summary = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
    throw new AppError('INVALID_INPUT', `Invalid segment criteria: ${summary}`, problems);
  }
  return criteria;
}

// ---- helpers ------------------------------------------------------------------------------

function* walkRules(criteria: SegmentCriteria): Generator<SegmentRule> {
  for (const node of criteria.rules) {
    if (isRuleGroup(node)) yield* walkRules(node);
    else yield node;
  }
}

/** True when membership can change with time alone: a windowed rule or daysSinceLastVisit. */
export function isTimeRelative(criteria: SegmentCriteria): boolean {
  for (const rule of walkRules(criteria)) {
    if (ruleTimeframe(rule) !== 'lifetime' || rule.field === 'daysSinceLastVisit') return true;
  }
  return false;
}

/** The distinct fields the criteria read, sorted (custom attributes as `customAttributes.<key>`). */
export function referencedFields(criteria: SegmentCriteria): string[] {
  return [...new Set(Array.from(walkRules(criteria), (r) => r.field))].sort();
}
