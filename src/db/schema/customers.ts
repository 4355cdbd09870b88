// The customer aggregate root and the external systems it is known in (reference 003, tables 1-2).
import { sql } from 'drizzle-orm';
import type { AnyColumn, SQL } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

export const CUSTOMER_STATUSES = ['active', 'inactive', 'vip', 'blocked', 'pending'] as const;
export const CUSTOMER_TYPES = ['guest', 'registered', 'wholesale', 'affiliate'] as const;

const tz = { withTimezone: true } as const;

/**
 * The email as duplicate detection compares it: lower case, a "+tag" dropped from the local part,
 * and for Gmail the dots too (googlemail.com is gmail.com). Mirrored by emailMatchKey in
 * src/identity/email-match-key.ts; idx_customers_email_match_key indexes exactly this expression.
 */
export const emailMatchKeySql = (email: AnyColumn | SQL): SQL => sql`(CASE
  WHEN split_part(lower(${email}), '@', 2) IN ('gmail.com', 'googlemail.com')
    THEN replace(regexp_replace(split_part(lower(${email}), '@', 1), '^([^+]+)\\+.*$', '\\1'), '.', '') || '@gmail.com'
  ELSE regexp_replace(split_part(lower(${email}), '@', 1), '^([^+]+)\\+.*$', '\\1') || '@' || split_part(lower(${email}), '@', 2)
END)`;

export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Nullable: a walk-in POS customer may be known by phone or name only.
    email: varchar('email', { length: 255 }),
    emailLowercase: varchar('email_lowercase', { length: 255 }).generatedAlwaysAs(sql`lower(email)`),
    phone: varchar('phone', { length: 50 }),
    phoneNormalized: varchar('phone_normalized', { length: 50 }),
    firstName: varchar('first_name', { length: 100 }),
    lastName: varchar('last_name', { length: 100 }),
    fullName: varchar('full_name', { length: 201 }).generatedAlwaysAs(
      sql`nullif(btrim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')), '')`,
    ),
    status: varchar('status', { length: 20, enum: CUSTOMER_STATUSES }).notNull().default('active'),
    customerType: varchar('customer_type', { length: 20, enum: CUSTOMER_TYPES }).notNull().default('registered'),
    dateOfBirth: date('date_of_birth', { mode: 'string' }),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', tz),
    lastActiveAt: timestamp('last_active_at', tz),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    notes: text('notes'),
    internalNotes: text('internal_notes'),
    customAttributes: jsonb('custom_attributes').$type<Record<string, unknown>>().notNull().default({}),
    /** Set by a GDPR/CCPA erasure: the row stays as a tombstone whose PII columns hold random tokens. */
    erasedAt: timestamp('erased_at', tz),
    /** Set on the customer merged away (customer_merges); cleared when the merge is undone. */
    mergedIntoId: uuid('merged_into_id'),
    // Bumped by every committed change; the projection's version guard compares it.
    version: bigint('version', { mode: 'number' }).notNull().default(1),
  },
  (t) => [
    check('customers_status_check', sql`${t.status} IN ('active', 'inactive', 'vip', 'blocked', 'pending')`),
    check(
      'customers_customer_type_check',
      sql`${t.customerType} IN ('guest', 'registered', 'wholesale', 'affiliate')`,
    ),
    check('customers_version_positive', sql`${t.version} > 0`),
    // text_pattern_ops: equality and LIKE 'prefix%' (the search's email route) whatever the
    // collation; created_at and id let the search sort an email prefix's matches by date from the
    // index alone, then read only the page's customers.
    index('idx_customers_email_prefix').on(t.emailLowercase.op('text_pattern_ops'), t.createdAt, t.id),
    index('idx_customers_phone_normalized').on(t.phoneNormalized),
    index('idx_customers_status').on(t.status),
    index('idx_customers_created_at').on(t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_customers_updated_at').on(t.updatedAt.desc().nullsFirst()),
    index('idx_customers_last_active').on(t.lastActiveAt.desc().nullsFirst()),
    index('idx_customers_deleted_at').on(t.deletedAt),
    // Export and erasure find the profiles merged into a customer (few rows: partial).
    index('idx_customers_merged_into').on(t.mergedIntoId).where(sql`${t.mergedIntoId} IS NOT NULL`),
    index('idx_customers_tags').using('gin', t.tags),
    index('idx_customers_custom_attributes').using('gin', t.customAttributes),
    // Search by exact name, newest first, read in index order (customer-search.repository.ts).
    index('idx_customers_last_name_search').on(sql`lower(${t.lastName})`, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_customers_first_name_search').on(sql`lower(${t.firstName})`, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_customers_full_name_search').on(sql`lower(${t.fullName})`, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // Search by the last digits of a phone: a prefix of the reversed number.
    index('idx_customers_phone_reversed').on(sql`reverse(${t.phoneNormalized}) text_pattern_ops`),
    // Typo-tolerant search (pg_trgm): similarity and substring matches on name, email and phone.
    index('idx_customers_full_name_trgm').using('gin', sql`lower(${t.fullName}) gin_trgm_ops`),
    index('idx_customers_email_trgm').using('gin', sql`${t.emailLowercase} gin_trgm_ops`),
    index('idx_customers_phone_trgm').using('gin', sql`${t.phoneNormalized} gin_trgm_ops`),
    // Duplicate detection: equality on the normalised email (src/identity/duplicates.repository.ts).
    index('idx_customers_email_match_key').on(emailMatchKeySql(t.email)),
  ],
);

/**
 * Every first name and every last name of a live customer, lower case, with its accent-folded
 * form (name_fold): the vocabulary the search looks up the spellings one edit away from a
 * misspelt name in (customer-search.repository.ts). Kept by triggers on customers (migration
 * 0006): a name is added when a live customer has it, and removed when the last live customer
 * with it is erased, deleted or renamed, so an erased name does not stay here.
 */
export const customerNameVocabulary = pgTable(
  'customer_name_vocabulary',
  {
    name: text('name').primaryKey(),
    folded: text('folded').notNull(),
  },
  (t) => [
    index('idx_customer_name_vocabulary_folded').on(t.folded),
    // The names starting with a word being typed ("smi": smith, smithers), whatever the collation.
    index('idx_customer_name_vocabulary_prefix').on(t.name.op('text_pattern_ops')),
  ],
);

export const customerSources = pgTable(
  'customer_sources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    source: varchar('source', { length: 50 }).notNull(),
    externalId: varchar('external_id', { length: 255 }).notNull(),
    sourceData: jsonb('source_data').$type<Record<string, unknown>>().notNull().default({}),
    firstSyncedAt: timestamp('first_synced_at', tz).notNull().defaultNow(),
    lastSyncedAt: timestamp('last_synced_at', tz).notNull().defaultNow(),
    syncStatus: varchar('sync_status', { length: 20 }).notNull().default('active'),
    syncErrors: jsonb('sync_errors'),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('uq_customer_sources_source_external').on(t.source, t.externalId),
    index('idx_customer_sources_customer').on(t.customerId),
  ],
);
