// POS ingestion bookkeeping in the system of record: each business's POS connections
// (credentials encrypted), per-stream checkpoints, run records, quarantined source records,
// and customer_transactions: every ingested transaction with the profile it is linked to, from
// which the transaction metrics are computed. customer_metrics_pending lists customers whose
// metrics must be recomputed; it is written in the same transaction as their transactions, so a
// crash between the two never leaves metrics behind.
import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';
import { businesses } from './businesses.js';
import { customers } from './customers.js';

const tz = { withTimezone: true } as const;
export const POS_PROVIDERS = ['square', 'lightspeed'] as const;
export type PosProvider = (typeof POS_PROVIDERS)[number];
export const INGEST_RUN_STATUSES = ['running', 'succeeded', 'failed'] as const;
export const TRANSACTION_STATUSES = ['completed', 'pending', 'voided', 'failed', 'returned'] as const;

export const posConnections = pgTable(
  'pos_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    provider: varchar('provider', { length: 20, enum: POS_PROVIDERS }).notNull(),
    /** Square merchant id or Lightspeed account id: namespaces the source's record ids. */
    accountId: varchar('account_id', { length: 100 }).notNull(),
    /** Square: only these locations (empty = every location the account has). */
    locationIds: text('location_ids').array().notNull().default(sql`'{}'::text[]`),
    /** API base URL (the vendor's by default; the POS simulator's on loopback in demo mode). */
    apiUrl: text('api_url').notNull(),
    /** Lightspeed OAuth token endpoint. */
    tokenUrl: text('token_url'),
    /** AES-256-GCM sealed JSON; never logged, never returned by the API. */
    credentials: text('credentials').notNull(),
    schedule: varchar('schedule', { length: 100 }).notNull().default('*/15 * * * *'),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('pos_connections_provider_check', sql`${t.provider} IN ('square', 'lightspeed')`),
    uniqueIndex('uq_pos_connections_account').on(t.businessId, t.provider, t.accountId),
  ],
);

export const ingestCheckpoints = pgTable(
  'ingest_checkpoints',
  {
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => posConnections.id, { onDelete: 'cascade' }),
    /** A stream, optionally per location: `payments:L123`, `sales`, `catalog`. */
    stream: varchar('stream', { length: 120 }).notNull(),
    /** Everything changed up to here is in the warehouse and linked. */
    watermark: timestamp('watermark', tz),
    /** Stream state worth keeping (e.g. the created-at floor of a Square backfill). */
    state: jsonb('state').$type<Record<string, unknown>>().notNull().default({}),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.stream] })],
);

export interface StreamStats {
  pages: number;
  rows: number;
  quarantined: number;
}

export const ingestRuns = pgTable(
  'ingest_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => posConnections.id, { onDelete: 'cascade' }),
    businessId: uuid('business_id').notNull(),
    provider: varchar('provider', { length: 20, enum: POS_PROVIDERS }).notNull(),
    trigger: varchar('trigger', { length: 20 }).notNull(),
    status: varchar('status', { length: 20, enum: INGEST_RUN_STATUSES }).notNull().default('running'),
    startedAt: timestamp('started_at', tz).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', tz),
    pages: integer('pages').notNull().default(0),
    rows: integer('rows').notNull().default(0),
    quarantined: integer('quarantined').notNull().default(0),
    /** Transactions that name a customer and were linked to a profile. */
    linked: integer('linked').notNull().default(0),
    /** Transactions that name no customer (counted, not linked). */
    unlinked: integer('unlinked').notNull().default(0),
    profilesCreated: integer('profiles_created').notNull().default(0),
    streams: jsonb('streams').$type<Record<string, StreamStats>>().notNull().default({}),
    error: text('error'),
  },
  (t) => [
    check('ingest_runs_status_check', sql`${t.status} IN ('running', 'succeeded', 'failed')`),
    index('idx_ingest_runs_business_started').on(t.businessId, t.startedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('idx_ingest_runs_connection_started').on(t.connectionId, t.startedAt.desc().nullsFirst()),
  ],
);

export const ingestQuarantine = pgTable(
  'ingest_quarantine',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    runId: uuid('run_id').references(() => ingestRuns.id, { onDelete: 'set null' }),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => posConnections.id, { onDelete: 'cascade' }),
    businessId: uuid('business_id').notNull(),
    stream: varchar('stream', { length: 120 }).notNull(),
    recordId: varchar('record_id', { length: 255 }),
    /** Names the field at fault; never the value. */
    reason: text('reason').notNull(),
    /** The record as received, kept for repair; erasure covers this table. */
    payload: jsonb('payload'),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  },
  (t) => [
    index('idx_ingest_quarantine_connection').on(t.connectionId, t.createdAt.desc().nullsFirst()),
    // Export and erasure look for a person's quarantined records within the business.
    index('idx_ingest_quarantine_business').on(t.businessId),
  ],
);

export const customerTransactions = pgTable(
  'customer_transactions',
  {
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    source: varchar('source', { length: 20 }).notNull(),
    /** Square payment id; Lightspeed `account:saleID`. */
    transactionId: varchar('transaction_id', { length: 255 }).notNull(),
    /** The linked profile; null when the transaction names no customer (or after erasure). */
    customerId: uuid('customer_id').references(() => customers.id, { onDelete: 'set null' }),
    sourceCustomerId: varchar('source_customer_id', { length: 255 }),
    occurredAt: timestamp('occurred_at', tz).notNull(),
    status: varchar('status', { length: 20, enum: TRANSACTION_STATUSES }).notNull(),
    amount: numeric('amount', { precision: 14, scale: 2, mode: 'number' }).notNull(),
    refundedAmount: numeric('refunded_amount', { precision: 14, scale: 2, mode: 'number' }).notNull().default(0),
    currency: varchar('currency', { length: 3 }).notNull(),
    itemCount: integer('item_count').notNull().default(0),
    /** Category of each purchased item line (for the favourite category). */
    categories: text('categories').array().notNull().default(sql`'{}'::text[]`),
    sourceUpdatedAt: timestamp('source_updated_at', tz).notNull(),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', tz).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.businessId, t.source, t.transactionId] }),
    check(
      'customer_transactions_status_check',
      sql`${t.status} IN ('completed', 'pending', 'voided', 'failed', 'returned')`,
    ),
    index('idx_customer_transactions_customer').on(t.customerId, t.occurredAt.desc().nullsFirst()),
  ],
);

export const customerMetricsPending = pgTable('customer_metrics_pending', {
  customerId: uuid('customer_id')
    .primaryKey()
    .references(() => customers.id, { onDelete: 'cascade' }),
  enqueuedAt: timestamp('enqueued_at', tz).notNull().defaultNow(),
});
