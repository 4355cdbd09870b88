// SQL of the outbox (sync_logs): appending rows inside the aggregate's transaction.
import type { Tx } from '../db/db.client.js';
import { syncLogs, type SYNC_OPERATIONS } from '../db/schema/index.js';

export interface OutboxEntry {
  entityType: 'customer';
  entityId: string;
  operation: (typeof SYNC_OPERATIONS)[number];
  entityVersion: number;
  contentHash: string;
  changedFields: string[];
}

export async function appendSyncLog(tx: Tx, entry: OutboxEntry): Promise<string> {
  const [row] = await tx.insert(syncLogs).values(entry).returning({ id: syncLogs.id });
  return row!.id;
}
