// The sync operations API's contract (admin only): the outbox log listing query and the retry
// body. Errors name the field (`query.status`, `body.ids.0`, ...).
import { z } from 'zod';
import { uuidId } from '../http/ids.js';
import { SYNC_STATUSES } from '../db/schema/index.js';

const uuid = uuidId;

export const MAX_RETRY_IDS = 1000;

export const syncHealthQuery = z.strictObject({});

export const listSyncLogsQuery = z.strictObject({
  status: z.enum(SYNC_STATUSES, { message: `must be one of ${SYNC_STATUSES.join(', ')}` }).optional(),
  customerId: uuid.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});
export type ListSyncLogsQuery = z.output<typeof listSyncLogsQuery>;

/** Exactly one of `ids` (these rows) or `all: true` (every failed or dead row of the business). */
export const retrySyncLogsBody = z
  .strictObject({
    ids: z
      .array(uuid)
      .min(1, 'must list at least one id')
      .max(MAX_RETRY_IDS, `must list at most ${MAX_RETRY_IDS} ids`)
      .optional(),
    all: z.literal(true, { message: 'must be true' }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.ids !== undefined && body.all !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['all'], message: 'cannot be sent together with ids; send one of the two' });
    } else if (body.ids === undefined && body.all === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ids'], message: 'is required unless all: true is sent' });
    }
  });
export type RetrySyncLogsBody = z.output<typeof retrySyncLogsBody>;
