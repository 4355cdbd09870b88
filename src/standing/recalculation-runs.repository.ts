// Records of tier and segment recalculations: one row per run, opened at start and closed with
// its counts or its error.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../db/db.client.js';
import { beyond, exactTimestamp, type KeysetPosition } from '../db/keyset.js';
import { recalculationRuns, type RECALCULATION_TRIGGERS } from '../db/schema/index.js';

export type RecalculationTrigger = (typeof RECALCULATION_TRIGGERS)[number];
export interface RecalculationCounts {
  changed: number;
  entered?: number;
  exited?: number;
  upgraded?: number;
  downgraded?: number;
}

export async function openRun(ex: Executor, run: { businessId: string; kind: 'tiers' | 'segment'; segmentId?: string; trigger: RecalculationTrigger }): Promise<string> {
  const [row] = await ex.insert(recalculationRuns).values(run).returning({ id: recalculationRuns.id });
  return row!.id;
}

export async function closeRun(ex: Executor, id: string, outcome: { counts: RecalculationCounts } | { error: string }) {
  const [row] = await ex
    .update(recalculationRuns)
    .set(
      'error' in outcome
        ? { status: 'failed', error: outcome.error.slice(0, 2000), finishedAt: sql`now()` }
        : { status: 'succeeded', ...outcome.counts, finishedAt: sql`now()` },
    )
    .where(eq(recalculationRuns.id, id))
    .returning();
  return row!;
}

export async function listRuns(ex: Executor, businessId: string, limit: number, after?: KeysetPosition) {
  return ex
    .select({
      id: recalculationRuns.id,
      kind: recalculationRuns.kind,
      segmentId: recalculationRuns.segmentId,
      trigger: recalculationRuns.trigger,
      status: recalculationRuns.status,
      startedAt: recalculationRuns.startedAt,
      finishedAt: recalculationRuns.finishedAt,
      changed: recalculationRuns.changed,
      entered: recalculationRuns.entered,
      exited: recalculationRuns.exited,
      upgraded: recalculationRuns.upgraded,
      downgraded: recalculationRuns.downgraded,
      error: recalculationRuns.error,
      cursorAt: exactTimestamp(recalculationRuns.startedAt),
    })
    .from(recalculationRuns)
    .where(and(eq(recalculationRuns.businessId, businessId), after ? beyond(recalculationRuns.startedAt, recalculationRuns.id, after, 'desc') : undefined))
    .orderBy(desc(recalculationRuns.startedAt), desc(recalculationRuns.id))
    .limit(limit + 1);
}
