// The ingest API's contract: run history and per-source status queries (admin and analyst).
import { z } from 'zod';
import { POS_PROVIDERS } from '../db/schema/index.js';

export const listIngestRunsQuery = z.strictObject({
  source: z.enum(POS_PROVIDERS, { message: `must be one of ${POS_PROVIDERS.join(', ')}` }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});
export type ListIngestRunsQuery = z.output<typeof listIngestRunsQuery>;

export const ingestStatusQuery = z.strictObject({});
