// The Lightspeed Retail (R-Series) ingester: customers, items and sales (with SaleLines, their
// Items and the Customer) into the warehouse, every sale that names a customer linked to a
// profile. Each stream follows `timeStamp` ascending from its checkpoint minus a lookback
// window, so a sale completed, voided or returned after creation is picked up again.
import type { LightspeedCredentials } from '../credentials.js';
import type { SourceCustomer } from '../identity-linker.js';
import { progressBetween, type IngestRun, type NormalizedTransaction } from '../ingest-run.js';
import type { Checkpoint, PosConnection } from '../ingest.repository.js';
import type { SourceIngester, SourceRunContext } from '../ingest.service.js';
import { prefetch } from '../prefetch.js';
import type { PosPage } from '../http/pos-http.js';
import { retryOptions } from '../square/square.ingester.js';
import { LightspeedApiKeyAuth, LightspeedOAuth, type CredentialStore } from './lightspeed.auth.js';
import { LIGHTSPEED_SALE_RELATIONS, LightspeedClient, type LightspeedListQuery } from './lightspeed.client.js';
import {
  parseLightspeedRecord,
  type LightspeedCustomer,
  type LightspeedItem,
  type LightspeedRecordKind,
  type LightspeedRecordTypes,
  type LightspeedSale,
} from './lightspeed.records.js';

/** R-Series amounts carry no currency; an account sells in its shop's currency, USD here. */
const CURRENCY = 'USD';

export interface RefreshTokenSink {
  saveRefreshToken(token: string): Promise<void>;
}

export function createLightspeedIngester(connection: PosConnection, credentials: LightspeedCredentials, sink: RefreshTokenSink): SourceIngester {
  return {
    async run(ctx) {
      let auth;
      if ('apiKey' in credentials) {
        auth = new LightspeedApiKeyAuth(credentials.apiKey);
      } else {
        let refreshToken = credentials.refreshToken;
        const store: CredentialStore = {
          loadRefreshToken: () => Promise.resolve(refreshToken),
          saveRefreshToken: async (token) => {
            await sink.saveRefreshToken(token);
            refreshToken = token;
          },
        };
        auth = new LightspeedOAuth({
          tokenUrl: connection.tokenUrl ?? ctx.config.lightspeed.tokenUrl,
          clientId: credentials.clientId,
          clientSecret: credentials.clientSecret,
          store,
          retry: retryOptions(ctx),
        });
      }
      const client = new LightspeedClient({
        apiUrl: connection.apiUrl,
        accountId: connection.accountId,
        auth,
        retry: retryOptions(ctx),
        pacing: { onWait: (e) => ctx.logger.debug({ waitMs: e.waitMs, level: e.level, size: e.size }, 'pacing Lightspeed requests') },
      });
      const streams = new LightspeedStreams(ctx, client);
      for (const stream of ctx.streams) {
        if (stream === 'customers') await streams.customers();
        if (stream === 'items') await streams.items();
        if (stream === 'sales') await streams.sales();
      }
    },
  };
}

const minorToMajor = (minor: number) => minor / 100;

class LightspeedStreams {
  private readonly run: IngestRun;

  constructor(
    private readonly ctx: SourceRunContext,
    private readonly client: LightspeedClient,
  ) {
    this.run = ctx.run;
  }

  /** Follows `timeStamp` upwards from the checkpoint (minus lookback) or the backfill time. */
  private async follow<K extends LightspeedRecordKind>(
    stream: string,
    resource: string,
    kind: K,
    query: LightspeedListQuery,
    commit: (valid: LightspeedRecordTypes[K][], page: PosPage, quarantined: Quarantined[], checkpoint: Checkpoint) => Promise<void>,
  ): Promise<void> {
    let checkpoint = this.ctx.checkpoints.get(stream);
    const start = this.ctx.since ?? (checkpoint?.watermark ? new Date(checkpoint.watermark.getTime() - this.ctx.config.lookbackMs) : undefined);
    const pages = this.client.pages(resource, {
      ...query,
      sort: 'timeStamp',
      ...(start ? { filters: [{ field: 'timeStamp', op: '>=', value: start }] } : {}),
    });
    for await (const page of prefetch(pages)) {
      const valid: LightspeedRecordTypes[K][] = [];
      const quarantined: Quarantined[] = [];
      page.records.forEach((raw, i) => {
        const parsed = parseLightspeedRecord(kind, raw);
        if (parsed.ok) valid.push(parsed.value);
        else quarantined.push({ recordId: parsed.id ?? `page${page.pageIndex}#${i}`, reason: parsed.reason, payload: raw });
      });
      if (quarantined.length > 0) this.ctx.logger.warn({ kind, ids: quarantined.map((q) => q.recordId) }, 'malformed records quarantined');
      const newest = valid.reduce<string | undefined>((max, r) => (!max || r.timeStamp > max ? r.timeStamp : max), undefined);
      // A checkpoint never moves backwards, even during a backfill from an earlier time.
      if (newest && (!checkpoint?.watermark || new Date(newest) > checkpoint.watermark)) {
        checkpoint = { watermark: new Date(newest), state: checkpoint?.state ?? {} };
      }
      await commit(valid, page, quarantined, checkpoint ?? { watermark: null, state: {} });
      this.run.progress(stream, start && newest ? progressBetween(start, new Date(newest), this.ctx.now) : undefined);
    }
  }

  private sourceCustomer(c: LightspeedCustomer): SourceCustomer {
    const primary = <T extends { useType: string | null }>(list: T[], preferred: string) => list.find((e) => e.useType === preferred) ?? list[0];
    return {
      source: 'lightspeed',
      externalId: this.run.externalId(c.customerId),
      email: primary(c.emails, 'Primary')?.address ?? null,
      phone: primary(c.phones, 'Mobile')?.number ?? null,
      firstName: c.firstName,
      lastName: c.lastName,
    };
  }

  private customerRow(c: LightspeedCustomer, profiles: Map<string, string>) {
    const s = this.sourceCustomer(c);
    return {
      business_id: this.run.businessId,
      account_id: this.run.connection.accountId,
      customer_id: c.customerId,
      first_name: c.firstName,
      last_name: c.lastName,
      email: s.email ?? null,
      phone: s.phone ?? null,
      archived: c.archived,
      create_time: c.createTime,
      time_stamp: c.timeStamp,
      profile_id: profiles.get(s.externalId) ?? null,
      raw: null,
      ingested_at: new Date(),
    };
  }

  async customers(): Promise<void> {
    await this.follow('customers', 'Customer', 'customer', { loadRelations: ['Contact'] }, async (valid, page, quarantined, checkpoint) => {
      const profiles = await this.run.linkCustomers(valid.map((c) => this.sourceCustomer(c)));
      await this.run.commitPage({
        stream: 'customers',
        records: page.records.length,
        quarantined,
        rows: { lightspeed_customers: valid.map((c) => this.customerRow(c, profiles)) },
        checkpoint: { key: 'customers', value: checkpoint },
      });
    });
  }

  async items(): Promise<void> {
    await this.follow('items', 'Item', 'item', { loadRelations: ['Prices'] }, async (valid, page, quarantined, checkpoint) => {
      await this.run.commitPage({
        stream: 'items',
        records: page.records.length,
        quarantined,
        rows: { lightspeed_products: valid.map((i) => this.productRow(i)) },
        checkpoint: { key: 'items', value: checkpoint },
      });
    });
  }

  private productRow(i: LightspeedItem) {
    return {
      business_id: this.run.businessId,
      account_id: this.run.connection.accountId,
      item_id: i.itemId,
      system_sku: i.systemSku,
      custom_sku: i.customSku,
      upc: i.upc,
      description: i.description,
      category_id: i.categoryId,
      default_cost: minorToMajor(i.defaultCostMinor),
      price: i.defaultPriceMinor === null ? null : minorToMajor(i.defaultPriceMinor),
      archived: i.archived,
      time_stamp: i.timeStamp,
      raw: null,
      ingested_at: new Date(),
    };
  }

  async sales(): Promise<void> {
    await this.follow('sales', 'Sale', 'sale', { loadRelations: [...LIGHTSPEED_SALE_RELATIONS, 'Customer.Contact'] }, async (valid, page, quarantined, checkpoint) => {
      const inline = valid.flatMap((s) => (s.customer ? [this.sourceCustomer(s.customer)] : []));
      const referenced = valid.flatMap((s) => (s.customerId ? [this.run.externalId(s.customerId)] : []));
      const profiles = await this.run.linkCustomers(inline, referenced, (ids) => this.fetchCustomers(ids));
      const accountId = this.run.connection.accountId;
      await this.run.commitPage({
        stream: 'sales',
        records: page.records.length,
        quarantined,
        rows: {
          lightspeed_sales: valid.map((s) => ({
            business_id: this.run.businessId,
            account_id: accountId,
            sale_id: s.saleId,
            shop_id: s.shopId,
            register_id: s.registerId,
            customer_id: s.customerId,
            profile_id: s.customerId ? (profiles.get(this.run.externalId(s.customerId)) ?? null) : null,
            time_stamp: s.timeStamp,
            create_time: s.createTime,
            complete_time: s.completeTime,
            completed: s.completed,
            voided: s.voided,
            archived: s.archived,
            subtotal: minorToMajor(s.calcSubtotalMinor),
            discount: minorToMajor(s.calcDiscountMinor),
            tax: minorToMajor(s.calcTax1Minor),
            total: minorToMajor(s.totalMinor),
            raw: null,
            ingested_at: new Date(),
          })),
          lightspeed_sale_lines: valid.flatMap((s) =>
            (s.saleLines ?? []).map((l) => ({
              business_id: this.run.businessId,
              account_id: accountId,
              sale_line_id: l.saleLineId,
              sale_id: s.saleId,
              item_id: l.itemId,
              quantity: l.unitQuantity,
              unit_price: minorToMajor(l.unitPriceMinor),
              total: minorToMajor(l.calcTotalMinor),
              customer_id: s.customerId,
              profile_id: s.customerId ? (profiles.get(this.run.externalId(s.customerId)) ?? null) : null,
              time_stamp: s.timeStamp,
              create_time: s.createTime,
              ingested_at: new Date(),
            })),
          ),
        },
        transactions: valid.map((s) => this.transaction(s, profiles)),
        checkpoint: { key: 'sales', value: checkpoint },
      });
    });
  }

  private transaction(s: LightspeedSale, profiles: Map<string, string>): NormalizedTransaction {
    const sourceCustomerId = s.customerId ? this.run.externalId(s.customerId) : null;
    // A return is a sale with a negative total: money went back to the customer.
    const isReturn = s.totalMinor < 0;
    return {
      transactionId: `${this.run.connection.accountId}:${s.saleId}`,
      orderId: s.saleId,
      customerId: sourceCustomerId ? (profiles.get(sourceCustomerId) ?? null) : null,
      sourceCustomerId,
      occurredAt: new Date(s.completeTime ?? s.createTime),
      status: s.voided ? 'voided' : isReturn ? 'returned' : s.completed ? 'completed' : 'pending',
      amount: isReturn ? 0 : minorToMajor(s.totalMinor),
      refundedAmount: isReturn ? minorToMajor(-s.totalMinor) : 0,
      currency: CURRENCY,
      items: (s.saleLines ?? []).map((l) => ({
        itemId: l.itemId,
        sku: l.item?.systemSku ?? l.item?.customSku ?? null,
        name: l.item?.description ?? null,
        category: l.item?.categoryId ? `category:${l.item.categoryId}` : null,
        quantity: l.unitQuantity,
        unitPrice: minorToMajor(l.unitPriceMinor),
      })),
      locationId: s.shopId,
      updatedAt: new Date(s.timeStamp),
    };
  }

  /** Customers a sale names but did not carry (relation not loaded), fetched by id. */
  private async fetchCustomers(externalIds: string[]): Promise<SourceCustomer[]> {
    const prefix = `${this.run.connection.accountId}/`;
    const ids = externalIds.map((id) => id.slice(prefix.length));
    const found: SourceCustomer[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      const query: LightspeedListQuery = { filters: [{ field: 'customerID', op: 'IN', value: ids.slice(i, i + 100) }], loadRelations: ['Contact'] };
      for await (const page of this.client.pages('Customer', query)) {
        for (const raw of page.records) {
          const parsed = parseLightspeedRecord('customer', raw);
          if (parsed.ok) found.push(this.sourceCustomer(parsed.value));
        }
      }
    }
    return found;
  }
}

interface Quarantined {
  recordId: string | null;
  reason: string;
  payload: unknown;
}
