// DatabaseSyncService: the one write path of the customer aggregate. Every change validates its
// input, writes every part of the aggregate, bumps the root's version and appends the sync_logs
// outbox row, all in ONE PostgreSQL transaction. Nothing here writes Firestore: the projector
// brings Firestore to the committed state from the outbox. A failure anywhere leaves nothing.
import { parsePhoneNumberWithError } from 'libphonenumber-js';
import type { Db, Tx } from '../db/db.client.js';
import { customerDemographics, customerEngagement, customerMetrics, customerRiskAssessments } from '../db/schema/index.js';
import { AppError, invalidInput, isRetryableTransactionError } from '../errors.js';
import {
  appendActivities,
  insertNewAggregate,
  isProjected,
  loadAggregate,
  loadAggregates,
  lockCustomerForBusiness,
  refreshBusinessEmail,
  replaceAddresses,
  replaceIpAddresses,
  replaceSection,
  replaceSources,
  softDeleteCustomer,
  updateCustomerCore,
  type CustomerAggregate,
} from '../customers/customers.repository.js';
import { aggregateProblems, customerInput, customerPatch, type CustomerInput, type CustomerPatch } from '../customers/customers.schema.js';
import { aggregateHash, changedFieldNames } from './aggregate-diff.js';
import { clearPendingMetrics, recomputeTransactionMetrics } from '../customers/transaction-metrics.repository.js';
import { writePredictedMetrics, type PredictedMetrics } from '../customers/predicted-metrics.repository.js';
import { fillContactsAndBump, insertGuestCustomers, insertSourceLinks, type ContactFields } from '../customers/source-links.repository.js';
import { appendSyncLog, appendSyncLogs } from './sync-logs.repository.js';
import { bumpVersions, lockLiveCustomers, recordStandingChanges, refreshStanding } from '../standing/standing.js';
import { appendCustomerEvents, type CustomerEventType } from '../events/domain-events.repository.js';

/** One customer's part of a linkSources batch. */
export interface LinkPlan {
  /** An existing customer of the business, or a fresh id for a new guest profile. */
  customerId: string;
  create: boolean;
  /** For a new profile its values; for an existing one, values for the fields it lacks. */
  fields: ContactFields;
  sources: { source: string; externalId: string }[];
}

export interface WriteContext {
  businessId: string;
  /** Optimistic concurrency (If-Match): the write fails with CONFLICT unless the version matches. */
  expectedVersion?: number;
}

export interface WriteResult {
  customer: CustomerAggregate;
  /** False when the request changed nothing: no version bump, no outbox row. */
  changed: boolean;
  syncLogId: string | null;
}

export interface CommittedChange {
  customerId: string;
  version: number;
  syncLogId: string;
}

const MAX_TRANSACTION_ATTEMPTS = 3;

class NothingChanged extends Error {
  constructor(readonly customer: CustomerAggregate) {
    super('nothing changed');
  }
}

export class DatabaseSyncService {
  /** Listeners get each committed change, or null after a set-based change of many customers. */
  private readonly committedListeners = new Set<(change: CommittedChange | null) => void>();

  constructor(private readonly db: Db) {}

  /** Called after each commit that appended an outbox row (the in-process projector listens). */
  onCommitted(listener: (change: CommittedChange | null) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /**
   * Creates (customerId null) or replaces a whole aggregate. Sections left out are cleared;
   * activities are append-only, so listed ones are added and none are removed.
   */
  async syncCustomer(customerId: string | null, aggregate: unknown, ctx: WriteContext): Promise<WriteResult> {
    const parsed = customerInput.safeParse(aggregate);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    return this.write(customerId, ctx, () => parsed.data);
  }

  /** Changes only the given keys; object sections merge field by field, arrays replace. */
  async patchCustomer(customerId: string, patch: unknown, ctx: WriteContext): Promise<WriteResult> {
    const parsed = customerPatch.safeParse(patch);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    return this.changeCustomer(customerId, (current) => mergePatch(current, parsed.data), ctx);
  }

  /**
   * Applies `change` to the current state while the customer is locked, so it builds on a state
   * no other writer can change meanwhile. The caller validates the values it brings in; the
   * result must pass the same whole-aggregate rules as a replace.
   */
  async changeCustomer(customerId: string, change: (current: CustomerInput) => CustomerInput, ctx: WriteContext): Promise<WriteResult> {
    return this.write(customerId, ctx, (before) => {
      const next = change(toInput(before!));
      const problems = aggregateProblems(next);
      if (problems.length > 0) {
        throw new AppError('INVALID_INPUT', `Invalid input: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
      }
      return next;
    });
  }

  /**
   * Links external identities in one transaction: plans with `create` become new guest
   * profiles (with the given ids) of the business, the others get their missing contact fields
   * filled (never overwritten) and the sources added. One version bump and one outbox row per
   * customer. The caller validated every value (email, E.164 phone, names).
   */
  async linkSources(businessId: string, plans: LinkPlan[]): Promise<void> {
    const committed = await this.inTransaction(async (tx) => {
      const creates = plans.filter((p) => p.create);
      const attaches = plans.filter((p) => !p.create);
      const before = await loadAggregates(tx, attaches.map((p) => p.customerId), 0);
      await insertGuestCustomers(tx, businessId, creates.map((p) => ({ id: p.customerId, ...p.fields })));
      const versions = await fillContactsAndBump(tx, attaches.map((p) => ({ id: p.customerId, ...p.fields })));
      const missing = attaches.find((p) => !versions.has(p.customerId));
      if (missing) throw new AppError('NOT_FOUND', `Customer ${missing.customerId} not found`);
      await insertSourceLinks(tx, plans.flatMap((p) => p.sources.map((s) => ({ customerId: p.customerId, ...s }))));
      await refreshStanding(tx, plans.map((p) => p.customerId));
      const after = await loadAggregates(tx, plans.map((p) => p.customerId), 0);
      const entries = plans.map((p) => {
        const aggregate = after.get(p.customerId)!;
        return {
          entityType: 'customer' as const,
          entityId: p.customerId,
          operation: p.create ? ('create' as const) : ('update' as const),
          entityVersion: aggregate.version,
          contentHash: aggregateHash(aggregate),
          changedFields: changedFieldNames(before.get(p.customerId), aggregate),
        };
      });
      const ids = await appendSyncLogs(tx, entries);
      await appendCustomerEvents(tx, 'customers.customer.created', entries.filter((e) => e.operation === 'create').map(eventOf));
      await appendCustomerEvents(tx, 'customers.customer.updated', entries.filter((e) => e.operation === 'update').map(eventOf));
      return entries.map((e, i) => ({ customerId: e.entityId, version: e.entityVersion, syncLogId: ids[i]! }));
    });
    for (const change of committed) this.emit(change);
  }

  /**
   * Recomputes the transaction metrics of these customers from customer_transactions in one
   * transaction: only customers whose metrics changed get a version bump and an outbox row, and
   * the customers leave the metrics queue in the same commit.
   */
  async refreshTransactionMetrics(customerIds: string[]): Promise<{ changed: number }> {
    return this.writeMetrics(async (tx) => {
      const changed = await recomputeTransactionMetrics(tx, customerIds);
      await clearPendingMetrics(tx, customerIds);
      return changed;
    });
  }

  /**
   * Writes the prediction fields of customer_metrics for a batch of customers in one
   * transaction; only customers whose values changed get a version bump and an outbox row.
   */
  async applyPredictedMetrics(rows: PredictedMetrics[]): Promise<{ changed: number }> {
    return this.writeMetrics((tx) => writePredictedMetrics(tx, rows));
  }

  /** Runs a set-based metrics write and records each changed customer in the outbox, in one transaction. */
  private async writeMetrics(write: (tx: Tx) => Promise<{ id: string; version: number }[]>): Promise<{ changed: number }> {
    const committed = await this.inTransaction(async (tx) => {
      const changed = await write(tx);
      // New metrics may move a tier or a segment membership: same commit, same version.
      const standing = await refreshStanding(tx, changed.map((c) => c.id));
      const aggregates = await loadAggregates(tx, changed.map((c) => c.id), 0);
      const entries = changed.map((c) => ({
        entityType: 'customer' as const,
        entityId: c.id,
        operation: 'update' as const,
        entityVersion: c.version,
        contentHash: aggregateHash(aggregates.get(c.id)!),
        changedFields: standing.has(c.id) ? ['metrics', 'standing'] : ['metrics'],
      }));
      const ids = await appendSyncLogs(tx, entries);
      await appendCustomerEvents(tx, 'customers.customer.updated', entries.map(eventOf));
      return changed.map((c, i) => ({ customerId: c.id, version: c.version, syncLogId: ids[i]! }));
    });
    for (const change of committed) this.emit(change);
    return { changed: committed.length };
  }

  /**
   * Changes this business's standing of one customer (preferences, a tier override, …) as one
   * aggregate change: the customer is locked, `work` writes its rows in the transaction and says
   * whether anything changed; if so the tier and segments are re-evaluated, the version bumps and
   * the outbox row is appended. If not, the transaction rolls back and nothing changes.
   */
  async changeStanding(
    customerId: string,
    ctx: WriteContext & { changedField: string; actor?: string },
    work: (tx: Tx) => Promise<boolean>,
  ): Promise<WriteResult> {
    return this.commitChange(async (tx) => {
      await this.lockForWrite(tx, customerId, ctx);
      const before = (await loadAggregate(tx, customerId))!;
      if (!(await work(tx))) throw new NothingChanged(before);
      await refreshStanding(tx, [customerId], { actor: ctx.actor });
      await bumpVersions(tx, [customerId]);
      const after = (await loadAggregate(tx, customerId))!;
      const changedFields = [ctx.changedField, ...changedFieldNames(before, after).filter((f) => f !== ctx.changedField)];
      const syncLogId = await appendSyncLog(tx, {
        entityType: 'customer',
        entityId: customerId,
        operation: 'update',
        entityVersion: after.version,
        contentHash: aggregateHash(after),
        changedFields,
      });
      await appendCustomerEvents(tx, 'customers.customer.updated', [{ customerId, changedFields }]);
      return { customer: after, changed: true, syncLogId };
    });
  }

  /**
   * One change to several customers of a business in one transaction (merge, undo of a merge,
   * erasure). Locks them in id order (the order every writer locks in), so two such changes
   * cannot deadlock; soft-deleted, erased or merged-away customers are locked too when
   * `includeGone` (undo restores a merged-away one; erasure may follow a soft delete). `work`
   * returns, per customer it changed, the event to record and the changed fields. Then standing
   * is derived again, each version bumped and one outbox row appended per changed customer.
   */
  async changeCustomers(
    customerIds: string[],
    ctx: { businessId: string; actor?: string; includeGone?: boolean },
    work: (tx: Tx, before: Map<string, CustomerAggregate>) => Promise<Map<string, { event: CustomerEventType; changedFields: string[]; payload?: Record<string, unknown> }>>,
  ): Promise<{ customers: Map<string, CustomerAggregate>; syncLogIds: string[] }> {
    const ids = [...new Set(customerIds)].sort();
    const result = await this.inTransaction(async (tx) => {
      for (const id of ids) {
        const locked = await lockCustomerForBusiness(tx, id, ctx.businessId);
        const gone = locked && (locked.deletedAt || locked.erasedAt || locked.mergedIntoId);
        if (!locked || (gone && !ctx.includeGone)) throw new AppError('NOT_FOUND', `Customer ${id} not found`);
      }
      const before = await loadAggregates(tx, ids);
      const changes = await work(tx, before);
      const changed = [...changes.keys()].sort();
      if (changed.length === 0) return { customers: before, syncLogIds: [], committed: [] as CommittedChange[] };
      await refreshStanding(tx, changed, { actor: ctx.actor });
      await bumpVersions(tx, changed);
      const after = await loadAggregates(tx, ids);
      const syncLogIds: string[] = [];
      const committed: CommittedChange[] = [];
      for (const id of changed) {
        const aggregate = after.get(id)!;
        const { event, changedFields, payload } = changes.get(id)!;
        const syncLogId = await appendSyncLog(tx, {
          entityType: 'customer',
          entityId: id,
          operation: isProjected(aggregate) && !aggregate.deletedAt ? 'update' : 'delete',
          entityVersion: aggregate.version,
          contentHash: aggregateHash(aggregate),
          changedFields,
        });
        await appendCustomerEvents(tx, event, [{ customerId: id, changedFields, payload }]);
        syncLogIds.push(syncLogId);
        committed.push({ customerId: id, version: aggregate.version, syncLogId });
      }
      return { customers: after, syncLogIds, committed };
    });
    for (const change of result.committed) this.emit(change);
    return { customers: result.customers, syncLogIds: result.syncLogIds };
  }

  /**
   * A set-based change to many customers of one business (bulk operations), for chunks too big for
   * changeCustomers' per-customer statements: the live customers among `customerIds` are locked in
   * id order in one statement (the others are left out, not an error), `work` changes them with
   * set-based statements and returns the ids it changed; then their standing is derived again and
   * their versions, outbox rows and `customers.customer.updated` events are written one statement
   * each. Outbox rows carry no content hash, as those of whole-business recalculations.
   */
  async changeCustomersSetBased(
    customerIds: string[],
    ctx: { businessId: string; actor?: string; changedFields: string[] },
    work: (tx: Tx, lockedIds: string[]) => Promise<string[]>,
  ): Promise<{ locked: string[]; changed: string[] }> {
    const ids = [...new Set(customerIds)].sort();
    const result = await this.inTransaction(async (tx) => {
      const locked = await lockLiveCustomers(tx, ctx.businessId, ids);
      const changed = locked.length > 0 ? [...new Set(await work(tx, locked))].sort() : [];
      if (changed.length === 0) return { locked, changed };
      await refreshStanding(tx, changed, { actor: ctx.actor });
      await recordStandingChanges(tx, changed, ctx.changedFields);
      await appendCustomerEvents(tx, 'customers.customer.updated', changed.map((customerId) => ({ customerId, changedFields: ctx.changedFields })));
      return { locked, changed };
    });
    if (result.changed.length > 0) this.announceBulk();
    return result;
  }

  /** Soft delete: sets deleted_at, bumps the version and appends a `delete` outbox row. */
  async deleteCustomer(customerId: string, ctx: WriteContext): Promise<WriteResult> {
    return this.commitChange(async (tx) => {
      await this.lockForWrite(tx, customerId, ctx);
      await softDeleteCustomer(tx, customerId);
      // A deleted customer leaves every segment.
      await refreshStanding(tx, [customerId]);
      const after = (await loadAggregate(tx, customerId))!;
      await appendCustomerEvents(tx, 'customers.customer.deleted', [{ customerId, changedFields: ['deletedAt'] }]);
      const syncLogId = await appendSyncLog(tx, {
        entityType: 'customer',
        entityId: customerId,
        operation: 'delete',
        entityVersion: after.version,
        contentHash: aggregateHash(after),
        changedFields: ['deletedAt'],
      });
      return { customer: after, changed: true, syncLogId };
    });
  }

  private async write(
    customerId: string | null,
    ctx: WriteContext,
    desiredState: (before: CustomerAggregate | undefined) => CustomerInput,
  ): Promise<WriteResult> {
    return this.commitChange(async (tx) => {
      let before: CustomerAggregate | undefined;
      let id: string;
      if (customerId) {
        await this.lockForWrite(tx, customerId, ctx);
        before = await loadAggregate(tx, customerId);
      }
      // Built after the lock, so a patch merges onto the state no other writer can change now.
      const desired = matchStoredRows(desiredState(before), before);
      const core = { ...desired, phoneNormalized: normalizePhone(desired.phone) };
      let appended: number;
      let after: CustomerAggregate;
      if (before) {
        id = before.id;
        await updateCustomerCore(tx, id, core);
        await refreshBusinessEmail(tx, id, desired.email ?? null);
        await replaceSources(tx, id, desired.sources ?? []);
        await replaceSection(tx, customerMetrics, id, desired.metrics ?? null);
        await replaceSection(tx, customerDemographics, id, desired.demographics ?? null);
        await replaceSection(tx, customerEngagement, id, desired.engagement ?? null);
        await replaceSection(tx, customerRiskAssessments, id, desired.risk ?? null);
        await replaceAddresses(tx, id, desired.addresses ?? []);
        await replaceIpAddresses(tx, id, desired.ipAddresses ?? []);
        appended = await appendActivities(tx, id, desired.activities ?? []);
        await refreshStanding(tx, [id]);
        after = (await loadAggregate(tx, id))!;
      } else {
        after = await insertNewAggregate(tx, ctx.businessId, core, desired);
        id = after.id;
        appended = desired.activities?.length ?? 0;
        // A new customer's metrics may already qualify for a tier or a segment.
        if ((await refreshStanding(tx, [id])).size > 0) after = (await loadAggregate(tx, id))!;
      }

      const changedFields = changedFieldNames(before, after);
      if (appended > 0) changedFields.push('activities');
      // An update that changes nothing rolls back: no version bump, no outbox row, no
      // Firestore write downstream.
      if (before && changedFields.length === 0) throw new NothingChanged(before);

      const syncLogId = await appendSyncLog(tx, {
        entityType: 'customer',
        entityId: id,
        operation: before ? 'update' : 'create',
        entityVersion: after.version,
        contentHash: aggregateHash(after),
        changedFields,
      });
      await appendCustomerEvents(tx, before ? 'customers.customer.updated' : 'customers.customer.created', [{ customerId: id, changedFields }]);
      return { customer: after, changed: true, syncLogId };
    });
  }

  /** Runs a one-customer change in a transaction and announces it; NothingChanged rolls back and answers unchanged. */
  private async commitChange(work: (tx: Tx) => Promise<WriteResult>): Promise<WriteResult> {
    try {
      const result = await this.inTransaction(work);
      this.announce(result);
      return result;
    } catch (err) {
      if (err instanceof NothingChanged) return { customer: err.customer, changed: false, syncLogId: null };
      throw err;
    }
  }

  private async lockForWrite(tx: Tx, customerId: string, ctx: WriteContext): Promise<void> {
    const locked = await lockCustomerForBusiness(tx, customerId, ctx.businessId);
    // Another business's customer is reported exactly like a missing one.
    if (!locked || locked.deletedAt || locked.erasedAt || locked.mergedIntoId) throw new AppError('NOT_FOUND', `Customer ${customerId} not found`);
    if (ctx.expectedVersion !== undefined && locked.version !== ctx.expectedVersion) {
      throw new AppError('CONFLICT', `Customer ${customerId} is at version ${locked.version}, not ${ctx.expectedVersion}`, {
        currentVersion: locked.version,
      });
    }
  }

  private async inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(work);
      } catch (err) {
        if (attempt >= MAX_TRANSACTION_ATTEMPTS || !isRetryableTransactionError(err)) throw err;
      }
    }
  }

  private announce(result: WriteResult): void {
    if (result.syncLogId) this.emit({ customerId: result.customer.id, version: result.customer.version, syncLogId: result.syncLogId });
  }

  /** After a set-based standing change (recalculation) committed outbox rows for many customers. */
  announceBulk(): void {
    for (const listener of this.committedListeners) listener(null);
  }

  private emit(change: CommittedChange): void {
    for (const listener of this.committedListeners) listener(change);
  }
}

const eventOf = (e: { entityId: string; changedFields: string[] }) => ({ customerId: e.entityId, changedFields: e.changedFields });

/**
 * Resending what is stored changes nothing. An address sent without an id that matches a stored
 * one (same lines, city, postal and country code) is that address and keeps its id; an IP address
 * sent without its seen times keeps the stored ones instead of taking "now".
 */
function matchStoredRows(desired: CustomerInput, before: CustomerAggregate | undefined): CustomerInput {
  if (!before) return desired;
  const key = (a: { addressLine1: string; addressLine2?: string | null; city: string; postalCode?: string | null; countryCode: string }) =>
    [a.addressLine1, a.addressLine2 ?? '', a.city, a.postalCode ?? '', a.countryCode].map((p) => p.trim().toLowerCase()).join('\u0000');
  const taken = new Set(desired.addresses?.flatMap((a) => (a.id ? [a.id] : [])));
  const available = before.addresses.filter((a) => !taken.has(a.id));
  const addresses = desired.addresses?.map((a) => {
    if (a.id) return a;
    const match = available.findIndex((b) => key(b) === key(a));
    if (match < 0) return a;
    const [existing] = available.splice(match, 1);
    return { ...a, id: existing!.id };
  });
  const storedIps = new Map(before.ipAddresses.map((ip) => [ip.ipAddress, ip]));
  const ipAddresses = desired.ipAddresses?.map((ip) => {
    const stored = storedIps.get(ip.ipAddress);
    return stored ? { ...ip, firstSeenAt: ip.firstSeenAt ?? stored.firstSeenAt, lastSeenAt: ip.lastSeenAt ?? stored.lastSeenAt } : ip;
  });
  return { ...desired, addresses, ipAddresses };
}

function normalizePhone(phone: string | null | undefined): string | null {
  if (!phone) return null;
  // Already validated as a possible international number by the schema.
  return parsePhoneNumberWithError(phone).number;
}

/** The aggregate as input again (server-managed fields dropped), so a patch can apply to it. */
function toInput(a: CustomerAggregate): CustomerInput {
  return {
    email: a.email,
    phone: a.phone,
    firstName: a.firstName,
    lastName: a.lastName,
    dateOfBirth: a.dateOfBirth,
    status: a.status,
    customerType: a.customerType,
    lastActiveAt: a.lastActiveAt,
    tags: a.tags,
    notes: a.notes,
    internalNotes: a.internalNotes,
    customAttributes: a.customAttributes as CustomerInput['customAttributes'],
    sources: a.sources.map((s) => ({
      source: s.source,
      externalId: s.externalId,
      data: s.sourceData as Record<string, never>,
      syncStatus: s.syncStatus as 'active' | 'paused' | 'error',
    })),
    metrics: a.metrics,
    demographics: a.demographics as CustomerInput['demographics'],
    engagement: a.engagement,
    risk: a.risk,
    addresses: a.addresses as CustomerInput['addresses'],
    ipAddresses: a.ipAddresses as CustomerInput['ipAddresses'],
    activities: [],
  };
}

function mergePatch(current: CustomerInput, patch: CustomerPatch): CustomerInput {
  const merged: CustomerInput = { ...current };
  for (const [key, value] of Object.entries(patch) as [keyof CustomerPatch, unknown][]) {
    if (value === undefined) continue;
    const existing = current[key];
    const isSection = key === 'metrics' || key === 'demographics' || key === 'engagement' || key === 'risk';
    (merged as Record<string, unknown>)[key] =
      isSection && value !== null && existing ? { ...(existing as object), ...(value) } : value;
  }
  return merged;
}
