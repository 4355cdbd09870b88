// Tiers: the per-business configuration (audited), whole-business recalculation, and a
// customer's manual override (a change of the customer aggregate, through DatabaseSyncService).
import type { DatabaseHandle } from '../db/db.client.js';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../db/advisory-locks.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { AppError, invalidInput } from '../errors.js';
import { appendDomainEvents } from '../events/domain-events.repository.js';
import { applyMemberships, loadActiveSegments } from '../segments/segment-membership.js';
import { applyInChunks } from '../standing/standing.js';
import { closeRun, openRun, type RecalculationTrigger } from '../standing/recalculation-runs.repository.js';
import type { DatabaseSyncService, WriteResult } from '../sync/database-sync.service.js';
import { applyTierDecisions, tierCandidates, type TierConfiguration } from './tier-evaluation.js';
import { listTierAudits, loadTierConfig, refreshTierStatistics, saveTierConfig, writeTierOverride } from './tiers.repository.js';
import { auditsQuery, tierOverrideInput, updateTierConfiguration } from './tiers.schema.js';

export interface TierRecalculation {
  runId: string;
  status?: 'completed';
  evaluated: number;
  changed: number;
  upgraded: number;
  downgraded: number;
  durationMs: number;
}

export class TiersService {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly sync: DatabaseSyncService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get db() {
    return this.database.db;
  }

  async configuration(businessId: string) {
    return loadTierConfig(this.db, businessId);
  }

  /** Saves the thresholds with their audit row, then re-evaluates every customer of the business. */
  async updateConfiguration(businessId: string, body: unknown, actor: string) {
    const parsed = updateTierConfiguration.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const current = await loadTierConfig(this.db, businessId);
    const next = { thresholds: parsed.data.thresholds, downgradeGraceDays: parsed.data.downgradeGraceDays ?? current.downgradeGraceDays };
    await this.db.transaction(async (tx) => {
      await saveTierConfig(tx, businessId, next, actor, parsed.data.reason);
      await appendDomainEvents(tx, [
        { businessId, eventType: 'customers.tier.configuration_updated', payload: { changedBy: actor, downgradeGraceDays: next.downgradeGraceDays } },
      ]);
    });
    // A run in progress sees the new thresholds when it ends and runs again.
    const recalculation = (await this.tryRecalculate(businessId, 'configuration', actor)) ?? { status: 'deferred' as const };
    return { configuration: await loadTierConfig(this.db, businessId), recalculation };
  }

  /**
   * Re-evaluates every customer of the business: due downgrades, rolling windows, new thresholds.
   * One run per business at a time; a second one is refused with CONFLICT.
   */
  async recalculate(businessId: string, trigger: RecalculationTrigger, actor: string | null = null): Promise<TierRecalculation> {
    const result = await this.tryRecalculate(businessId, trigger, actor);
    if (!result) throw new AppError('CONFLICT', 'A tier recalculation of this business is already running; try again when it ends');
    return result;
  }

  /** Null when another run holds the business. Repeats while the thresholds changed during the run. */
  async tryRecalculate(businessId: string, trigger: RecalculationTrigger, actor: string | null = null): Promise<TierRecalculation | null> {
    const result = await withAdvisoryLock(this.database, { key: ADVISORY_LOCKS.tiers, id: businessId }, async () => {
      for (;;) {
        const config = await loadTierConfig(this.db, businessId);
        const run = await this.runRecalculation(businessId, config, trigger, actor);
        const latest = await loadTierConfig(this.db, businessId);
        if (latest.updatedAt?.getTime() === config.updatedAt?.getTime()) return run;
      }
    });
    return result.ran ? { ...result.value, status: 'completed' as const } : null;
  }

  private async runRecalculation(businessId: string, config: TierConfiguration, trigger: RecalculationTrigger, actor: string | null): Promise<TierRecalculation> {
    const started = performance.now();
    const runId = await openRun(this.db, { businessId, kind: 'tiers', trigger });
    try {
      const asOf = this.now();
      const candidates = await tierCandidates(this.db, config, businessId, asOf);
      const segments = await loadActiveSegments(this.db, [businessId]);
      const { changed, counts } = await applyInChunks(this.db, candidates, ['standing.tier'], async (tx, ids) => {
        const moves = await applyTierDecisions(tx, config, businessId, asOf, { ids }, actor);
        const upgraded = moves.filter((m) => tierUp(m.previousTier, m.newTier)).length;
        const moved = moves.map((m) => m.customerId);
        const touched = new Set(moved);
        // Segments may select by tier: the moved customers' memberships follow in the same commit.
        for (const c of await applyMemberships(tx, segments, asOf, moved)) touched.add(c.customerId);
        return { changed: touched, counts: { upgraded, downgraded: moves.length - upgraded } };
      });
      const upgraded = counts.upgraded ?? 0;
      const downgraded = counts.downgraded ?? 0;
      if (changed >= RESTATE_AFTER) await refreshTierStatistics(this.db);
      this.sync.announceBulk();
      await closeRun(this.db, runId, { counts: { changed, upgraded, downgraded } });
      return { runId, evaluated: candidates.length, changed, upgraded, downgraded, durationMs: Math.round(performance.now() - started) };
    } catch (err) {
      await closeRun(this.db, runId, { error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  async audits(businessId: string, query: unknown) {
    const q = auditsQuery.safeParse(query ?? {});
    if (!q.success) throw invalidInput(q.error, 'query');
    const rows = await listTierAudits(this.db, businessId, q.data.limit, q.data.cursor ? decodeCursor(q.data.cursor) : undefined);
    return { ...keysetPage(rows, q.data.limit), limit: q.data.limit };
  }

  async setOverride(businessId: string, customerId: string, body: unknown, actor: string): Promise<WriteResult> {
    const parsed = tierOverrideInput.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    return this.sync.changeStanding(customerId, { businessId, changedField: 'standing.tierOverride', actor }, (tx) =>
      writeTierOverride(tx, businessId, customerId, parsed.data.tier, parsed.data.reason),
    );
  }

  /** Evaluation takes over again; a customer above what they qualify for enters the grace period. */
  async clearOverride(businessId: string, customerId: string, actor: string): Promise<WriteResult> {
    return this.sync.changeStanding(customerId, { businessId, changedField: 'standing.tierOverride', actor }, (tx) =>
      writeTierOverride(tx, businessId, customerId, null, null),
    );
  }
}

const ORDER = ['BRONZE', 'SILVER', 'GOLD', 'PLATINUM'];
/** Customers moved by one recalculation past which the tier statistics are refreshed at once. */
const RESTATE_AFTER = 10_000;
const tierUp = (previous: string, next: string) => ORDER.indexOf(next) > ORDER.indexOf(previous);
