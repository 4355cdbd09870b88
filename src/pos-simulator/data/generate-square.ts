// Square-side data: locations, customers, a catalog, and payments with refunds over a date range.
// Payments change after creation the way real ones do: card payments are captured seconds later,
// voids land minutes later, and refunds days later, each moving `updated_at` past `created_at`.
// The first payments are pinned to the interesting cases (a walk-in, a void, a refund after
// capture) so even a tiny dataset has them.
import { formatUsPhone, titleCaseEmail, type PhoneFormat } from './contact-formats.js';
import { CARD_BRANDS, CATEGORY_NAMES, PRODUCT_NAMES, REFUND_REASONS, SQUARE_LOCATION_NAMES, VARIATION_NAMES } from './names.js';
import type { Prng } from './prng.js';
import type {
  SimPerson,
  SquareCatalogRecord,
  SquareCustomerRecord,
  SquareDataset,
  SquareLocationRecord,
  SquarePaymentRecord,
  SquareRefundRecord,
} from './sim-model.js';
import { DAY, HOUR, MINUTE, SECOND } from './time-units.js';
import { transactionTimes } from './transaction-times.js';

export interface SquareGenerationOptions {
  startAt: number;
  endAt: number;
  locations: number;
  transactionsPerDay: number;
}

const TAX_RATE = 0.085;
const SINGLE_SYSTEM_PHONE_FORMATS: readonly PhoneFormat[] = ['plus-dash', 'e164', 'paren'];

export function generateSquareData(prng: Prng, people: SimPerson[], opts: SquareGenerationOptions): SquareDataset {
  const locations = generateLocations(prng.fork('locations'), opts);
  const customers = generateCustomers(prng.fork('customers'), people, opts);
  const catalog = generateCatalog(prng.fork('catalog'), opts);
  const { payments, refunds } = generatePayments(prng.fork('payments'), locations, customers, catalog, opts);
  return { locations, customers, catalog, payments, refunds };
}

function generateLocations(prng: Prng, opts: SquareGenerationOptions): SquareLocationRecord[] {
  return Array.from({ length: opts.locations }, (_, i) => ({
    id: `L${prng.upperId(12)}`,
    name: SQUARE_LOCATION_NAMES[i % SQUARE_LOCATION_NAMES.length] ?? `Location ${i + 1}`,
    isMain: i === 0,
    timezone: 'America/Los_Angeles',
    currency: 'USD',
    createdAt: opts.startAt - 2 * 365 * DAY + i * 30 * DAY,
    addressLine1: `${100 + i * 11} Market St`,
    locality: 'San Francisco',
  }));
}

function generateCustomers(prng: Prng, people: SimPerson[], opts: SquareGenerationOptions): SquareCustomerRecord[] {
  const span = opts.endAt - opts.startAt;
  return people
    .filter((p) => p.presence !== 'lightspeed')
    .map((person) => {
      const createdAt = prng.chance(0.6)
        ? opts.startAt - prng.int(1, 365) * DAY + prng.int(0, DAY - 1)
        : opts.startAt + prng.int(0, Math.floor(span * 0.8));
      const edited = prng.chance(0.3);
      const updatedAt = edited ? Math.min(opts.endAt - 1, createdAt + prng.int(1, 60) * DAY) : createdAt;
      const phoneFormat = person.presence === 'both' ? 'plus-dash' : prng.pick(SINGLE_SYSTEM_PHONE_FORMATS);
      const id = prng.upperId(26);
      person.squareCustomerId = id;
      return {
        id,
        personKey: person.key,
        givenName: person.firstName,
        familyName: person.lastName,
        // Square keeps what the clerk typed: mixed case for the people also in Lightspeed.
        ...(person.email ? { emailAddress: person.presence === 'both' ? titleCaseEmail(person.email) : person.email } : {}),
        ...(person.phoneE164 ? { phoneNumber: formatUsPhone(person.phoneE164, phoneFormat) } : {}),
        ...(prng.chance(0.2) ? { referenceId: `LOY-${prng.int(10000, 99999)}` } : {}),
        createdAt,
        updatedAt,
        version: edited ? prng.int(1, 3) : 0,
      };
    });
}

function generateCatalog(prng: Prng, opts: SquareGenerationOptions): SquareCatalogRecord[] {
  const records: SquareCatalogRecord[] = [];
  const stamp = () => {
    const at = opts.startAt - prng.int(0, 60) * DAY - prng.int(0, DAY - 1);
    return { updatedAt: at, version: at };
  };
  const categories = CATEGORY_NAMES.slice(0, 4).map((name) => {
    const record: SquareCatalogRecord = { id: prng.upperId(24), type: 'CATEGORY', isDeleted: false, ...stamp(), category: { name } };
    records.push(record);
    return record;
  });
  const itemCount = 12;
  for (let i = 0; i < itemCount; i++) {
    const itemId = prng.upperId(24);
    // The last item was deleted during the range: only a search with include_deleted_objects sees it.
    const deleted = i === itemCount - 1;
    const at = deleted ? opts.startAt + Math.floor((opts.endAt - opts.startAt) / 2) : stamp().updatedAt;
    const category = prng.chance(0.9) ? prng.pick(categories) : undefined;
    records.push({
      id: itemId,
      type: 'ITEM',
      updatedAt: at,
      version: at,
      isDeleted: deleted,
      item: {
        name: PRODUCT_NAMES[i % PRODUCT_NAMES.length] as string,
        description: `${PRODUCT_NAMES[i % PRODUCT_NAMES.length]} from the house menu`,
        ...(category ? { categoryId: category.id } : {}),
      },
    });
    const basePrice = prng.int(12, 100) * 25;
    const variationCount = prng.int(1, 3);
    for (let v = 0; v < variationCount; v++) {
      records.push({
        id: prng.upperId(24),
        type: 'ITEM_VARIATION',
        updatedAt: at,
        version: at,
        isDeleted: deleted,
        variation: {
          itemId,
          name: VARIATION_NAMES[v] as string,
          sku: `SQ-${String(i + 1).padStart(3, '0')}-${v + 1}`,
          priceCents: basePrice + v * 75,
        },
      });
    }
  }
  return records;
}

function generatePayments(
  prng: Prng,
  locations: SquareLocationRecord[],
  customers: SquareCustomerRecord[],
  catalog: SquareCatalogRecord[],
  opts: SquareGenerationOptions,
): { payments: SquarePaymentRecord[]; refunds: SquareRefundRecord[] } {
  const variations = catalog.filter((c) => c.type === 'ITEM_VARIATION' && !c.isDeleted);
  const payments: SquarePaymentRecord[] = [];
  const refunds: SquareRefundRecord[] = [];
  const times = transactionTimes(prng, locations.length, opts);
  times.forEach(({ at, place }, index) => {
    const location = locations[place] as SquareLocationRecord;
    let subtotal = 0;
    for (let line = prng.int(1, 3); line > 0; line--) {
      subtotal += (prng.pick(variations).variation?.priceCents ?? 0) * prng.int(1, 2);
    }
    const amountCents = subtotal + Math.round(subtotal * TAX_RATE);
    const eligible = customers.filter((c) => c.createdAt <= at);
    const customer = index !== 0 && eligible.length > 0 && prng.chance(0.65) ? prng.pick(eligible) : undefined;
    const roll = prng.next();
    const sourceType = index === 1 || index === 2 || roll < 0.7 ? 'CARD' : roll < 0.95 ? 'CASH' : 'EXTERNAL';
    let status: SquarePaymentRecord['status'] = 'COMPLETED';
    let updatedAt = at;
    if (sourceType === 'CARD') {
      updatedAt = at + prng.int(1, 4) * SECOND; // captured a moment after authorization
      const fate = prng.next();
      if (index === 1 || (index > 2 && fate < 0.03)) {
        status = 'CANCELED';
        updatedAt = Math.min(opts.endAt - 1, at + prng.int(5, 120) * MINUTE);
      } else if (index > 2 && fate < 0.05) {
        status = 'FAILED';
        updatedAt = at + SECOND;
      } else if (index > 2 && at > opts.endAt - 12 * HOUR && fate < 0.5) {
        status = 'APPROVED'; // authorized, not yet captured
        updatedAt = at;
      }
    }
    const id = prng.mixedId(29);
    const tipCents = sourceType === 'CARD' && status !== 'FAILED' && status !== 'CANCELED' && prng.chance(0.35)
      ? Math.round(amountCents * prng.pick([0.1, 0.15, 0.2]))
      : 0;
    const payment: SquarePaymentRecord = {
      id,
      locationId: location.id,
      orderId: prng.mixedId(29),
      ...(customer ? { customerId: customer.id } : {}),
      createdAt: at,
      updatedAt,
      status,
      sourceType,
      ...(sourceType === 'CARD' ? { card: { brand: prng.pick(CARD_BRANDS), last4: String(prng.int(0, 9999)).padStart(4, '0') } } : {}),
      currency: 'USD',
      amountCents,
      tipCents,
      refundedCents: 0,
      refundIds: [],
      receiptNumber: id.slice(0, 4),
    };
    const refundWanted = status === 'COMPLETED' && (index === 2 || prng.chance(0.07));
    if (refundWanted) {
      let refundAt = at + prng.int(1, 20 * 24) * HOUR;
      if (refundAt >= opts.endAt - MINUTE && index === 2) refundAt = at + Math.floor((opts.endAt - at) / 2);
      if (refundAt < opts.endAt - MINUTE && refundAt > payment.updatedAt) {
        const full = prng.chance(0.6);
        const amount = full ? amountCents + tipCents : Math.max(1, Math.round(amountCents * prng.int(20, 70) / 100));
        const pending = refundAt > opts.endAt - DAY;
        const refund: SquareRefundRecord = {
          id: `${id}_${prng.mixedId(24)}`,
          paymentId: id,
          locationId: location.id,
          orderId: payment.orderId,
          status: pending ? 'PENDING' : 'COMPLETED',
          currency: 'USD',
          amountCents: amount,
          reason: prng.pick(REFUND_REASONS),
          createdAt: refundAt,
          updatedAt: pending ? refundAt : Math.min(opts.endAt - 1, refundAt + prng.int(2, 30) * SECOND),
        };
        refunds.push(refund);
        payment.refundedCents += amount;
        payment.refundIds.push(refund.id);
        payment.updatedAt = Math.max(payment.updatedAt, refund.updatedAt);
      }
    }
    payments.push(payment);
  });
  return { payments, refunds };
}
