// The Square ingester: customers, catalog, payments (per location) and refunds into the
// warehouse, every payment linked to a profile. Payments and refunds are followed by
// `updated_at` (ascending, from the checkpoint minus a lookback window), not `created_at`, so a
// capture or refund after creation is picked up by the next run; `begin_time` (a created_at
// filter that Square defaults to one year back) is pinned to the backfill floor.
import type { Logger } from '../../logger.js';
import type { SquareCredentials } from '../credentials.js';
import type { SourceCustomer } from '../identity-linker.js';
import { progressBetween, type IngestRun, type NormalizedTransaction } from '../ingest-run.js';
import type { Checkpoint, PosConnection } from '../ingest.repository.js';
import type { SourceIngester, SourceRunContext } from '../ingest.service.js';
import { prefetch } from '../prefetch.js';
import type { PosPage } from '../http/pos-http.js';
import type { ParseResult } from '../http/parse-result.js';
import { SquareClient } from './square.client.js';
import {
  parseSquareRecord,
  type SquareCatalogObject,
  type SquareCustomer,
  type SquarePayment,
  type SquareRecordKind,
  type SquareRecordTypes,
  type SquareRefund,
} from './square.records.js';

const PAYMENT_STATUS: Record<string, NormalizedTransaction['status']> = {
  COMPLETED: 'completed',
  APPROVED: 'pending',
  PENDING: 'pending',
  CANCELED: 'voided',
  FAILED: 'failed',
};

export function createSquareIngester(connection: PosConnection, credentials: SquareCredentials): SourceIngester {
  return {
    async run(ctx) {
      const client = new SquareClient({
        baseUrl: connection.apiUrl,
        accessToken: credentials.accessToken,
        squareVersion: ctx.config.square.version,
        retry: retryOptions(ctx),
      });
      const streams = new SquareStreams(ctx, client);
      for (const stream of ctx.streams) {
        if (stream === 'customers') await streams.customers();
        if (stream === 'catalog') await streams.catalog();
        if (stream === 'payments') await streams.payments(connection.locationIds);
        if (stream === 'refunds') await streams.refunds();
      }
    },
  };
}

export function retryOptions(ctx: SourceRunContext) {
  return {
    maxAttempts: ctx.config.retry.maxRetries + 1,
    baseDelayMs: ctx.config.retry.baseDelayMs,
    maxDelayMs: ctx.config.retry.maxDelayMs,
    onRetry: (e: { attempt: number; delayMs: number; status: number; code: string }) =>
      ctx.logger.warn({ attempt: e.attempt, delayMs: e.delayMs, status: e.status, code: e.code }, 'POS API request failed; retrying'),
  };
}

const currencyDigits = new Map<string, number>();

/** Minor units → major units for the currency (USD cents → dollars, JPY as is). */
export function toMajorUnits(amount: number, currency: string): number {
  let digits = currencyDigits.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      // An unknown currency code keeps two decimals.
      digits = 2;
    }
    currencyDigits.set(currency, digits);
  }
  return Math.round(amount) / 10 ** digits;
}

class SquareStreams {
  private readonly run: IngestRun;
  private readonly log: Logger;
  private readonly categoryNames = new Map<string, string>();

  constructor(
    private readonly ctx: SourceRunContext,
    private readonly client: SquareClient,
  ) {
    this.run = ctx.run;
    this.log = ctx.logger;
  }

  /** Where an updated_at-ordered stream starts: the backfill time, or the checkpoint minus the lookback. */
  private updatedFrom(checkpoint: Checkpoint | undefined): Date | undefined {
    if (this.ctx.since) return this.ctx.since;
    if (!checkpoint?.watermark) return undefined;
    return new Date(checkpoint.watermark.getTime() - this.ctx.config.lookbackMs);
  }

  /** A checkpoint never moves backwards, even during a backfill from an earlier time. */
  private advance(checkpoint: Checkpoint | undefined, seen: string | undefined, state: Record<string, unknown> = checkpoint?.state ?? {}): Checkpoint {
    const previous = checkpoint?.watermark ?? null;
    const candidate = seen ? new Date(seen) : null;
    const watermark = previous && (!candidate || previous > candidate) ? previous : candidate;
    return { watermark, state };
  }

  private parse<K extends SquareRecordKind>(kind: K, page: PosPage) {
    const valid: SquareRecordTypes[K][] = [];
    const quarantined: { recordId: string | null; reason: string; payload: unknown }[] = [];
    page.records.forEach((raw, i) => {
      const result: ParseResult<SquareRecordTypes[K]> = parseSquareRecord(kind, raw);
      if (result.ok) valid.push(result.value);
      else quarantined.push({ recordId: result.id ?? `page${page.pageIndex}#${i}`, reason: result.reason, payload: raw });
    });
    if (quarantined.length > 0) this.log.warn({ kind, ids: quarantined.map((q) => q.recordId) }, 'malformed records quarantined');
    return { valid, quarantined };
  }

  private sourceCustomer(c: SquareCustomer): SourceCustomer {
    return {
      source: 'square',
      externalId: this.run.externalId(c.id),
      email: c.emailAddress,
      phone: c.phoneNumber,
      firstName: c.givenName,
      lastName: c.familyName,
    };
  }

  async customers(): Promise<void> {
    const checkpoint = this.ctx.checkpoints.get('customers');
    const from = this.updatedFrom(checkpoint);
    let newest: string | undefined;
    // Square cannot sort customers by updated_at, so the checkpoint moves after the last page only.
    for await (const page of prefetch(this.client.customersSearch(from ? { updatedAtStart: from } : {}))) {
      const { valid, quarantined } = this.parse('customer', page);
      const profiles = await this.run.linkCustomers(valid.map((c) => this.sourceCustomer(c)));
      for (const c of valid) if (!newest || c.updatedAt > newest) newest = c.updatedAt;
      await this.run.commitPage({
        stream: 'customers',
        records: page.records.length,
        quarantined,
        rows: {
          square_customers: valid.map((c) => ({
            business_id: this.run.businessId,
            id: c.id,
            given_name: c.givenName,
            family_name: c.familyName,
            email_address: c.emailAddress,
            phone_number: c.phoneNumber,
            reference_id: c.referenceId,
            created_at: c.createdAt,
            updated_at: c.updatedAt,
            version: c.version,
            profile_id: profiles.get(this.run.externalId(c.id)) ?? null,
            raw: null,
            ingested_at: new Date(),
          })),
        },
        ...(page.next ? {} : { checkpoint: { key: 'customers', value: this.advance(checkpoint, newest) } }),
      });
      this.run.progress('customers');
    }
  }

  async catalog(): Promise<void> {
    const checkpoint = this.ctx.checkpoints.get('catalog');
    const from = this.updatedFrom(checkpoint);
    const pages = from ? this.client.catalogSearch({ beginTime: from }) : this.client.catalogList();
    let newest: string | undefined;
    for await (const page of prefetch(pages)) {
      const { valid, quarantined } = this.parse('catalog', page);
      const objects = valid.flatMap<SquareCatalogObject>((o) => (o.type === 'ITEM' ? [o, ...o.variations] : [o]));
      for (const o of objects) {
        if (o.type === 'CATEGORY' && o.name) this.categoryNames.set(o.id, o.name);
        if (!newest || o.updatedAt > newest) newest = o.updatedAt;
      }
      const latest = page.latestTime && (!newest || page.latestTime > newest) ? page.latestTime : newest;
      await this.run.commitPage({
        stream: 'catalog',
        records: page.records.length,
        quarantined,
        rows: { square_items: objects.map((o) => this.catalogRow(o)) },
        ...(page.next ? {} : { checkpoint: { key: 'catalog', value: this.advance(checkpoint, latest) } }),
      });
      this.run.progress('catalog');
    }
  }

  private catalogRow(o: SquareCatalogObject) {
    const base = {
      business_id: this.run.businessId,
      id: o.id,
      type: o.type,
      is_deleted: o.isDeleted,
      version: o.version,
      updated_at: o.updatedAt,
      raw: null,
      ingested_at: new Date(),
    };
    if (o.type === 'CATEGORY') return { ...base, name: o.name };
    if (o.type === 'ITEM_VARIATION') {
      return { ...base, item_id: o.itemId, name: o.name, sku: o.sku, price: o.priceMoney?.amount ?? null, currency: o.priceMoney?.currency ?? null };
    }
    const categoryId = o.categoryIds[0] ?? null;
    return {
      ...base,
      name: o.name,
      description: o.description,
      category_id: categoryId,
      category_name: categoryId ? (this.categoryNames.get(categoryId) ?? null) : null,
    };
  }

  async payments(onlyLocations: string[]): Promise<void> {
    const locations = (await this.client.listLocations()).map((l) => l.id);
    const wanted = onlyLocations.length > 0 ? locations.filter((l) => onlyLocations.includes(l)) : locations;
    for (const locationId of wanted) await this.paymentsAt(locationId);
  }

  /** The created_at floor of a location's backfill: kept in the checkpoint so later runs keep seeing old payments change. */
  private createdFloor(checkpoint: Checkpoint | undefined): Date {
    const stored = typeof checkpoint?.state.createdFloor === 'string' ? new Date(checkpoint.state.createdFloor) : undefined;
    const fallback = new Date(this.ctx.now.getTime() - this.ctx.config.backfillDays * 86_400_000);
    const floor = stored ?? fallback;
    return this.ctx.since && this.ctx.since < floor ? this.ctx.since : floor;
  }

  private async paymentsAt(locationId: string): Promise<void> {
    const key = `payments:${locationId}`;
    const checkpoint = this.ctx.checkpoints.get(key);
    const floor = this.createdFloor(checkpoint);
    const from = this.updatedFrom(checkpoint) ?? floor;
    const state = { ...checkpoint?.state, createdFloor: floor.toISOString() };
    let current = checkpoint;
    const pages = this.client.payments({ locationId, beginTime: floor, updatedAtBeginTime: from, sortField: 'UPDATED_AT', sortOrder: 'ASC' });
    for await (const page of prefetch(pages)) {
      const { valid, quarantined } = this.parse('payment', page);
      const referenced = valid.flatMap((p) => (p.customerId ? [this.run.externalId(p.customerId)] : []));
      const profiles = await this.run.linkCustomers([], referenced, (ids) => this.fetchCustomers(ids));
      const newest = valid.reduce<string | undefined>((max, p) => (!max || p.updatedAt > max ? p.updatedAt : max), undefined);
      current = this.advance(current, newest, state);
      await this.run.commitPage({
        stream: 'payments',
        records: page.records.length,
        quarantined,
        rows: { square_payments: valid.map((p) => this.paymentRow(p, profiles)) },
        transactions: valid.map((p) => this.transaction(p, profiles)),
        checkpoint: { key, value: current },
      });
      this.run.progress('payments', newest ? progressBetween(from, new Date(newest), this.ctx.now) : undefined);
    }
  }

  private async fetchCustomers(externalIds: string[]): Promise<SourceCustomer[]> {
    const prefix = `${this.run.connection.accountId}/`;
    const found: SourceCustomer[] = [];
    for (const externalId of externalIds) {
      const raw = await this.client.getCustomer(externalId.slice(prefix.length));
      if (raw === null) continue;
      const parsed = parseSquareRecord('customer', raw);
      if (parsed.ok) found.push(this.sourceCustomer(parsed.value));
    }
    return found;
  }

  private paymentRow(p: SquarePayment, profiles: Map<string, string>) {
    return {
      business_id: this.run.businessId,
      id: p.id,
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      status: p.status,
      amount: p.amountMoney.amount,
      tip: p.tipMoney.amount,
      total: p.totalMoney.amount,
      refunded: p.refundedMoney.amount,
      currency: p.amountMoney.currency,
      source_type: p.sourceType,
      card_brand: p.cardBrand,
      card_last4: p.cardLast4,
      location_id: p.locationId,
      order_id: p.orderId,
      customer_id: p.customerId,
      profile_id: p.customerId ? (profiles.get(this.run.externalId(p.customerId)) ?? null) : null,
      refund_ids: p.refundIds,
      receipt_number: p.receiptNumber,
      raw: null,
      ingested_at: new Date(),
    };
  }

  private transaction(p: SquarePayment, profiles: Map<string, string>): NormalizedTransaction {
    const sourceCustomerId = p.customerId ? this.run.externalId(p.customerId) : null;
    const currency = p.amountMoney.currency;
    return {
      transactionId: p.id,
      orderId: p.orderId,
      customerId: sourceCustomerId ? (profiles.get(sourceCustomerId) ?? null) : null,
      sourceCustomerId,
      occurredAt: new Date(p.createdAt),
      status: PAYMENT_STATUS[p.status] ?? 'pending',
      amount: toMajorUnits(p.amountMoney.amount, currency),
      refundedAmount: toMajorUnits(p.refundedMoney.amount, p.refundedMoney.currency),
      currency,
      // Payments carry no line items (those live in the Orders API, which we do not read yet).
      items: [],
      locationId: p.locationId,
      updatedAt: new Date(p.updatedAt),
    };
  }

  async refunds(): Promise<void> {
    const checkpoint = this.ctx.checkpoints.get('refunds');
    const floor = this.createdFloor(checkpoint);
    const from = this.updatedFrom(checkpoint) ?? floor;
    const state = { ...checkpoint?.state, createdFloor: floor.toISOString() };
    let current = checkpoint;
    for await (const page of prefetch(this.client.refunds({ beginTime: floor, updatedAtBeginTime: from, sortField: 'UPDATED_AT', sortOrder: 'ASC' }))) {
      const { valid, quarantined } = this.parse('refund', page);
      const owners = await this.run.ownersOf(valid.map((r) => r.paymentId));
      const newest = valid.reduce<string | undefined>((max, r) => (!max || r.updatedAt > max ? r.updatedAt : max), undefined);
      current = this.advance(current, newest, state);
      await this.run.commitPage({
        stream: 'refunds',
        records: page.records.length,
        quarantined,
        rows: { square_refunds: valid.map((r) => this.refundRow(r, owners.get(r.paymentId))) },
        checkpoint: { key: 'refunds', value: current },
      });
      this.run.progress('refunds', newest ? progressBetween(from, new Date(newest), this.ctx.now) : undefined);
    }
  }

  private refundRow(r: SquareRefund, owner: { customerId: string | null; sourceCustomerId: string | null } | undefined) {
    const prefix = `${this.run.connection.accountId}/`;
    return {
      business_id: this.run.businessId,
      id: r.id,
      payment_id: r.paymentId,
      location_id: r.locationId,
      order_id: r.orderId,
      status: r.status,
      amount: r.amountMoney.amount,
      currency: r.amountMoney.currency,
      reason: r.reason,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
      customer_id: owner?.sourceCustomerId?.startsWith(prefix) ? owner.sourceCustomerId.slice(prefix.length) : null,
      profile_id: owner?.customerId ?? null,
      raw: null,
      ingested_at: new Date(),
    };
  }
}
