// Customer reads (aggregate, list) scoped to the caller's business; writes go through the
// DatabaseSyncService, the one write path.
import type { Db } from '../db/db.client.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { AppError } from '../errors.js';
import type { DatabaseSyncService, WriteContext, WriteResult } from '../sync/database-sync.service.js';
import type { SyncWaiter } from '../sync/sync-waiter.js';
import { belongsToBusiness, listCustomers, loadAggregate, type CustomerAggregate } from './customers.repository.js';
import type { ListCustomersQuery } from './customers.schema.js';

export class CustomersService {
  constructor(
    private readonly db: Db,
    private readonly sync: DatabaseSyncService,
    private readonly waiter: SyncWaiter,
  ) {}

  /** Where the write stands in Firestore; with wait, blocks (bounded) until it is projected. */
  async syncStatus(result: WriteResult, wait: boolean): Promise<'completed' | 'pending'> {
    if (!result.syncLogId) return 'completed';
    return wait ? this.waiter.waitFor(result.syncLogId) : 'pending';
  }

  async get(businessId: string, id: string, opts: { includeDeleted?: boolean } = {}): Promise<CustomerAggregate> {
    const customer = (await belongsToBusiness(this.db, id, businessId)) ? await loadAggregate(this.db, id) : undefined;
    if (!customer || (customer.deletedAt && !opts.includeDeleted)) {
      throw new AppError('NOT_FOUND', `Customer ${id} not found`);
    }
    return customer;
  }

  async list(businessId: string, query: ListCustomersQuery) {
    const rows = await listCustomers(this.db, {
      businessId,
      status: query.status,
      tag: query.tag,
      q: query.q,
      includeDeleted: query.includeDeleted,
      limit: query.limit,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
    });
    return keysetPage(rows, query.limit);
  }

  create(businessId: string, body: unknown): Promise<WriteResult> {
    return this.sync.syncCustomer(null, body, { businessId });
  }

  replace(id: string, body: unknown, ctx: WriteContext): Promise<WriteResult> {
    return this.sync.syncCustomer(id, body, ctx);
  }

  patch(id: string, body: unknown, ctx: WriteContext): Promise<WriteResult> {
    return this.sync.patchCustomer(id, body, ctx);
  }

  delete(id: string, ctx: WriteContext): Promise<WriteResult> {
    return this.sync.deleteCustomer(id, ctx);
  }
}
