// The memory API's contract: zod schemas for what callers send (interactions, outside purchases,
// path parameters) and the shapes it answers with (the unified profile, the agent context).
// Timestamps are ISO-8601 with an offset on the way in, ISO strings on the way out.
import { z } from 'zod';
import { uuidId } from '../http/ids.js';
import { isoDateTime } from '../customers/customers.schema.js';
import { INTERACTION_CHANNELS } from '../db/schema/index.js';
import type { CustomerPrediction } from './predictions/predictor.js';

// PostgreSQL text and jsonb refuse NUL; refused here so the error names the field.
const noNul = (s: string) => !s.includes('\u0000');
const text = (max: number) =>
  z.string().max(max, `must be at most ${max} characters`).refine(noNul, { message: 'must not contain NUL characters' });
const required = (max: number) => text(max).refine((s) => s.trim().length > 0, { message: 'must not be empty' });

const MAX_ENTITIES_BYTES = 16_384;
/** Extracted entities: a JSON object, small, with no NUL anywhere (jsonb cannot hold one). */
const entities = z
  .record(z.string(), z.json())
  .refine((v) => !JSON.stringify(v).includes('\\u0000'), { message: 'must not contain NUL characters' })
  .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= MAX_ENTITIES_BYTES, { message: `must be at most ${MAX_ENTITIES_BYTES} bytes as JSON` });

export const learnBody = z.strictObject({
  customerId: uuidId,
  sessionId: required(255),
  message: required(20_000),
  response: text(20_000).optional(),
  intent: required(100).optional(),
  sentiment: z.number().min(-1, 'must be between -1 and 1').max(1, 'must be between -1 and 1').optional(),
  entities: entities.optional(),
  channel: z.enum(INTERACTION_CHANNELS, { message: `must be one of ${INTERACTION_CHANNELS.join(', ')}` }),
  occurredAt: isoDateTime.optional(),
});
export type LearnInput = z.output<typeof learnBody>;

/** Major units with at most two decimals (customer_transactions.amount is numeric(14,2)). */
const money = z
  .number()
  .min(0, 'must not be negative')
  .max(999_999_999_999.99)
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, { message: 'must have at most 2 decimals' });

const purchaseItem = z.strictObject({
  itemId: required(255),
  sku: text(255).optional(),
  name: text(255).optional(),
  category: required(100).optional(),
  quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000),
  unitPrice: money,
});

export const purchaseBody = z.strictObject({
  orderId: required(255),
  amount: money,
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'must be an ISO-4217 code like USD')
    .transform((c) => c.toUpperCase()),
  purchasedAt: isoDateTime,
  items: z.array(purchaseItem).min(1, 'must list at least one item').max(1000),
});
export type PurchaseInput = z.output<typeof purchaseBody>;

export const customerIdParams = z.strictObject({ customerId: uuidId });
export const noQuery = z.strictObject({});

export interface InteractionView {
  id: string;
  sessionId: string;
  message: string;
  response: string | null;
  intent: string | null;
  sentiment: number | null;
  entities: Record<string, unknown>;
  channel: (typeof INTERACTION_CHANNELS)[number];
  occurredAt: string;
}

export type PurchaseFrequency = 'weekly' | 'biweekly' | 'monthly' | 'quarterly' | 'yearly' | 'occasional';

/** The unified customer profile (reference 000, §2.1) built from what this service holds. */
export interface MemoryProfile {
  customerId: string;
  version: '1.0';
  generatedAt: string;
  /** Present for roles allowed to read customers (their PII); removed from the answer otherwise. */
  identity?: { id: string; firstName: string | null; lastName: string | null; fullName: string | null; email: string | null; phone: string | null };
  preferences: {
    /** Categories of purchased item lines, most purchased first (ties by name). */
    categories: { category: string; lines: number }[];
    favoriteCategory: string | null;
  };
  behavioral: {
    totalPurchases: number;
    totalSpent: number;
    averageOrderValue: number;
    firstPurchaseDate: string | null;
    lastPurchaseDate: string | null;
    daysSinceLastPurchase: number | null;
    /** Mean days between consecutive purchases; null below two purchases. */
    averageDaysBetweenPurchases: number | null;
    purchaseFrequency: PurchaseFrequency | null;
  };
  conversationHistory: {
    totalInteractions: number;
    lastInteractionDate: string | null;
    /** Intents discussed, most frequent first. */
    topics: string[];
    /** The last 10, newest first. */
    recentConversations: InteractionView[];
  };
  communication: {
    channels: { channel: string; interactions: number }[];
    preferredChannel: string | null;
    averageSentiment: number | null;
    lastInteractionDate: string | null;
  };
  predictions: CustomerPrediction | null;
  membership: { loyaltyMember: boolean; tier: string | null; points: number; lifetimePoints: number } | null;
}

export interface MemoryContext {
  profile: MemoryProfile;
  recentInteractions: InteractionView[];
  predictions: CustomerPrediction | null;
  recommendations: CustomerPrediction['recommendations'];
}

export interface ForgetResult {
  deleted: { interactions: number; predictions: number; warehouseInteractions: number; warehousePredictions: number };
  /** The warehouse refused for now (BigQuery's streaming buffer): call forget again later. */
  warehousePending: boolean;
}
