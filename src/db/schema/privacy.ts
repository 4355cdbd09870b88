// Privacy and identity (reference 002, issue 7): data export requests, erasure records, merges
// that can be undone, CSV/Excel imports and audited bulk operations.
//
// Exports and imports are work-queue rows (src/jobs/work-queue.ts): status, attempts,
// next_attempt_at and a lease, claimed by workers with FOR UPDATE SKIP LOCKED. Erasures use the
// same columns for the steps that must be retried (BigQuery's streaming buffer).
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { businesses } from './businesses.js';
import { customers } from './customers.js';

const tz = { withTimezone: true } as const;

export const EXPORT_TYPES = ['GDPR_FULL', 'GDPR_BASIC', 'BUSINESS_ANALYTICS'] as const;
export const EXPORT_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'EXPIRED'] as const;
export const ERASURE_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export const IMPORT_STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
export const IMPORT_FORMATS = ['csv', 'xlsx'] as const;
export const BULK_OPERATIONS = ['segment.assign', 'segment.unassign', 'tier.override', 'tier.override_clear', 'tags.add', 'tags.remove'] as const;

/** The work-queue columns shared by exports, erasures and imports. */
const queueColumns = () => ({
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', tz).notNull().defaultNow(),
  /** While PROCESSING: the claim holds until then; a worker that died loses it and the row is claimed again. */
  leaseExpiresAt: timestamp('lease_expires_at', tz),
  lastError: text('last_error'),
});

export const customerDataExports = pgTable(
  'customer_data_exports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    exportType: varchar('export_type', { length: 30, enum: EXPORT_TYPES }).notNull(),
    status: varchar('status', { length: 20, enum: EXPORT_STATUSES }).notNull().default('PENDING'),
    requestedBy: varchar('requested_by', { length: 255 }).notNull(),
    requestReason: text('request_reason'),
    ...queueColumns(),
    /** Where the archive is in export storage; null until COMPLETED and again once EXPIRED. */
    storageKey: text('storage_key'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    /** sha256 of the archive, hex. */
    checksum: varchar('checksum', { length: 64 }),
    expiresAt: timestamp('expires_at', tz).notNull(),
    startedAt: timestamp('started_at', tz),
    completedAt: timestamp('completed_at', tz),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('customer_data_exports_type_check', sql`${t.exportType} IN ('GDPR_FULL', 'GDPR_BASIC', 'BUSINESS_ANALYTICS')`),
    check('customer_data_exports_status_check', sql`${t.status} IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'EXPIRED')`),
    index('idx_data_exports_business_customer').on(t.businessId, t.customerId, t.createdAt.desc().nullsFirst()),
    index('idx_data_exports_queue').on(t.nextAttemptAt).where(sql`${t.status} IN ('PENDING', 'PROCESSING')`),
    index('idx_data_exports_expires').on(t.expiresAt).where(sql`${t.status} = 'COMPLETED'`),
  ],
);

/**
 * Proof of an erasure, without PII: who asked, why, when, and what each store reported. The
 * customer id stays (a random uuid that, after erasure, leads to nothing personal).
 */
export const customerErasures = pgTable(
  'customer_erasures',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id').notNull(),
    requestedBy: varchar('requested_by', { length: 255 }).notNull(),
    reason: text('reason').notNull(),
    status: varchar('status', { length: 20, enum: ERASURE_STATUSES }).notNull().default('PENDING'),
    ...queueColumns(),
    /** Per store and table: rows erased, de-identified, or still pending, and when each finished. */
    steps: jsonb('steps').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
    completedAt: timestamp('completed_at', tz),
  },
  (t) => [
    check('customer_erasures_status_check', sql`${t.status} IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')`),
    index('idx_customer_erasures_business').on(t.businessId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_customer_erasures_customer').on(t.customerId),
    index('idx_customer_erasures_queue').on(t.nextAttemptAt).where(sql`${t.status} IN ('PENDING', 'PROCESSING')`),
  ],
);

/** A merge of `mergedId` into `survivorId`, with both customers' pre-merge state so it can be undone. */
export const customerMerges = pgTable(
  'customer_merges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    survivorId: uuid('survivor_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    mergedId: uuid('merged_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    mergedBy: varchar('merged_by', { length: 255 }).notNull(),
    reason: text('reason'),
    /** Every row of both customers that the merge changed or moved, as it was before (holds PII: erasure deletes it). */
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    /** Which value each survivor field took and why (source, rule). */
    decisions: jsonb('decisions').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    /** Undo is possible until then (30 days). */
    undoUntil: timestamp('undo_until', tz).notNull(),
    undoneAt: timestamp('undone_at', tz),
    undoneBy: varchar('undone_by', { length: 255 }),
  },
  (t) => [
    index('idx_customer_merges_business').on(t.businessId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_customer_merges_survivor').on(t.survivorId),
    index('idx_customer_merges_merged').on(t.mergedId),
    // The retention sweep: snapshots still held, by the end of their undo window.
    index('idx_customer_merges_snapshot_held').on(t.undoUntil).where(sql`${t.snapshot} <> '{}'::jsonb`),
  ],
);

export const customerImports = pgTable(
  'customer_imports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    requestedBy: varchar('requested_by', { length: 255 }).notNull(),
    fileName: varchar('file_name', { length: 255 }),
    format: varchar('format', { length: 10, enum: IMPORT_FORMATS }).notNull(),
    /** The uploaded file in storage until it has been processed (it holds PII: deleted afterwards). */
    storageKey: text('storage_key'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    status: varchar('status', { length: 20, enum: IMPORT_STATUSES }).notNull().default('PENDING'),
    ...queueColumns(),
    /** Bytes of the file read so far: progress while PROCESSING. */
    bytesRead: bigint('bytes_read', { mode: 'number' }).notNull().default(0),
    rowsProcessed: integer('rows_processed').notNull().default(0),
    created: integer('created').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    unchanged: integer('unchanged').notNull().default(0),
    rejected: integer('rejected').notNull().default(0),
    startedAt: timestamp('started_at', tz),
    completedAt: timestamp('completed_at', tz),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('customer_imports_status_check', sql`${t.status} IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')`),
    check('customer_imports_format_check', sql`${t.format} IN ('csv', 'xlsx')`),
    index('idx_customer_imports_business').on(t.businessId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_customer_imports_queue').on(t.nextAttemptAt).where(sql`${t.status} IN ('PENDING', 'PROCESSING')`),
  ],
);

/** Why a row of an import was rejected: field names and messages, never the values (no PII). */
export const customerImportRejections = pgTable(
  'customer_import_rejections',
  {
    importId: uuid('import_id')
      .notNull()
      .references(() => customerImports.id, { onDelete: 'cascade' }),
    /** 1-based data row (the header is row 0). */
    rowNumber: integer('row_number').notNull(),
    errors: jsonb('errors').$type<{ field: string; message: string }[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.rowNumber] })],
);

/** The audit of every bulk operation: what, on whom (ids or a filter), by whom, and the counts. */
export const bulkOperations = pgTable(
  'bulk_operations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    operation: varchar('operation', { length: 30, enum: BULK_OPERATIONS }).notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    /** `{ customerIds: [...] }` or `{ filter: {...} }` as requested. */
    selection: jsonb('selection').$type<Record<string, unknown>>().notNull(),
    requestedBy: varchar('requested_by', { length: 255 }).notNull(),
    reason: text('reason'),
    status: varchar('status', { length: 20, enum: ['running', 'succeeded', 'failed'] }).notNull().default('running'),
    matched: integer('matched').notNull().default(0),
    changed: integer('changed').notNull().default(0),
    /** Matched customers left unchanged because the change would break a rule of the aggregate (more than 100 tags). */
    skipped: integer('skipped').notNull().default(0),
    error: text('error'),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', tz),
  },
  (t) => [
    check('bulk_operations_status_check', sql`${t.status} IN ('running', 'succeeded', 'failed')`),
    index('idx_bulk_operations_business').on(t.businessId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);
