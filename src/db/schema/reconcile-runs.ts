// One row per reconciliation run (PostgreSQL ⇄ Firestore): when, what it found, what it fixed.
import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

const tz = { withTimezone: true } as const;

export const reconcileRuns = pgTable(
  'reconcile_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trigger: varchar('trigger', { length: 20 }).notNull().default('manual'),
    fix: boolean('fix').notNull().default(false),
    status: varchar('status', { length: 20, enum: ['running', 'completed', 'failed'] }).notNull().default('running'),
    startedAt: timestamp('started_at', tz).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', tz),
    customersChecked: integer('customers_checked').notNull().default(0),
    documentsChecked: integer('documents_checked').notNull().default(0),
    driftCount: integer('drift_count').notNull().default(0),
    /** Counts and (capped) ids per drift class; ids only, never customer data. */
    report: jsonb('report').$type<Record<string, unknown>>().notNull().default({}),
    fixed: integer('fixed').notNull().default(0),
    error: text('error'),
  },
  (t) => [
    check('reconcile_runs_status_check', sql`${t.status} IN ('running', 'completed', 'failed')`),
    index('idx_reconcile_runs_started').on(t.startedAt.desc().nullsFirst()),
  ],
);
