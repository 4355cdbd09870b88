// The import worker: a QueueHandler for customer_imports rows. It streams the stored file row by
// row (never the whole file in memory), validates each row as the customer API does, and writes
// through DatabaseSyncService: a customer of the business with the row's email is updated when
// the row changes something (else counted unchanged), otherwise a customer is created. Every
// IMPORT_BATCH_ROWS rows the counts, the bytes read and the batch's rejections are saved in one
// transaction, and the lease is extended.
//
// Crash and retry: rows are written one transaction each, before the batch's progress is saved.
// A re-claimed import skips the rows its saved progress covers and re-runs the rest; rows of the
// interrupted batch that were written already now find their customer by email and change
// nothing, so nothing is created twice (they count as unchanged in the report). Rows without an
// email are rejected for that reason: without a key they could not be re-run safely.
//
// The stored file holds PII: it is deleted when the import completes, fails for good, or uses up
// its attempts.
import type { Db } from '../db/db.client.js';
import { loadAggregates, type CustomerAggregate } from '../customers/customers.repository.js';
import type { CustomerInput } from '../customers/customers.schema.js';
import { AppError } from '../errors.js';
import type { ClaimedRow, QueueSpec } from '../jobs/work-queue.js';
import type { QueueHandler } from '../jobs/queue-worker.js';
import type { Logger } from '../logger.js';
import type { FileStorage } from '../privacy/file-storage.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import { columnOf, emailKeyOf, HeaderError, mapHeader, readRow, type ColumnMap, type ImportRow, type RowProblem } from './import-row.js';
import {
  clearStorageKey,
  customersByEmail,
  loadImport,
  markCompleted,
  markFailed,
  markRowsDone,
  markStarted,
  saveProgress,
  type ImportCounts,
  type ImportRow as ImportRecord,
  type Rejection,
} from './imports.repository.js';
import { ByteCounter, FileFormatError, readRows } from './row-readers.js';
import { SeenEmails } from './seen-emails.js';

export const IMPORT_QUEUE: QueueSpec = {
  table: 'customer_imports',
  // Each saved batch extends the lease, so only a worker that stopped loses it.
  leaseMs: 120_000,
  maxAttempts: 5,
  baseBackoffMs: 5_000,
  maxBackoffMs: 300_000,
};

/** Rows per progress save (counts, bytes read, rejections, lease). */
export const IMPORT_BATCH_ROWS = 200;

/**
 * Rows of a batch written at the same time. Each takes a pooled connection (DATABASE_POOL_MAX is
 * 10 by default, shared with the API); measured on the two-core development machine, four at once
 * halve the time per created customer (26 → 13 ms).
 */
export const IMPORT_WRITE_CONCURRENCY = 4;

/** The lease went to another worker (this one stalled): that worker owns the import now. */
class LeaseLost extends Error {}

type Pending = { rowNumber: number; cells: string[] };

export class ImportJob implements QueueHandler {
  readonly name = 'imports';
  readonly spec = IMPORT_QUEUE;

  constructor(
    private readonly deps: { db: Db; sync: DatabaseSyncService; storage: FileStorage; logger: Logger; batchRows?: number },
  ) {}

  async process(claim: ClaimedRow, now: Date): Promise<void> {
    const record = await loadImport(this.deps.db, claim.id);
    if (!record) return;
    const log = this.deps.logger.child({ importId: record.id, attempt: claim.attempts });
    try {
      await markStarted(this.deps.db, record.id, now);
      if (record.completedAt) {
        // Rows were all done before a crash; only the file was left to delete.
        await this.finish(record);
        return;
      }
      const counts = await this.importRows(record, claim, log);
      log.info({ ...counts }, 'import completed');
    } catch (err) {
      if (err instanceof LeaseLost) {
        log.warn('import lease lost to another worker; leaving the import to it');
        return;
      }
      if (err instanceof HeaderError || err instanceof FileFormatError) {
        await this.fail(record, err.message);
        // The code, not the message: the log is no place for anything read from the file.
        log.info({ reason: err.code }, 'import failed: the file cannot be imported');
        return;
      }
      // The last attempt: the row becomes FAILED, and its file must not outlive it.
      if (claim.attempts >= this.spec.maxAttempts && record.storageKey) {
        await this.deps.storage.delete(record.storageKey);
        await clearStorageKey(this.deps.db, record.id);
      }
      throw err;
    }
  }

  private async importRows(record: ImportRecord, claim: ClaimedRow, log: Logger): Promise<ImportCounts> {
    const stored = record.storageKey ? await this.deps.storage.get(record.storageKey) : undefined;
    if (!stored) throw new FileFormatError('FILE_MISSING', 'The uploaded file is no longer in storage; upload it again');
    const counter = new ByteCounter();
    stored.body.on('error', (err) => counter.destroy(err));
    const rows = readRows(record.format, stored.body.pipe(counter));
    const batchRows = this.deps.batchRows ?? IMPORT_BATCH_ROWS;
    try {
      const first = await rows.next();
      if (first.done) throw new FileFormatError('EMPTY_FILE', 'The file is empty: it needs a header row');
      const header = first.value;
      const map = mapHeader(header);
      const counts: ImportCounts = {
        rowsProcessed: record.rowsProcessed,
        created: record.created,
        updated: record.updated,
        unchanged: record.unchanged,
        rejected: record.rejected,
      };
      if (record.rowsProcessed > 0) log.info({ resumeAfterRow: record.rowsProcessed }, 'import resumed');
      const seen = new SeenEmails();
      let rowNumber = 0;
      let batch: Pending[] = [];
      const save = async (rejections: Rejection[]) => {
        const now = new Date();
        const held = await saveProgress(this.deps.db, record.id, claim.attempts, {
          ...counts,
          bytesRead: counter.bytes,
          rejections,
          leaseUntil: new Date(now.getTime() + this.spec.leaseMs),
          now,
        });
        if (!held) throw new LeaseLost();
      };
      for await (const cells of rows) {
        rowNumber++;
        if (rowNumber <= record.rowsProcessed) {
          // Done before a crash: only its email still counts for duplicates.
          const key = emailKeyOf(map, cells);
          if (key) seen.add(key);
          continue;
        }
        batch.push({ rowNumber, cells });
        if (batch.length >= batchRows) {
          await save(await this.importBatch(record, map, header.length, batch, seen, counts));
          batch = [];
        }
      }
      await save(await this.importBatch(record, map, header.length, batch, seen, counts));
      if (!(await markRowsDone(this.deps.db, record.id, claim.attempts, record.sizeBytes, new Date()))) throw new LeaseLost();
      await this.finish(record);
      return counts;
    } finally {
      await rows.return(undefined);
      stored.body.destroy();
    }
  }

  /** Validates and writes a batch in file order; returns its rejections. Counts are updated in place. */
  private async importBatch(record: ImportRecord, map: ColumnMap, headerLength: number, batch: Pending[], seen: SeenEmails, counts: ImportCounts): Promise<Rejection[]> {
    const emailHeader = map.headerOf('email');
    const checked = batch.map(({ rowNumber, cells }) => {
      const key = emailKeyOf(map, cells);
      if (key !== undefined && !seen.add(key)) {
        return { rowNumber, result: { ok: false as const, problems: [{ field: emailHeader, message: 'is in an earlier row of this file too; only the first such row is imported' }] } };
      }
      return { rowNumber, result: readRow(map, cells, headerLength) };
    });
    const valid = checked.flatMap((c) => (c.result.ok ? [c.result.row] : []));
    const existing = await customersByEmail(this.deps.db, record.businessId, valid.map((r) => r.emailKey));
    const live = [...existing.values()].filter((e) => !e.gone).map((e) => e.id);
    const aggregates = await loadAggregates(this.deps.db, live, 0);

    const rejections: Rejection[] = [];
    // A few rows at once: each write is its own short transaction on its own customer (the
    // batch's emails are distinct), and most of its time is round trips.
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < checked.length && !failed) {
        const { rowNumber, result } = checked[next++]!;
        const problems = result.ok ? await this.writeRow(record.businessId, result.row, existing.get(result.row.emailKey), aggregates, counts, map) : result.problems;
        counts.rowsProcessed++;
        if (problems) {
          counts.rejected++;
          rejections.push({ rowNumber, errors: problems });
        }
      }
    };
    // On a failure the others stop at their next row, and the attempt fails once they have.
    const outcomes = await Promise.allSettled(
      Array.from({ length: IMPORT_WRITE_CONCURRENCY }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const failure = outcomes.find((o) => o.status === 'rejected');
    if (failure) throw failure.reason;
    return rejections.sort((a, b) => a.rowNumber - b.rowNumber);
  }

  /** Creates or updates the row's customer; returns the problems when the write path refuses it. */
  private async writeRow(
    businessId: string,
    row: ImportRow,
    match: { id: string; gone: boolean } | undefined,
    aggregates: Map<string, CustomerAggregate>,
    counts: ImportCounts,
    map: ColumnMap,
  ): Promise<RowProblem[] | null> {
    const emailHeader = map.headerOf('email');
    if (match?.gone) return [{ field: emailHeader, message: 'belongs to a deleted customer of this business' }];
    try {
      if (match) {
        const current = aggregates.get(match.id);
        // Compared first, so an unchanged row costs no transaction.
        if (current && !differs(current, row)) {
          counts.unchanged++;
          return null;
        }
        const result = await this.deps.sync.changeCustomer(match.id, (input) => applyRow(input, row), { businessId });
        if (result.changed) counts.updated++;
        else counts.unchanged++;
        return null;
      }
      try {
        await this.deps.sync.syncCustomer(null, newCustomer(row), { businessId });
        counts.created++;
        return null;
      } catch (err) {
        // Another writer gave a customer this email meanwhile: the row updates that customer.
        if (!(err instanceof AppError && err.code === 'CONFLICT')) throw err;
        const again = (await customersByEmail(this.deps.db, businessId, [row.emailKey])).get(row.emailKey);
        if (!again) throw err;
        if (again.gone) return [{ field: emailHeader, message: 'belongs to a deleted customer of this business' }];
        const result = await this.deps.sync.changeCustomer(again.id, (input) => applyRow(input, row), { businessId });
        if (result.changed) counts.updated++;
        else counts.unchanged++;
        return null;
      }
    } catch (err) {
      if (err instanceof AppError && err.code === 'NOT_FOUND') return [{ field: emailHeader, message: 'the customer was deleted while the import ran' }];
      if (err instanceof AppError && (err.code === 'INVALID_INPUT' || err.code === 'CONFLICT')) return problemsOf(err, map);
      throw err;
    }
  }

  private async finish(record: ImportRecord): Promise<void> {
    if (record.storageKey) await this.deps.storage.delete(record.storageKey);
    await markCompleted(this.deps.db, record.id, new Date());
  }

  private async fail(record: ImportRecord, message: string): Promise<void> {
    if (record.storageKey) await this.deps.storage.delete(record.storageKey);
    await markFailed(this.deps.db, record.id, message, new Date());
  }
}

/**
 * The row's fields over the current state; its address is added unless the customer has it. The
 * email matched case-insensitively: it is the key, and its stored spelling stays.
 */
function applyRow(current: CustomerInput, row: ImportRow): CustomerInput {
  const addresses = current.addresses ?? [];
  const address = row.address && !addresses.some((a) => sameAddress(a, row.address!)) ? [{ ...row.address, isDefault: addresses.length === 0 }] : [];
  return { ...current, ...updatedFields(row), addresses: [...addresses, ...address] };
}

const updatedFields = ({ fields: { email: _key, ...fields } }: ImportRow) => fields;

function newCustomer(row: ImportRow): Record<string, unknown> {
  return { ...row.fields, ...(row.address ? { addresses: [{ ...row.address, isDefault: true }] } : {}) };
}

/** Whether writing the row would change the customer (the write path decides for sure). */
function differs(current: CustomerAggregate, row: ImportRow): boolean {
  for (const [key, value] of Object.entries(updatedFields(row))) {
    if (JSON.stringify((current as Record<string, unknown>)[key] ?? null) !== JSON.stringify(value ?? null)) return true;
  }
  return row.address !== null && !current.addresses.some((a) => sameAddress(a, row.address!));
}

type AddressKey = { addressLine1: string; addressLine2?: string | null; city: string; postalCode?: string | null; countryCode: string };

/** The same place: lines, city, postal code and country (as DatabaseSyncService matches addresses). */
function sameAddress(a: AddressKey, b: AddressKey): boolean {
  const key = (x: AddressKey) => [x.addressLine1, x.addressLine2 ?? '', x.city, x.postalCode ?? '', x.countryCode].map((p) => p.trim().toLowerCase()).join('\u0000');
  return key(a) === key(b);
}

/** The write path's field problems (`body.email`, `body.addresses.0.city`) as column problems. */
function problemsOf(err: AppError, map: ColumnMap): RowProblem[] {
  const details = Array.isArray(err.details) ? (err.details as { field?: unknown; message?: unknown }[]) : [];
  const problems = details.flatMap((d) =>
    typeof d.field === 'string' && typeof d.message === 'string' ? [{ field: columnOf(map, d.field.replace(/^body\./, '').split('.')), message: d.message }] : [],
  );
  // A message without field details (a unique index) names its field itself and holds no value.
  return problems.length > 0 ? problems : [{ field: '(row)', message: err.message }];
}
