// Segment criteria: validation messages that name the rule at fault, the helpers, the in-memory
// evaluator's semantics, and that compiled SQL carries every value as a parameter.
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import {
  isTimeRelative,
  parseSegmentCriteria,
  referencedFields,
  type SegmentCriteria,
} from '../../../src/segments/segment-criteria.js';
import { evaluateCriteria, type CustomerFacts } from '../../../src/segments/segment-evaluate.js';
import { segmentMembersQuery } from '../../../src/segments/segment-sql.js';

const AS_OF = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;

function problemsOf(input: unknown): { field: string; message: string }[] {
  try {
    parseSegmentCriteria(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const appError = err as AppError;
    expect(appError.code).toBe('INVALID_INPUT');
    return appError.details as { field: string; message: string }[];
  }
  throw new Error('expected the criteria to be refused');
}

const one = (rule: Record<string, unknown>) => ({ operator: 'AND', rules: [rule] });

describe('parseSegmentCriteria', () => {
  it('accepts the reference example and returns a normalized copy', () => {
    const input = {
      operator: 'AND',
      rules: [
        { field: 'totalSpent', operator: 'greater_than', value: 1000, timeframe: 'last_365_days' },
        { field: 'loyaltyTier', operator: 'in', value: ['GOLD', 'PLATINUM'] },
        { operator: 'OR', rules: [{ field: 'country', operator: 'in', value: ['us', ' gb '] }] },
      ],
    };
    expect(parseSegmentCriteria(input)).toEqual({
      operator: 'AND',
      rules: [
        { field: 'totalSpent', operator: 'greater_than', value: 1000, timeframe: 'last_365_days' },
        { field: 'loyaltyTier', operator: 'in', value: ['GOLD', 'PLATINUM'] },
        { operator: 'OR', rules: [{ field: 'country', operator: 'in', value: ['US', 'GB'] }] },
      ],
    });
  });

  it('names an unknown field and lists the known ones', () => {
    const [problem] = problemsOf(one({ field: 'spend', operator: 'equals', value: 1 }));
    expect(problem!.field).toBe('criteria.rules[0].field');
    expect(problem!.message).toContain("unknown field 'spend'");
    expect(problem!.message).toContain('totalSpent, visitCount');
    expect(problem!.message).toContain('customAttributes.<key>');
  });

  it('refuses an operator the field type does not take, naming the nested rule and the allowed operators', () => {
    const problems = problemsOf({
      operator: 'AND',
      rules: [
        { field: 'status', operator: 'equals', value: 'active' },
        { operator: 'OR', rules: [{ field: 'totalSpent', operator: 'contains', value: 5 }] },
      ],
    });
    expect(problems).toEqual([
      {
        field: 'criteria.rules[1].rules[0].operator',
        message:
          "operator 'contains' is not allowed for totalSpent (a number); use one of equals, not_equals, greater_than, less_than, between, in, not_in",
      },
    ]);
  });

  it('refuses unknown operators and group operators', () => {
    expect(problemsOf(one({ field: 'tags', operator: 'has', value: 'x' }))[0]!.message).toBe(
      "unknown operator 'has'; for tags use one of contains, in, not_in",
    );
    expect(problemsOf({ operator: 'and', rules: [{ field: 'tags', operator: 'contains', value: 'x' }] })[0]).toEqual({
      field: 'criteria.operator',
      message: "got 'and'; must be 'AND' or 'OR'",
    });
  });

  it.each([
    [{ field: 'totalSpent', operator: 'equals', value: '100' }, 'criteria.rules[0].value', 'must be an amount ≥ 0 with at most 2 decimals'],
    [{ field: 'totalSpent', operator: 'greater_than', value: 10.005 }, 'criteria.rules[0].value', 'at most 2 decimals'],
    [{ field: 'predictedLtv', operator: 'less_than', value: -1 }, 'criteria.rules[0].value', 'amount ≥ 0'],
    [{ field: 'visitCount', operator: 'equals', value: 1.5 }, 'criteria.rules[0].value', 'must be an integer ≥ 0'],
    [{ field: 'churnRisk', operator: 'greater_than', value: 1.2 }, 'criteria.rules[0].value', 'must be a number from 0 to 1'],
    [{ field: 'lastVisit', operator: 'less_than', value: '2025-02-30' }, 'criteria.rules[0].value', "real calendar date 'YYYY-MM-DD'"],
    [{ field: 'lastVisit', operator: 'equals', value: '15/06/2026' }, 'criteria.rules[0].value', "must be a date 'YYYY-MM-DD'"],
    [{ field: 'loyaltyTier', operator: 'equals', value: 'gold' }, 'criteria.rules[0].value', 'must be one of BRONZE, SILVER, GOLD, PLATINUM'],
    [{ field: 'country', operator: 'not_in', value: ['FR', 'XX'] }, 'criteria.rules[0].value[1]', 'ISO 3166-1 alpha-2'],
    [{ field: 'tags', operator: 'in', value: [] }, 'criteria.rules[0].value', 'must be a list of 1 to 100 values'],
    [{ field: 'tags', operator: 'in', value: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 'criteria.rules[0].value', '1 to 100'],
    [{ field: 'tags', operator: 'contains', value: ['a'] }, 'criteria.rules[0].value', 'must be a non-empty string'],
    [{ field: 'visitCount', operator: 'between', value: [1] }, 'criteria.rules[0].value', 'must be [low, high]'],
    [{ field: 'visitCount', operator: 'equals' }, 'criteria.rules[0].value', 'is required; must be an integer ≥ 0'],
    [{ field: 'customAttributes.size', operator: 'greater_than', value: '10' }, 'criteria.rules[0].value', 'must be a finite number'],
    [{ field: 'customAttributes.size', operator: 'equals', value: { a: 1 } }, 'criteria.rules[0].value', 'string, number or boolean'],
  ])('says what value %j expects', (rule, field, message) => {
    const [problem] = problemsOf(one(rule));
    expect(problem!.field).toBe(field);
    expect(problem!.message).toContain(message);
  });

  it('refuses between with low above high', () => {
    expect(problemsOf(one({ field: 'lastVisit', operator: 'between', value: ['2026-02-01', '2026-01-01'] }))[0]).toEqual({
      field: 'criteria.rules[0].value',
      message: "low '2026-02-01' is greater than high '2026-01-01'; must be [low, high] with low ≤ high",
    });
    expect(parseSegmentCriteria(one({ field: 'churnRisk', operator: 'between', value: [0.5, 0.5] }))).toBeTruthy();
  });

  it('allows a timeframe only on the windowed fields', () => {
    expect(problemsOf(one({ field: 'loyaltyPoints', operator: 'greater_than', value: 1, timeframe: 'last_30_days' }))[0]).toEqual({
      field: 'criteria.rules[0].timeframe',
      message: 'loyaltyPoints takes no timeframe; only totalSpent, visitCount, avgOrderValue, productCategories do',
    });
    expect(problemsOf(one({ field: 'visitCount', operator: 'greater_than', value: 1, timeframe: 'last_week' }))[0]!.message).toBe(
      "unknown timeframe 'last_week'; use one of last_30_days, last_90_days, last_365_days, lifetime",
    );
    for (const field of ['totalSpent', 'visitCount', 'avgOrderValue']) {
      expect(() => parseSegmentCriteria(one({ field, operator: 'equals', value: 1, timeframe: 'last_90_days' }))).not.toThrow();
    }
    expect(() =>
      parseSegmentCriteria(one({ field: 'productCategories', operator: 'contains', value: 'shoes', timeframe: 'lifetime' })),
    ).not.toThrow();
  });

  it('allows groups nested 5 levels deep, not 6', () => {
    const nest = (levels: number): Record<string, unknown> =>
      levels === 1
        ? { operator: 'OR', rules: [{ field: 'tags', operator: 'contains', value: 'vip' }] }
        : { operator: 'AND', rules: [nest(levels - 1)] };
    expect(() => parseSegmentCriteria(nest(5))).not.toThrow();
    expect(problemsOf(nest(6))).toEqual([
      { field: 'criteria.rules[0].rules[0].rules[0].rules[0].rules[0]', message: 'groups nest at most 5 levels deep' },
    ]);
  });

  it('allows 50 rules in total, not 51', () => {
    const rule = { field: 'visitCount', operator: 'greater_than', value: 1 };
    const criteria = (n: number) => ({
      operator: 'OR',
      rules: [{ operator: 'AND', rules: Array.from({ length: n - 25 }, () => rule) }, ...Array.from({ length: 25 }, () => rule)],
    });
    expect(() => parseSegmentCriteria(criteria(50))).not.toThrow();
    expect(problemsOf(criteria(51))).toEqual([{ field: 'criteria', message: 'has 51 rules; at most 50 are allowed in total' }]);
  });

  it('refuses empty groups, unknown properties, bad custom attribute keys and non-objects', () => {
    expect(problemsOf({ operator: 'AND', rules: [] })).toEqual([
      { field: 'criteria.rules', message: 'must be a non-empty list of rules or groups' },
    ]);
    expect(problemsOf(one({ field: 'tags', operator: 'contains', value: 'x', negate: true }))[0]).toEqual({
      field: 'criteria.rules[0].negate',
      message: 'unknown property; a rule has field, operator, value and timeframe',
    });
    expect(problemsOf(one({ field: 'customAttributes.shoe-size', operator: 'equals', value: 1 }))[0]!.message).toContain(
      "custom attribute key 'shoe-size' must be 1 to 64 letters, digits or underscores",
    );
    expect(problemsOf('everyone')[0]!.field).toBe('criteria');
    expect(problemsOf({ operator: 'AND', rules: [42] })[0]!.message).toContain('must be a rule { field, operator, value, timeframe? }');
  });

  it('reports every problem at once, under the given path prefix', () => {
    try {
      parseSegmentCriteria(
        { operator: 'AND', rules: [{ field: 'nope', operator: 'equals', value: 1 }, { field: 'status', operator: 'equals', value: 'gone' }] },
        'body.criteria',
      );
      expect.unreachable();
    } catch (err) {
      const appError = err as AppError;
      expect((appError.details as { field: string }[]).map((p) => p.field)).toEqual([
        'body.criteria.rules[0].field',
        'body.criteria.rules[1].value',
      ]);
      expect(appError.message).toMatch(/^Invalid segment criteria: body\.criteria\.rules\[0\]\.field: unknown field 'nope'/);
    }
  });
});

describe('criteria helpers', () => {
  const criteria = (rules: Record<string, unknown>[]) => parseSegmentCriteria({ operator: 'AND', rules });

  it('marks criteria time-relative when a rule has a timeframe other than lifetime or reads daysSinceLastVisit', () => {
    expect(isTimeRelative(criteria([{ field: 'totalSpent', operator: 'greater_than', value: 1, timeframe: 'lifetime' }]))).toBe(false);
    expect(isTimeRelative(criteria([{ field: 'lastVisit', operator: 'greater_than', value: '2026-01-01' }]))).toBe(false);
    expect(
      isTimeRelative(
        criteria([{ operator: 'OR', rules: [{ field: 'visitCount', operator: 'greater_than', value: 1, timeframe: 'last_30_days' }] }]),
      ),
    ).toBe(true);
    expect(isTimeRelative(criteria([{ field: 'daysSinceLastVisit', operator: 'greater_than', value: 30 }]))).toBe(true);
  });

  it('lists the distinct fields referenced, sorted', () => {
    expect(
      referencedFields(
        criteria([
          { field: 'tags', operator: 'contains', value: 'vip' },
          { operator: 'OR', rules: [{ field: 'customAttributes.size', operator: 'equals', value: 'M' }, { field: 'tags', operator: 'in', value: ['a'] }] },
        ]),
      ),
    ).toEqual(['customAttributes.size', 'tags']);
  });
});

function buildFacts(overrides: Partial<CustomerFacts> = {}): CustomerFacts {
  return {
    loyaltyTier: 'SILVER',
    status: 'active',
    tags: [],
    customAttributes: {},
    metrics: {
      totalSpent: 250.5,
      completedOrders: 5,
      averageOrderValue: 50.1,
      lastOrderDate: '2026-05-16',
      churnProbability: null,
      predictedLifetimeValue: 900,
    },
    loyaltyPoints: 120,
    country: 'FR',
    transactions: [],
    ...overrides,
  };
}

const tx = (amount: number, msBeforeAsOf: number, extra: Partial<CustomerFacts['transactions'][number]> = {}) => ({
  amount,
  status: 'completed',
  occurredAt: new Date(AS_OF.getTime() - msBeforeAsOf),
  categories: [],
  ...extra,
});

function matches(rule: Record<string, unknown>, facts: CustomerFacts): boolean {
  return evaluateCriteria(parseSegmentCriteria({ operator: 'AND', rules: [rule] }), facts, AS_OF);
}

describe('evaluateCriteria', () => {
  it('makes a missing value false for every operator, including not_equals and not_in', () => {
    const facts = buildFacts();
    expect(matches({ field: 'churnRisk', operator: 'not_equals', value: 0.5 }, facts)).toBe(false);
    expect(matches({ field: 'churnRisk', operator: 'not_in', value: [0.5] }, facts)).toBe(false);
    expect(matches({ field: 'country', operator: 'not_equals', value: 'US' }, buildFacts({ country: null }))).toBe(false);
    expect(matches({ field: 'customAttributes.size', operator: 'not_equals', value: 'M' }, facts)).toBe(false);
  });

  it('treats counters and money of a customer without metrics or engagement as 0, and the rest as missing', () => {
    const facts = buildFacts({ metrics: null, loyaltyPoints: null });
    expect(matches({ field: 'totalSpent', operator: 'equals', value: 0 }, facts)).toBe(true);
    expect(matches({ field: 'visitCount', operator: 'less_than', value: 1 }, facts)).toBe(true);
    expect(matches({ field: 'avgOrderValue', operator: 'equals', value: 0 }, facts)).toBe(true);
    expect(matches({ field: 'loyaltyPoints', operator: 'equals', value: 0 }, facts)).toBe(true);
    expect(matches({ field: 'lastVisit', operator: 'not_equals', value: '2026-01-01' }, facts)).toBe(false);
    expect(matches({ field: 'daysSinceLastVisit', operator: 'greater_than', value: 0 }, facts)).toBe(false);
    expect(matches({ field: 'predictedLtv', operator: 'less_than', value: 1 }, facts)).toBe(false);
  });

  it('counts completed transactions strictly after the window start and up to asOf', () => {
    const facts = buildFacts({
      transactions: [
        tx(10, 30 * DAY), // exactly on the 30-day boundary: outside
        tx(20, 30 * DAY - 1),
        tx(40, 0), // exactly asOf: inside
        tx(80, -1), // after asOf: never
        tx(160, DAY, { status: 'voided' }),
      ],
    });
    expect(matches({ field: 'totalSpent', operator: 'equals', value: 60, timeframe: 'last_30_days' }, facts)).toBe(true);
    expect(matches({ field: 'visitCount', operator: 'equals', value: 2, timeframe: 'last_30_days' }, facts)).toBe(true);
    expect(matches({ field: 'visitCount', operator: 'equals', value: 3, timeframe: 'last_90_days' }, facts)).toBe(true);
    expect(matches({ field: 'totalSpent', operator: 'equals', value: 250.5 }, facts)).toBe(true);
  });

  it('sums money exactly', () => {
    const facts = buildFacts({ transactions: [tx(0.1, DAY), tx(0.2, DAY)] });
    expect(matches({ field: 'totalSpent', operator: 'equals', value: 0.3, timeframe: 'last_30_days' }, facts)).toBe(true);
  });

  it('compares a windowed average exactly and never matches it without transactions', () => {
    const facts = buildFacts({ transactions: [tx(10, DAY), tx(10, DAY), tx(10.01, DAY)] });
    expect(matches({ field: 'avgOrderValue', operator: 'greater_than', value: 10, timeframe: 'last_30_days' }, facts)).toBe(true);
    expect(matches({ field: 'avgOrderValue', operator: 'less_than', value: 10.01, timeframe: 'last_30_days' }, facts)).toBe(true);
    expect(matches({ field: 'avgOrderValue', operator: 'equals', value: 10, timeframe: 'last_30_days' }, facts)).toBe(false);
    const none = buildFacts();
    expect(matches({ field: 'avgOrderValue', operator: 'not_equals', value: 10, timeframe: 'last_30_days' }, none)).toBe(false);
    expect(matches({ field: 'avgOrderValue', operator: 'not_in', value: [10], timeframe: 'last_30_days' }, none)).toBe(false);
  });

  it('counts days since the last visit from the UTC date of asOf', () => {
    expect(matches({ field: 'daysSinceLastVisit', operator: 'equals', value: 30 }, buildFacts())).toBe(true);
    expect(matches({ field: 'daysSinceLastVisit', operator: 'between', value: [30, 30] }, buildFacts())).toBe(true);
  });

  it('compares dates and enums exactly, country case-insensitively on input only', () => {
    const facts = buildFacts();
    expect(matches({ field: 'lastVisit', operator: 'between', value: ['2026-05-16', '2026-05-16'] }, facts)).toBe(true);
    expect(matches({ field: 'lastVisit', operator: 'greater_than', value: '2026-05-16' }, facts)).toBe(false);
    expect(matches({ field: 'country', operator: 'equals', value: 'fr' }, facts)).toBe(true);
    expect(matches({ field: 'loyaltyTier', operator: 'not_in', value: ['GOLD', 'PLATINUM'] }, facts)).toBe(true);
  });

  it('matches tags and categories case-sensitively; not_in holds for an empty list', () => {
    const facts = buildFacts({
      tags: ['vip'],
      transactions: [tx(5, 400 * DAY, { categories: ['shoes'] }), tx(5, -DAY, { categories: ['hats'] })],
    });
    expect(matches({ field: 'tags', operator: 'contains', value: 'vip' }, facts)).toBe(true);
    expect(matches({ field: 'tags', operator: 'contains', value: 'VIP' }, facts)).toBe(false);
    expect(matches({ field: 'tags', operator: 'not_in', value: ['x'] }, buildFacts())).toBe(true);
    expect(matches({ field: 'productCategories', operator: 'contains', value: 'shoes' }, facts)).toBe(true);
    expect(matches({ field: 'productCategories', operator: 'contains', value: 'shoes', timeframe: 'last_365_days' }, facts)).toBe(false);
    // A transaction after asOf does not count, even for lifetime.
    expect(matches({ field: 'productCategories', operator: 'in', value: ['hats'] }, facts)).toBe(false);
    expect(matches({ field: 'productCategories', operator: 'not_in', value: ['hats'] }, facts)).toBe(true);
  });

  it('compares custom attributes as JSON: scalars by type and value, numbers in order, substrings and elements', () => {
    const facts = buildFacts({
      customAttributes: { size: 'M', score: 42, vip: true, colors: ['red', 1], note: 'loves red', nothing: null, obj: { a: 1 } },
    });
    const attr = (key: string, operator: string, value: unknown) => matches({ field: `customAttributes.${key}`, operator, value }, facts);
    expect(attr('score', 'equals', 42)).toBe(true);
    expect(attr('score', 'equals', '42')).toBe(false);
    expect(attr('vip', 'in', [true])).toBe(true);
    expect(attr('size', 'not_in', ['S', 'L'])).toBe(true);
    expect(attr('colors', 'not_equals', 'blue')).toBe(false);
    expect(attr('nothing', 'not_equals', 'x')).toBe(false);
    expect(attr('obj', 'not_in', ['x'])).toBe(false);
    expect(attr('score', 'between', [42, 50])).toBe(true);
    expect(attr('size', 'greater_than', 0)).toBe(false);
    expect(attr('note', 'contains', 'red')).toBe(true);
    expect(attr('note', 'contains', 'Red')).toBe(false);
    expect(attr('colors', 'contains', 'red')).toBe(true);
    expect(attr('colors', 'contains', 're')).toBe(false);
    expect(attr('obj', 'contains', 'a')).toBe(false);
  });

  it('combines nested AND and OR groups', () => {
    const criteria: SegmentCriteria = parseSegmentCriteria({
      operator: 'OR',
      rules: [
        { field: 'status', operator: 'equals', value: 'vip' },
        {
          operator: 'AND',
          rules: [
            { field: 'loyaltyTier', operator: 'equals', value: 'SILVER' },
            { field: 'totalSpent', operator: 'greater_than', value: 250 },
          ],
        },
      ],
    });
    expect(evaluateCriteria(criteria, buildFacts(), AS_OF)).toBe(true);
    expect(evaluateCriteria(criteria, buildFacts({ loyaltyTier: 'GOLD' }), AS_OF)).toBe(false);
    expect(evaluateCriteria(criteria, buildFacts({ loyaltyTier: 'GOLD', status: 'vip' }), AS_OF)).toBe(true);
  });
});

describe('compiled SQL', () => {
  it('passes every value as a parameter and wraps each rule so it is never NULL', () => {
    const hostile = "x'); DROP TABLE customers; --";
    const criteria = parseSegmentCriteria({
      operator: 'AND',
      rules: [
        { field: 'tags', operator: 'in', value: [hostile, 'vip'] },
        { field: `customAttributes.note`, operator: 'contains', value: hostile },
        { field: 'totalSpent', operator: 'greater_than', value: 12.5, timeframe: 'last_30_days' },
      ],
    });
    const query = new PgDialect().sqlToQuery(segmentMembersQuery(criteria, { businessId: '00000000-0000-4000-8000-000000000001', asOf: AS_OF }));
    expect(query.sql).not.toContain('DROP');
    expect(query.sql).not.toContain('12.5');
    expect(query.params).toContain(hostile);
    expect(query.params).toContain('12.5');
    expect(query.sql.match(/coalesce\(\(/g)).toHaveLength(3);
  });
});
