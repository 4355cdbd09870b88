// The Lightspeed account's state at runtime: the generated records plus what tests add (a new
// sale, a return, a void, an edited customer). Every change is a new revision that readers see
// only after the configured consistency delay, and moves the record's `timeStamp`. A return is
// a new sale with negative quantities, as R-Series records it. Throws plain Errors on
// impossible requests (these come from test code, not HTTP).
import { saleTotals } from '../data/generate-lightspeed.js';
import type {
  LightspeedCustomerRecord,
  LightspeedDataset,
  LightspeedItemRecord,
  LightspeedSaleRecord,
  LightspeedShopRecord,
} from '../data/sim-model.js';
import type { SimClock } from '../sim-clock.js';
import { VersionedTable } from '../versioned-table.js';

export interface NewLightspeedSale {
  /** 0 or absent: a walk-in sale without a customer. */
  customerId?: number;
  shopId?: number;
  /** Default: one unit of the first item that is not archived. */
  lines?: Array<{ itemId: number; quantity: number }>;
  completed?: boolean;
}

export type LightspeedCustomerPatch = Partial<Pick<LightspeedCustomerRecord, 'firstName' | 'lastName' | 'archived' | 'emails' | 'phones'>>;

export class LightspeedStore {
  readonly shops: LightspeedShopRecord[];
  readonly items = new VersionedTable<LightspeedItemRecord>((i) => String(i.itemId));
  readonly customers = new VersionedTable<LightspeedCustomerRecord>((c) => String(c.customerId));
  readonly sales = new VersionedTable<LightspeedSaleRecord>((s) => String(s.saleId));
  private nextSaleId: number;
  private nextSaleLineId: number;
  private nextCustomerId: number;

  constructor(
    data: LightspeedDataset,
    private readonly clock: SimClock,
    private readonly consistencyDelayMs: () => number,
  ) {
    this.shops = data.shops.map((s) => structuredClone(s));
    for (const i of data.items) this.items.put(structuredClone(i));
    for (const c of data.customers) this.customers.put(structuredClone(c));
    for (const s of data.sales) this.sales.put(structuredClone(s));
    this.nextSaleId = Math.max(0, ...data.sales.map((s) => s.saleId)) + 1;
    this.nextSaleLineId = Math.max(0, ...data.sales.flatMap((s) => s.lines.map((l) => l.saleLineId))) + 1;
    this.nextCustomerId = Math.max(0, ...data.customers.map((c) => c.customerId)) + 1;
  }

  /** Registers across all shops: the bucket grows by 10 for each one after the first. */
  get registerCount(): number {
    return this.shops.reduce((n, s) => n + s.registerIds.length, 0);
  }

  /** Rings up a sale now. */
  addSale(input: NewLightspeedSale = {}): LightspeedSaleRecord {
    const shop = input.shopId === undefined ? this.shops[0] : this.shops.find((s) => s.shopId === input.shopId);
    if (!shop) throw new Error(`no shop ${input.shopId}`);
    const customerId = input.customerId ?? 0;
    if (customerId !== 0 && !this.customers.latest(String(customerId))) throw new Error(`no customer ${customerId}`);
    const defaultItem = this.items.listLatest().find((i) => !i.archived);
    const lines = input.lines ?? (defaultItem ? [{ itemId: defaultItem.itemId, quantity: 1 }] : []);
    return this.putSale(shop, customerId, lines, input.completed ?? true);
  }

  /** Returns goods from an earlier sale now: a new sale with negative quantities. */
  returnSale(saleId: number, lines?: Array<{ itemId: number; quantity: number }>): LightspeedSaleRecord {
    const original = this.sales.latest(String(saleId));
    if (!original) throw new Error(`no sale ${saleId}`);
    const shop = this.shops.find((s) => s.shopId === original.shopId) as LightspeedShopRecord;
    const returned = lines ?? original.lines.slice(0, 1).map((l) => ({ itemId: l.itemId, quantity: -Math.abs(l.quantity) }));
    const sale = this.putSale(shop, original.customerId, returned.map((l) => ({ ...l, quantity: -Math.abs(l.quantity) })), true, saleId);
    return sale;
  }

  /** Voids a sale now: `voided` becomes true and its timeStamp moves. */
  voidSale(saleId: number): LightspeedSaleRecord {
    const sale = this.sales.latest(String(saleId));
    if (!sale) throw new Error(`no sale ${saleId}`);
    const now = this.clock.now();
    const updated = { ...sale, voided: true, updatedAt: Math.max(now, sale.updatedAt + 1000) };
    this.sales.put(updated, this.visibleAt(now));
    return updated;
  }

  addCustomer(input: Pick<LightspeedCustomerRecord, 'firstName' | 'lastName'> & LightspeedCustomerPatch): LightspeedCustomerRecord {
    const now = this.clock.now();
    const customer: LightspeedCustomerRecord = {
      customerId: this.nextCustomerId++,
      archived: false,
      emails: [],
      phones: [],
      ...input,
      createdAt: now,
      updatedAt: now,
    };
    this.customers.put(customer, this.visibleAt(now));
    return customer;
  }

  updateCustomer(customerId: number, patch: LightspeedCustomerPatch): LightspeedCustomerRecord {
    const customer = this.customers.latest(String(customerId));
    if (!customer) throw new Error(`no customer ${customerId}`);
    const now = this.clock.now();
    const updated = { ...customer, ...patch, updatedAt: Math.max(now, customer.updatedAt + 1000) };
    this.customers.put(updated, this.visibleAt(now));
    return updated;
  }

  updateItem(itemId: number, change: { description?: string; defaultPriceCents?: number; archived?: boolean }): LightspeedItemRecord {
    const item = this.items.latest(String(itemId));
    if (!item) throw new Error(`no item ${itemId}`);
    const now = this.clock.now();
    const updated = structuredClone(item);
    updated.updatedAt = Math.max(now, item.updatedAt + 1000);
    if (change.description !== undefined) updated.description = change.description;
    if (change.archived !== undefined) updated.archived = change.archived;
    if (change.defaultPriceCents !== undefined) {
      updated.prices = updated.prices.map((p) => (p.useType === 'Default' ? { ...p, amountCents: change.defaultPriceCents as number } : p));
    }
    this.items.put(updated, this.visibleAt(now));
    return updated;
  }

  private putSale(
    shop: LightspeedShopRecord,
    customerId: number,
    lines: Array<{ itemId: number; quantity: number }>,
    completed: boolean,
    returnOfSaleId?: number,
  ): LightspeedSaleRecord {
    const now = this.clock.now();
    const priced = lines.map((l) => {
      const item = this.items.latest(String(l.itemId));
      if (!item) throw new Error(`no item ${l.itemId}`);
      return { ...l, unitPriceCents: item.prices.find((p) => p.useType === 'Default')?.amountCents ?? 0 };
    });
    const sale: LightspeedSaleRecord = {
      saleId: this.nextSaleId++,
      shopId: shop.shopId,
      registerId: shop.registerIds[0] ?? 1,
      employeeId: 1,
      customerId,
      createdAt: now,
      updatedAt: now,
      ...(completed ? { completedAt: now } : {}),
      completed,
      voided: false,
      archived: false,
      ...saleTotals(priced, 0),
      ...(returnOfSaleId !== undefined ? { returnOfSaleId } : {}),
      lines: priced.map((l) => ({
        saleLineId: this.nextSaleLineId++,
        itemId: l.itemId,
        quantity: l.quantity,
        unitPriceCents: l.unitPriceCents,
        totalCents: l.quantity * l.unitPriceCents,
        createdAt: now,
      })),
    };
    this.sales.put(sale, this.visibleAt(now));
    return sale;
  }

  private visibleAt(now: number): number {
    return now + this.consistencyDelayMs();
  }
}
