// The transactional outbox. A row is appended in the same transaction as every aggregate change;
// the projector claims pending rows and brings Firestore to the aggregate's current state.
// It never holds PII values: only ids, a content hash and the names of the changed fields.
import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

// `repair`: enqueued by reconciliation; projects even when the stored version matches.
export const SYNC_OPERATIONS = ['create', 'update', 'delete', 'purge', 'repair'] as const;
export const SYNC_STATUSES = ['pending', 'processing', 'completed', 'failed', 'dead', 'skipped'] as const;

const tz = { withTimezone: true } as const;

export const syncLogs = pgTable(
  'sync_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    entityType: varchar('entity_type', { length: 50 }).notNull(),
    entityId: uuid('entity_id').notNull(),
    operation: varchar('operation', { length: 20, enum: SYNC_OPERATIONS }).notNull(),
    entityVersion: bigint('entity_version', { mode: 'number' }).notNull(),
    postgresStatus: varchar('postgres_status', { length: 20, enum: SYNC_STATUSES }).notNull().default('completed'),
    firestoreStatus: varchar('firestore_status', { length: 20, enum: SYNC_STATUSES }).notNull().default('pending'),
    // Null when a set-based statement (tier or segment recalculation) wrote the row without loading
    // each aggregate; the projector never reads it, it is for the sync API's readers.
    contentHash: varchar('content_hash', { length: 64 }),
    changedFields: text('changed_fields').array().notNull().default(sql`'{}'::text[]`),
    errorMessage: text('error_message'),
    retryCount: integer('retry_count').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', tz).notNull().defaultNow(),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    completedAt: timestamp('completed_at', tz),
  },
  (t) => [
    check('sync_logs_operation_check', sql`${t.operation} IN ('create', 'update', 'delete', 'purge', 'repair')`),
    check(
      'sync_logs_firestore_status_check',
      sql`${t.firestoreStatus} IN ('pending', 'processing', 'completed', 'failed', 'dead', 'skipped')`,
    ),
    index('idx_sync_logs_entity').on(t.entityType, t.entityId, t.entityVersion),
    // The projector's claim query: pending/failed rows that are due, oldest first.
    index('idx_sync_logs_due')
      .on(t.nextAttemptAt, t.createdAt)
      .where(sql`${t.firestoreStatus} IN ('pending', 'failed')`),
    index('idx_sync_logs_status').on(t.firestoreStatus, t.createdAt.desc().nullsFirst()),
    index('idx_sync_logs_created_at').on(t.createdAt.desc().nullsFirst()),
  ],
);
