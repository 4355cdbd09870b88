// Data export requests: validate, record (with the `requested` event, in one transaction), show,
// list and hand out the archive. The work itself runs in the queue worker (export-job.ts).
import type { Readable } from 'node:stream';
import type { Db } from '../../db/db.client.js';
import { AppError, invalidInput } from '../../errors.js';
import { appendDomainEvents } from '../../events/domain-events.repository.js';
import type { FileStorage } from '../file-storage.js';
import { customerExportable, findExport, insertExport, listCustomerExports, type ExportRow } from './exports.repository.js';
import { EXPORT_RETENTION_DAYS, exportRequestBody, listExportsQuery, type ExportView } from './exports.schema.js';

const DAY_MS = 86_400_000;

export interface Requester {
  businessId: string;
  /** Who asked (the token's subject), kept on the request. */
  subject: string;
}

export interface Download {
  export: ExportView;
  body: Readable;
  sizeBytes: number;
  fileName: string;
}

export class ExportsService {
  /** `onQueued` starts the queue worker at once where it runs in this process; elsewhere a worker polls (JOBS_POLL_INTERVAL_MS). */
  constructor(private readonly deps: { db: Db; storage: FileStorage; onQueued?: () => void }) {}

  /** Records a PENDING export of the customer, with its `requested` event, for the queue worker. */
  async request(by: Requester, customerId: string, body: unknown, now: Date): Promise<ExportView> {
    const parsed = exportRequestBody.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const row = await this.deps.db.transaction(async (tx) => {
      if (!(await customerExportable(tx, by.businessId, customerId))) throw notFound('Customer', customerId);
      const created = await insertExport(tx, {
        businessId: by.businessId,
        customerId,
        type: parsed.data.type,
        requestedBy: by.subject,
        reason: parsed.data.reason ?? null,
        now,
        expiresAt: new Date(now.getTime() + EXPORT_RETENTION_DAYS * DAY_MS),
      });
      await appendDomainEvents(tx, [
        { businessId: by.businessId, eventType: 'customers.data_export.requested', customerId, payload: { exportId: created.id, type: created.exportType } },
      ]);
      return created;
    });
    this.deps.onQueued?.();
    return view(row);
  }

  async get(businessId: string, id: string): Promise<ExportView> {
    const row = await findExport(this.deps.db, businessId, id);
    if (!row) throw notFound('Export', id);
    return view(row);
  }

  async list(businessId: string, customerId: string, query: unknown): Promise<ExportView[]> {
    const parsed = listExportsQuery.safeParse(query ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, 'query');
    const rows = await listCustomerExports(this.deps.db, businessId, customerId, parsed.data.limit);
    if (rows.length === 0 && !(await customerExportable(this.deps.db, businessId, customerId))) throw notFound('Customer', customerId);
    return rows.map(view);
  }

  /**
   * The archive of a COMPLETED export of the business. Another business's export is NOT_FOUND,
   * exactly like a missing one; an export not (or no longer) downloadable is a CONFLICT naming
   * its status.
   */
  async download(businessId: string, id: string): Promise<Download> {
    const row = await findExport(this.deps.db, businessId, id);
    if (!row) throw notFound('Export', id);
    if (row.status !== 'COMPLETED' || !row.storageKey) {
      const why =
        row.status === 'EXPIRED'
          ? `its archive was deleted ${EXPORT_RETENTION_DAYS} days after the request; request a new export`
          : row.status === 'FAILED'
            ? 'it failed; request a new export'
            : 'it is not ready yet; try again later';
      throw new AppError('CONFLICT', `Export ${id} is ${row.status}: ${why}`, { status: row.status });
    }
    const file = await this.deps.storage.get(row.storageKey);
    if (!file) throw new AppError('INTERNAL_ERROR', `The archive of export ${id} is missing from storage`);
    return { export: view(row), body: file.body, sizeBytes: file.sizeBytes, fileName: `customer-export-${row.id}.zip` };
  }
}

function notFound(what: string, id: string): AppError {
  return new AppError('NOT_FOUND', `${what} ${id} not found`);
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function view(row: ExportRow): ExportView {
  return {
    id: row.id,
    customerId: row.customerId,
    type: row.exportType,
    status: row.status,
    requestedBy: row.requestedBy,
    reason: row.requestReason,
    attempts: row.attempts,
    lastError: row.lastError,
    sizeBytes: row.sizeBytes,
    checksum: row.checksum,
    expiresAt: row.expiresAt.toISOString(),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    downloadUrl: row.status === 'COMPLETED' ? `/api/v1/exports/${row.id}/download` : null,
  };
}
