// The Square account's state at runtime: the generated records plus whatever tests add (a
// refund issued now, a new payment, an edited customer). Every change is a new revision that
// readers see only after the configured consistency delay; `updated_at` moves, `created_at`
// never does. Throws plain Errors on impossible requests (these come from test code, not HTTP).
import type { Prng } from '../data/prng.js';
import type {
  SquareCatalogRecord,
  SquareCustomerRecord,
  SquareDataset,
  SquareLocationRecord,
  SquarePaymentRecord,
  SquareRefundRecord,
  SquareRefundStatus,
} from '../data/sim-model.js';
import type { SimClock } from '../sim-clock.js';
import { VersionedTable } from '../versioned-table.js';

export interface NewSquarePayment {
  locationId?: string;
  customerId?: string;
  amountCents?: number;
  tipCents?: number;
  sourceType?: SquarePaymentRecord['sourceType'];
  status?: SquarePaymentRecord['status'];
}

export interface NewSquareRefund {
  /** Default: the oldest completed payment with nothing refunded yet. */
  paymentId?: string;
  /** Default: everything not yet refunded. */
  amountCents?: number;
  reason?: string;
  status?: SquareRefundStatus;
}

export type SquareCustomerPatch = Partial<Pick<SquareCustomerRecord, 'givenName' | 'familyName' | 'emailAddress' | 'phoneNumber' | 'referenceId'>>;

export class SquareStore {
  readonly locations: SquareLocationRecord[];
  readonly customers = new VersionedTable<SquareCustomerRecord>((c) => c.id);
  readonly catalog = new VersionedTable<SquareCatalogRecord>((c) => c.id);
  readonly payments = new VersionedTable<SquarePaymentRecord>((p) => p.id);
  readonly refunds = new VersionedTable<SquareRefundRecord>((r) => r.id);

  constructor(
    data: SquareDataset,
    private readonly clock: SimClock,
    private readonly consistencyDelayMs: () => number,
    private readonly ids: Prng,
  ) {
    this.locations = data.locations.map((l) => ({ ...l }));
    for (const c of data.customers) this.customers.put(structuredClone(c));
    for (const c of data.catalog) this.catalog.put(structuredClone(c));
    for (const p of data.payments) this.payments.put(structuredClone(p));
    for (const r of data.refunds) this.refunds.put(structuredClone(r));
  }

  get mainLocation(): SquareLocationRecord {
    return this.locations.find((l) => l.isMain) ?? (this.locations[0] as SquareLocationRecord);
  }

  /** Issues a refund now for an earlier payment: the payment's `updated_at` moves to now. */
  issueRefund(input: NewSquareRefund = {}): { refund: SquareRefundRecord; payment: SquarePaymentRecord } {
    const payment = input.paymentId
      ? this.payments.latest(input.paymentId)
      : this.payments
          .listLatest()
          .filter((p) => p.status === 'COMPLETED' && p.refundedCents === 0)
          .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))[0];
    if (!payment) throw new Error(input.paymentId ? `no payment ${input.paymentId}` : 'no completed payment left to refund');
    if (payment.status !== 'COMPLETED') throw new Error(`payment ${payment.id} is ${payment.status}; only COMPLETED payments can be refunded`);
    const refundable = payment.amountCents + payment.tipCents - payment.refundedCents;
    const amount = input.amountCents ?? refundable;
    if (!Number.isInteger(amount) || amount < 1 || amount > refundable) {
      throw new Error(`refund amount must be an integer from 1 to ${refundable}`);
    }
    const now = this.clock.now();
    const refund: SquareRefundRecord = {
      id: `${payment.id}_${this.ids.mixedId(24)}`,
      paymentId: payment.id,
      locationId: payment.locationId,
      orderId: payment.orderId,
      status: input.status ?? 'COMPLETED',
      currency: payment.currency,
      amountCents: amount,
      reason: input.reason ?? 'Customer request',
      createdAt: now,
      updatedAt: now,
    };
    const updated: SquarePaymentRecord = {
      ...payment,
      refundedCents: payment.refundedCents + amount,
      refundIds: [...payment.refundIds, refund.id],
      updatedAt: Math.max(now, payment.updatedAt + 1),
    };
    this.refunds.put(refund, this.visibleAt(now));
    this.payments.put(updated, this.visibleAt(now));
    return { refund, payment: updated };
  }

  /** Takes a payment now (COMPLETED by default). */
  addPayment(input: NewSquarePayment = {}): SquarePaymentRecord {
    const location = input.locationId ? this.locations.find((l) => l.id === input.locationId) : this.mainLocation;
    if (!location) throw new Error(`no location ${input.locationId}`);
    if (input.customerId && !this.customers.latest(input.customerId)) throw new Error(`no customer ${input.customerId}`);
    const now = this.clock.now();
    const id = this.ids.mixedId(29);
    const sourceType = input.sourceType ?? 'CARD';
    const payment: SquarePaymentRecord = {
      id,
      locationId: location.id,
      orderId: this.ids.mixedId(29),
      ...(input.customerId ? { customerId: input.customerId } : {}),
      createdAt: now,
      updatedAt: now,
      status: input.status ?? 'COMPLETED',
      sourceType,
      ...(sourceType === 'CARD' ? { card: { brand: 'VISA', last4: '4242' } } : {}),
      currency: 'USD',
      amountCents: input.amountCents ?? 1250,
      tipCents: input.tipCents ?? 0,
      refundedCents: 0,
      refundIds: [],
      receiptNumber: id.slice(0, 4),
    };
    this.payments.put(payment, this.visibleAt(now));
    return payment;
  }

  /** Moves a payment to a new status now (capture APPROVED → COMPLETED, void → CANCELED). */
  setPaymentStatus(paymentId: string, status: SquarePaymentRecord['status']): SquarePaymentRecord {
    const payment = this.payments.latest(paymentId);
    if (!payment) throw new Error(`no payment ${paymentId}`);
    const now = this.clock.now();
    const updated = { ...payment, status, updatedAt: Math.max(now, payment.updatedAt + 1) };
    this.payments.put(updated, this.visibleAt(now));
    return updated;
  }

  addCustomer(input: Pick<SquareCustomerRecord, 'givenName' | 'familyName'> & SquareCustomerPatch): SquareCustomerRecord {
    const now = this.clock.now();
    const customer: SquareCustomerRecord = { ...input, id: this.ids.upperId(26), createdAt: now, updatedAt: now, version: 0 };
    this.customers.put(customer, this.visibleAt(now));
    return customer;
  }

  updateCustomer(customerId: string, patch: SquareCustomerPatch): SquareCustomerRecord {
    const customer = this.customers.latest(customerId);
    if (!customer) throw new Error(`no customer ${customerId}`);
    const now = this.clock.now();
    const updated = { ...customer, ...patch, updatedAt: Math.max(now, customer.updatedAt + 1), version: customer.version + 1 };
    this.customers.put(updated, this.visibleAt(now));
    return updated;
  }

  /** Renames an item or reprices a variation now; `version` and `updated_at` move. */
  updateCatalogObject(objectId: string, change: { name?: string; priceCents?: number; isDeleted?: boolean }): SquareCatalogRecord {
    const object = this.catalog.latest(objectId);
    if (!object) throw new Error(`no catalog object ${objectId}`);
    const now = this.clock.now();
    const updated: SquareCatalogRecord = structuredClone(object);
    updated.updatedAt = Math.max(now, object.updatedAt + 1);
    updated.version = Math.max(updated.updatedAt, object.version + 1);
    if (change.isDeleted !== undefined) updated.isDeleted = change.isDeleted;
    if (change.name !== undefined) {
      if (updated.item) updated.item.name = change.name;
      if (updated.variation) updated.variation.name = change.name;
      if (updated.category) updated.category.name = change.name;
    }
    if (change.priceCents !== undefined && updated.variation) updated.variation.priceCents = change.priceCents;
    this.catalog.put(updated, this.visibleAt(now));
    return updated;
  }

  private visibleAt(now: number): number {
    return now + this.consistencyDelayMs();
  }
}
