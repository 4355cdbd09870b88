// Customer reads (aggregate, list) scoped to the caller's business; writes go through the
// DatabaseSyncService, the one write path.
import type { Db } from '../db/db.client.js';
import { decodeCursor, encodeCursor } from '../db/keyset.js';
import { searchCustomers, type SearchPosition } from './customer-search.repository.js';
import type { BusinessSizes } from './business-sizes.js';
import { AppError } from '../errors.js';
import type { DatabaseSyncService, WriteContext, WriteResult } from '../sync/database-sync.service.js';
import type { SyncWaiter } from '../sync/sync-waiter.js';
import { isProjected, prepareProfileReader, type CustomerAggregate } from './customers.repository.js';
import type { ListCustomersQuery } from './customers.schema.js';
import type { InsightRow } from './customer-insights.repository.js';
import { tierConfigFromJson } from '../tiers/tiers.repository.js';
import { progressToNextTier, TIER_ORDER, type PeriodValues } from '../tiers/tier-rules.js';
import type { TierRequirement } from '../db/schema/index.js';

const DAY_MS = 86_400_000;
/** A customer whose last visit is this many days ago or more is at risk (reference 002). */
export const AT_RISK_DAYS = 90;

export class CustomersService {
  private readonly readProfile: ReturnType<typeof prepareProfileReader>;

  constructor(
    private readonly db: Db,
    private readonly sync: DatabaseSyncService,
    private readonly waiter: SyncWaiter,
    private readonly sizes: BusinessSizes,
  ) {
    this.readProfile = prepareProfileReader(db);
  }

  /** Where the write stands in Firestore; with wait, blocks (bounded) until it is projected. */
  async syncStatus(result: WriteResult, wait: boolean): Promise<'completed' | 'pending'> {
    if (!result.syncLogId) return 'completed';
    return wait ? this.waiter.waitFor(result.syncLogId) : 'pending';
  }

  /**
   * The aggregate plus what a business owner's profile view needs: loyalty status and progress
   * to the next tier, current and predicted CLV, segments, days since the last visit, at-risk.
   */
  async profile(businessId: string, id: string, opts: { includeDeleted?: boolean; now?: Date } = {}) {
    const now = opts.now ?? new Date();
    const read = await this.readProfile(id, businessId, now);
    const customer = visibleTo(businessId, id, read?.aggregate, opts);
    const insights = read!.insights;
    const config = tierConfigFromJson(read!.tierConfiguration);
    const standing = customer.standing.find((s) => s.businessId === businessId)!;
    const values = (req: TierRequirement): PeriodValues => periodValues(insights!, req.evaluationPeriod);
    const lastVisit = customer.metrics?.lastOrderDate ?? null;
    const daysSinceLastVisit = lastVisit === null ? null : Math.floor((Date.parse(now.toISOString().slice(0, 10)) - Date.parse(lastVisit)) / DAY_MS);
    const pendingDowngrade = insights?.downgrade_due_at
      ? { dueAt: new Date(insights.downgrade_due_at), to: TIER_ORDER[Math.max(0, TIER_ORDER.indexOf(standing.loyaltyTier) - 1)] }
      : null;
    return {
      ...customer,
      loyalty: {
        tier: standing.loyaltyTier,
        tierUpdatedAt: standing.tierUpdatedAt,
        override: standing.tierOverride ? { tier: standing.tierOverride, reason: standing.tierOverrideReason } : null,
        pendingDowngrade,
        points: insights?.points ?? 0,
        progress: progressToNextTier(standing.loyaltyTier, config.thresholds, values),
      },
      clv: {
        current: customer.metrics?.lifetimeValue ?? 0,
        predicted: customer.metrics?.predictedLifetimeValue ?? null,
      },
      segments: insights?.segments ?? [],
      lastVisit,
      daysSinceLastVisit,
      isAtRisk: daysSinceLastVisit !== null && daysSinceLastVisit >= AT_RISK_DAYS,
    };
  }

  /** Filters and free-text search; newest first, text matches grouped best first (see searchCustomers). */
  async list(businessId: string, query: ListCustomersQuery) {
    const { cursor, ...filters } = query;
    const rows = await searchCustomers(this.db, {
      businessId,
      ...filters,
      smallBusiness: await this.sizes.isSmall(this.db, businessId),
      after: cursor ? decodeSearchCursor(cursor) : undefined,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(({ cursorAt: _c, group: _g, ...item }) => item),
      nextCursor: rows.length > query.limit && last ? encodeSearchCursor({ group: last.group, at: last.cursorAt, id: last.id }) : null,
    };
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

/**
 * The customer if the business may see it; another business's customer is reported exactly like a
 * missing one. An erased customer (a tombstone) or one merged into another is gone even with
 * includeDeleted: only a soft delete can be looked at again.
 */
function visibleTo(businessId: string, id: string, customer: CustomerAggregate | undefined, opts: { includeDeleted?: boolean }): CustomerAggregate {
  const gone = customer && !isProjected(customer);
  if (!customer || gone || !customer.businessIds.includes(businessId) || (customer.deletedAt && !opts.includeDeleted)) {
    throw new AppError('NOT_FOUND', `Customer ${id} not found`);
  }
  return customer;
}

function periodValues(row: InsightRow, period: TierRequirement['evaluationPeriod']): PeriodValues {
  const points = row.points;
  switch (period) {
    case 'monthly':
      return { spend: Number(row.spend_monthly), visits: row.visits_monthly, points };
    case 'quarterly':
      return { spend: Number(row.spend_quarterly), visits: row.visits_quarterly, points };
    case 'yearly':
      return { spend: Number(row.spend_yearly), visits: row.visits_yearly, points };
    default:
      return { spend: Number(row.spend_lifetime), visits: row.visits_lifetime, points };
  }
}

/** A search cursor: the match group, then the keyset position within it. */
const encodeSearchCursor = (p: SearchPosition) => Buffer.from(JSON.stringify([p.group, encodeCursor(p)])).toString('base64url');

function decodeSearchCursor(cursor: string): SearchPosition {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (Array.isArray(decoded) && decoded.length === 2 && Number.isInteger(decoded[0]) && typeof decoded[1] === 'string') {
    return { group: decoded[0] as number, ...decodeCursor(decoded[1]) };
  }
  // A plain keyset cursor (the list's, before text matches were grouped) is a position in group 0.
  return { group: 0, ...decodeCursor(cursor) };
}
