// The simulator's internal records, one set per POS system. Money is in minor units (cents)
// and times are epoch milliseconds; the wire modules turn these into each vendor's JSON.
// Records are plain data so a dataset can be compared for determinism with a deep equal.

/** A real-world person behind customer records; `presence` says which systems know them. */
export interface SimPerson {
  key: string;
  firstName: string;
  lastName: string;
  /** Lowercase canonical address, or undefined when the person gave none. */
  email?: string;
  /** E.164 canonical number, or undefined when the person gave none. */
  phoneE164?: string;
  presence: 'square' | 'lightspeed' | 'both';
  squareCustomerId?: string;
  lightspeedCustomerId?: string;
}

// ---- Square ----

export interface SquareLocationRecord {
  id: string;
  name: string;
  isMain: boolean;
  timezone: string;
  currency: string;
  createdAt: number;
  addressLine1: string;
  locality: string;
}

export interface SquareCustomerRecord {
  id: string;
  personKey?: string;
  givenName: string;
  familyName: string;
  emailAddress?: string;
  phoneNumber?: string;
  referenceId?: string;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type SquareCatalogType = 'ITEM' | 'ITEM_VARIATION' | 'CATEGORY';

export interface SquareCatalogRecord {
  id: string;
  type: SquareCatalogType;
  updatedAt: number;
  version: number;
  isDeleted: boolean;
  category?: { name: string };
  item?: { name: string; description: string; categoryId?: string };
  variation?: { itemId: string; name: string; sku: string; priceCents: number };
}

export type SquarePaymentStatus = 'APPROVED' | 'PENDING' | 'COMPLETED' | 'CANCELED' | 'FAILED';

export interface SquarePaymentRecord {
  id: string;
  locationId: string;
  orderId: string;
  customerId?: string;
  createdAt: number;
  updatedAt: number;
  status: SquarePaymentStatus;
  sourceType: 'CARD' | 'CASH' | 'EXTERNAL';
  card?: { brand: string; last4: string };
  currency: string;
  amountCents: number;
  tipCents: number;
  refundedCents: number;
  refundIds: string[];
  receiptNumber: string;
}

export type SquareRefundStatus = 'PENDING' | 'COMPLETED' | 'REJECTED' | 'FAILED';

export interface SquareRefundRecord {
  id: string;
  paymentId: string;
  locationId: string;
  orderId: string;
  status: SquareRefundStatus;
  currency: string;
  amountCents: number;
  reason: string;
  createdAt: number;
  updatedAt: number;
}

export interface SquareDataset {
  locations: SquareLocationRecord[];
  customers: SquareCustomerRecord[];
  catalog: SquareCatalogRecord[];
  payments: SquarePaymentRecord[];
  refunds: SquareRefundRecord[];
}

// ---- Lightspeed Retail (R-Series) ----

export interface LightspeedShopRecord {
  shopId: number;
  name: string;
  timeZone: string;
  registerIds: number[];
  createdAt: number;
  updatedAt: number;
}

export interface LightspeedItemRecord {
  itemId: number;
  systemSku: string;
  customSku: string;
  upc: string;
  description: string;
  defaultCostCents: number;
  categoryId: number;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
  prices: Array<{ useType: 'Default' | 'MSRP' | 'Online'; amountCents: number }>;
}

export interface LightspeedCustomerRecord {
  customerId: number;
  personKey?: string;
  firstName: string;
  lastName: string;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
  emails: Array<{ address: string; useType: 'Primary' | 'Secondary' }>;
  phones: Array<{ number: string; useType: 'Mobile' | 'Home' | 'Work' }>;
}

export interface LightspeedSaleLineRecord {
  saleLineId: number;
  itemId: number;
  /** Negative on a return line. */
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  createdAt: number;
}

export interface LightspeedSaleRecord {
  saleId: number;
  shopId: number;
  registerId: number;
  employeeId: number;
  /** 0 when the sale has no customer, as Lightspeed does. */
  customerId: number;
  createdAt: number;
  updatedAt: number;
  completedAt?: number;
  completed: boolean;
  voided: boolean;
  archived: boolean;
  subtotalCents: number;
  discountCents: number;
  tax1Cents: number;
  totalCents: number;
  /** The sale this one returns goods from, when it is a return (internal; not on the wire). */
  returnOfSaleId?: number;
  lines: LightspeedSaleLineRecord[];
}

export interface LightspeedDataset {
  shops: LightspeedShopRecord[];
  items: LightspeedItemRecord[];
  customers: LightspeedCustomerRecord[];
  sales: LightspeedSaleRecord[];
}

export interface PosDataset {
  seed: string;
  startAt: number;
  endAt: number;
  people: SimPerson[];
  square: SquareDataset;
  lightspeed: LightspeedDataset;
}
