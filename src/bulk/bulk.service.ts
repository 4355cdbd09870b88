// Bulk operations on customers: add or remove tags, set or clear the tier override, assign to or
// remove from a static segment — for a list of ids or for a customer-list filter — each audited in
// bulk_operations (what, on whom, by whom, why, how many matched and changed).
//
// At most BULK_MAX_CUSTOMERS customers per request (a filter matching more is refused, so a
// request never half-applies because of its size). The customers are changed in chunks of
// BULK_CHUNK, one transaction each through DatabaseSyncService.changeCustomersSetBased: the chunk
// is locked in id order, one statement changes it, then the write path re-derives tier and dynamic
// segments and bumps every changed customer's version, appending its outbox row and event, one
// statement each, so Firestore follows (10,000 customers take about 2 s: see the README).
// A chunk is all or nothing; if one fails the operation stops, is audited as failed with the
// count changed so far, and can simply be sent again: every operation converges (a customer
// already in the wanted state is not changed again).
import { can, type Principal, type Permission } from '../auth/tokens.js';
import type { Db, Tx } from '../db/db.client.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { searchCustomers } from '../customers/customer-search.repository.js';
import type { BusinessSizes } from '../customers/business-sizes.js';
import { changeStaticMembers } from '../segments/segment-membership.js';
import { AppError, invalidInput, type FieldProblem } from '../errors.js';
import { findSegment } from '../segments/segments.repository.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import {
  addTags,
  findBulkOperation,
  finishBulkOperation,
  holdStaticSegment,
  insertBulkOperation,
  listBulkOperations,
  liveCustomerIds,
  recordBulkProgress,
  removeTags,
  setTierOverrides,
  type BulkOperationRow,
} from './bulk.repository.js';
import { listBulkOperationsQuery, parseBulkRequest, type BulkFilter, type BulkOperation, type BulkRequest } from './bulk.schema.js';

/** Customers per transaction: big enough for set-based statements to pay, small enough to keep locks short. */
export const BULK_CHUNK = 1_000;

/** The permission of each operation's single-customer API, which a bulk change also needs. */
const PERMISSION_OF: Record<BulkOperation, Permission> = {
  'segment.assign': 'segments:write',
  'segment.unassign': 'segments:write',
  'tier.override': 'tiers:write',
  'tier.override_clear': 'tiers:write',
  'tags.add': 'customers:write',
  'tags.remove': 'customers:write',
};

const CHANGED_FIELD: Record<BulkOperation, string> = {
  'segment.assign': 'standing.segments',
  'segment.unassign': 'standing.segments',
  'tier.override': 'standing.tierOverride',
  'tier.override_clear': 'standing.tierOverride',
  'tags.add': 'tags',
  'tags.remove': 'tags',
};

export class BulkService {
  constructor(
    private readonly deps: {
      db: Db;
      sync: DatabaseSyncService;
      /** BULK_MAX_CUSTOMERS. */
      maxCustomers: number;
      sizes: BusinessSizes;
      now?: () => Date;
    },
  ) {}

  async run(principal: Principal, body: unknown) {
    const request = parseBulkRequest(body);
    if (!can(principal.role, PERMISSION_OF[request.operation])) {
      throw new AppError('FORBIDDEN', `Role ${principal.role} may not ${request.operation} (needs ${PERMISSION_OF[request.operation]})`);
    }
    const { businessId } = principal;
    await this.checkSegment(businessId, request);
    const ids = await this.select(businessId, request);
    const operation = await insertBulkOperation(this.deps.db, {
      businessId,
      operation: request.operation,
      params: request.params,
      selection: request.customerIds ? { customerIds: request.customerIds } : { filter: auditedFilter(request.filter) },
      requestedBy: principal.subject,
      reason: request.reason,
      matched: ids.length,
    });
    let changed = 0;
    let skipped = 0;
    try {
      for (let i = 0; i < ids.length; i += BULK_CHUNK) {
        const result = await this.applyChunk(businessId, principal.subject, request, ids.slice(i, i + BULK_CHUNK));
        changed += result.changed;
        skipped += result.skipped;
        await recordBulkProgress(this.deps.db, operation.id, { changed, skipped });
      }
    } catch (err) {
      const message = err instanceof AppError ? err.message : 'Internal error';
      await finishBulkOperation(this.deps.db, operation.id, { status: 'failed', changed, skipped, error: message });
      throw err;
    }
    return view(await finishBulkOperation(this.deps.db, operation.id, { status: 'succeeded', changed, skipped }));
  }

  async get(businessId: string, id: string) {
    const row = await findBulkOperation(this.deps.db, businessId, id);
    if (!row) throw new AppError('NOT_FOUND', `Bulk operation ${id} not found`);
    return view(row);
  }

  async list(businessId: string, query: unknown) {
    const q = listBulkOperationsQuery.safeParse(query ?? {});
    if (!q.success) throw invalidInput(q.error, 'query');
    const rows = await listBulkOperations(this.deps.db, businessId, q.data.limit, q.data.cursor ? decodeCursor(q.data.cursor) : undefined);
    const page = keysetPage(rows.map((r) => ({ ...r.row, cursorAt: r.cursorAt })), q.data.limit);
    return { items: page.items.map(view), nextCursor: page.nextCursor, limit: q.data.limit };
  }

  /** Segment operations take a static segment of the business (dynamic ones follow their criteria). */
  private async checkSegment(businessId: string, request: BulkRequest): Promise<void> {
    if (request.operation !== 'segment.assign' && request.operation !== 'segment.unassign') return;
    const segment = await findSegment(this.deps.db, businessId, request.params.segmentId);
    const problem = !segment
      ? 'is not a segment of this business'
      : segment.kind !== 'static'
        ? 'is a dynamic segment: its members follow its criteria; bulk operations assign to static segments only'
        : request.operation === 'segment.assign' && !segment.isActive
          ? 'is inactive: activate it before assigning customers'
          : null;
    if (problem) throw invalid([{ field: 'body.params.segmentId', message: problem }]);
  }

  /** The customers the request names, in id order, or a 400 naming the field when they are not acceptable. */
  private async select(businessId: string, request: BulkRequest): Promise<string[]> {
    const max = this.deps.maxCustomers;
    if (request.customerIds) {
      if (request.customerIds.length > max) {
        throw invalid([{ field: 'body.customerIds', message: `must list at most ${max} customers (BULK_MAX_CUSTOMERS); split the request` }]);
      }
      const live = await liveCustomerIds(this.deps.db, businessId, request.customerIds);
      const found = new Set(live);
      const missing = request.customerIds.flatMap((id, i) => (found.has(id) ? [] : [{ field: `body.customerIds[${i}]`, message: 'is not a customer of this business' }]));
      if (missing.length > 0) throw invalid(missing.slice(0, 20));
      return live;
    }
    const smallBusiness = await this.deps.sizes.isSmall(this.deps.db, businessId);
    const rows = await searchCustomers(this.deps.db, { businessId, ...request.filter, smallBusiness, limit: max + 1 });
    if (rows.length > max) {
      throw invalid([{ field: 'body.filter', message: `matches more than ${max} customers (BULK_MAX_CUSTOMERS); narrow it or split the request` }]);
    }
    return rows.map((r) => r.id).sort();
  }

  /**
   * One chunk in one transaction, set-based from the lock to the outbox. A customer deleted after
   * the selection is not locked, so it is left out (neither changed nor counted as skipped).
   */
  private async applyChunk(businessId: string, actor: string, request: BulkRequest, chunk: string[]): Promise<{ changed: number; skipped: number }> {
    let skipped = 0;
    const { changed } = await this.deps.sync.changeCustomersSetBased(
      chunk,
      { businessId, actor, changedFields: [CHANGED_FIELD[request.operation]] },
      async (tx, locked) => {
        const result = await this.applyOperation(tx, businessId, request, locked);
        skipped = result.skipped;
        return result.changed;
      },
    );
    return { changed: changed.length, skipped };
  }

  private async applyOperation(tx: Tx, businessId: string, request: BulkRequest, ids: string[]): Promise<{ changed: string[]; skipped: number }> {
    switch (request.operation) {
      case 'tags.add': {
        const { changed, skipped } = await addTags(tx, ids, request.params.tags);
        return { changed, skipped: skipped.length };
      }
      case 'tags.remove':
        return { changed: await removeTags(tx, ids, request.params.tags), skipped: 0 };
      case 'tier.override':
        return { changed: await setTierOverrides(tx, businessId, ids, request.params.tier, request.reason), skipped: 0 };
      case 'tier.override_clear':
        return { changed: await setTierOverrides(tx, businessId, ids, null, null), skipped: 0 };
      case 'segment.assign':
      case 'segment.unassign': {
        const { segmentId } = request.params;
        if (!(await holdStaticSegment(tx, businessId, segmentId))) throw new AppError('CONFLICT', `Segment ${segmentId} was deleted while the operation ran`);
        const changed = await changeStaticMembers(tx, {
          businessId,
          segmentId,
          customerIds: ids,
          add: request.operation === 'segment.assign',
          at: (this.deps.now ?? (() => new Date()))(),
        });
        return { changed, skipped: 0 };
      }
    }
  }
}

/**
 * The filter as the audit keeps it: `q` is free text (a name, an email, a phone), so only its
 * length is kept; the other filters are enums, ids, amounts and dates.
 */
export function auditedFilter(filter: BulkFilter): Record<string, unknown> {
  const { q, ...rest } = filter;
  return q === undefined ? rest : { ...rest, q: { redacted: true, length: q.length } };
}

function invalid(problems: FieldProblem[]): AppError {
  return new AppError('INVALID_INPUT', `Invalid input: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
}

/** The audit row as the API shows it. */
function view(row: BulkOperationRow) {
  return {
    id: row.id,
    operation: row.operation,
    params: row.params,
    selection: row.selection,
    reason: row.reason,
    requestedBy: row.requestedBy,
    status: row.status,
    matched: row.matched,
    changed: row.changed,
    skipped: row.skipped,
    unchanged: row.matched - row.changed - row.skipped,
    error: row.error,
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
    durationMs: row.finishedAt ? row.finishedAt.getTime() - row.createdAt.getTime() : null,
  };
}
