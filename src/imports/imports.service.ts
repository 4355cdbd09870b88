// Customer imports: an upload is streamed straight into file storage (never held in memory) under
// a size limit, recorded as a PENDING customer_imports row and processed by the worker
// (import-job.ts). Reads: an import's progress and counts, and its rejected rows.
import { randomUUID } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Db } from '../db/db.client.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { AppError, invalidInput } from '../errors.js';
import type { FileStorage } from '../privacy/file-storage.js';
import { findImport, insertImport, listImports, listRejections, type ImportRow } from './imports.repository.js';
import { listImportsQuery, rejectionsQuery } from './imports.schema.js';
import type { ImportFormat } from './row-readers.js';

export interface Upload {
  format: ImportFormat;
  fileName?: string;
  body: Readable;
  /** Content-Length, when the client sent one: a body declared too large is refused unread. */
  declaredBytes?: number;
}

export class ImportsService {
  constructor(
    private readonly deps: {
      db: Db;
      storage: FileStorage;
      /** IMPORT_MAX_BYTES. */
      maxBytes: number;
      /** Called once a new import is queued (wakes the in-process worker). */
      onQueued?: () => void;
    },
  ) {}

  /**
   * Stores the upload and queues its import. Over the limit: PAYLOAD_TOO_LARGE, and neither a
   * file nor a row is left behind. An empty body: INVALID_INPUT.
   */
  async upload(businessId: string, requestedBy: string, upload: Upload) {
    const { maxBytes } = this.deps;
    if (upload.declaredBytes !== undefined && upload.declaredBytes > maxBytes) throw tooLarge(maxBytes);
    if (upload.declaredBytes === 0) throw emptyBodyError();
    const id = randomUUID();
    const storageKey = `imports/${businessId}/${id}`;
    const limiter = new ByteLimit(maxBytes);
    const onError = (err: Error) => limiter.destroy(err);
    upload.body.on('error', onError);
    upload.body.pipe(limiter);
    let sizeBytes: number;
    try {
      sizeBytes = await this.deps.storage.put(storageKey, limiter);
    } catch (err) {
      // Stop reading the body; what is left of it is discarded, not stored.
      upload.body.unpipe(limiter);
      upload.body.resume();
      await this.deps.storage.delete(storageKey);
      if (err instanceof AppError) throw err;
      throw new AppError('INVALID_INPUT', 'The upload did not complete', [{ field: 'body', message: 'ended before the whole file arrived' }]);
    } finally {
      upload.body.off('error', onError);
    }
    if (sizeBytes === 0) {
      await this.deps.storage.delete(storageKey);
      throw emptyBodyError();
    }
    let row: ImportRow;
    try {
      row = await insertImport(this.deps.db, {
        id,
        businessId,
        requestedBy,
        fileName: upload.fileName ?? null,
        format: upload.format,
        storageKey,
        sizeBytes,
      });
    } catch (err) {
      await this.deps.storage.delete(storageKey);
      throw err;
    }
    this.deps.onQueued?.();
    return view(row);
  }

  async get(businessId: string, id: string) {
    return view(await this.find(businessId, id));
  }

  async list(businessId: string, query: unknown) {
    const q = listImportsQuery.safeParse(query ?? {});
    if (!q.success) throw invalidInput(q.error, 'query');
    const rows = await listImports(this.deps.db, businessId, q.data.limit, q.data.cursor ? decodeCursor(q.data.cursor) : undefined);
    const page = keysetPage(rows.map((r) => ({ ...r.row, cursorAt: r.cursorAt })), q.data.limit);
    return { items: page.items.map(view), nextCursor: page.nextCursor, limit: q.data.limit };
  }

  /** Rejected rows in row order: the column and why, never the value. */
  async rejections(businessId: string, id: string, query: unknown) {
    const q = rejectionsQuery.safeParse(query ?? {});
    if (!q.success) throw invalidInput(q.error, 'query');
    await this.find(businessId, id);
    const rows = await listRejections(this.deps.db, id, q.data.limit, q.data.cursor);
    const items = rows.slice(0, q.data.limit);
    return { items, nextCursor: rows.length > q.data.limit ? String(items[items.length - 1]!.rowNumber) : null, limit: q.data.limit };
  }

  private async find(businessId: string, id: string): Promise<ImportRow> {
    const row = await findImport(this.deps.db, businessId, id);
    if (!row) throw new AppError('NOT_FOUND', `Import ${id} not found`);
    return row;
  }
}

/** Passes bytes through until `max`, then fails with PAYLOAD_TOO_LARGE. */
class ByteLimit extends Transform {
  private bytes = 0;

  constructor(private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) done(tooLarge(this.max));
    else done(null, chunk);
  }
}

function tooLarge(max: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${max} bytes (IMPORT_MAX_BYTES)`, [
    { field: 'body', message: `must be at most ${max} bytes` },
  ]);
}

export function emptyBodyError(): AppError {
  return new AppError('INVALID_INPUT', 'Invalid input: body: is empty', [{ field: 'body', message: 'is empty: send the file as the request body' }]);
}

/** The API's view of an import: its state, progress and counts (no PII: the file name is the client's label). */
function view(row: ImportRow & { cursorAt?: string }) {
  return {
    id: row.id,
    status: row.status,
    format: row.format,
    fileName: row.fileName,
    sizeBytes: row.sizeBytes,
    bytesRead: row.bytesRead,
    rowsProcessed: row.rowsProcessed,
    created: row.created,
    updated: row.updated,
    unchanged: row.unchanged,
    rejected: row.rejected,
    attempts: row.attempts,
    lastError: row.lastError,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    completedAt: row.status === 'COMPLETED' || row.status === 'FAILED' ? row.completedAt : null,
    updatedAt: row.updatedAt,
  };
}
