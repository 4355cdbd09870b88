// The bulk operations API's contract: the request (an operation, its params, exactly one of a list
// of customer ids or a customer-list filter, and a reason) and the audit list's query. Params and
// filter reuse the schemas of the single-customer APIs, so a value refused there is refused here.
import { z } from 'zod';
import { uuidId } from '../http/ids.js';
import { customerPatch, listCustomersQuery } from '../customers/customers.schema.js';
import type { CustomerSearch } from '../customers/customer-search.repository.js';
import { BULK_OPERATIONS, LOYALTY_TIERS } from '../db/schema/index.js';
import { AppError, fieldProblems, type FieldProblem } from '../errors.js';

export type BulkOperation = (typeof BULK_OPERATIONS)[number];

const uuid = uuidId;
// The customer API's own tag rules (trimmed, 1–50 characters, no NUL).
const tagList = customerPatch.shape.tags.unwrap().min(1, 'must list at least one tag');

export const PARAMS_BY_OPERATION = {
  'segment.assign': z.strictObject({ segmentId: uuid }),
  'segment.unassign': z.strictObject({ segmentId: uuid }),
  'tier.override': z.strictObject({ tier: z.enum(LOYALTY_TIERS, { message: `must be one of ${LOYALTY_TIERS.join(', ')}` }) }),
  'tier.override_clear': z.strictObject({}),
  'tags.add': z.strictObject({ tags: tagList }),
  'tags.remove': z.strictObject({ tags: tagList }),
} as const satisfies Record<BulkOperation, z.ZodType>;

export type BulkParams = {
  'segment.assign': { segmentId: string };
  'segment.unassign': { segmentId: string };
  'tier.override': { tier: (typeof LOYALTY_TIERS)[number] };
  'tier.override_clear': Record<string, never>;
  'tags.add': { tags: string[] };
  'tags.remove': { tags: string[] };
};

const bulkBody = z
  .strictObject({
    operation: z.enum(BULK_OPERATIONS, { message: `must be one of ${BULK_OPERATIONS.join(', ')}` }),
    customerIds: z.array(uuid).min(1, 'must list at least one customer').optional(),
    filter: z.record(z.string(), z.unknown()).optional(),
    params: z.unknown().optional(),
    reason: z.string().trim().min(1, 'is required: say why (it is kept in the audit)').max(1000, 'must be at most 1000 characters'),
  })
  .superRefine((b, ctx) => {
    if ((b.customerIds === undefined) === (b.filter === undefined)) {
      ctx.addIssue({ code: 'custom', path: [b.customerIds === undefined ? 'customerIds' : 'filter'], message: 'give exactly one of customerIds and filter' });
    }
  });

/** The filters of GET /api/v1/customers that make sense for a bulk change (no paging, no deleted customers). */
const PAGING_KEYS = ['limit', 'cursor', 'includeDeleted'] as const;

/** The customer-list filters a bulk operation selects by (the list's, without paging or deleted customers). */
export type BulkFilter = Omit<CustomerSearch, 'businessId' | 'includeDeleted' | 'limit' | 'after'>;

export type BulkRequest = {
  [K in BulkOperation]: { operation: K; params: BulkParams[K]; reason: string } & ({ customerIds: string[]; filter?: undefined } | { filter: BulkFilter; customerIds?: undefined });
}[BulkOperation];

/** Validates a bulk request; every problem names its field (`body.params.segmentId`, `body.filter.tier`). */
export function parseBulkRequest(body: unknown): BulkRequest {
  const base = bulkBody.safeParse(body);
  if (!base.success) throw invalid(fieldProblems(base.error, 'body'));
  const { operation, customerIds, filter, reason } = base.data;
  const params = PARAMS_BY_OPERATION[operation].safeParse(base.data.params ?? {});
  const problems: FieldProblem[] = params.success ? [] : fieldProblems(params.error, 'body.params');
  let parsedFilter: BulkFilter | undefined;
  if (filter) {
    const paging = PAGING_KEYS.filter((k) => k in filter);
    problems.push(...paging.map((k) => ({ field: `body.filter.${k}`, message: 'is not accepted in a bulk filter' })));
    const rest = Object.fromEntries(Object.entries(filter).filter(([k]) => !(PAGING_KEYS as readonly string[]).includes(k)));
    // The list's query schema coerces strings; JSON numbers and strings both pass.
    const f = listCustomersQuery.safeParse(Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])));
    if (!f.success) problems.push(...fieldProblems(f.error, 'body.filter'));
    else parsedFilter = withoutPaging(f.data);
  }
  if (problems.length > 0) throw invalid(problems);
  return { operation, params: params.data, reason, ...(customerIds ? { customerIds: [...new Set(customerIds)] } : { filter: parsedFilter! }) } as BulkRequest;
}

function withoutPaging(q: z.output<typeof listCustomersQuery>): BulkFilter {
  const { limit: _l, cursor: _c, includeDeleted: _d, ...filter } = q;
  return filter;
}

function invalid(problems: FieldProblem[]): AppError {
  return new AppError('INVALID_INPUT', `Invalid input: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
}

/** The request as documented in OpenAPI (parseBulkRequest validates it, params per operation). */
export const bulkRequestDoc = z
  .object({
    operation: z.enum(BULK_OPERATIONS),
    customerIds: z.array(uuid).optional().meta({ description: 'Exactly one of customerIds and filter' }),
    filter: z
      .looseObject({})
      .optional()
      .meta({ description: 'The filters of GET /customers (status, tag, q, tier, segmentId, minSpent, maxSpent, lastVisitFrom, lastVisitTo); no limit, cursor or includeDeleted' }),
    params: z
      .union([PARAMS_BY_OPERATION['segment.assign'], PARAMS_BY_OPERATION['tier.override'], PARAMS_BY_OPERATION['tags.add'], PARAMS_BY_OPERATION['tier.override_clear']])
      .optional()
      .meta({ description: 'segment.assign|unassign: { segmentId } (a static segment); tier.override: { tier }; tier.override_clear: {}; tags.add|remove: { tags }' }),
    reason: z.string().min(1).max(1000).meta({ description: 'Kept in the audit; also the tier override’s reason' }),
  })
  .meta({ id: 'BulkRequest' });

export const bulkOperationIdParams = z.strictObject({ id: uuid });

export const listBulkOperationsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
