// Loyalty tiers per business (reference 002): the thresholds, their audit trail, and every tier
// change of every customer.
import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { LOYALTY_TIERS, businesses } from './businesses.js';

const tz = { withTimezone: true } as const;

/** The stored shape of a tier configuration (validated by tiers.schema.ts before it is written). */
export interface StoredTierThresholds {
  silver: TierRequirement;
  gold: TierRequirement;
  platinum: TierRequirement;
}
export interface TierRequirement {
  spendingThreshold?: number;
  visitThreshold?: number;
  pointsThreshold?: number;
  evaluationPeriod: 'monthly' | 'quarterly' | 'yearly' | 'lifetime';
}

export const tierConfigurations = pgTable('tier_configurations', {
  businessId: uuid('business_id')
    .primaryKey()
    .references(() => businesses.id, { onDelete: 'cascade' }),
  thresholds: jsonb('thresholds').$type<StoredTierThresholds>().notNull(),
  downgradeGraceDays: integer('downgrade_grace_days').notNull().default(90),
  updatedBy: varchar('updated_by', { length: 255 }).notNull(),
  createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
});

export const tierConfigAudits = pgTable(
  'tier_config_audits',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    /** Null for the first configuration (the defaults were in force before it). */
    previousThresholds: jsonb('previous_thresholds').$type<StoredTierThresholds>(),
    newThresholds: jsonb('new_thresholds').$type<StoredTierThresholds>().notNull(),
    previousGraceDays: integer('previous_grace_days'),
    newGraceDays: integer('new_grace_days').notNull(),
    changedBy: varchar('changed_by', { length: 255 }).notNull(),
    changedAt: timestamp('changed_at', tz).notNull().defaultNow(),
    reason: text('reason').notNull(),
  },
  (t) => [index('idx_tier_config_audits_business').on(t.businessId, t.changedAt.desc().nullsFirst(), t.id)],
);

export const TIER_CHANGE_REASONS = ['qualified', 'grace_period_expired', 'manual_override'] as const;

/** Append-only: one row per tier change of a customer with a business. */
export const customerTierHistory = pgTable(
  'customer_tier_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    businessId: uuid('business_id').notNull(),
    customerId: uuid('customer_id').notNull(),
    previousTier: varchar('previous_tier', { length: 10, enum: LOYALTY_TIERS }).notNull(),
    newTier: varchar('new_tier', { length: 10, enum: LOYALTY_TIERS }).notNull(),
    reason: varchar('reason', { length: 30, enum: TIER_CHANGE_REASONS }).notNull(),
    changedBy: varchar('changed_by', { length: 255 }),
    note: text('note'),
    changedAt: timestamp('changed_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('customer_tier_history_reason_check', sql`${t.reason} IN ('qualified', 'grace_period_expired', 'manual_override')`),
    index('idx_customer_tier_history_customer').on(t.customerId, t.changedAt.desc().nullsFirst()),
    index('idx_customer_tier_history_business').on(t.businessId, t.changedAt),
  ],
);
