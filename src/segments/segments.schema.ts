// The segments API's contract: create/update bodies and list queries. Criteria are validated by
// segment-criteria.ts, which names the rule at fault.
import { z } from 'zod';
import { uuidId, uuidIdWith } from '../http/ids.js';

const name = z.string().trim().min(1, 'is required').max(255, 'must be at most 255 characters');
const description = z.string().trim().max(2000, 'must be at most 2000 characters').nullable();

export const SEGMENT_KINDS = ['dynamic', 'static'] as const;

/**
 * A dynamic segment (the default) has criteria that decide its members; a static one has none,
 * and its members are assigned by bulk operations.
 */
export const createSegmentBody = z
  .strictObject({
    name,
    description: description.optional(),
    kind: z.enum(SEGMENT_KINDS, { message: `must be one of ${SEGMENT_KINDS.join(', ')}` }).optional(),
    criteria: z.unknown().optional(),
    isActive: z.boolean().optional(),
  })
  .superRefine((b, ctx) => {
    if (b.kind === 'static' && b.criteria !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['criteria'], message: 'a static segment has no criteria (its members are assigned by bulk operations)' });
    }
    if (b.kind !== 'static' && b.criteria === undefined) ctx.addIssue({ code: 'custom', path: ['criteria'], message: 'is required' });
  });
export const updateSegmentBody = z
  .strictObject({ name: name.optional(), description: description.optional(), criteria: z.unknown().optional(), isActive: z.boolean().optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'must change at least one of name, description, criteria, isActive' });

export const segmentIdParams = z.object({ id: uuidId });

export const listSegmentsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
});
export const segmentMembersPageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: uuidIdWith('is not a cursor this API returned').optional(),
});
