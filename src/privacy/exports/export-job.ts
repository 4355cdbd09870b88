// The export worker: a QueueHandler (src/jobs/queue-worker.ts) that turns a PENDING export into
// an archive in file storage (PENDING → PROCESSING → COMPLETED, or FAILED after the last
// attempt), and sweeps archives 30 days after the request (deleted, EXPIRED).
import type { Firestore } from 'firebase-admin/firestore';
import type { Db } from '../../db/db.client.js';
import { appendDomainEvents } from '../../events/domain-events.repository.js';
import type { QueueHandler } from '../../jobs/queue-worker.js';
import type { ClaimedRow, QueueSpec } from '../../jobs/work-queue.js';
import type { Logger } from '../../logger.js';
import type { Warehouse } from '../../warehouse/warehouse.port.js';
import type { FileStorage } from '../file-storage.js';
import { buildArchive } from './export-archive.js';
import { collectExport } from './export-content.js';
import { customerExportable, dueForExpiry, findExportById, markCompleted, markExpired, markFailed, markStarted, type ExportRow } from './exports.repository.js';

/** Five attempts, 30 s apart and doubling, at most an hour: a store down for a while is waited out. */
export const EXPORT_QUEUE_SPEC: QueueSpec = {
  table: 'customer_data_exports',
  leaseMs: 15 * 60_000,
  maxAttempts: 5,
  baseBackoffMs: 30_000,
  maxBackoffMs: 3_600_000,
};

export interface ExportJobDeps {
  db: Db;
  firestore: Firestore;
  warehouse: Warehouse;
  storage: FileStorage;
  logger: Logger;
  spec?: QueueSpec;
}

export const exportStorageKey = (row: Pick<ExportRow, 'businessId' | 'id'>) => `exports/${row.businessId}/${row.id}.zip`;

export function exportQueueHandler(deps: ExportJobDeps): QueueHandler {
  const spec = deps.spec ?? EXPORT_QUEUE_SPEC;
  const { db, storage } = deps;

  async function fail(row: ExportRow, attempts: number, reason: string): Promise<void> {
    await appendDomainEvents(db, [
      { businessId: row.businessId, eventType: 'customers.data_export.failed', customerId: row.customerId, payload: { exportId: row.id, type: row.exportType, attempts, reason } },
    ]);
  }

  return {
    name: 'exports',
    spec,
    async process(claimed: ClaimedRow, now: Date): Promise<void> {
      const row = await findExportById(db, claimed.id);
      if (!row) return; // the customer was deleted with their exports
      const log = deps.logger.child({ exportId: row.id, attempt: claimed.attempts });
      try {
        if (!(await customerExportable(db, row.businessId, row.customerId))) {
          // Erased or merged away since the request: nothing to export, and retrying cannot help.
          throw new PermanentExportError('the customer was erased or merged into another profile before the export ran');
        }
        await markStarted(db, row.id, now);
        const content = await collectExport({ db, firestore: deps.firestore, warehouse: deps.warehouse }, row, now);
        const archive = buildArchive(content);
        const key = exportStorageKey(row);
        const sizeBytes = await storage.put(key, archive.bytes);
        const completed = await db.transaction(async (tx) => {
          const done = await markCompleted(tx, row.id, { storageKey: key, sizeBytes, checksum: archive.checksum }, now);
          if (done) {
            await appendDomainEvents(tx, [
              { businessId: row.businessId, eventType: 'customers.data_export.completed', customerId: row.customerId, payload: { exportId: row.id, type: row.exportType, sizeBytes, checksum: archive.checksum } },
            ]);
          }
          return done;
        });
        // Another worker took the row over (lost lease) or it is gone: it writes its own archive.
        if (!completed && !(await findExportById(db, row.id))) await storage.delete(key);
        log.info({ sizeBytes, completed }, 'export archive written');
      } catch (err) {
        if (err instanceof PermanentExportError) {
          // Retrying cannot help: FAILED now rather than after every attempt.
          await markFailed(db, row.id, err.message, now);
          await fail(row, claimed.attempts, 'customer_gone');
          log.warn({ why: err.message }, 'export failed for good');
          return;
        }
        if (claimed.attempts >= spec.maxAttempts) await fail(row, claimed.attempts, 'max_attempts');
        throw err;
      }
    },
    async sweep(now: Date): Promise<void> {
      for (const due of await dueForExpiry(db, now)) {
        // The file goes first: a crash in between leaves a COMPLETED row whose next sweep retries.
        if (due.storageKey) await storage.delete(due.storageKey);
        await markExpired(db, due.id, now);
      }
    },
  };
}

/** A failure no retry can fix. */
export class PermanentExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentExportError';
  }
}
