// Input of the identity routes (duplicates, merges, undo), validated with zod; errors name the field.
import { z } from 'zod';
import { uuidId } from '../http/ids.js';

const uuid = uuidId;
const limit = z.coerce.number().int().min(1, 'must be at least 1').max(200, 'must be at most 200').default(50);
const cursor = z.string().max(500, 'is not a cursor this API returned').optional();

/** Below this a pair would rest on a weak name likeness alone, and the name search would widen too far. */
export const MIN_DUPLICATE_SCORE = 0.25;
export const DEFAULT_DUPLICATE_SCORE = 0.6;

export const duplicatesQuery = z.strictObject({
  limit,
  cursor,
  minScore: z.coerce
    .number({ message: 'must be a number' })
    .min(MIN_DUPLICATE_SCORE, `must be at least ${MIN_DUPLICATE_SCORE}`)
    .max(1, 'must be at most 1')
    .default(DEFAULT_DUPLICATE_SCORE),
  /** Only the candidate duplicates of this customer (index lookups, cheap at any size). */
  customerId: uuid.optional(),
});
export type DuplicatesQuery = z.output<typeof duplicatesQuery>;

export const idParams = z.strictObject({ id: uuid });

const sourceName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_-]{1,50}$/, 'must be a source name of letters, digits, - and _ (e.g. square)');

export const mergeBody = z.strictObject({
  /** The customer merged away; the one in the path survives. */
  sourceId: uuid,
  reason: z.string().trim().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters').optional(),
  /** Overrides MERGE_SOURCE_RANKING for this merge: source names, most trusted first. */
  sourceRanking: z
    .array(sourceName)
    .min(1, 'must name at least one source')
    .max(20, 'must name at most 20 sources')
    .refine((list) => new Set(list).size === list.length, { message: 'must not name a source twice' })
    .optional(),
});
export type MergeBody = z.output<typeof mergeBody>;

export const listMergesQuery = z.strictObject({
  limit,
  cursor,
  /** Merges this customer took part in, as survivor or as the one merged away. */
  customerId: uuid.optional(),
});
export type ListMergesQuery = z.output<typeof listMergesQuery>;
