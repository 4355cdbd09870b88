// One ingestion run of one POS connection: the sink every stream commits its pages to. A page
// is committed in a fixed order: warehouse rows (idempotent upserts), then ONE PostgreSQL
// transaction with the transaction links, the metrics queue, quarantined records, the stream
// checkpoint and the run's counters. A run killed anywhere resumes from the last committed
// checkpoint; re-sent pages change nothing, so there is neither loss nor duplication.
import type { Logger } from '../logger.js';
import type { Db } from '../db/db.client.js';
import type { PosProvider, StreamStats } from '../db/schema/index.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import type { WarehouseTableName } from '../warehouse/warehouse-tables.js';
import type { Warehouse, WarehouseRow } from '../warehouse/warehouse.port.js';
import type { IdentityLinker, SourceCustomer } from './identity-linker.js';
import {
  customersOfTransactions,
  insertQuarantine,
  pendingMetricCustomers,
  saveCheckpoint,
  saveRunCounts,
  upsertTransactions,
  type Checkpoint,
  type PosConnection,
  type QuarantineRow,
  type RunCounts,
  type TransactionRow,
} from './ingest.repository.js';

export interface PurchaseItem {
  itemId: string | null;
  sku: string | null;
  name: string | null;
  category: string | null;
  quantity: number;
  unitPrice: number;
}

/** A POS transaction in the one shape both sources map to (amounts in major units). */
export interface NormalizedTransaction {
  transactionId: string;
  orderId: string | null;
  /** Linked profile, or null when the transaction names no customer. */
  customerId: string | null;
  /** The source's customer id, namespaced by account; null when none is named. */
  sourceCustomerId: string | null;
  occurredAt: Date;
  status: TransactionRow['status'];
  amount: number;
  refundedAmount: number;
  currency: string;
  items: PurchaseItem[];
  locationId: string | null;
  updatedAt: Date;
}

export interface PageCommit {
  /** Stream name for counters, e.g. `payments`. */
  stream: string;
  /** Records the API returned on this page (valid or not). */
  records: number;
  rows?: Partial<Record<WarehouseTableName, WarehouseRow[]>>;
  transactions?: NormalizedTransaction[];
  quarantined?: Omit<QuarantineRow, 'stream'>[];
  /** Checkpoint key (a stream, or a stream per location) and its new position. */
  checkpoint?: { key: string; value: Checkpoint };
}

export interface ProgressEvent {
  connectionId: string;
  provider: PosProvider;
  stream: string;
  pages: number;
  rows: number;
  elapsedMs: number;
  /** How far a time-ordered stream has come from its start towards now (0..1), when known. */
  fraction?: number;
}

export interface IngestRunDeps {
  db: Db;
  warehouse: Warehouse;
  linker: IdentityLinker;
  sync: DatabaseSyncService;
  logger: Logger;
  onProgress?: (event: ProgressEvent) => void;
  onRows?: (provider: PosProvider, stream: string, rows: number) => void;
}

/** Customers whose metrics wait in the queue before a flush mid-run (the end of a run always flushes). */
const METRICS_FLUSH_THRESHOLD = 2000;
const METRICS_BATCH = 500;

export class IngestRun {
  readonly counts: RunCounts = { pages: 0, rows: 0, quarantined: 0, linked: 0, unlinked: 0, profilesCreated: 0, streams: {} };
  private readonly startedAt = Date.now();
  private readonly streamStarted = new Map<string, number>();
  private queuedSinceFlush = 0;

  constructor(
    private readonly deps: IngestRunDeps,
    readonly connection: PosConnection,
    readonly runId: string,
  ) {}

  get businessId(): string {
    return this.connection.businessId;
  }

  get provider(): PosProvider {
    return this.connection.provider;
  }

  /** The account-namespaced id under which a source customer is linked. */
  externalId(sourceId: string): string {
    return `${this.connection.accountId}/${sourceId}`;
  }

  /**
   * Profile ids for the given customer records and for other referenced source ids (already
   * linked ones are looked up; `fetchMissing` fetches the rest from the source; whatever is still
   * unknown becomes a guest profile known by its source id only), so every transaction that
   * names a customer links to exactly one profile.
   */
  async linkCustomers(
    records: SourceCustomer[],
    referenced: string[] = [],
    fetchMissing?: (externalIds: string[]) => Promise<SourceCustomer[]>,
  ): Promise<Map<string, string>> {
    const result = await this.deps.linker.link(this.businessId, records);
    const profiles = result.profiles;
    let created = result.created;
    const unknown = [...new Set(referenced)].filter((id) => !profiles.has(id));
    if (unknown.length > 0) {
      for (const [id, customerId] of await this.deps.linker.lookup(this.businessId, this.provider, unknown)) profiles.set(id, customerId);
      let missing = unknown.filter((id) => !profiles.has(id));
      if (missing.length > 0) {
        const fetched = fetchMissing ? await fetchMissing(missing) : [];
        const fetchedIds = new Set(fetched.map((f) => f.externalId));
        const bare = missing.filter((id) => !fetchedIds.has(id)).map((externalId) => ({ source: this.provider, externalId }));
        const more = await this.deps.linker.link(this.businessId, [...fetched, ...bare]);
        for (const [id, customerId] of more.profiles) profiles.set(id, customerId);
        created += more.created;
        missing = missing.filter((id) => !profiles.has(id));
      }
    }
    this.counts.profilesCreated += created;
    return profiles;
  }

  /** The profile and source customer of transactions already ingested, by transaction id. */
  ownersOf(transactionIds: string[]) {
    return customersOfTransactions(this.deps.db, this.businessId, this.provider, transactionIds);
  }

  async commitPage(page: PageCommit): Promise<void> {
    const quarantined: QuarantineRow[] = (page.quarantined ?? []).map((q) => ({ ...q, stream: page.stream }));
    const rows: Partial<Record<WarehouseTableName, WarehouseRow[]>> = { ...page.rows };
    const transactions = page.transactions ?? [];
    if (transactions.length > 0) rows.purchases = [...(rows.purchases ?? []), ...transactions.map((t) => this.purchaseRow(t))];

    // Tables are independent of one another: their upserts run side by side.
    const tables = (Object.entries(rows) as [WarehouseTableName, WarehouseRow[]][]).filter(([, tableRows]) => tableRows.length > 0);
    const results = await Promise.all(tables.map(([table, tableRows]) => this.deps.warehouse.upsert(table, tableRows)));
    results.forEach((result, i) => {
      const table = tables[i]![0];
      for (const rejected of result.rejected) {
        quarantined.push({ stream: page.stream, recordId: `${table}:${rejected.key}`, reason: `warehouse refused the row: ${rejected.reason}`, payload: rejected.row });
      }
    });

    const named = transactions.filter((t) => t.sourceCustomerId !== null);
    const linked = named.filter((t) => t.customerId !== null).length;
    this.count(page, quarantined.length, linked, transactions.length - named.length);
    await this.deps.db.transaction(async (tx) => {
      await upsertTransactions(tx, transactions.map((t) => this.transactionRow(t)));
      await insertQuarantine(tx, this.connection, this.runId, quarantined);
      if (page.checkpoint) await saveCheckpoint(tx, this.connection.id, page.checkpoint.key, page.checkpoint.value);
      await saveRunCounts(tx, this.runId, this.counts);
    });
    this.queuedSinceFlush += linked;
    this.deps.onRows?.(this.provider, page.stream, page.records);
    if (this.queuedSinceFlush >= METRICS_FLUSH_THRESHOLD) await this.flushMetrics();
  }

  /** Reports progress for a stream: pages and rows so far, and how far along when the stream knows. */
  progress(stream: string, fraction?: number): void {
    const stats = this.counts.streams[stream];
    if (!stats || !this.deps.onProgress) return;
    const started = this.streamStarted.get(stream) ?? this.startedAt;
    this.deps.onProgress({
      connectionId: this.connection.id,
      provider: this.provider,
      stream,
      pages: stats.pages,
      rows: stats.rows,
      elapsedMs: Date.now() - started,
      ...(fraction !== undefined ? { fraction } : {}),
    });
  }

  /** Recomputes the metrics of every queued customer (this run's and any a crashed run left). */
  async flushMetrics(): Promise<number> {
    let changed = 0;
    for (;;) {
      const ids = await pendingMetricCustomers(this.deps.db, METRICS_BATCH);
      if (ids.length === 0) break;
      changed += (await this.deps.sync.refreshTransactionMetrics(ids)).changed;
    }
    this.queuedSinceFlush = 0;
    return changed;
  }

  private count(page: PageCommit, quarantined: number, linked: number, unlinked: number): void {
    if (!this.streamStarted.has(page.stream)) this.streamStarted.set(page.stream, Date.now());
    const stats: StreamStats = (this.counts.streams[page.stream] ??= { pages: 0, rows: 0, quarantined: 0 });
    stats.pages++;
    stats.rows += page.records;
    stats.quarantined += quarantined;
    this.counts.pages++;
    this.counts.rows += page.records;
    this.counts.quarantined += quarantined;
    this.counts.linked += linked;
    this.counts.unlinked += unlinked;
  }

  private purchaseRow(t: NormalizedTransaction): WarehouseRow {
    return {
      business_id: this.businessId,
      source: this.provider,
      transaction_id: t.transactionId,
      order_id: t.orderId,
      customer_id: t.customerId,
      source_customer_id: t.sourceCustomerId,
      purchased_at: t.occurredAt,
      status: t.status,
      amount: t.amount,
      refunded_amount: t.refundedAmount,
      currency: t.currency,
      item_count: t.items.reduce((n, i) => n + Math.max(0, i.quantity), 0),
      items: t.items.map((i) => ({ ...i })),
      location_id: t.locationId,
      updated_at: t.updatedAt,
      ingested_at: new Date(),
    };
  }

  private transactionRow(t: NormalizedTransaction): TransactionRow {
    return {
      businessId: this.businessId,
      source: this.provider,
      transactionId: t.transactionId,
      customerId: t.customerId,
      sourceCustomerId: t.sourceCustomerId,
      occurredAt: t.occurredAt,
      status: t.status,
      amount: t.amount,
      refundedAmount: t.refundedAmount,
      currency: t.currency,
      itemCount: t.items.reduce((n, i) => n + Math.max(0, i.quantity), 0),
      categories: t.items.flatMap((i) => (i.category && i.quantity > 0 ? [i.category] : [])),
      sourceUpdatedAt: t.updatedAt,
    };
  }
}

/** How far a time-ordered stream has come from `start` towards `now` (0..1). */
export function progressBetween(start: Date, position: Date, now: Date): number {
  const span = now.getTime() - start.getTime();
  return span <= 0 ? 1 : Math.min(1, Math.max(0, (position.getTime() - start.getTime()) / span));
}
