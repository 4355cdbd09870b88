// Lightspeed R-Series JSON with its documented quirks (POS-APIS.md, "Quirks"): every value is a
// string (`"completed":"true"`, `"calcTotal":"317.1"`), money is a decimal string in currency
// units with no trailing zeros, a relation holding one record is an object rather than an
// array, and an empty relation is "". The same rule applies to the top-level list: one record
// is an object, none leaves the key out. Timestamps are UTC, `+00:00`.
import type { LightspeedCustomerRecord, LightspeedItemRecord, LightspeedSaleRecord, LightspeedShopRecord } from '../data/sim-model.js';
import type { MalformedKind } from '../faults.js';

export type Json = Record<string, unknown>;

export const lsTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
export const lsBool = (b: boolean): string => (b ? 'true' : 'false');

/** 31710 → "317.1", 2500 → "25", -550 → "-5.5": exact, no floating point. */
export function lsMoney(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  const whole = Math.floor(abs / 100);
  const fraction = String(abs % 100).padStart(2, '0').replace(/0+$/, '');
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/** `{ [name]: record }` for one, `{ [name]: [...] }` for several, `""` for none. */
export function relation(name: string, records: Json[]): Json | '' {
  if (records.length === 0) return '';
  return { [name]: records.length === 1 ? records[0] : records };
}

export function listBody(entity: string, rows: Json[], attributes: Json): Json {
  return { '@attributes': attributes, ...(rows.length === 0 ? {} : { [entity]: rows.length === 1 ? rows[0] : rows }) };
}

export function shopToWire(s: LightspeedShopRecord): Json {
  return {
    shopID: String(s.shopId),
    name: s.name,
    serviceRate: '0',
    timeZone: s.timeZone,
    taxLabor: 'false',
    labelTitle: 'Shop Name',
    archived: 'false',
    timeStamp: lsTime(s.updatedAt),
    Registers: relation('Register', s.registerIds.map((id) => ({ registerID: String(id), name: `Register ${id}`, shopID: String(s.shopId) }))),
  };
}

export function itemToWire(i: LightspeedItemRecord): Json {
  return {
    itemID: String(i.itemId),
    systemSku: i.systemSku,
    defaultCost: lsMoney(i.defaultCostCents),
    avgCost: lsMoney(i.defaultCostCents),
    discountable: 'true',
    tax: 'true',
    archived: lsBool(i.archived),
    itemType: 'default',
    serialized: 'false',
    description: i.description,
    modelYear: '0',
    upc: i.upc,
    ean: '',
    customSku: i.customSku,
    manufacturerSku: '',
    createTime: lsTime(i.createdAt),
    timeStamp: lsTime(i.updatedAt),
    categoryID: String(i.categoryId),
    taxClassID: '1',
    departmentID: '0',
    itemMatrixID: '0',
    manufacturerID: '0',
    seasonID: '0',
    defaultVendorID: '0',
    Prices: relation(
      'ItemPrice',
      i.prices.map((p) => ({ amount: lsMoney(p.amountCents), useTypeID: String(['Default', 'MSRP', 'Online'].indexOf(p.useType) + 1), useType: p.useType })),
    ),
  };
}

export function customerToWire(c: LightspeedCustomerRecord): Json {
  return {
    customerID: String(c.customerId),
    firstName: c.firstName,
    lastName: c.lastName,
    archived: lsBool(c.archived),
    title: '',
    company: '',
    createTime: lsTime(c.createdAt),
    timeStamp: lsTime(c.updatedAt),
    creditAccountID: '0',
    customerTypeID: '0',
    discountID: '0',
    taxCategoryID: '0',
    Contact: {
      contactID: String(c.customerId),
      custom: '',
      noEmail: lsBool(c.emails.length === 0),
      noPhone: lsBool(c.phones.length === 0),
      noMail: 'true',
      Addresses: '',
      Phones: relation('ContactPhone', c.phones.map((p) => ({ number: p.number, useType: p.useType }))),
      Emails: relation('ContactEmail', c.emails.map((e) => ({ address: e.address, useType: e.useType }))),
      Websites: '',
      timeStamp: lsTime(c.updatedAt),
    },
  };
}

export interface SaleRelations {
  saleLines: boolean;
  saleLineItems: boolean;
  customer: boolean;
  item(itemId: number): LightspeedItemRecord | undefined;
  customerById(customerId: number): LightspeedCustomerRecord | undefined;
}

export function saleToWire(s: LightspeedSaleRecord, rel: SaleRelations): Json {
  const taxable = s.subtotalCents - s.discountCents;
  const out: Json = {
    saleID: String(s.saleId),
    timeStamp: lsTime(s.updatedAt),
    discountPercent: '0',
    completed: lsBool(s.completed),
    archived: lsBool(s.archived),
    voided: lsBool(s.voided),
    enablePromotions: 'true',
    isTaxInclusive: 'false',
    createTime: lsTime(s.createdAt),
    updatetime: lsTime(s.updatedAt),
    ...(s.completedAt !== undefined ? { completeTime: lsTime(s.completedAt) } : {}),
    referenceNumber: '',
    referenceNumberSource: '',
    tax1Rate: '0.085',
    tax2Rate: '0',
    change: '0',
    receiptPreference: 'printed',
    displayableSubtotal: lsMoney(s.subtotalCents),
    ticketNumber: `22000000${String(s.saleId).padStart(4, '0')}`,
    calcDiscount: lsMoney(s.discountCents),
    calcTotal: lsMoney(s.totalCents),
    calcSubtotal: lsMoney(s.subtotalCents),
    calcTaxable: lsMoney(taxable),
    calcNonTaxable: '0',
    calcAvgCost: '0',
    calcFIFOCost: '0',
    calcTax1: lsMoney(s.tax1Cents),
    calcTax2: '0',
    calcPayments: lsMoney(s.completed && !s.voided ? s.totalCents : 0),
    total: lsMoney(s.totalCents),
    totalDue: lsMoney(s.totalCents),
    displayableTotal: lsMoney(s.totalCents),
    balance: '0',
    customerID: String(s.customerId),
    discountID: '0',
    employeeID: String(s.employeeId),
    quoteID: '0',
    registerID: String(s.registerId),
    shipToID: '0',
    shopID: String(s.shopId),
    taxCategoryID: '1',
  };
  if (rel.customer) {
    const customer = s.customerId === 0 ? undefined : rel.customerById(s.customerId);
    out.Customer = customer ? customerToWire(customer) : '';
  }
  if (rel.saleLines) {
    out.SaleLines = relation(
      'SaleLine',
      s.lines.map((l) => {
        const item = rel.saleLineItems ? rel.item(l.itemId) : undefined;
        return {
          saleLineID: String(l.saleLineId),
          createTime: lsTime(l.createdAt),
          timeStamp: lsTime(s.updatedAt),
          unitQuantity: String(l.quantity),
          unitPrice: lsMoney(l.unitPriceCents),
          normalUnitPrice: '0',
          discountAmount: '0',
          discountPercent: '0',
          avgCost: '0',
          fifoCost: '0',
          tax: 'true',
          tax1Rate: '0.085',
          tax2Rate: '0',
          isLayaway: 'false',
          isWorkorder: 'false',
          isSpecialOrder: 'false',
          displayableSubtotal: lsMoney(l.totalCents),
          displayableUnitPrice: lsMoney(l.unitPriceCents),
          calcLineDiscount: '0',
          calcTransactionDiscount: '0',
          calcTotal: lsMoney(l.totalCents),
          calcSubtotal: lsMoney(l.totalCents),
          calcTax1: lsMoney(Math.round(l.totalCents * 0.085)),
          calcTax2: '0',
          taxClassID: '1',
          customerID: String(s.customerId),
          discountID: '0',
          employeeID: String(s.employeeId),
          itemID: String(l.itemId),
          noteID: '0',
          parentSaleLineID: '0',
          shopID: String(s.shopId),
          saleID: String(s.saleId),
          ...(item ? { Item: itemToWire(item) } : {}),
        };
      }),
    );
  }
  return out;
}

/** Breaks one field of an otherwise valid record, for the malformed-rows fault. */
export function corruptLightspeedRecord(resource: string, json: Json, kind: MalformedKind): Json {
  const out = { ...json };
  const missing = kind === 'missing_field';
  switch (resource) {
    case 'Sale':
      if (missing) delete out.timeStamp;
      else out.calcTotal = 'N/A';
      break;
    case 'Item':
      if (missing) delete out.Prices;
      else out.defaultCost = 'abc';
      break;
    case 'Customer':
      if (missing) delete out.createTime;
      else out.timeStamp = 'not-a-timestamp';
      break;
    case 'Shop':
      if (missing) delete out.name;
      else out.timeStamp = 'not-a-timestamp';
      break;
  }
  return out;
}
