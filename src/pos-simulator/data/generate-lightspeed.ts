// Lightspeed-side data: shops with registers, items with one to three prices, customers with
// zero to two emails and phones, and sales over a date range. Returns are separate later
// sales with negative quantities (as R-Series records them); voids flip `voided` hours after
// the sale. The first sales are pinned to the shapes an ingester must survive: a walk-in sale
// with a single line, a sale that is later returned, a void, and an abandoned sale with no lines.
// Sets `lightspeedCustomerId` on the people it creates customers for.
import { formatUsPhone, type PhoneFormat } from './contact-formats.js';
import { LIGHTSPEED_SHOP_NAMES, PRODUCT_NAMES } from './names.js';
import type { Prng } from './prng.js';
import type {
  LightspeedCustomerRecord,
  LightspeedDataset,
  LightspeedItemRecord,
  LightspeedSaleLineRecord,
  LightspeedSaleRecord,
  LightspeedShopRecord,
  SimPerson,
} from './sim-model.js';
import { DAY, HOUR, MINUTE, SECOND } from './time-units.js';
import { transactionTimes } from './transaction-times.js';

export interface LightspeedGenerationOptions {
  startAt: number;
  endAt: number;
  shops: number;
  transactionsPerDay: number;
}

const TAX_RATE = 0.085;
const SINGLE_SYSTEM_PHONE_FORMATS: readonly PhoneFormat[] = ['paren', 'dots', 'digits'];

export function generateLightspeedData(prng: Prng, people: SimPerson[], opts: LightspeedGenerationOptions): LightspeedDataset {
  const shops = generateShops(opts);
  const items = generateItems(prng.fork('items'), opts);
  const customers = generateCustomers(prng.fork('customers'), people, opts);
  const sales = generateSales(prng.fork('sales'), shops, items, customers, opts);
  return { shops, items, customers, sales };
}

function generateShops(opts: LightspeedGenerationOptions): LightspeedShopRecord[] {
  return Array.from({ length: opts.shops }, (_, i) => ({
    shopId: i + 1,
    name: LIGHTSPEED_SHOP_NAMES[i % LIGHTSPEED_SHOP_NAMES.length] ?? `Shop ${i + 1}`,
    timeZone: 'America/Los_Angeles',
    registerIds: [i + 1],
    createdAt: opts.startAt - 2 * 365 * DAY,
    updatedAt: opts.startAt - 2 * 365 * DAY,
  }));
}

function generateItems(prng: Prng, opts: LightspeedGenerationOptions): LightspeedItemRecord[] {
  const count = 15;
  return Array.from({ length: count }, (_, i) => {
    const priceCents = prng.int(12, 120) * 25;
    // Item 1 has only a Default price (a single ItemPrice object), item 2 all three (an array).
    const withMsrp = i === 1 || (i !== 0 && prng.chance(0.5));
    const withOnline = i === 1 || (i !== 0 && prng.chance(0.3));
    const createdAt = opts.startAt - prng.int(30, 400) * DAY;
    const updatedAt = prng.chance(0.3) ? opts.startAt + prng.int(0, opts.endAt - opts.startAt - 1) : createdAt + prng.int(0, 20) * DAY;
    return {
      itemId: i + 1,
      systemSku: `2100000${String(i + 1).padStart(5, '0')}`,
      customSku: prng.chance(0.7) ? `LS-${String(i + 1).padStart(3, '0')}` : '',
      upc: String(prng.int(100000, 999999)) + String(prng.int(100000, 999999)),
      description: PRODUCT_NAMES[(i + 3) % PRODUCT_NAMES.length] as string,
      defaultCostCents: Math.round(priceCents * 0.4),
      categoryId: prng.int(1, 5),
      archived: i === count - 1,
      createdAt,
      updatedAt,
      prices: [
        { useType: 'Default' as const, amountCents: priceCents },
        ...(withMsrp ? [{ useType: 'MSRP' as const, amountCents: priceCents + 200 }] : []),
        ...(withOnline ? [{ useType: 'Online' as const, amountCents: priceCents - 25 }] : []),
      ],
    };
  });
}

function generateCustomers(prng: Prng, people: SimPerson[], opts: LightspeedGenerationOptions): LightspeedCustomerRecord[] {
  const span = opts.endAt - opts.startAt;
  return people
    .filter((p) => p.presence !== 'square')
    .map((person, index) => {
      const customerId = index + 1;
      person.lightspeedCustomerId = String(customerId);
      const createdAt = prng.chance(0.6)
        ? opts.startAt - prng.int(1, 365) * DAY + prng.int(0, DAY - 1)
        : opts.startAt + prng.int(0, Math.floor(span * 0.8));
      const updatedAt = prng.chance(0.3) ? Math.min(opts.endAt - 1, createdAt + prng.int(1, 60) * DAY) : createdAt;
      const emails: LightspeedCustomerRecord['emails'] = [];
      if (person.email) {
        // Lightspeed holds the lowercase spelling of people who are in Square too (mixed case there).
        emails.push({ address: person.presence === 'both' || prng.chance(0.8) ? person.email : person.email.toUpperCase(), useType: 'Primary' });
        if (prng.chance(0.1)) emails.push({ address: person.email.replace('@', '+shop@'), useType: 'Secondary' });
      }
      const phones: LightspeedCustomerRecord['phones'] = [];
      if (person.phoneE164) {
        const format = person.presence === 'both' ? 'paren' : prng.pick(SINGLE_SYSTEM_PHONE_FORMATS);
        phones.push({ number: formatUsPhone(person.phoneE164, format), useType: 'Mobile' });
        // The first customer always has two phones, so the Phones relation is an array somewhere.
        if (index === 0 || prng.chance(0.2)) {
          phones.push({ number: formatUsPhone(`+1${person.phoneE164.slice(2, 5)}5550199`, 'paren'), useType: 'Home' });
        }
      }
      return {
        customerId,
        personKey: person.key,
        firstName: person.firstName,
        lastName: person.lastName,
        archived: index > 0 && prng.chance(0.03),
        createdAt,
        updatedAt,
        emails,
        phones,
      };
    });
}

interface SaleDraft {
  at: number;
  shop: LightspeedShopRecord;
  customerId: number;
  kind: 'sale' | 'return';
  lineSpecs: Array<{ item: LightspeedItemRecord; quantity: number; unitPriceCents: number }>;
  completed: boolean;
  voidedAt?: number;
  discountRate: number;
  returnOf?: SaleDraft;
  saleId?: number;
}

function generateSales(
  prng: Prng,
  shops: LightspeedShopRecord[],
  items: LightspeedItemRecord[],
  customers: LightspeedCustomerRecord[],
  opts: LightspeedGenerationOptions,
): LightspeedSaleRecord[] {
  const sellable = items.filter((i) => !i.archived);
  const drafts: SaleDraft[] = [];
  transactionTimes(prng, shops.length, opts).forEach(({ at, place }, index) => {
    const eligible = customers.filter((c) => c.createdAt <= at && !c.archived);
    const customer = index !== 0 && eligible.length > 0 && (index === 1 || prng.chance(0.65)) ? prng.pick(eligible) : undefined;
    const abandoned = index === 3 || (index > 3 && prng.chance(0.02));
    const lineCount = index === 0 ? 1 : abandoned ? (index === 3 ? 0 : prng.int(0, 1)) : prng.pick([1, 1, 2, 2, 3, 4]);
    const lineSpecs = Array.from({ length: lineCount }, () => {
      const item = prng.pick(sellable);
      return { item, quantity: prng.int(1, 3), unitPriceCents: item.prices[0]?.amountCents ?? 0 };
    });
    const draft: SaleDraft = {
      at,
      shop: shops[place] as LightspeedShopRecord,
      customerId: customer?.customerId ?? 0,
      kind: 'sale',
      lineSpecs,
      completed: !abandoned,
      discountRate: prng.chance(0.1) ? 0.1 : 0,
    };
    if (!abandoned && (index === 2 || (index > 3 && prng.chance(0.03)))) {
      draft.voidedAt = Math.min(opts.endAt - 1, at + prng.int(1, 6) * HOUR);
    }
    drafts.push(draft);
    const returnWanted = !abandoned && draft.voidedAt === undefined && draft.customerId !== 0 && (index === 1 || prng.chance(0.06));
    const returnAt = at + prng.int(1, 15 * 24) * HOUR;
    const first = lineSpecs[0];
    if (returnWanted && first && returnAt < opts.endAt - MINUTE) {
      drafts.push({
        at: returnAt,
        shop: draft.shop,
        customerId: draft.customerId,
        kind: 'return',
        lineSpecs: [{ item: first.item, quantity: -1, unitPriceCents: first.unitPriceCents }],
        completed: true,
        discountRate: 0,
        returnOf: draft,
      });
    }
  });
  // Sale ids grow with time, as they do in a real account.
  drafts.sort((a, b) => a.at - b.at);
  let nextLineId = 1;
  return drafts.map((draft, index) => {
    draft.saleId = index + 1;
    return buildSale(prng, draft, () => nextLineId++, opts.endAt);
  });
}

/** Totals of a sale from its lines: subtotal − discount + tax, all in cents. */
export function saleTotals(lines: Array<{ quantity: number; unitPriceCents: number }>, discountRate: number) {
  const subtotalCents = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
  const discountCents = Math.round(subtotalCents * discountRate);
  const tax1Cents = Math.round((subtotalCents - discountCents) * TAX_RATE);
  return { subtotalCents, discountCents, tax1Cents, totalCents: subtotalCents - discountCents + tax1Cents };
}

function buildSale(prng: Prng, draft: SaleDraft, nextLineId: () => number, endAt: number): LightspeedSaleRecord {
  const completedAt = draft.completed ? Math.min(endAt - 1, draft.at + prng.int(30, 600) * SECOND) : undefined;
  const lines: LightspeedSaleLineRecord[] = draft.lineSpecs.map((spec) => ({
    saleLineId: nextLineId(),
    itemId: spec.item.itemId,
    quantity: spec.quantity,
    unitPriceCents: spec.unitPriceCents,
    totalCents: spec.quantity * spec.unitPriceCents,
    createdAt: draft.at,
  }));
  return {
    saleId: draft.saleId as number,
    shopId: draft.shop.shopId,
    registerId: draft.shop.registerIds[0] ?? 1,
    employeeId: prng.int(1, 4),
    customerId: draft.customerId,
    createdAt: draft.at,
    updatedAt: Math.max(draft.voidedAt ?? 0, completedAt ?? draft.at),
    ...(completedAt !== undefined ? { completedAt } : {}),
    completed: draft.completed,
    voided: draft.voidedAt !== undefined,
    archived: false,
    ...saleTotals(draft.lineSpecs, draft.discountRate),
    ...(draft.returnOf?.saleId !== undefined ? { returnOfSaleId: draft.returnOf.saleId } : {}),
    lines,
  };
}
