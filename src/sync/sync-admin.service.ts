// The sync operations API's logic (admin only, scoped to the caller's business): outbox health
// per UTC day with the current backlog and lag, the outbox log listing, and retrying failed or
// dead rows. Sync logs hold no PII (ids, hashes and field names only), so rows are shown whole.
import type { Db } from '../db/db.client.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { invalidInput } from '../errors.js';
import {
  countSyncLogsByDay,
  listSyncLogs,
  measureSyncBacklog,
  notifySyncLogsDue,
  resetSyncLogsForRetry,
  type SyncBacklog,
  type SyncDayCounts,
} from './sync-logs.repository.js';
import { retrySyncLogsBody, type ListSyncLogsQuery } from './sync.schema.js';

export const HEALTH_DAYS = 7;

export interface SyncHealth extends SyncBacklog {
  /** The last HEALTH_DAYS UTC days, oldest first, each present (zeros when nothing happened). */
  days: SyncDayCounts[];
}

export class SyncAdminService {
  constructor(
    private readonly db: Db,
    /** Wakes the in-process projector, if this process runs one, after a retry. */
    private readonly wake: () => void = () => undefined,
  ) {}

  async health(businessId: string): Promise<SyncHealth> {
    const [days, backlog] = await Promise.all([
      countSyncLogsByDay(this.db, businessId, HEALTH_DAYS),
      measureSyncBacklog(this.db, businessId),
    ]);
    return { days, ...backlog };
  }

  async listLogs(businessId: string, query: ListSyncLogsQuery) {
    const rows = await listSyncLogs(this.db, {
      businessId,
      status: query.status,
      customerId: query.customerId,
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
    });
    return keysetPage(rows, query.limit);
  }

  /** Body `{ ids }` or `{ all: true }`; rows not failed/dead or not the business's are not counted. */
  async retry(businessId: string, body: unknown): Promise<{ retried: number }> {
    const parsed = retrySyncLogsBody.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const retried = await resetSyncLogsForRetry(this.db, businessId, parsed.data.all ? undefined : parsed.data.ids);
    if (retried > 0) {
      await notifySyncLogsDue(this.db);
      this.wake();
    }
    return { retried };
  }
}
