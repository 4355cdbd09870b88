// Communication preferences per customer per business (reference 002). No row means the defaults.
import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, primaryKey, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { businesses } from './businesses.js';
import { customers } from './customers.js';

const tz = { withTimezone: true } as const;

export const PREFERENCE_FREQUENCIES = ['IMMEDIATE', 'DAILY_DIGEST', 'WEEKLY_DIGEST'] as const;
export const PREFERENCE_CHANNELS = ['EMAIL', 'SMS', 'PUSH'] as const;

export const customerCommunicationPreferences = pgTable(
  'customer_communication_preferences',
  {
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    emailMarketing: boolean('email_marketing').notNull().default(true),
    smsMarketing: boolean('sms_marketing').notNull().default(true),
    pushNotifications: boolean('push_notifications').notNull().default(true),
    loyaltyUpdates: boolean('loyalty_updates').notNull().default(true),
    transactionReceipts: boolean('transaction_receipts').notNull().default(true),
    promotionalOffers: boolean('promotional_offers').notNull().default(true),
    surveyInvitations: boolean('survey_invitations').notNull().default(false),
    newsletterSubscription: boolean('newsletter_subscription').notNull().default(false),
    frequency: varchar('frequency', { length: 20, enum: PREFERENCE_FREQUENCIES }).notNull().default('IMMEDIATE'),
    preferredChannel: varchar('preferred_channel', { length: 20, enum: PREFERENCE_CHANNELS }).notNull().default('EMAIL'),
    timezone: varchar('timezone', { length: 50 }).notNull().default('UTC'),
    quietHoursStart: varchar('quiet_hours_start', { length: 5 }),
    quietHoursEnd: varchar('quiet_hours_end', { length: 5 }),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.businessId] }),
    check('customer_preferences_frequency_check', sql`${t.frequency} IN ('IMMEDIATE', 'DAILY_DIGEST', 'WEEKLY_DIGEST')`),
    check('customer_preferences_channel_check', sql`${t.preferredChannel} IN ('EMAIL', 'SMS', 'PUSH')`),
  ],
);
