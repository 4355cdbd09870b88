// Every tier or segment recalculation (on demand, after a threshold change, or scheduled) is
// recorded: when, why, how many customers were evaluated and changed, and how it ended.
import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { businesses } from './businesses.js';

export const RECALCULATION_KINDS = ['tiers', 'segment'] as const;
export const RECALCULATION_TRIGGERS = ['api', 'configuration', 'schedule', 'segment_change'] as const;

export const recalculationRuns = pgTable(
  'recalculation_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    kind: varchar('kind', { length: 10, enum: RECALCULATION_KINDS }).notNull(),
    segmentId: uuid('segment_id'),
    trigger: varchar('trigger', { length: 20, enum: RECALCULATION_TRIGGERS }).notNull(),
    status: varchar('status', { length: 10, enum: ['running', 'succeeded', 'failed'] }).notNull().default('running'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    /** Customers whose standing changed: tier moved, or entered / exited the segment. */
    changed: integer('changed').notNull().default(0),
    entered: integer('entered').notNull().default(0),
    exited: integer('exited').notNull().default(0),
    upgraded: integer('upgraded').notNull().default(0),
    downgraded: integer('downgraded').notNull().default(0),
    error: text('error'),
  },
  (t) => [
    check('recalculation_runs_kind_check', sql`${t.kind} IN ('tiers', 'segment')`),
    check('recalculation_runs_status_check', sql`${t.status} IN ('running', 'succeeded', 'failed')`),
    index('idx_recalculation_runs_business').on(t.businessId, t.startedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);
