// Tenants. A business owns its API tokens and, through business_customers, its view of customers.
import { sql } from 'drizzle-orm';
import { index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { customers } from './customers.js';

export const businesses = pgTable('businesses', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: varchar('name', { length: 255 }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Many-to-many: a customer can belong to several businesses. `email_lowercase` is a copy of the
 * customer's email kept by the write path so that an email is unique per business (not globally).
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
    notes: text('notes'),
  },
  (t) => [
    primaryKey({ columns: [t.businessId, t.customerId] }),
    index('idx_business_customers_customer').on(t.customerId),
    uniqueIndex('uq_business_customers_email')
      .on(t.businessId, t.emailLowercase)
      .where(sql`${t.emailLowercase} IS NOT NULL`),
  ],
);
