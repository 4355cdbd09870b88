// GDPR/CCPA erasure of a customer (Art. 17, 19; CCPA deletion) across every store.
//
// The request does the PostgreSQL part at once, in ONE transaction through the one write path
// (DatabaseSyncService.changeCustomers: lock, erase, version bump, outbox row, event) together
// with the erasure record, so either all of it happened and is recorded, or nothing did. The
// outbox row makes the projector purge Firestore. The rest runs as a work-queue job (erasure-job.ts),
// step by step, each step idempotent and saved as it finishes:
//   files     export archives of the customer deleted from file storage
//   cache     the memory profile cache (Redis or in-process) purged
//   warehouse rows describing the person deleted, rows kept for accounting de-identified; BigQuery
//             refuses DML over rows in its streaming buffer (up to ~30-90 minutes), so this step
//             stays pending and the job retries until it is done
//   firestore verified (never written here): customers/{id}, private/pii, every subcollection and
//             the sync state are gone (for a shared customer: this business's part is gone); if
//             the projector gave up on the customer (outbox row dead), a `repair` outbox row is
//             appended so it tries again
// What is erased: the customer (scope `person` when it belongs to this business alone, else
// `business`: this business's part) and, in either scope, the duplicates merged into it that
// belong to this business alone, as persons (personProfiles in the customer data map).
// The job never gives up (erasure-job.ts): failures are counted on the record with the last error.
// The record (customer_erasures) holds no PII: who asked, why, when, and per store what was done.
import { randomUUID } from 'node:crypto';
import type { Firestore } from 'firebase-admin/firestore';
import type { Db } from '../../db/db.client.js';
import { decodeCursor, keysetPage } from '../../db/keyset.js';
import { clearPendingMetrics, recomputeTransactionMetrics } from '../../customers/transaction-metrics.repository.js';
import type { CustomerAggregate } from '../../customers/customers.repository.js';
import { AppError } from '../../errors.js';
import { appendDomainEvents, type CustomerEventType } from '../../events/domain-events.repository.js';
import { RetryLater } from '../../jobs/work-queue.js';
import type { Logger } from '../../logger.js';
import type { ProfileCache } from '../../memory/profile-cache.js';
import type { DatabaseSyncService } from '../../sync/database-sync.service.js';
import type { Warehouse } from '../../warehouse/warehouse.port.js';
import { personProfiles, readFirestoreDocs, WAREHOUSE_CUSTOMER_TABLES } from '../customer-data-map.js';
import type { FileStorage } from '../file-storage.js';
import {
  completeErasure,
  customerState,
  erasePostgres,
  findErasure,
  insertErasure,
  latestErasureOf,
  listErasures,
  recordErasureFailure,
  requeueDeadProjection,
  saveSteps,
  type ErasureRow,
} from './erasure.repository.js';
import { STEP_NAMES, type ErasureScope, type ErasureSteps, type ErasureView, type ListErasuresQuery, type StepName } from './erasure.schema.js';

/** Next look at the warehouse after BigQuery refused (rows in the streaming buffer). */
export const WAREHOUSE_RETRY_MS = 5 * 60_000;
/** Next look at Firestore when the projector has not purged the documents yet. */
export const FIRESTORE_RECHECK_MS = 15_000;

export interface ErasureServiceDeps {
  db: Db;
  sync: DatabaseSyncService;
  warehouse: Warehouse;
  fileStorage: FileStorage;
  profileCache: ProfileCache;
  /** Read only: to verify the projector removed the documents. */
  firestore: Firestore;
  logger: Logger;
}

export interface ErasureRequest {
  businessId: string;
  customerId: string;
  /** The admin's token subject. */
  actor: string;
  reason: string;
  /** Where the reason came from, to name it in an error (`body.reason` or `query.reason`). */
  reasonField: string;
}

export class ErasureService {
  private readonly log: Logger;

  constructor(private readonly deps: ErasureServiceDeps) {
    this.log = deps.logger.child({ module: 'erasure' });
  }

  /**
   * Erases the customer's PostgreSQL data and records the erasure (one transaction); the other
   * stores follow in the job. Another business's customer, or a merged-away one, is NOT_FOUND; a
   * customer this business already erased is CONFLICT (its erasure record is named).
   */
  async request(input: ErasureRequest, now: Date = new Date()): Promise<ErasureView> {
    const { businessId, customerId } = input;
    const state = await customerState(this.deps.db, customerId, businessId);
    if (!state || state.erasedAt) {
      const prior = await latestErasureOf(this.deps.db, customerId, businessId);
      if (prior) throw alreadyErased(customerId, prior.id);
    }
    if (!state || state.mergedIntoId) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
    if (state.erasedAt) throw alreadyErased(customerId);
    // The profiles are locked together (in id order, by changeCustomers). A merge into the
    // customer committed between this look and the lock adds a duplicate not locked: the whole
    // transaction is tried again with it (a merge locks the survivor, so this ends).
    let profiles = await personProfiles(this.deps.db, customerId, businessId);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.eraseProfiles(input, profiles, now);
      } catch (err) {
        if (!(err instanceof DuplicatesChanged) || attempt >= 5) throw err;
        profiles = err.profiles;
      }
    }
  }

  private async eraseProfiles(input: ErasureRequest, profiles: string[], now: Date): Promise<ErasureView> {
    const { businessId, customerId } = input;
    const erasureId = randomUUID();
    let row: ErasureRow | undefined;
    await this.deps.sync.changeCustomers(profiles, { businessId, actor: input.actor, includeGone: true }, async (tx, before) => {
      const main = before.get(customerId);
      if (!main || main.mergedIntoId) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
      if (main.erasedAt) throw alreadyErased(customerId);
      // Decided under the lock: a link added meanwhile is seen.
      const others = (await customerState(tx, customerId, businessId))?.otherBusinesses ?? 0;
      const scope: ErasureScope = others > 0 ? 'business' : 'person';
      // The duplicates as they are now, under the lock (an undo may have run since the first look).
      const current = await personProfiles(tx, customerId, businessId);
      if (current.some((id) => !profiles.includes(id))) throw new DuplicatesChanged(current);
      const erased = profiles.filter((id) => current.includes(id));
      // The record must not become a copy of what it proves gone.
      refusePersonalReason(input.reason, input.reasonField, erased.map((id) => before.get(id)!));

      // The customer in its scope; its merged-away duplicates belong to this business alone (that
      // is how they are chosen), so they are erased as persons in either scope.
      const targets = erased.map((id) => ({ customerId: id, scope: id === customerId ? scope : ('person' as const) }));
      const result = await erasePostgres(tx, targets, businessId, now);
      if (scope === 'business') {
        // The shared profile's metrics no longer count this business's (now unlinked) purchases.
        await recomputeTransactionMetrics(tx, [customerId]);
        await clearPendingMetrics(tx, [customerId]);
      }
      // One shape for every erasure event: { erasureId, scope, changedFields }, ids and field names
      // only. A `person` profile's comes from changeCustomers (its link stays, as the tombstone's
      // owner); a `business` erasure removed the link, so changeCustomers' event (an update) reaches
      // the other businesses only and this business's erased event is recorded here.
      const changes = new Map<string, { event: CustomerEventType; changedFields: string[]; payload?: Record<string, unknown> }>();
      for (const target of targets) {
        if (target.scope === 'person') {
          changes.set(target.customerId, { event: 'customers.customer.erased', changedFields: ['erasedAt', 'deletedAt'], payload: { erasureId, scope: 'person' } });
        } else {
          const changedFields = ['businessIds', 'standing', 'metrics'];
          await appendDomainEvents(tx, [{ businessId, eventType: 'customers.customer.erased', customerId: target.customerId, payload: { erasureId, scope: 'business', changedFields } }]);
          changes.set(target.customerId, { event: 'customers.customer.updated', changedFields });
        }
      }
      row = await insertErasure(tx, {
        id: erasureId,
        businessId,
        customerId,
        requestedBy: input.actor,
        reason: input.reason,
        steps: initialSteps(scope, erased, result.tables, result.storageKeys, now),
        now,
      });
      return changes;
    });
    const record = row!;
    // Purged now in this process too (the in-process cache lives here); the job purges again.
    await this.purgeCache(record).catch((err: unknown) => this.log.warn({ err, erasureId }, 'cache purge after erasure failed; the job retries it'));
    this.log.info({ erasureId, customerId, businessId, scope: stepsOf(record).scope }, 'customer erased in PostgreSQL; other stores follow in the job');
    return toView(record);
  }

  async get(businessId: string, id: string): Promise<ErasureView> {
    const row = await findErasure(this.deps.db, id, businessId);
    if (!row) throw new AppError('NOT_FOUND', `Erasure ${id} not found`);
    return toView(row);
  }

  async list(businessId: string, q: ListErasuresQuery): Promise<{ items: ErasureView[]; nextCursor: string | null }> {
    const rows = await listErasures(this.deps.db, businessId, q, q.cursor ? decodeCursor(q.cursor) : undefined);
    const page = keysetPage(
      rows.map((r) => ({ id: r.id, cursorAt: r.cursorAt, view: toView(r.row) })),
      q.limit,
    );
    return { items: page.items.map((i) => i.view), nextCursor: page.nextCursor };
  }

  /**
   * One attempt of the job for a claimed record: runs every step not done yet, saving each, then
   * completes the record or throws RetryLater naming what is still pending.
   */
  async process(id: string, now: Date): Promise<void> {
    const row = await findErasure(this.deps.db, id);
    if (!row || row.status !== 'PROCESSING') return;
    const steps = stepsOf(row);
    const save = () => saveSteps(this.deps.db, id, steps, now);
    const at = now.toISOString();

    if (steps.files.status === 'pending') {
      for (const key of steps.files.keys) await this.deps.fileStorage.delete(key);
      steps.files = { status: 'done', keys: [], deleted: steps.files.deleted + steps.files.keys.length, completedAt: at };
      await save();
    }
    if (steps.cache.status === 'pending') {
      await this.purgeCache(row);
      steps.cache = { status: 'done', completedAt: at };
      await save();
    }
    if (steps.warehouse.status === 'pending') {
      await this.eraseWarehouse(row.businessId, steps, at);
      await save();
    }
    if (steps.firestore.status === 'pending') {
      const left = await this.firestoreLeft(row.customerId, row.businessId, steps);
      const requeued = steps.firestore.requeued ?? 0;
      if (left.length === 0) {
        steps.firestore = { status: 'done', documentsLeft: 0, checkedAt: at, completedAt: at, ...(requeued > 0 ? { requeued } : {}) };
      } else {
        // The projector may have given up on a customer (outbox row dead): without a new row the
        // documents would stay for good.
        let again = 0;
        for (const customerId of new Set(left)) if (await requeueDeadProjection(this.deps.db, customerId)) again += 1;
        if (again > 0) this.log.warn({ erasureId: id, requeued: again }, 'projection of an erased customer was dead: repair row appended');
        const documentsLeft = left.length;
        steps.firestore = { status: 'pending', documentsLeft, checkedAt: at, ...(requeued + again > 0 ? { requeued: requeued + again } : {}) };
      }
      await save();
    }

    const pending = pendingSteps(steps);
    if (pending.length > 0) {
      const delay = pending.includes('warehouse') ? WAREHOUSE_RETRY_MS : FIRESTORE_RECHECK_MS;
      const why = pending.map((s) => (s === 'warehouse' ? 'warehouse rows still in the BigQuery streaming buffer' : `${s} not yet done`)).join('; ');
      throw new RetryLater(delay, `pending: ${why}`);
    }
    // A profile build that began before the erasure could have stored its result after the first purge.
    await this.purgeCache(row);
    await completeErasure(this.deps.db, id, steps, now);
    this.log.info({ erasureId: id, customerId: row.customerId }, 'erasure completed in every store');
  }

  /** Keeps a failed attempt's count and message on the record (shown by GET /erasures/{id}). */
  async recordFailure(id: string, attempt: number, err: unknown, now: Date): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    await recordErasureFailure(this.deps.db, id, { count: attempt, message, at: now });
  }

  private async purgeCache(row: ErasureRow): Promise<void> {
    for (const customerId of stepsOf(row).customerIds) await this.deps.profileCache.purge(row.businessId, customerId);
  }

  /** Each warehouse table of the data map, for each erased customer; a refused table stays pending. */
  private async eraseWarehouse(businessId: string, steps: ErasureSteps, at: string): Promise<void> {
    for (const entry of WAREHOUSE_CUSTOMER_TABLES) {
      const step = (steps.warehouse.tables[entry.table] ??= { action: entry.erasure.action, status: 'pending', rows: 0, refusals: 0 });
      if (step.status === 'done') continue;
      let pending = false;
      for (const customerId of steps.customerIds) {
        const where = { [entry.businessColumn]: businessId, [entry.linkColumn]: customerId };
        const result =
          entry.erasure.action === 'delete'
            ? await this.deps.warehouse.deleteRows(entry.table, where).then((r) => ({ rows: r.deleted, pending: r.pending }))
            : await this.deps.warehouse.deidentifyRows(entry.table, where, entry.erasure.columns).then((r) => ({ rows: r.updated, pending: r.pending }));
        step.rows += result.rows;
        pending ||= result.pending;
      }
      if (pending) step.refusals += 1;
      else Object.assign(step, { status: 'done', completedAt: at });
    }
    if (Object.values(steps.warehouse.tables).every((t) => t.status === 'done')) {
      steps.warehouse.status = 'done';
      steps.warehouse.completedAt = at;
    }
  }

  /**
   * One entry per document that should be gone but is still there, naming its customer (none
   * once the projector has caught up). Merged-away duplicates are always erased as persons.
   */
  private async firestoreLeft(requestedId: string, businessId: string, steps: ErasureSteps): Promise<string[]> {
    const left: string[] = [];
    for (const customerId of steps.customerIds) {
      const docs = await readFirestoreDocs(this.deps.firestore, customerId);
      const scope = customerId === requestedId ? steps.scope : 'person';
      if (scope === 'person') {
        left.push(...docs.map(() => customerId));
      } else {
        // The shared profile stays for the other businesses, without this business in it.
        const main = docs.find((d) => d.path === `customers/${customerId}`);
        const businessIds = (main?.data.businessIds as string[] | undefined) ?? [];
        const businesses = (main?.data.businesses as Record<string, unknown> | undefined) ?? {};
        if (businessIds.includes(businessId) || businessId in businesses) left.push(customerId);
      }
    }
    return left;
  }
}

/** The customer's merged-away duplicates changed between the first look and the lock. */
class DuplicatesChanged extends Error {
  constructor(readonly profiles: string[]) {
    super('merged-away duplicates changed during the erasure request');
  }
}

function alreadyErased(customerId: string, erasureId?: string): AppError {
  return new AppError('CONFLICT', `Customer ${customerId} has already been erased`, erasureId ? { erasureId } : undefined);
}

/**
 * A reason naming the person (email, phone, name) would put back into the proof of erasure what
 * was erased: refused, and the request changes nothing.
 */
function refusePersonalReason(reason: string, field: string, people: CustomerAggregate[]): void {
  const text = reason.toLowerCase();
  const digits = reason.replace(/\D/g, '');
  const hits = people.some((p) => {
    const words = [p.firstName, p.lastName].filter((w): w is string => !!w && w.trim().length >= 3).map((w) => w.trim().toLowerCase());
    const phones = [p.phone, p.phoneNormalized].map((v) => (v ?? '').replace(/\D/g, '')).filter((d) => d.length >= 6);
    return (
      (!!p.email && text.includes(p.email.toLowerCase())) ||
      phones.some((d) => digits.includes(d)) ||
      words.some((w) => new RegExp(`(^|[^\\p{L}])${escapeRegExp(w)}($|[^\\p{L}])`, 'u').test(text))
    );
  });
  if (hits) {
    throw new AppError('INVALID_INPUT', `Invalid input: ${field}: must not contain the customer's name, email or phone`, [
      { field, message: "must not contain the customer's name, email or phone (the erasure record keeps no personal data)" },
    ]);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function initialSteps(scope: ErasureScope, customerIds: string[], tables: ErasureSteps['postgres']['tables'], storageKeys: string[], now: Date): ErasureSteps {
  const at = now.toISOString();
  return {
    scope,
    customerIds,
    postgres: { status: 'done', completedAt: at, tables },
    files: storageKeys.length > 0 ? { status: 'pending', keys: storageKeys, deleted: 0 } : { status: 'done', keys: [], deleted: 0, completedAt: at },
    cache: { status: 'pending' },
    warehouse: { status: 'pending', tables: {} },
    firestore: { status: 'pending' },
  };
}

function stepsOf(row: ErasureRow): ErasureSteps {
  return row.steps as unknown as ErasureSteps;
}

function pendingSteps(steps: ErasureSteps): StepName[] {
  return STEP_NAMES.filter((name) => steps[name].status !== 'done');
}

function toView(row: ErasureRow): ErasureView {
  const steps = stepsOf(row);
  const detail: Record<StepName, Record<string, unknown>> = {
    postgres: { tables: steps.postgres.tables },
    files: { deleted: steps.files.deleted, remaining: steps.files.keys.length },
    cache: {},
    warehouse: { tables: steps.warehouse.tables },
    firestore: {
      ...(steps.firestore.documentsLeft === undefined ? {} : { documentsLeft: steps.firestore.documentsLeft, checkedAt: steps.firestore.checkedAt }),
      ...(steps.firestore.requeued ? { requeuedDeadProjections: steps.firestore.requeued } : {}),
    },
  };
  return {
    id: row.id,
    customerId: row.customerId,
    scope: steps.scope,
    status: row.status,
    reason: row.reason,
    requestedBy: row.requestedBy,
    pendingSteps: pendingSteps(steps),
    steps: STEP_NAMES.map((name) => ({ name, status: steps[name].status, completedAt: steps[name].completedAt ?? null, detail: detail[name] })),
    attempts: row.attempts,
    failures: steps.failures?.count ?? 0,
    lastFailure: steps.failures ? { error: steps.failures.lastError, at: steps.failures.lastFailedAt } : null,
    nextAttemptAt: row.status === 'PENDING' ? row.nextAttemptAt.toISOString() : null,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
