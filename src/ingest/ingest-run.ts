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
import { itemCount, purchaseRow, type NormalizedTransaction } from '../warehouse/purchase-row.js';

export type { NormalizedTransaction } from '../warehouse/purchase-row.js';
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
  /** True once the service shuts down: the run stops before its next page. */
  shouldStop?: () => boolean;
}

/**
 * During a long run, metrics are brought up to date at most this often (the end of a run always
 * does it). Each flush recomputes every queued customer from all their transactions, so in a
 * backfill, where nearly every customer is queued again within seconds, flushing per page batch
 * would redo the same work over and over.
 */
const METRICS_FLUSH_INTERVAL_MS = 60_000;
/** Pages fetched and linked but not yet written, at most: bounds memory and the work a crash repeats. */
const MAX_BUFFERED_PAGES = 10;
const METRICS_BATCH = 500;

export class IngestRun {
  readonly counts: RunCounts = { pages: 0, rows: 0, quarantined: 0, linked: 0, unlinked: 0, profilesCreated: 0, streams: {} };
  /** When each stream began: when the page before its first one was handed over (or the run began). */
  private readonly streamStarted = new Map<string, number>();
  private lastHandoverAt = Date.now();
  private lastFlushAt = Date.now();
  private readonly buffered: PageCommit[] = [];
  private writer: Promise<void> | undefined;
  private writeFailure: Error | undefined;

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
      const missing = unknown.filter((id) => !profiles.has(id));
      if (missing.length > 0) {
        const fetched = fetchMissing ? await fetchMissing(missing) : [];
        const fetchedIds = new Set(fetched.map((f) => f.externalId));
        const bare = missing.filter((id) => !fetchedIds.has(id)).map((externalId) => ({ source: this.provider, externalId }));
        const more = await this.deps.linker.link(this.businessId, [...fetched, ...bare]);
        for (const [id, customerId] of more.profiles) profiles.set(id, customerId);
        created += more.created;
      }
    }
    this.counts.profilesCreated += created;
    return profiles;
  }

  /** The profile and source customer of transactions already ingested, by transaction id. */
  async ownersOf(transactionIds: string[]) {
    await this.drain();
    return customersOfTransactions(this.deps.db, this.businessId, this.provider, transactionIds);
  }

  /**
   * Hands a page to the writer and returns at once while fewer than MAX_BUFFERED_PAGES wait, so
   * the stream fetches and links the next pages while earlier ones are written. The writer takes
   * every waiting page as one batch (one statement per table, one transaction), in order, so
   * checkpoints only move forward. After a failed write no later page is written: the next call
   * (or drain) rethrows, and the run resumes from the last stored checkpoint.
   */
  async commitPage(page: PageCommit): Promise<void> {
    if (this.writeFailure !== undefined) throw this.writeFailure;
    if (this.deps.shouldStop?.()) throw new Error('stopped: the service is shutting down; the next run resumes from the checkpoint');
    if (!this.streamStarted.has(page.stream)) this.streamStarted.set(page.stream, this.lastHandoverAt);
    this.lastHandoverAt = Date.now();
    this.buffered.push(page);
    if (!this.writer) this.writer = this.writeBuffered();
    if (this.buffered.length >= MAX_BUFFERED_PAGES) await this.drain();
  }

  /** Waits until every page handed over is stored (rethrows a failed write). */
  async drain(): Promise<void> {
    await this.writer;
    if (this.writeFailure !== undefined) throw this.writeFailure;
  }

  private async writeBuffered(): Promise<void> {
    try {
      while (this.buffered.length > 0) await this.writePages(this.buffered.splice(0));
    } catch (err) {
      this.writeFailure = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.writer = undefined;
    }
  }

  private async writePages(pages: PageCommit[]): Promise<void> {
    const quarantined: QuarantineRow[] = [];
    const rows = new Map<WarehouseTableName, WarehouseRow[]>();
    const transactions: NormalizedTransaction[] = [];
    const checkpoints = new Map<string, Checkpoint>();
    for (const page of pages) {
      const pageTransactions = page.transactions ?? [];
      for (const [table, tableRows] of Object.entries(page.rows ?? {}) as [WarehouseTableName, WarehouseRow[]][]) {
        rows.set(table, [...(rows.get(table) ?? []), ...tableRows]);
      }
      if (pageTransactions.length > 0) rows.set('purchases', [...(rows.get('purchases') ?? []), ...pageTransactions.map((t) => purchaseRow(this.businessId, this.provider, t, new Date()))]);
      transactions.push(...pageTransactions);
      quarantined.push(...(page.quarantined ?? []).map((q) => ({ ...q, stream: page.stream })));
      if (page.checkpoint) checkpoints.set(page.checkpoint.key, page.checkpoint.value);
      const named = pageTransactions.filter((t) => t.sourceCustomerId !== null);
      this.count(page, (page.quarantined ?? []).length, named.filter((t) => t.customerId !== null).length, pageTransactions.length - named.length);
    }

    // Tables are independent of one another: their upserts run side by side.
    const tables = [...rows.entries()].filter(([, tableRows]) => tableRows.length > 0);
    const results = await Promise.all(tables.map(([table, tableRows]) => this.deps.warehouse.upsert(table, tableRows)));
    results.forEach((result, i) => {
      const table = tables[i]![0];
      for (const rejected of result.rejected) {
        quarantined.push({ stream: pages[0]!.stream, recordId: `${table}:${rejected.key}`, reason: `warehouse refused the row: ${rejected.reason}`, payload: rejected.row });
        this.counts.quarantined++;
      }
    });

    await this.deps.db.transaction(async (tx) => {
      await upsertTransactions(tx, transactions.map((t) => this.transactionRow(t)));
      await insertQuarantine(tx, this.connection, this.runId, quarantined);
      for (const [key, value] of checkpoints) await saveCheckpoint(tx, this.connection.id, key, value);
      await saveRunCounts(tx, this.runId, this.counts);
    });
    for (const page of pages) this.deps.onRows?.(this.provider, page.stream, page.records);
    if (Date.now() - this.lastFlushAt >= METRICS_FLUSH_INTERVAL_MS) await this.refreshQueuedMetrics();
  }

  /** Reports progress for a stream: pages and rows so far, and how far along when the stream knows. */
  progress(stream: string, fraction?: number): void {
    const stats = this.counts.streams[stream];
    if (!stats || !this.deps.onProgress) return;
    const started = this.streamStarted.get(stream) ?? this.lastHandoverAt;
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
    await this.drain();
    return this.refreshQueuedMetrics();
  }

  private async refreshQueuedMetrics(): Promise<number> {
    let changed = 0;
    for (;;) {
      const ids = await pendingMetricCustomers(this.deps.db, METRICS_BATCH);
      if (ids.length === 0) break;
      changed += (await this.deps.sync.refreshTransactionMetrics(ids)).changed;
    }
    this.lastFlushAt = Date.now();
    return changed;
  }

  private count(page: PageCommit, quarantined: number, linked: number, unlinked: number): void {
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
      itemCount: itemCount(t.items),
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
