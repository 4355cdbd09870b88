// The memory and learning engine's part of the system of record: interactions (stored at once,
// loaded into the warehouse in batches), fitted model parameters per business, each customer's
// latest predictions, and the prediction job's runs.
import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, jsonb, numeric, pgTable, primaryKey, real, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import { businesses } from './businesses.js';
import { customers } from './customers.js';

const tz = { withTimezone: true } as const;
export const INTERACTION_CHANNELS = ['email', 'voice', 'chat'] as const;

export const memoryInteractions = pgTable(
  'memory_interactions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    sessionId: varchar('session_id', { length: 255 }).notNull(),
    message: text('message').notNull(),
    response: text('response'),
    intent: varchar('intent', { length: 100 }),
    sentiment: real('sentiment'),
    entities: jsonb('entities').$type<Record<string, unknown>>().notNull().default({}),
    channel: varchar('channel', { length: 10, enum: INTERACTION_CHANNELS }).notNull(),
    occurredAt: timestamp('occurred_at', tz).notNull().defaultNow(),
    /** Set once the row is in the warehouse `interactions` table; null rows are the loader's backlog. */
    warehouseLoadedAt: timestamp('warehouse_loaded_at', tz),
    createdAt: timestamp('created_at', tz).notNull().defaultNow(),
  },
  (t) => [
    check('memory_interactions_sentiment_range', sql`${t.sentiment} BETWEEN -1 AND 1`),
    check('memory_interactions_channel_check', sql`${t.channel} IN ('email', 'voice', 'chat')`),
    index('idx_memory_interactions_customer').on(t.customerId, t.occurredAt.desc().nullsFirst()),
    index('idx_memory_interactions_unloaded').on(t.createdAt).where(sql`${t.warehouseLoadedAt} IS NULL`),
  ],
);

/** The latest fitted BG/NBD + Gamma-Gamma parameters of a business (kept when a new fit fails). */
export const memoryModels = pgTable('memory_models', {
  businessId: uuid('business_id')
    .primaryKey()
    .references(() => businesses.id, { onDelete: 'cascade' }),
  modelVersion: varchar('model_version', { length: 100 }).notNull(),
  bgnbd: jsonb('bgnbd').$type<{ r: number; alpha: number; a: number; b: number; ll: number }>().notNull(),
  gammaGamma: jsonb('gamma_gamma').$type<{ p: number; q: number; gamma: number; ll: number } | null>(),
  customers: integer('customers').notNull(),
  repeatBuyers: integer('repeat_buyers').notNull(),
  fittedAt: timestamp('fitted_at', tz).notNull().defaultNow(),
});

export const customerPredictions = pgTable(
  'customer_predictions',
  {
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    businessId: uuid('business_id')
      .notNull()
      .references(() => businesses.id, { onDelete: 'cascade' }),
    modelVersion: varchar('model_version', { length: 100 }).notNull(),
    computedAt: timestamp('computed_at', tz).notNull(),
    churnRisk: numeric('churn_risk', { precision: 6, scale: 5, mode: 'number' }).notNull(),
    expectedPurchases30d: numeric('expected_purchases_30d', { precision: 12, scale: 4, mode: 'number' }).notNull(),
    expectedPurchases90d: numeric('expected_purchases_90d', { precision: 12, scale: 4, mode: 'number' }).notNull(),
    nextPurchaseDate: date('next_purchase_date', { mode: 'string' }),
    expectedSpend: numeric('expected_spend', { precision: 12, scale: 2, mode: 'number' }).notNull(),
    predictedClv12m: numeric('predicted_clv_12m', { precision: 14, scale: 2, mode: 'number' }).notNull(),
    engagementScore: numeric('engagement_score', { precision: 4, scale: 3, mode: 'number' }).notNull(),
    confidence: numeric('confidence', { precision: 4, scale: 3, mode: 'number' }).notNull(),
    recommendations: jsonb('recommendations').$type<{ itemId: string; name: string | null; score: number }[]>().notNull().default([]),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.businessId] }), index('idx_customer_predictions_business').on(t.businessId)],
);

export const predictionRuns = pgTable(
  'prediction_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    businessId: uuid('business_id').references(() => businesses.id, { onDelete: 'cascade' }),
    trigger: varchar('trigger', { length: 20 }).notNull(),
    status: varchar('status', { length: 20, enum: ['running', 'succeeded', 'failed'] }).notNull().default('running'),
    startedAt: timestamp('started_at', tz).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', tz),
    customers: integer('customers').notNull().default(0),
    converged: boolean('converged'),
    modelVersion: varchar('model_version', { length: 100 }),
    /** Why a fit was not used (did not converge, too little data); the previous parameters were kept. */
    note: text('note'),
    error: text('error'),
  },
  (t) => [index('idx_prediction_runs_business_started').on(t.businessId, t.startedAt.desc().nullsFirst())],
);
