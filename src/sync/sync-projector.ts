// The projector: brings Firestore to the state PostgreSQL committed. It claims due outbox rows
// (FOR UPDATE SKIP LOCKED), takes a per-customer advisory lock (so one customer is never projected
// by two workers at once), coalesces rows per customer, loads the CURRENT aggregate, and writes
// only the documents whose content hash changed, several customers per commit (≤ 500 writes).
//
// Invariants:
// - A stale version never overwrites a newer one: syncState/{id}.version is compared first, and
//   the customer's lock makes that read-compare-write safe.
// - Projection is state transfer: re-running it changes nothing (same hashes, no writes).
// - The PostgreSQL write is never undone because Firestore failed: rows back off and retry, and
//   go `dead` after the configured attempts (or at once when retrying cannot help).
import type { DocumentData } from 'firebase-admin/firestore';
import type { Db, Tx } from '../db/db.client.js';
import {
  loadActivitiesAfter,
  isProjected,
  loadAggregates,
  type ActivityWatermark,
  type CustomerAggregate,
} from '../customers/customers.repository.js';
import { MAX_WRITES_PER_COMMIT, type FirestoreWriter, type WriteOp } from '../firestore/firestore-writer.js';
import type { Logger } from '../logger.js';
import {
  CUSTOMERS,
  estimatedSize,
  FIRESTORE_MAX_DOCUMENT_BYTES,
  mapActivity,
  mapCustomer,
  SUBCOLLECTIONS,
  withSync,
  type MappedDocument,
} from './firestore-mapping.js';
import {
  claimDueSyncLogs,
  completeSyncLogs,
  failSyncLogs,
  lockCustomersForProjection,
  type ClaimedRow,
  type RetryPolicy,
} from './sync-logs.repository.js';

export const SYNC_STATE = 'syncState';
const ACTIVITY_PAGE = 500;

/** Bookkeeping per customer (a top-level collection the security rules keep from every client). */
export interface SyncState {
  id: string;
  version: number;
  hashes: { main: string; pii: string; addresses: Record<string, string>; ipAddresses: Record<string, string> };
  activities: { watermark: ActivityWatermark | null; count: number };
  syncedAt: Date;
}

export interface ProjectorOptions {
  batchSize: number;
  retry: RetryPolicy;
}

export interface RunResult {
  claimed: number;
  projected: number;
  failed: number;
  documentsWritten: number;
}

interface Plan {
  customerId: string;
  version: number;
  ops: WriteOp[];
  rows: ClaimedRow[];
  /** Set when the plan cannot succeed on retry (e.g. a document over Firestore's size limit). */
  poison?: string;
}

export class SyncProjector {
  private running = false;
  private wanted = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: Promise<void> = Promise.resolve();
  private readonly projectedListeners = new Set<(customerId: string, version: number) => void>();
  private readonly runListeners = new Set<(result: RunResult) => void>();

  constructor(
    private readonly db: Db,
    private readonly writer: FirestoreWriter,
    private readonly options: ProjectorOptions,
    private readonly logger: Logger,
  ) {}

  onProjected(listener: (customerId: string, version: number) => void): () => void {
    this.projectedListeners.add(listener);
    return () => this.projectedListeners.delete(listener);
  }

  onRun(listener: (result: RunResult) => void): () => void {
    this.runListeners.add(listener);
    return () => this.runListeners.delete(listener);
  }

  /** Asks for a drain soon; concurrent calls coalesce into one running loop. */
  wake(): void {
    this.wanted = true;
    if (!this.running) this.idle = this.loop();
  }

  /** Polls for due rows (backoff retries, missed notifications) until stopped. */
  start(pollIntervalMs: number): void {
    this.timer ??= setInterval(() => this.wake(), pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.wanted = false;
    await this.idle;
  }

  /** Runs until no due row is left (or only rows other workers hold). */
  async drain(): Promise<RunResult> {
    const total: RunResult = { claimed: 0, projected: 0, failed: 0, documentsWritten: 0 };
    for (;;) {
      const r = await this.runOnce();
      total.claimed += r.claimed;
      total.projected += r.projected;
      total.failed += r.failed;
      total.documentsWritten += r.documentsWritten;
      if (r.projected + r.failed === 0) return total;
    }
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.wanted) {
        this.wanted = false;
        await this.drain();
      }
    } catch (err) {
      // PostgreSQL unreachable, say: the poll timer tries again.
      this.logger.error({ err }, 'projection run failed');
    } finally {
      this.running = false;
    }
  }

  /** One claim-project-record cycle in one PostgreSQL transaction. */
  async runOnce(): Promise<RunResult> {
    const projected: [string, number][] = [];
    const result = await this.db.transaction(async (tx) => {
      const rows = await claimDueSyncLogs(tx, this.options.batchSize);
      const r: RunResult = { claimed: rows.length, projected: 0, failed: 0, documentsWritten: 0 };
      if (rows.length === 0) return r;

      const rowsByCustomer = groupBy(rows, (row) => row.entityId);
      const ids = await lockCustomersForProjection(tx, [...rowsByCustomer.keys()]);
      if (ids.length === 0) return r;
      const aggregates = await loadAggregates(tx, ids, 0);
      let plans: Plan[];
      try {
        plans = await this.plan(tx, ids, aggregates, rowsByCustomer);
      } catch (err) {
        // Firestore unreachable before anything was written: every claimed row backs off.
        const lockedRows = ids.flatMap((id) => rowsByCustomer.get(id)!.map((row) => row.id));
        await failSyncLogs(tx, lockedRows, describe(err), this.options.retry);
        this.logger.warn({ customers: ids.length, error: describe(err).slice(0, 200) }, 'projection batch failed');
        return { ...r, failed: ids.length };
      }

      const outcome = await this.execute(plans.filter((p) => !p.poison && p.ops.length > 0));
      const done: { customerId: string; version: number }[] = [];
      for (const plan of plans) {
        const error = plan.poison ?? outcome.failed.get(plan.customerId);
        if (error === undefined) {
          done.push({ customerId: plan.customerId, version: plan.version });
          projected.push([plan.customerId, plan.version]);
          r.projected += 1;
        } else {
          await failSyncLogs(tx, plan.rows.map((row) => row.id), error, this.options.retry, { permanent: plan.poison !== undefined });
          r.failed += 1;
          this.logger.warn({ customerId: plan.customerId, error: error.slice(0, 200), dead: !!plan.poison }, 'projection failed');
        }
      }
      await completeSyncLogs(tx, done);
      r.documentsWritten = outcome.written;
      return r;
    });
    for (const [id, version] of projected) for (const l of this.projectedListeners) l(id, version);
    for (const l of this.runListeners) l(result);
    return result;
  }

  private async plan(
    tx: Tx,
    ids: string[],
    aggregates: Map<string, CustomerAggregate>,
    rowsByCustomer: Map<string, ClaimedRow[]>,
  ): Promise<Plan[]> {
    const states = (await this.writer.getAll(ids.map((id) => `${SYNC_STATE}/${id}`))) as (SyncState | undefined)[];
    const plans: Plan[] = [];
    for (const [i, id] of ids.entries()) {
      const aggregate = aggregates.get(id);
      const state = states[i];
      const claimed = rowsByCustomer.get(id)!;
      const force = claimed.some((row) => row.operation === 'repair');
      if (!aggregate || !isProjected(aggregate)) {
        plans.push({ customerId: id, version: Number.MAX_SAFE_INTEGER, ops: await this.purgeOps(id), rows: claimed });
      } else if (state && (state.version > aggregate.version || (state.version === aggregate.version && !force))) {
        // Already projected at this version or a newer one: nothing to write.
        plans.push({ customerId: id, version: aggregate.version, ops: [], rows: claimed });
      } else {
        plans.push(await this.upsertPlan(tx, aggregate, state, force, claimed));
      }
    }
    return plans;
  }

  private async upsertPlan(
    tx: Tx,
    aggregate: CustomerAggregate,
    state: SyncState | undefined,
    force: boolean,
    rows: ClaimedRow[],
  ): Promise<Plan> {
    const id = aggregate.id;
    const base = `${CUSTOMERS}/${id}`;
    const now = new Date();
    const docs = mapCustomer(aggregate);
    const ops: WriteOp[] = [];
    const write = (doc: MappedDocument, stored: string | undefined) => {
      if (force || stored !== doc.hash) ops.push({ kind: 'set', path: docPath(base, doc.path), data: withSync(doc, aggregate.version, now) });
    };
    write(docs.main, state?.hashes.main);
    write(docs.pii, state?.hashes.pii);
    for (const [kind, list] of [['addresses', docs.addresses], ['ipAddresses', docs.ipAddresses]] as const) {
      const stored = state?.hashes[kind] ?? {};
      const keep = new Set<string>();
      for (const doc of list) {
        const docId = doc.path.split('/')[1]!;
        keep.add(docId);
        write(doc, stored[docId]);
      }
      for (const docId of Object.keys(stored)) if (!keep.has(docId)) ops.push({ kind: 'delete', path: `${base}/${kind}/${docId}` });
    }

    // Activities are append-only: only those inserted after the watermark are written.
    let watermark = force ? null : (state?.activities.watermark ?? null);
    let count = force ? 0 : (state?.activities.count ?? 0);
    const written = new Set<string>();
    for (;;) {
      const page = await loadActivitiesAfter(tx, id, watermark, ACTIVITY_PAGE);
      for (const act of page.activities) {
        const doc = mapActivity(act);
        ops.push({ kind: 'set', path: `${base}/${doc.path}`, data: withSync(doc, aggregate.version, now) });
        written.add(act.id);
      }
      count += page.activities.length;
      watermark = page.watermark;
      if (page.activities.length < ACTIVITY_PAGE) break;
    }
    // A repair also removes activity documents the customer no longer has in PostgreSQL (an
    // undone merge moves activities back to the merged-away customer).
    if (force) {
      for (let after = ''; ;) {
        const docs = await this.writer.pageById(`${base}/activities`, after, 1000);
        for (const doc of docs) if (!written.has(doc.id)) ops.push({ kind: 'delete', path: `${base}/activities/${doc.id}` });
        if (docs.length < 1000) break;
        after = docs[docs.length - 1]!.id;
      }
    }

    const syncState: SyncState = {
      id,
      version: aggregate.version,
      hashes: {
        main: docs.main.hash,
        pii: docs.pii.hash,
        addresses: Object.fromEntries(docs.addresses.map((d) => [d.path.split('/')[1]!, d.hash])),
        ipAddresses: Object.fromEntries(docs.ipAddresses.map((d) => [d.path.split('/')[1]!, d.hash])),
      },
      activities: { watermark, count },
      syncedAt: now,
    };
    // Written last: if a multi-commit customer is cut off half-way, the old state makes the
    // next attempt write everything again (idempotent).
    ops.push({ kind: 'set', path: `${SYNC_STATE}/${id}`, data: syncState as unknown as DocumentData });

    const oversized = ops.find((op) => op.kind === 'set' && estimatedSize(op.data) > FIRESTORE_MAX_DOCUMENT_BYTES);
    return {
      customerId: id,
      version: aggregate.version,
      ops,
      rows,
      poison: oversized ? `document ${oversized.path.replace(id, '{id}')} exceeds Firestore's 1 MiB document limit` : undefined,
    };
  }

  /** A customer gone from PostgreSQL (hard delete), erased or merged away: its document, PII and subcollections go too. */
  private async purgeOps(id: string): Promise<WriteOp[]> {
    const base = `${CUSTOMERS}/${id}`;
    const ops: WriteOp[] = [];
    for (const sub of SUBCOLLECTIONS) {
      // Listed, not taken from the sync state: a purge must not leave anything behind.
      for (;;) {
        const ids = await this.writer.listIds(`${base}/${sub}`, 1000);
        ops.push(...ids.map((docId): WriteOp => ({ kind: 'delete', path: `${base}/${sub}/${docId}` })));
        if (ids.length < 1000) break;
        // More than a page: delete this one now so the next listing moves on.
        await this.commitInChunks(ops.splice(0));
      }
    }
    ops.push({ kind: 'delete', path: `${base}/private/pii` }, { kind: 'delete', path: base }, { kind: 'delete', path: `${SYNC_STATE}/${id}` });
    return ops;
  }

  /**
   * Packs customers into commits of ≤ 500 writes. A failed commit holding several customers is
   * retried one customer at a time, so one bad customer does not hold back the rest.
   */
  private async execute(plans: Plan[]): Promise<{ failed: Map<string, string>; written: number }> {
    const failed = new Map<string, string>();
    let written = 0;
    let group: Plan[] = [];
    let size = 0;
    const flush = async () => {
      if (group.length === 0) return;
      const current = group;
      group = [];
      size = 0;
      try {
        await this.writer.commit(current.flatMap((p) => p.ops));
        written += current.reduce((n, p) => n + p.ops.length, 0);
      } catch (err) {
        if (current.length === 1) {
          failed.set(current[0]!.customerId, describe(err));
          return;
        }
        for (const plan of current) {
          try {
            await this.commitInChunks(plan.ops);
            written += plan.ops.length;
          } catch (e) {
            failed.set(plan.customerId, describe(e));
          }
        }
      }
    };
    for (const plan of plans) {
      if (plan.ops.length > MAX_WRITES_PER_COMMIT) {
        await flush();
        try {
          await this.commitInChunks(plan.ops);
          written += plan.ops.length;
        } catch (err) {
          failed.set(plan.customerId, describe(err));
        }
        continue;
      }
      if (size + plan.ops.length > MAX_WRITES_PER_COMMIT) await flush();
      group.push(plan);
      size += plan.ops.length;
    }
    await flush();
    return { failed, written };
  }

  private async commitInChunks(ops: WriteOp[]): Promise<void> {
    for (let i = 0; i < ops.length; i += MAX_WRITES_PER_COMMIT) {
      await this.writer.commit(ops.slice(i, i + MAX_WRITES_PER_COMMIT));
    }
  }
}

function docPath(base: string, relative: string): string {
  return relative ? `${base}/${relative}` : base;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
