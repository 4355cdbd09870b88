// Merging two customers of a business into one, and undoing it within 30 days. Both run as ONE
// change of the two customers through DatabaseSyncService.changeCustomers (locks in id order,
// standing, versions, outbox rows, customers.customer.merged / unmerged events), so a failure
// leaves both exactly as they were and the projector brings Firestore along: the merged-away
// customer's document is removed (it is no longer projected) and comes back on undo.
//
// What a merge does to the survivor: every core field and one-row section follows the
// survivorship rule (survivorship.ts); sources, addresses, IP addresses, activities, transactions,
// memory interactions, hand-assigned segment memberships and preferences move to it (what it
// already has stays once); its transaction metrics are recomputed; tier and dynamic segments are
// derived again. The merged customer keeps its row as a tombstone (merged_into_id, deleted_at).
//
// What an undo does (merge.repository.ts restoreSnapshot): it reverses exactly the merge's
// changes. Whatever the survivor gained after the merge (a new transaction, an edited field, a
// new address) stays with the survivor; values the merge wrote and nobody changed since go back.
import { eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/db.client.js';
import { customerDemographics, customerEngagement, customerRiskAssessments, customers } from '../db/schema/index.js';
import { AppError, invalidInput } from '../errors.js';
import {
  belongsToBusiness,
  loadAggregate,
  refreshBusinessEmail,
  replaceSection,
  type CustomerAggregate,
} from '../customers/customers.repository.js';
import { recomputeTransactionMetrics } from '../customers/transaction-metrics.repository.js';
import { decodeCursor, encodeCursor } from '../db/keyset.js';
import type { CustomerEventType } from '../events/domain-events.repository.js';
import { refreshStanding } from '../standing/standing.js';
import { changedFieldNames } from '../sync/aggregate-diff.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import { appendSyncLog } from '../sync/sync-logs.repository.js';
import type { Sweeper } from '../jobs/queue-worker.js';
import {
  captureRows,
  clearClosedSnapshots,
  customersWithTransactions,
  diffRows,
  findMerge,
  insertMerge,
  listMerges,
  loadFieldTimes,
  markMergedAway,
  markUndone,
  mergePreferences,
  moveRows,
  restoreSnapshot,
  type MergeRecord,
  type MergeSnapshot,
} from './merge.repository.js';
import { listMergesQuery, mergeBody } from './merge.schema.js';
import {
  mergeCoreFields,
  mergeSection,
  rankOf,
  recordSource,
  type CoreFields,
  type FieldDecision,
  type SurvivorshipRecord,
} from './survivorship.js';

export const UNDO_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** The aggregate's own limits (customers.schema.ts): a merge never leaves a customer a later write would refuse. */
const LIMITS = { sources: 50, addresses: 50, ipAddresses: 200, tags: 100 } as const;

export interface MergeContext {
  businessId: string;
  /** Who asks (the token's subject): recorded as merged_by / undone_by. */
  actor: string;
}

/** A merge as the API shows it: everything but the snapshot (which holds PII). */
export type MergeView = Omit<MergeRecord, 'snapshot'> & {
  /** active: can be undone until undoUntil; undone; final: the undo window has closed. */
  status: 'active' | 'undone' | 'final';
};

export interface MergeDeps {
  db: Db;
  sync: DatabaseSyncService;
  /** MERGE_SOURCE_RANKING: sources, most trusted first. */
  sourceRanking: string[];
  /** Cached memory profiles, dropped for both customers once a merge or an undo has committed. */
  profileCache?: { invalidate(businessId: string, customerId: string): Promise<void> };
}

const field = (name: string, message: string) => [{ field: name, message }];

/**
 * A customer's part in a merge or an undo, as changeCustomers records it. The event payload names
 * the merge and both customers (ids only), so a consumer of either event can follow the other.
 */
type CustomerChange = { event: CustomerEventType; changedFields: string[]; payload: { mergeId: string; survivorId: string; mergedId: string } };

export class MergeService {
  constructor(private readonly deps: MergeDeps) {}

  /** Merges `body.sourceId` into `survivorId`. */
  async merge(ctx: MergeContext, survivorId: string, body: unknown, now = new Date()): Promise<{ merge: MergeView; customer: CustomerAggregate }> {
    const parsed = mergeBody.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const { sourceId: mergedId, reason, sourceRanking } = parsed.data;
    if (mergedId === survivorId) {
      throw new AppError('INVALID_INPUT', 'Invalid input: body.sourceId: must be another customer than the one merged into', field('body.sourceId', 'must be another customer than the one merged into'));
    }
    // Links are never removed, so checking them before the transaction answers with the field.
    await this.assertLinked(ctx.businessId, survivorId, 'params.id');
    await this.assertLinked(ctx.businessId, mergedId, 'body.sourceId');
    const ranking = sourceRanking ?? this.deps.sourceRanking;

    let record: MergeRecord | undefined;
    const result = await this.deps.sync.changeCustomers([survivorId, mergedId], { businessId: ctx.businessId, actor: ctx.actor, includeGone: true }, async (tx, before) => {
      const survivor = before.get(survivorId)!;
      const merged = before.get(mergedId)!;
      assertMergeable(survivor, 'params.id');
      assertMergeable(merged, 'body.sourceId');
      if (merged.businessIds.length > 1) {
        const message = 'is a customer of another business too: merging it away would remove it there';
        throw new AppError('CONFLICT', `body.sourceId: ${message}`, field('body.sourceId', message));
      }
      const ids = [survivorId, mergedId];
      const beforeRows = await captureRows(tx, ids);
      const times = await loadFieldTimes(tx, ids);
      const records = {
        survivor: survivorshipRecord(survivor, 'survivor', ranking, times.get(survivorId)),
        merged: survivorshipRecord(merged, 'merged', ranking, times.get(mergedId)),
      };

      const core = mergeCoreFields({ record: records.survivor, values: coreOf(survivor) }, { record: records.merged, values: coreOf(merged) });
      if (core.values.tags.length > LIMITS.tags) tooMany('tags', core.values.tags.length, LIMITS.tags);
      const sectionDecisions: FieldDecision[] = [];
      const sections = [
        ['demographics', customerDemographics],
        ['engagement', customerEngagement],
        ['risk', customerRiskAssessments],
      ] as const;
      const sectionValues = sections.map(([name, table]) => {
        const s = survivor[name] as Record<string, unknown> | null;
        const m = merged[name] as Record<string, unknown> | null;
        const result = mergeSection(name, { record: records.survivor, row: s }, { record: records.merged, row: m });
        sectionDecisions.push(...result.decisions);
        return { table, values: m ? result.values : null };
      });

      await markMergedAway(tx, mergedId, survivorId, now);
      const phoneNormalized = core.values.phone === null ? null : core.values.phone === survivor.phone ? survivor.phoneNormalized : merged.phoneNormalized;
      await tx
        .update(customers)
        .set({ ...core.values, status: core.values.status as CustomerAggregate['status'], customerType: core.values.customerType as CustomerAggregate['customerType'], phoneNormalized })
        .where(eq(customers.id, survivorId));
      await refreshBusinessEmail(tx, survivorId, core.values.email);
      // A section only the survivor has is left as it is.
      for (const { table, values } of sectionValues) if (values) await replaceSection(tx, table, survivorId, values);

      const { counts, moved } = await moveRows(tx, survivorId, mergedId);
      await assertWithinLimits(tx, survivorId);
      const preferences = await mergePreferences(tx, survivorId, mergedId);
      // The survivor's transaction metrics now come from both customers' transactions.
      await recomputeTransactionMetrics(tx, [survivorId]);
      // Derived here (changeCustomers derives again and finds nothing left to do), so the
      // snapshot's after-images include the tier and segment changes the merge causes.
      await refreshStanding(tx, ids, { actor: ctx.actor });

      const snapshot: MergeSnapshot = { format: 1, survivorId, mergedId, rows: diffRows(beforeRows, await captureRows(tx, ids)), moved };
      record = await insertMerge(tx, {
        businessId: ctx.businessId,
        survivorId,
        mergedId,
        mergedBy: ctx.actor,
        reason: reason ?? null,
        snapshot: snapshot as unknown as Record<string, unknown>,
        decisions: {
          ranking,
          sources: { survivor: records.survivor.source, merged: records.merged.source },
          fields: [...core.decisions, ...sectionDecisions],
          preferences,
          moved: counts,
        },
        createdAt: now,
        undoUntil: new Date(now.getTime() + UNDO_WINDOW_DAYS * DAY_MS),
      });
      if (counts.activities > 0) await appendActivitiesRepair(tx, survivorId);

      const after = (await loadAggregate(tx, survivorId))!;
      const changed = changedFieldNames(survivor, after);
      if (counts.activities > 0) changed.push('activities');
      const payload = { mergeId: record.id, survivorId, mergedId };
      return new Map<string, CustomerChange>([
        [survivorId, { event: 'customers.customer.merged', changedFields: changed, payload }],
        [mergedId, { event: 'customers.customer.merged', changedFields: ['mergedIntoId', 'deletedAt'], payload }],
      ]);
    });
    await this.dropCachedProfiles(ctx.businessId, [survivorId, mergedId]);
    return { merge: view(record!, now), customer: result.customers.get(survivorId)! };
  }

  /** Restores both customers of a merge as they were before it (see restoreSnapshot for what "as they were" keeps). */
  async undo(ctx: MergeContext, mergeId: string, now = new Date()): Promise<{ merge: MergeView; survivor: CustomerAggregate; merged: CustomerAggregate }> {
    const found = await findMerge(this.deps.db, ctx.businessId, mergeId);
    if (!found) throw new AppError('NOT_FOUND', `Merge ${mergeId} not found`, field('params.id', 'no such merge'));
    assertUndoable(found, now);
    const { survivorId, mergedId } = found;

    let record: MergeRecord | undefined;
    const result = await this.deps.sync.changeCustomers([survivorId, mergedId], { businessId: ctx.businessId, actor: ctx.actor, includeGone: true }, async (tx, before) => {
      // Locked after both customers: a concurrent undo waits above and then finds it undone.
      const merge = (await findMerge(tx, ctx.businessId, mergeId, { forUpdate: true }))!;
      assertUndoable(merge, now);
      const survivor = before.get(survivorId)!;
      const merged = before.get(mergedId)!;
      if (merged.erasedAt || merged.mergedIntoId !== survivorId) {
        const message = 'the merged customer is no longer merged into the survivor (erased or changed since)';
        throw new AppError('CONFLICT', `params.id: ${message}`, field('params.id', message));
      }
      if (survivor.mergedIntoId) {
        const message = `the survivor has since been merged into customer ${survivor.mergedIntoId}: undo that merge first`;
        throw new AppError('CONFLICT', `params.id: ${message}`, field('params.id', message));
      }
      if (survivor.erasedAt || survivor.deletedAt) {
        const message = 'the survivor has been deleted or erased since the merge';
        throw new AppError('CONFLICT', `params.id: ${message}`, field('params.id', message));
      }
      const snapshot = merge.snapshot as unknown as MergeSnapshot;
      if (snapshot.format !== 1) throw new Error(`merge ${mergeId} has a snapshot this version cannot read`);

      const report = await restoreSnapshot(tx, snapshot);
      // Metrics derive from the transactions each now holds; a customer without any keeps the
      // metrics the snapshot restored (they were not derived from transactions).
      await recomputeTransactionMetrics(tx, await customersWithTransactions(tx, [survivorId, mergedId]));
      await refreshStanding(tx, [survivorId, mergedId], { actor: ctx.actor });
      record = await markUndone(tx, mergeId, ctx.actor, now, report);
      if (report.movedBack.customer_activities > 0) await appendActivitiesRepair(tx, survivorId);

      const changes = new Map<string, CustomerChange>();
      const payload = { mergeId, survivorId, mergedId };
      for (const [id, was] of [[survivorId, survivor], [mergedId, merged]] as const) {
        const changed = changedFieldNames(was, (await loadAggregate(tx, id))!);
        if (id === survivorId && report.movedBack.customer_activities > 0) changed.push('activities');
        changes.set(id, { event: 'customers.customer.unmerged', changedFields: changed, payload });
      }
      return changes;
    });
    await this.dropCachedProfiles(ctx.businessId, [survivorId, mergedId]);
    return { merge: view(record!, now), survivor: result.customers.get(survivorId)!, merged: result.customers.get(mergedId)! };
  }

  async get(businessId: string, mergeId: string, now = new Date()): Promise<MergeView> {
    const merge = await findMerge(this.deps.db, businessId, mergeId);
    if (!merge) throw new AppError('NOT_FOUND', `Merge ${mergeId} not found`, field('params.id', 'no such merge'));
    return view(merge, now);
  }

  /** The business's merges, newest first (keyset cursor). */
  async list(businessId: string, query: unknown, now = new Date()) {
    const parsed = listMergesQuery.safeParse(query ?? {});
    if (!parsed.success) throw invalidInput(parsed.error, 'query');
    const q = parsed.data;
    const rows = await listMerges(this.deps.db, { businessId, customerId: q.customerId, limit: q.limit, after: q.cursor ? decodeCursor(q.cursor) : undefined });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ cursorAt: _c, ...m }) => view(m, now)),
      nextCursor: rows.length > q.limit && last ? encodeCursor({ at: last.cursorAt, id: last.id }) : null,
      limit: q.limit,
    };
  }

  private async dropCachedProfiles(businessId: string, ids: string[]): Promise<void> {
    for (const id of ids) await this.deps.profileCache?.invalidate(businessId, id);
  }

  private async assertLinked(businessId: string, customerId: string, name: string): Promise<void> {
    // Another business's customer is reported exactly like a missing one.
    if (!(await belongsToBusiness(this.deps.db, customerId, businessId))) {
      throw new AppError('NOT_FOUND', `Customer ${customerId} not found`, field(name, 'no such customer'));
    }
  }
}

function assertMergeable(c: CustomerAggregate, name: string): void {
  if (c.mergedIntoId) {
    const message = `was already merged into customer ${c.mergedIntoId}`;
    throw new AppError('CONFLICT', `${name}: ${message}`, field(name, message));
  }
  if (c.deletedAt || c.erasedAt) throw new AppError('NOT_FOUND', `Customer ${c.id} not found`, field(name, 'no such customer'));
}

function assertUndoable(m: MergeRecord, now: Date): void {
  if (m.undoneAt) {
    const message = `the merge was already undone at ${m.undoneAt.toISOString()}`;
    throw new AppError('CONFLICT', `params.id: ${message}`, field('params.id', message));
  }
  if (now.getTime() > m.undoUntil.getTime()) {
    const message = `the merge can no longer be undone: the ${UNDO_WINDOW_DAYS}-day window closed at ${m.undoUntil.toISOString()}`;
    throw new AppError('CONFLICT', `params.id: ${message}`, field('params.id', message));
  }
}

function tooMany(name: string, n: number, max: number): never {
  const message = `the merged customer would have ${n} ${name} (at most ${max})`;
  throw new AppError('CONFLICT', `body.sourceId: ${message}`, field('body.sourceId', message));
}

async function assertWithinLimits(tx: Tx, survivorId: string): Promise<void> {
  const a = (await loadAggregate(tx, survivorId))!;
  if (a.sources.length > LIMITS.sources) tooMany('sources', a.sources.length, LIMITS.sources);
  if (a.addresses.length > LIMITS.addresses) tooMany('addresses', a.addresses.length, LIMITS.addresses);
  if (a.ipAddresses.length > LIMITS.ipAddresses) tooMany('ipAddresses', a.ipAddresses.length, LIMITS.ipAddresses);
}

/**
 * Activities moved between customers carry their original insertion times, behind the
 * projector's append-only watermark: a `repair` row makes it rewrite the survivor's activities
 * (and drop those it no longer has). Appended before changeCustomers' own row, so it is claimed
 * first or with it.
 */
async function appendActivitiesRepair(tx: Tx, customerId: string): Promise<void> {
  const [row] = await tx.select({ version: customers.version }).from(customers).where(eq(customers.id, customerId));
  await appendSyncLog(tx, { entityType: 'customer', entityId: customerId, operation: 'repair', entityVersion: row!.version, contentHash: '', changedFields: ['activities'] });
}

function survivorshipRecord(c: CustomerAggregate, role: 'survivor' | 'merged', ranking: readonly string[], times: Map<string, Date> | undefined): SurvivorshipRecord {
  const source = recordSource(c.sources.map((s) => s.source), ranking);
  return {
    customerId: c.id,
    role,
    source,
    rank: rankOf(source, ranking),
    // The outbox names every field a change touched ("email", "demographics.gender", or the whole
    // "demographics" when the section was written at once); without a trace, the record's creation.
    fieldTime: (name) => times?.get(name) ?? times?.get(name.split('.')[0]!) ?? c.createdAt,
  };
}

function coreOf(c: CustomerAggregate): CoreFields {
  return {
    email: c.email,
    phone: c.phone,
    firstName: c.firstName,
    lastName: c.lastName,
    dateOfBirth: c.dateOfBirth,
    status: c.status,
    customerType: c.customerType,
    lastActiveAt: c.lastActiveAt,
    tags: c.tags,
    notes: c.notes,
    internalNotes: c.internalNotes,
    customAttributes: c.customAttributes,
  };
}

function view(m: Omit<MergeRecord, 'snapshot'> & { snapshot?: unknown }, now: Date): MergeView {
  const { snapshot: _snapshot, ...rest } = m;
  const status = rest.undoneAt ? 'undone' : now.getTime() > rest.undoUntil.getTime() ? 'final' : 'active';
  return { ...rest, status };
}

/** The worker's retention sweep for merges (see clearClosedSnapshots). */
export function mergeRetentionSweeper(db: Db): Sweeper {
  return { name: 'merge-retention', sweep: async (now) => void (await clearClosedSnapshots(db, now)) };
}
