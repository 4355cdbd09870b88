// Square JSON shapes (POS-APIS.md, Square API v2): snake_case fields, RFC 3339 timestamps, money
// as `{ amount, currency }` in the smallest unit, absent fields omitted rather than null. The
// catalog's item category follows the Square-Version: `category_id` before 2023-12-13,
// `categories[]` from then on, so an ingester must read either. `corruptSquareRecord` makes the
// malformed rows of fault injection.
import type {
  SquareCatalogRecord,
  SquareCustomerRecord,
  SquareLocationRecord,
  SquarePaymentRecord,
  SquareRefundRecord,
} from '../data/sim-model.js';
import type { MalformedKind } from '../faults.js';

export type Json = Record<string, unknown>;

export const CATEGORIES_ARRAY_SINCE = '2023-12-13';
export const MERCHANT_ID = 'MLSIMULATOR0001';

export const rfc3339 = (ms: number): string => new Date(ms).toISOString();
const money = (amount: number, currency: string) => ({ amount, currency });

export function locationToWire(l: SquareLocationRecord): Json {
  return {
    id: l.id,
    name: l.name,
    address: { address_line_1: l.addressLine1, locality: l.locality, administrative_district_level_1: 'CA', postal_code: '94103', country: 'US' },
    timezone: l.timezone,
    capabilities: ['CREDIT_CARD_PROCESSING'],
    status: 'ACTIVE',
    created_at: rfc3339(l.createdAt),
    merchant_id: MERCHANT_ID,
    country: 'US',
    language_code: 'en-US',
    currency: l.currency,
    business_name: 'Simulated Coffee Co.',
    type: 'PHYSICAL',
  };
}

const CARD_STATUS: Record<SquarePaymentRecord['status'], string> = {
  APPROVED: 'AUTHORIZED',
  PENDING: 'AUTHORIZED',
  COMPLETED: 'CAPTURED',
  CANCELED: 'VOIDED',
  FAILED: 'FAILED',
};

export function paymentToWire(p: SquarePaymentRecord): Json {
  const total = p.amountCents + p.tipCents;
  return {
    id: p.id,
    created_at: rfc3339(p.createdAt),
    updated_at: rfc3339(p.updatedAt),
    amount_money: money(p.amountCents, p.currency),
    ...(p.tipCents > 0 ? { tip_money: money(p.tipCents, p.currency) } : {}),
    total_money: money(total, p.currency),
    approved_money: money(total, p.currency),
    ...(p.refundedCents > 0 ? { refunded_money: money(p.refundedCents, p.currency) } : {}),
    status: p.status,
    source_type: p.sourceType,
    ...(p.card
      ? {
          card_details: {
            status: CARD_STATUS[p.status],
            card: { card_brand: p.card.brand, last_4: p.card.last4, exp_month: 12, exp_year: 2030, card_type: 'CREDIT' },
            entry_method: 'EMV',
          },
        }
      : {}),
    ...(p.sourceType === 'CASH' ? { cash_details: { buyer_supplied_money: money(total, p.currency), change_back_money: money(0, p.currency) } } : {}),
    ...(p.sourceType === 'EXTERNAL' ? { external_details: { type: 'OTHER', source: 'Gift card' } } : {}),
    location_id: p.locationId,
    order_id: p.orderId,
    ...(p.customerId ? { customer_id: p.customerId } : {}),
    ...(p.refundIds.length > 0 ? { refund_ids: [...p.refundIds] } : {}),
    receipt_number: p.receiptNumber,
    receipt_url: `https://squareup.com/receipt/preview/${p.id}`,
    version_token: `v${p.updatedAt}`,
  };
}

export function refundToWire(r: SquareRefundRecord): Json {
  return {
    id: r.id,
    status: r.status,
    location_id: r.locationId,
    amount_money: money(r.amountCents, r.currency),
    payment_id: r.paymentId,
    order_id: r.orderId,
    reason: r.reason,
    created_at: rfc3339(r.createdAt),
    updated_at: rfc3339(r.updatedAt),
  };
}

export function customerToWire(c: SquareCustomerRecord): Json {
  return {
    id: c.id,
    created_at: rfc3339(c.createdAt),
    updated_at: rfc3339(c.updatedAt),
    given_name: c.givenName,
    family_name: c.familyName,
    ...(c.emailAddress ? { email_address: c.emailAddress } : {}),
    ...(c.phoneNumber ? { phone_number: c.phoneNumber } : {}),
    ...(c.referenceId ? { reference_id: c.referenceId } : {}),
    preferences: { email_unsubscribed: false },
    creation_source: 'THIRD_PARTY',
    version: c.version,
  };
}

/** One catalog object; an ITEM embeds its variations, as Square's list and search do. */
export function catalogToWire(o: SquareCatalogRecord, variationsOf: (itemId: string) => SquareCatalogRecord[], squareVersion: string): Json {
  const base = {
    type: o.type,
    id: o.id,
    updated_at: rfc3339(o.updatedAt),
    version: o.version,
    is_deleted: o.isDeleted,
    present_at_all_locations: true,
  };
  if (o.category) return { ...base, category_data: { name: o.category.name } };
  if (o.variation) {
    return {
      ...base,
      item_variation_data: {
        item_id: o.variation.itemId,
        name: o.variation.name,
        sku: o.variation.sku,
        pricing_type: 'FIXED_PRICING',
        price_money: money(o.variation.priceCents, 'USD'),
      },
    };
  }
  const item = o.item ?? { name: '', description: '' };
  const category =
    item.categoryId === undefined
      ? {}
      : squareVersion >= CATEGORIES_ARRAY_SINCE
        ? { categories: [{ id: item.categoryId, ordinal: 0 }] }
        : { category_id: item.categoryId };
  return {
    ...base,
    item_data: {
      name: item.name,
      description: item.description,
      ...category,
      variations: variationsOf(o.id).map((v) => catalogToWire(v, variationsOf, squareVersion)),
      product_type: 'REGULAR',
    },
  };
}

/** Breaks one field of an otherwise valid record, for the malformed-rows fault. */
export function corruptSquareRecord(resource: string, json: Json, kind: MalformedKind): Json {
  const out = { ...json };
  const missing = kind === 'missing_field';
  switch (resource) {
    case 'payments':
      if (missing) delete out.amount_money;
      else out.created_at = 'not-a-timestamp';
      break;
    case 'refunds':
      if (missing) delete out.payment_id;
      else out.amount_money = { amount: 'twelve', currency: 'USD' };
      break;
    case 'customers':
      if (missing) delete out.created_at;
      else out.updated_at = 'not-a-timestamp';
      break;
    case 'catalog':
      if (missing) delete out.type;
      else out.version = 'not-a-number';
      break;
  }
  return out;
}
