// Lightspeed R-Series JSON → typed, normalised records, undoing the documented quirks
// (POS-APIS.md, "Quirks"): every value is a string ("true"/"false" become booleans, decimal
// strings numbers), a relation holding one record is an object (it becomes an array of one), an
// empty relation is "" (it becomes []). Money becomes integer minor units at two decimals
// (`"317.1"` → 31710), exact, with no floating point; the account currency is not on the records.
// Timestamps become UTC ISO-8601 strings (`…Z`). Ids stay strings (they are names, not
// quantities), and the "0" Lightspeed uses for "none" (customerID, categoryID) becomes null.
// Reasons name the field and never quote its value (it could be personal data).
import { z } from 'zod';
import { parseWith, readId, type ParseResult } from '../http/parse-result.js';

// ---- scalar quirks ----

/** A field sent as text, converted by `convert` (undefined = not convertible). */
function textual<T>(expected: string, convert: (text: string) => T | undefined) {
  return z.unknown().transform((value, ctx): T => {
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: 'missing' });
      return z.NEVER;
    }
    // Lightspeed sends strings; a number or boolean in their place is read the same way.
    const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    const out = text === undefined ? undefined : convert(text.trim());
    if (out === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${expected}` });
      return z.NEVER;
    }
    return out;
  });
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/i;

const bool = textual('"true" or "false"', (t) => (t === 'true' ? true : t === 'false' ? false : undefined));
const decimal = textual('a decimal number', (t) => (/^-?\d+(\.\d+)?$/.test(t) ? Number(t) : undefined));
const minor = textual('a decimal amount', decimalToMinor);
const timestamp = textual('an ISO 8601 timestamp', (t) => (ISO_8601.test(t) && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined));
const optionalTimestamp = textual('an ISO 8601 timestamp or ""', (t) => {
  if (t === '') return null;
  return ISO_8601.test(t) && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : undefined;
})
  .optional()
  .transform((v) => v ?? null);
const id = textual('a numeric id', (t) => (/^\d+$/.test(t) && t !== '0' ? t : undefined));
/** An id where "0" means none. */
const optionalId = textual('a numeric id', (t) => (t === '0' || t === '' ? null : /^\d+$/.test(t) ? t : undefined))
  .optional()
  .transform((v) => v ?? null);
const text = z.string();
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? null : v));

/**
 * `"317.1"` → 31710, `"-5.5"` → −550, `"2.125"` → 213 (half away from zero), from the digits so
 * no binary fraction creeps in. Undefined for anything that is not a plain decimal.
 */
export function decimalToMinor(text: string, digits = 2): number | undefined {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const fraction = match[3] ?? '';
  let value = Number(match[2]) * 10 ** digits + Number(fraction.slice(0, digits).padEnd(digits, '0'));
  if ((fraction[digits] ?? '0') >= '5') value += 1;
  if (!Number.isSafeInteger(value)) return undefined;
  return match[1] && value !== 0 ? -value : value;
}

// ---- relation quirks ----

/**
 * A relation `{ [key]: record | record[] }`, or "" when empty, as an array. Absent → [] too, so
 * make the relation `.optional()` yourself where absent must mean "not loaded".
 */
function relation<T>(key: string, item: z.ZodType<T>) {
  const list = z.preprocess((v): unknown[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? (v as unknown[]) : [v]), z.array(item));
  return z.preprocess((v) => (v === '' ? {} : v), z.object({ [key]: list })).transform((o) => o[key] as T[]);
}

// ---- Item ----

const itemPriceSchema = z.object({ amount: minor, useType: text }).transform((p) => ({ useType: p.useType, amountMinor: p.amount }));

const itemSchema = z
  .object({
    itemID: id,
    systemSku: optionalText,
    customSku: optionalText,
    upc: optionalText,
    description: text,
    defaultCost: minor,
    categoryID: optionalId,
    archived: bool,
    createTime: optionalTimestamp,
    timeStamp: timestamp,
    Prices: relation('ItemPrice', itemPriceSchema),
  })
  .transform((i) => ({
    itemId: i.itemID,
    systemSku: i.systemSku,
    customSku: i.customSku,
    upc: i.upc,
    description: i.description,
    defaultCostMinor: i.defaultCost,
    categoryId: i.categoryID,
    archived: i.archived,
    createTime: i.createTime,
    timeStamp: i.timeStamp,
    /** Default, MSRP, Online…: every price the item has. */
    prices: i.Prices,
    /** The `Default` price, the one a sale rings up; null when the item has none. */
    defaultPriceMinor: i.Prices.find((p) => p.useType === 'Default')?.amountMinor ?? null,
  }));

export type LightspeedItem = z.output<typeof itemSchema>;

// ---- Customer ----

const contactSchema = z.object({
  Emails: relation('ContactEmail', z.object({ address: text, useType: optionalText })),
  Phones: relation('ContactPhone', z.object({ number: text, useType: optionalText })),
});

const customerSchema = z
  .object({
    customerID: id,
    firstName: optionalText,
    lastName: optionalText,
    archived: bool,
    createTime: timestamp,
    timeStamp: timestamp,
    // Customer.json sends Contact only when loaded (load_relations=["Contact"]).
    Contact: z.preprocess((v) => (v === '' ? undefined : v), contactSchema.optional()),
  })
  .transform((c) => ({
    customerId: c.customerID,
    firstName: c.firstName,
    lastName: c.lastName,
    archived: c.archived,
    createTime: c.createTime,
    timeStamp: c.timeStamp,
    /** False when the Contact relation was not in the response: empty lists then mean "unknown". */
    contactLoaded: c.Contact !== undefined,
    // As Lightspeed holds them: normalising case and phone format is identity linking's job.
    emails: c.Contact?.Emails ?? [],
    phones: c.Contact?.Phones ?? [],
  }));

export type LightspeedCustomer = z.output<typeof customerSchema>;

// ---- Sale ----

const saleLineSchema = z
  .object({
    saleLineID: id,
    itemID: optionalId,
    unitQuantity: decimal,
    unitPrice: minor,
    calcTotal: minor,
    Item: itemSchema.optional(),
  })
  .transform((l) => ({
    saleLineId: l.saleLineID,
    /** Null for a line not tied to an item (a miscellaneous charge). */
    itemId: l.itemID,
    /** Negative on a return. */
    unitQuantity: l.unitQuantity,
    unitPriceMinor: l.unitPrice,
    calcTotalMinor: l.calcTotal,
    /** Present when loaded with `SaleLines.Item`. */
    item: l.Item ?? null,
  }));

export type LightspeedSaleLine = z.output<typeof saleLineSchema>;

const saleSchema = z
  .object({
    saleID: id,
    timeStamp: timestamp,
    createTime: timestamp,
    updatetime: optionalTimestamp,
    completeTime: optionalTimestamp,
    completed: bool,
    voided: bool,
    archived: bool,
    calcTotal: minor,
    calcSubtotal: minor,
    calcTax1: minor,
    calcDiscount: minor,
    total: minor,
    customerID: optionalId,
    shopID: id,
    registerID: optionalId,
    SaleLines: relation('SaleLine', saleLineSchema).optional(),
    // "" when the sale has no customer; a customer that fails to parse fails the sale.
    Customer: z.preprocess((v) => (v === '' ? undefined : v), customerSchema.optional()),
  })
  .transform((s) => ({
    saleId: s.saleID,
    timeStamp: s.timeStamp,
    createTime: s.createTime,
    updateTime: s.updatetime,
    completeTime: s.completeTime,
    completed: s.completed,
    voided: s.voided,
    archived: s.archived,
    calcTotalMinor: s.calcTotal,
    calcSubtotalMinor: s.calcSubtotal,
    calcTax1Minor: s.calcTax1,
    calcDiscountMinor: s.calcDiscount,
    totalMinor: s.total,
    /** Null for a walk-in sale (customerID "0"). */
    customerId: s.customerID,
    shopId: s.shopID,
    registerId: s.registerID,
    /** Null when SaleLines was not loaded; [] when loaded and empty. */
    saleLines: s.SaleLines ?? null,
    /** Null when the Customer relation was not loaded or the sale has no customer. */
    customer: s.Customer ?? null,
  }));

export type LightspeedSale = z.output<typeof saleSchema>;

// ---- entry point ----

export interface LightspeedRecordTypes {
  sale: LightspeedSale;
  item: LightspeedItem;
  customer: LightspeedCustomer;
}

export type LightspeedRecordKind = keyof LightspeedRecordTypes;

const PARSERS: { [K in LightspeedRecordKind]: (raw: unknown) => ParseResult<LightspeedRecordTypes[K]> } = {
  sale: (raw) => parseWith(saleSchema, raw, (r) => readId(r, 'saleID')),
  item: (raw) => parseWith(itemSchema, raw, (r) => readId(r, 'itemID')),
  customer: (raw) => parseWith(customerSchema, raw, (r) => readId(r, 'customerID')),
};

/** Parses one raw record of `kind` (a Sale.json, Item.json or Customer.json entry); never throws. */
export function parseLightspeedRecord<K extends LightspeedRecordKind>(kind: K, raw: unknown): ParseResult<LightspeedRecordTypes[K]> {
  return PARSERS[kind](raw);
}
