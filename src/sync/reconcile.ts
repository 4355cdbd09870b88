// Reconciliation proves PostgreSQL and Firestore converge. It streams customers from PostgreSQL
// and customer documents from Firestore, both in id order and a page at a time (bounded memory),
// merge-joins them and classifies drift:
//   missing       in PostgreSQL, no document in Firestore
//   orphan        a document whose customer PostgreSQL no longer has
//   stale         the projected version is behind PostgreSQL's
//   mismatch      the main or PII document's content differs from the projection of PostgreSQL
//   subcollection addresses, IP addresses or activities differ
// With fix, every finding is repaired through the normal path: an outbox row (`repair`, or
// `purge` for orphans) that the projector applies. Each run is recorded in reconcile_runs.
import { and, asc, count, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import { Timestamp, type DocumentData } from 'firebase-admin/firestore';
import type { Db } from '../db/db.client.js';
import { customerActivities, customers, reconcileRuns } from '../db/schema/index.js';
import { isProjected, loadAggregates, type CustomerAggregate } from '../customers/customers.repository.js';
import type { FirestoreWriter } from '../firestore/firestore-writer.js';
import { contentHash } from './content-hash.js';
import { CUSTOMERS, mapCustomer } from './firestore-mapping.js';
import { appendSyncLog } from './sync-logs.repository.js';
import { SYNC_STATE, type SyncState } from './sync-projector.js';

export const DRIFT_CLASSES = ['missing', 'orphan', 'stale', 'mismatch', 'subcollection'] as const;
export type DriftClass = (typeof DRIFT_CLASSES)[number];

export interface ReconcileReport {
  runId: string;
  fix: boolean;
  customersChecked: number;
  documentsChecked: number;
  drift: Record<DriftClass, { count: number; ids: string[] }>;
  driftCount: number;
  fixed: number;
}

const PAGE = 200;
/** Ids kept per class in the report; counts are always exact. */
const MAX_IDS = 1000;

export class Reconciler {
  constructor(
    private readonly db: Db,
    private readonly writer: FirestoreWriter,
  ) {}

  async run(opts: { fix: boolean; trigger?: string }): Promise<ReconcileReport> {
    const [run] = await this.db
      .insert(reconcileRuns)
      .values({ fix: opts.fix, trigger: opts.trigger ?? 'manual' })
      .returning({ id: reconcileRuns.id });
    const report: ReconcileReport = {
      runId: run!.id,
      fix: opts.fix,
      customersChecked: 0,
      documentsChecked: 0,
      drift: Object.fromEntries(DRIFT_CLASSES.map((c) => [c, { count: 0, ids: [] as string[] }])) as ReconcileReport['drift'],
      driftCount: 0,
      fixed: 0,
    };
    try {
      await this.mergeJoin(report);
      if (opts.fix) report.fixed = await this.enqueueRepairs(report);
      report.driftCount = DRIFT_CLASSES.reduce((n, c) => n + report.drift[c].count, 0);
      await this.db
        .update(reconcileRuns)
        .set({
          status: 'completed',
          finishedAt: sql`now()`,
          customersChecked: report.customersChecked,
          documentsChecked: report.documentsChecked,
          driftCount: report.driftCount,
          fixed: report.fixed,
          report: { drift: report.drift },
        })
        .where(eq(reconcileRuns.id, report.runId));
      return report;
    } catch (err) {
      await this.db
        .update(reconcileRuns)
        .set({ status: 'failed', finishedAt: sql`now()`, error: err instanceof Error ? err.message.slice(0, 1000) : 'failed' })
        .where(eq(reconcileRuns.id, report.runId));
      throw err;
    }
  }

  private async mergeJoin(report: ReconcileReport): Promise<void> {
    const pg = this.pgIds();
    const fs = this.firestoreDocs();
    let a = await pg.next();
    let b = await fs.next();
    let matched: { id: string; doc: DocumentData }[] = [];
    const flush = async () => {
      if (matched.length > 0) await this.compare(matched, report);
      matched = [];
    };
    while (!a.done || !b.done) {
      const pgId = a.done ? undefined : a.value;
      const fsDoc = b.done ? undefined : b.value;
      if (pgId !== undefined && (fsDoc === undefined || pgId < fsDoc.id)) {
        report.customersChecked += 1;
        this.note(report, 'missing', pgId);
        a = await pg.next();
      } else if (fsDoc !== undefined && (pgId === undefined || fsDoc.id < pgId)) {
        report.documentsChecked += 1;
        this.note(report, 'orphan', fsDoc.id);
        b = await fs.next();
      } else if (pgId !== undefined && fsDoc !== undefined) {
        report.customersChecked += 1;
        report.documentsChecked += 1;
        matched.push({ id: pgId, doc: fsDoc.data });
        if (matched.length >= PAGE) await flush();
        a = await pg.next();
        b = await fs.next();
      }
    }
    await flush();
  }

  /** Customer ids in PostgreSQL, ascending (text order, as Firestore orders its `id` field). */
  private async *pgIds(): AsyncGenerator<string, void> {
    let after = '';
    for (;;) {
      const rows = await this.db
        .select({ id: sql<string>`${customers.id}::text` })
        .from(customers)
        .where(and(gt(sql`${customers.id}::text`, after), isNull(customers.erasedAt), isNull(customers.mergedIntoId)))
        .orderBy(asc(sql`${customers.id}::text`))
        .limit(PAGE);
      for (const row of rows) yield row.id;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  private async *firestoreDocs(): AsyncGenerator<{ id: string; data: DocumentData }, void> {
    let after = '';
    for (;;) {
      const docs = await this.writer.pageById(CUSTOMERS, after, PAGE);
      for (const doc of docs) yield doc;
      if (docs.length < PAGE) return;
      after = docs[docs.length - 1]!.id;
    }
  }

  private async compare(pairs: { id: string; doc: DocumentData }[], report: ReconcileReport): Promise<void> {
    const ids = pairs.map((p) => p.id);
    // Erased and merged-away customers have no projection: a document of theirs is an orphan.
    const aggregates = new Map([...(await loadAggregates(this.db, ids, 0))].filter(([, a]) => isProjected(a)));
    const activityCounts = new Map(
      (
        await this.db
          .select({ id: customerActivities.customerId, n: count() })
          .from(customerActivities)
          .where(inArray(customerActivities.customerId, ids))
          .groupBy(customerActivities.customerId)
      ).map((r) => [r.id, r.n]),
    );
    const extra = await this.writer.getAll(ids.flatMap((id) => [`${SYNC_STATE}/${id}`, `${CUSTOMERS}/${id}/private/pii`]));
    for (const [i, { id, doc }] of pairs.entries()) {
      const aggregate = aggregates.get(id);
      if (!aggregate) {
        // Deleted between the two reads: the next run settles it.
        continue;
      }
      const state = extra[i * 2] as SyncState | undefined;
      const pii = extra[i * 2 + 1];
      const expected = mapCustomer(aggregate);
      if (!state || state.version < aggregate.version) this.note(report, 'stale', id);
      if (contentOf(doc) !== expected.main.hash || !pii || contentOf(pii) !== expected.pii.hash) this.note(report, 'mismatch', id);
      if (await this.subcollectionsDiffer(aggregate, expected, activityCounts.get(id) ?? 0)) this.note(report, 'subcollection', id);
    }
  }

  private async subcollectionsDiffer(
    aggregate: CustomerAggregate,
    expected: ReturnType<typeof mapCustomer>,
    activityCount: number,
  ): Promise<boolean> {
    const base = `${CUSTOMERS}/${aggregate.id}`;
    for (const [kind, docs] of [['addresses', expected.addresses], ['ipAddresses', expected.ipAddresses]] as const) {
      const actual = await this.writer.listAll(`${base}/${kind}`);
      const want = new Map(docs.map((d) => [d.path.split('/')[1]!, d.hash]));
      if (actual.length !== want.size) return true;
      for (const { id, data } of actual) if (want.get(id) !== contentOf(data)) return true;
    }
    const activities = await this.writer.countDocs(`${base}/activities`);
    return activities !== activityCount;
  }

  private note(report: ReconcileReport, drift: DriftClass, id: string): void {
    const entry = report.drift[drift];
    entry.count += 1;
    if (entry.ids.length < MAX_IDS) entry.ids.push(id);
  }

  /** Repairs go through the normal path: outbox rows the projector applies. */
  private async enqueueRepairs(report: ReconcileReport): Promise<number> {
    const repair = new Set<string>();
    for (const c of ['missing', 'stale', 'mismatch', 'subcollection'] as const) report.drift[c].ids.forEach((id) => repair.add(id));
    let enqueued = 0;
    if (repair.size > 0) {
      const aggregates = await loadAggregates(this.db, [...repair], 0);
      for (const aggregate of aggregates.values()) {
        await appendSyncLog(this.db, {
          entityType: 'customer',
          entityId: aggregate.id,
          operation: 'repair',
          entityVersion: aggregate.version,
          contentHash: mapCustomer(aggregate).main.hash,
          changedFields: [],
        });
        enqueued += 1;
      }
    }
    for (const id of report.drift.orphan.ids) {
      await appendSyncLog(this.db, {
        entityType: 'customer',
        entityId: id,
        operation: 'purge',
        entityVersion: 0,
        contentHash: '',
        changedFields: [],
      });
      enqueued += 1;
    }
    return enqueued;
  }
}

/** Content hash of a stored document: its fields without `_sync`, Firestore types back to ours. */
function contentOf(data: DocumentData): string {
  const { _sync: _ignored, ...content } = data;
  return contentHash(fromFirestore(content));
}

function fromFirestore(value: unknown): unknown {
  if (value instanceof Timestamp) return value.toDate();
  if (Array.isArray(value)) return value.map(fromFirestore);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromFirestore(v)]));
  }
  return value;
}
