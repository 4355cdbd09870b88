// Customer segments (reference 002): criteria definitions per business and who is in each.
import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { businesses } from './businesses.js';
import { customers } from './customers.js';

const tz = { withTimezone: true } as const;

export const customerSegments = pgTable(
  'customer_segments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 255 }).notNull(),
    description: text('description'),
    /** dynamic: members are whoever meets the criteria; static: members are assigned by hand (bulk operations). */
    kind: varchar('kind', { length: 10, enum: ['dynamic', 'static'] }).notNull().default('dynamic'),
    /** Validated SegmentCriteria (segment-criteria.ts); compiled to SQL on every evaluation. Null exactly for static segments. */
    criteria: jsonb('criteria').$type<unknown>(),
    isActive: boolean('is_active').notNull().default(true),
    /** Criteria that depend on "now" (timeframes, daysSinceLastVisit) are re-evaluated on a schedule. */
    timeRelative: boolean('time_relative').notNull().default(false),
    lastCalculatedAt: timestamp('last_calculated_at', tz),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', tz),
  },
  (t) => [
    check('customer_segments_kind_check', sql`${t.kind} IN ('dynamic', 'static')`),
    check('customer_segments_criteria_check', sql`(${t.kind} = 'static') = (${t.criteria} IS NULL)`),
    uniqueIndex('uq_customer_segments_business_name').on(t.businessId, sql`lower(${t.name})`).where(sql`${t.deletedAt} IS NULL`),
    index('idx_customer_segments_business').on(t.businessId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
  ],
);

export const customerSegmentAssignments = pgTable(
  'customer_segment_assignments',
  {
    segmentId: uuid('segment_id')
      .notNull()
      .references(() => customerSegments.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    businessId: uuid('business_id').notNull(),
    assignedAt: timestamp('assigned_at', tz).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.segmentId, t.customerId] }),
    index('idx_segment_assignments_customer').on(t.customerId),
  ],
);
