// Tenants. A business owns its API tokens and, through business_customers, its view of customers.
import { sql } from 'drizzle-orm';
import { check, index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';

export const businesses = pgTable('businesses', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: varchar('name', { length: 255 }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const LOYALTY_TIERS = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'] as const;
export type LoyaltyTier = (typeof LOYALTY_TIERS)[number];

/**
 * Many-to-many: a customer can belong to several businesses. `email_lowercase` is a copy of the
 * customer's email kept by the write path so that an email is unique per business (not globally).
 * `customer_created_at` is a copy of the customer's creation time, kept by triggers (migration
 * 0007), so that a business's customers can be listed newest first through an index of its own,
 * however many customers other businesses have.
 * The link also holds the customer's standing with that business: the loyalty tier, a manual
 * override, and when a pending downgrade becomes due (the grace period).
 */
export const businessCustomers = pgTable(
  'business_customers',
  {
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    emailLowercase: varchar('email_lowercase', { length: 255 }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // Always set by the trigger from customers.created_at; the default only spares the inserts
    // from naming it.
    customerCreatedAt: timestamp('customer_created_at', { withTimezone: true }).notNull().defaultNow(),
    notes: text('notes'),
    loyaltyTier: varchar('loyalty_tier', { length: 10, enum: LOYALTY_TIERS }).notNull().default('BRONZE'),
    tierUpdatedAt: timestamp('tier_updated_at', { withTimezone: true }).notNull().defaultNow(),
    /** A manual tier: evaluation leaves the tier alone while it is set. */
    tierOverride: varchar('tier_override', { length: 10, enum: LOYALTY_TIERS }),
    tierOverrideReason: text('tier_override_reason'),
    /** Set while the customer qualifies below their tier; at this time they drop one tier. */
    downgradeDueAt: timestamp('downgrade_due_at', { withTimezone: true }),
  },
  (t) => [
    check('business_customers_tier_check', sql`${t.loyaltyTier} IN ('BRONZE', 'SILVER', 'GOLD', 'PLATINUM')`),
    check('business_customers_tier_override_check', sql`${t.tierOverride} IN ('BRONZE', 'SILVER', 'GOLD', 'PLATINUM')`),
    index('idx_business_customers_created').on(t.businessId, t.createdAt),
    // The business's customers newest first (the list without text): the customers' own order.
    index('idx_business_customers_newest').on(t.businessId, t.customerCreatedAt.desc().nullsFirst(), t.customerId.desc().nullsFirst()),
    primaryKey({ columns: [t.businessId, t.customerId] }),
    index('idx_business_customers_customer').on(t.customerId),
    uniqueIndex('uq_business_customers_email')
      .on(t.businessId, t.emailLowercase)
      .where(sql`${t.emailLowercase} IS NOT NULL`),
  ],
);
