// The warehouse `purchases` row, built in one place for every writer (POS ingestion and the
// memory API's purchases from outside the POS systems), from the one transaction shape.
import type { WarehouseRow } from './warehouse.port.js';

export interface PurchaseItem {
  itemId: string | null;
  sku: string | null;
  name: string | null;
  category: string | null;
  quantity: number;
  unitPrice: number;
}

/** A transaction in the one shape every source maps to (amounts in major units). */
export interface NormalizedTransaction {
  transactionId: string;
  orderId: string | null;
  /** Linked profile, or null when the transaction names no customer. */
  customerId: string | null;
  /** The source's customer id, namespaced by account; null when none is named. */
  sourceCustomerId: string | null;
  occurredAt: Date;
  status: 'completed' | 'pending' | 'voided' | 'failed' | 'returned';
  amount: number;
  refundedAmount: number;
  currency: string;
  items: PurchaseItem[];
  locationId: string | null;
  updatedAt: Date;
}

/** Units bought (return lines, with negative quantities, do not count). */
export function itemCount(items: readonly { quantity: number }[]): number {
  return items.reduce((n, i) => n + Math.max(0, i.quantity), 0);
}

export function purchaseRow(businessId: string, source: string, t: NormalizedTransaction, ingestedAt: Date): WarehouseRow {
  return {
    business_id: businessId,
    source,
    transaction_id: t.transactionId,
    order_id: t.orderId,
    customer_id: t.customerId,
    source_customer_id: t.sourceCustomerId,
    purchased_at: t.occurredAt,
    status: t.status,
    amount: t.amount,
    refunded_amount: t.refundedAmount,
    currency: t.currency,
    item_count: itemCount(t.items),
    items: t.items.map((i) => ({ ...i })),
    location_id: t.locationId,
    updated_at: t.updatedAt,
    ingested_at: ingestedAt,
  };
}
