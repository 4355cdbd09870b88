// Square JSON → typed, normalised records (POS-APIS.md, "Square API v2"). Money stays in minor
// units (integers) with its currency; timestamps become UTC ISO-8601 strings (`…Z`), so they sort
// as text and compare across providers; absent optional fields become null. A record that does
// not fit gives a reason naming the field, so the ingester quarantines it and keeps the page.
import { z } from 'zod';
import { parseWith, readId, type ParseResult } from '../http/parse-result.js';

// ---- shared pieces ----

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 timestamp, normalised to `YYYY-MM-DDTHH:mm:ss.sssZ`. */
const timestamp = z
  .string()
  .refine((s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)), { message: 'expected an RFC 3339 timestamp' })
  .transform((s) => new Date(s).toISOString());

const id = z.string().min(1, { message: 'expected a non-empty string' });
const optionalText = z.string().nullish().transform((v) => (v === undefined || v === null || v === '' ? null : v));

const moneySchema = z.object({
  amount: z.number().int(),
  currency: z.string().regex(/^[A-Z]{3}$/, { message: 'expected an ISO 4217 currency code' }),
});
export type Money = z.infer<typeof moneySchema>;

// ---- payment ----

const paymentSchema = z
  .object({
    id,
    created_at: timestamp,
    updated_at: timestamp,
    amount_money: moneySchema,
    tip_money: moneySchema.nullish(),
    total_money: moneySchema,
    refunded_money: moneySchema.nullish(),
    status: z.string().min(1),
    source_type: optionalText,
    card_details: z
      .object({ card: z.object({ card_brand: optionalText, last_4: optionalText }).nullish() })
      .nullish(),
    location_id: id,
    order_id: optionalText,
    customer_id: optionalText,
    refund_ids: z.array(id).nullish(),
    receipt_number: optionalText,
  })
  .transform((p) => ({
    id: p.id,
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    amountMoney: p.amount_money,
    // Square leaves tip_money and refunded_money out when they are zero.
    tipMoney: p.tip_money ?? { amount: 0, currency: p.amount_money.currency },
    totalMoney: p.total_money,
    refundedMoney: p.refunded_money ?? { amount: 0, currency: p.amount_money.currency },
    status: p.status,
    sourceType: p.source_type,
    cardBrand: p.card_details?.card?.card_brand ?? null,
    cardLast4: p.card_details?.card?.last_4 ?? null,
    locationId: p.location_id,
    orderId: p.order_id,
    customerId: p.customer_id,
    refundIds: p.refund_ids ?? [],
    receiptNumber: p.receipt_number,
  }));

/** Status is APPROVED | PENDING | COMPLETED | CANCELED | FAILED today; kept as text so a new one is not a parse failure. */
export type SquarePayment = z.output<typeof paymentSchema>;

// ---- refund ----

const refundSchema = z
  .object({
    id,
    status: z.string().min(1),
    location_id: optionalText,
    amount_money: moneySchema,
    payment_id: id,
    order_id: optionalText,
    reason: optionalText,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .transform((r) => ({
    id: r.id,
    paymentId: r.payment_id,
    status: r.status,
    amountMoney: r.amount_money,
    locationId: r.location_id,
    orderId: r.order_id,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));

/** Status is PENDING | COMPLETED | REJECTED | FAILED today. */
export type SquareRefund = z.output<typeof refundSchema>;

// ---- catalog ----

const catalogBase = {
  id,
  updated_at: timestamp,
  version: z.number().int(),
  is_deleted: z.boolean().nullish(),
};

const variationData = z.object({
  item_id: id,
  name: optionalText,
  sku: optionalText,
  price_money: moneySchema.nullish(),
});

const variationSchema = z.object({ ...catalogBase, type: z.literal('ITEM_VARIATION'), item_variation_data: variationData }).transform((o) => ({
  type: 'ITEM_VARIATION' as const,
  id: o.id,
  updatedAt: o.updated_at,
  version: o.version,
  isDeleted: o.is_deleted ?? false,
  itemId: o.item_variation_data.item_id,
  name: o.item_variation_data.name,
  sku: o.item_variation_data.sku,
  /** Null for variable pricing (no fixed price). */
  priceMoney: o.item_variation_data.price_money ?? null,
}));

const itemSchema = z
  .object({
    ...catalogBase,
    type: z.literal('ITEM'),
    item_data: z.object({
      name: optionalText,
      description: optionalText,
      // Before Square-Version 2023-12-13 an item has `category_id`; from then on `categories[]`.
      category_id: optionalText,
      categories: z.array(z.object({ id })).nullish(),
      variations: z.array(variationSchema).nullish(),
    }),
  })
  .transform((o) => ({
    type: 'ITEM' as const,
    id: o.id,
    updatedAt: o.updated_at,
    version: o.version,
    isDeleted: o.is_deleted ?? false,
    name: o.item_data.name,
    description: o.item_data.description,
    /** Whichever way this Square-Version spelled it; empty when uncategorised. */
    categoryIds: o.item_data.categories ? o.item_data.categories.map((c) => c.id) : o.item_data.category_id ? [o.item_data.category_id] : [],
    variations: o.item_data.variations ?? [],
  }));

const categorySchema = z
  .object({ ...catalogBase, type: z.literal('CATEGORY'), category_data: z.object({ name: optionalText }) })
  .transform((o) => ({
    type: 'CATEGORY' as const,
    id: o.id,
    updatedAt: o.updated_at,
    version: o.version,
    isDeleted: o.is_deleted ?? false,
    name: o.category_data.name,
  }));

export type SquareCatalogItem = z.output<typeof itemSchema>;
export type SquareCatalogVariation = z.output<typeof variationSchema>;
export type SquareCatalogCategory = z.output<typeof categorySchema>;
export type SquareCatalogObject = SquareCatalogItem | SquareCatalogVariation | SquareCatalogCategory;

// ---- customer ----

const customerSchema = z
  .object({
    id,
    created_at: timestamp,
    updated_at: timestamp,
    given_name: optionalText,
    family_name: optionalText,
    email_address: optionalText,
    phone_number: optionalText,
    reference_id: optionalText,
    version: z.number().int().nullish(),
  })
  .transform((c) => ({
    id: c.id,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
    givenName: c.given_name,
    familyName: c.family_name,
    // As Square holds them: matching (lower-casing, E.164) is identity linking's job.
    emailAddress: c.email_address,
    phoneNumber: c.phone_number,
    referenceId: c.reference_id,
    version: c.version ?? 0,
  }));

export type SquareCustomer = z.output<typeof customerSchema>;

// ---- entry point ----

export interface SquareRecordTypes {
  payment: SquarePayment;
  refund: SquareRefund;
  catalog: SquareCatalogObject;
  customer: SquareCustomer;
}

export type SquareRecordKind = keyof SquareRecordTypes;

const idOf = (raw: unknown) => readId(raw, 'id');

function parseCatalogObject(raw: unknown): ParseResult<SquareCatalogObject> {
  // Dispatch on `type` first, so a bad ITEM reports its own field rather than three union branches.
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (type === undefined) return failure('type: missing', idOf(raw));
  switch (type) {
    case 'ITEM':
      return parseWith(itemSchema, raw, idOf);
    case 'ITEM_VARIATION':
      return parseWith(variationSchema, raw, idOf);
    case 'CATEGORY':
      return parseWith(categorySchema, raw, idOf);
    default:
      return failure(`type: unsupported catalog object type ${JSON.stringify(type)}`, idOf(raw));
  }
}

const PARSERS: { [K in SquareRecordKind]: (raw: unknown) => ParseResult<SquareRecordTypes[K]> } = {
  payment: (raw) => parseWith(paymentSchema, raw, idOf),
  refund: (raw) => parseWith(refundSchema, raw, idOf),
  catalog: parseCatalogObject,
  customer: (raw) => parseWith(customerSchema, raw, idOf),
};

/** Parses one raw record of `kind`; never throws. */
export function parseSquareRecord<K extends SquareRecordKind>(kind: K, raw: unknown): ParseResult<SquareRecordTypes[K]> {
  return PARSERS[kind](raw);
}

function failure(reason: string, id: string | undefined): { ok: false; reason: string; id?: string } {
  return { ok: false, reason, ...(id !== undefined ? { id } : {}) };
}
