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
//             the sync state are gone (for a shared customer: this business's part is gone)
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
import { readFirestoreDocs, WAREHOUSE_CUSTOMER_TABLES } from '../customer-data-map.js';
import type { FileStorage } from '../file-storage.js';
import {
  completeErasure,
  customerState,
  erasePostgres,
  findErasure,
  insertErasure,
  latestErasureOf,
  listErasures,
  mergedAwayDuplicates,
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
    // Locked with the customer (in id order, by changeCustomers) in case the scope is `person` under the lock.
    const duplicates = await mergedAwayDuplicates(this.deps.db, customerId, businessId);

    const erasureId = randomUUID();
    let row: ErasureRow | undefined;
    await this.deps.sync.changeCustomers([customerId, ...duplicates], { businessId, actor: input.actor, includeGone: true }, async (tx, before) => {
      const main = before.get(customerId);
      if (!main || main.mergedIntoId) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
      if (main.erasedAt) throw alreadyErased(customerId);
      // Decided under the lock: a link added meanwhile is seen.
      const others = (await customerState(tx, customerId, businessId))?.otherBusinesses ?? 0;
      const scope: ErasureScope = others > 0 ? 'business' : 'person';
      // Duplicates as they are now, under the lock (an undo may have run since the first look).
      const current = new Set(scope === 'person' ? await mergedAwayDuplicates(tx, customerId, businessId) : []);
      const erased = [customerId, ...duplicates.filter((id) => current.has(id))];
      // The record must not become a copy of what it proves gone.
      refusePersonalReason(input.reason, input.reasonField, erased.map((id) => before.get(id)!));

      const tables: ErasureSteps['postgres']['tables'] = {};
      const storageKeys: string[] = [];
      for (const id of erased) {
        const result = await erasePostgres(tx, id, businessId, scope, now);
        storageKeys.push(...result.storageKeys);
        for (const [table, { action, rows }] of Object.entries(result.tables)) {
          tables[table] = { action, rows: (tables[table]?.rows ?? 0) + rows };
        }
      }
      if (scope === 'business') {
        // The shared profile's metrics no longer count this business's (now unlinked) purchases.
        await recomputeTransactionMetrics(tx, [customerId]);
        await clearPendingMetrics(tx, [customerId]);
        // The link is gone, so changeCustomers' events reach the other businesses only: this one
        // learns of the erasure here.
        await appendDomainEvents(tx, [{ businessId, eventType: 'customers.customer.erased', customerId, payload: { erasureId, scope } }]);
      }
      row = await insertErasure(tx, {
        id: erasureId,
        businessId,
        customerId,
        requestedBy: input.actor,
        reason: input.reason,
        steps: initialSteps(scope, erased, tables, storageKeys, now),
        now,
      });
      const event: CustomerEventType = scope === 'person' ? 'customers.customer.erased' : 'customers.customer.updated';
      const changedFields = scope === 'person' ? ['erasedAt', 'deletedAt'] : ['standing', 'metrics'];
      return new Map(erased.map((id) => [id, { event, changedFields }]));
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
      const left = await this.firestoreLeft(row.businessId, steps);
      steps.firestore = left === 0 ? { status: 'done', documentsLeft: 0, checkedAt: at, completedAt: at } : { status: 'pending', documentsLeft: left, checkedAt: at };
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

  /** Documents that should be gone but are still there (0 once the projector has caught up). */
  private async firestoreLeft(businessId: string, steps: ErasureSteps): Promise<number> {
    let left = 0;
    for (const customerId of steps.customerIds) {
      const docs = await readFirestoreDocs(this.deps.firestore, customerId);
      if (steps.scope === 'person') {
        left += docs.length;
      } else {
        // The shared profile stays for the other businesses, without this business in it.
        const main = docs.find((d) => d.path === `customers/${customerId}`);
        const businessIds = (main?.data.businessIds as string[] | undefined) ?? [];
        const businesses = (main?.data.businesses as Record<string, unknown> | undefined) ?? {};
        if (businessIds.includes(businessId) || businessId in businesses) left += 1;
      }
    }
    return left;
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
    firestore: steps.firestore.documentsLeft === undefined ? {} : { documentsLeft: steps.firestore.documentsLeft, checkedAt: steps.firestore.checkedAt },
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
    nextAttemptAt: row.status === 'PENDING' ? row.nextAttemptAt.toISOString() : null,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
  };
}
