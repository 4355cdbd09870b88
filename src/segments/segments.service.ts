// Segments: definitions per business, and their membership kept current three ways: a whole
// recalculation (on create/update/delete, on demand, on the schedule for time-relative
// criteria), and incrementally inside every customer write (standing.ts). Static segments have
// no criteria: their members are assigned by bulk operations (src/bulk/) and no recalculation
// touches them; deleting one removes its members, as for a dynamic segment.
import type { DatabaseHandle } from '../db/db.client.js';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../db/advisory-locks.js';
import { decodeCursor, keysetPage } from '../db/keyset.js';
import { AppError, invalidInput } from '../errors.js';
import { appendDomainEvents } from '../events/domain-events.repository.js';
import { applyInChunks } from '../standing/standing.js';
import { closeRun, openRun, type RecalculationTrigger } from '../standing/recalculation-runs.repository.js';
import type { DatabaseSyncService } from '../sync/database-sync.service.js';
import { isTimeRelative, parseSegmentCriteria, type SegmentCriteria } from './segment-criteria.js';
import { applyMemberships, membershipCandidates } from './segment-membership.js';
import {
  findSegment,
  insertSegment,
  listMembers,
  listSegments,
  markCalculated,
  memberCounts,
  timeRelativeSegments,
  updateSegment,
  type SegmentRow,
} from './segments.repository.js';
import { createSegmentBody, listSegmentsQuery, segmentMembersPageQuery, updateSegmentBody } from './segments.schema.js';

export interface SegmentRecalculation {
  /** Null when nothing ran (deferred, skipped). */
  runId: string | null;
  /** skipped: a static segment, whose members are not evaluated. */
  status: 'completed' | 'deferred' | 'skipped';
  entered: number;
  exited: number;
  durationMs: number;
}

const DEFERRED: SegmentRecalculation = { runId: null, status: 'deferred', entered: 0, exited: 0, durationMs: 0 };
const SKIPPED: SegmentRecalculation = { runId: null, status: 'skipped', entered: 0, exited: 0, durationMs: 0 };

export class SegmentsService {
  constructor(
    private readonly database: DatabaseHandle,
    private readonly sync: DatabaseSyncService,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private get db() {
    return this.database.db;
  }

  async create(businessId: string, body: unknown) {
    const parsed = createSegmentBody.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const kind = parsed.data.kind ?? 'dynamic';
    const criteria = kind === 'dynamic' ? parseSegmentCriteria(parsed.data.criteria, 'body.criteria') : null;
    const segment = await this.db.transaction(async (tx) => {
      const row = await insertSegment(tx, {
        businessId,
        name: parsed.data.name,
        description: parsed.data.description ?? null,
        kind,
        criteria,
        isActive: parsed.data.isActive ?? true,
        timeRelative: criteria ? isTimeRelative(criteria) : false,
      });
      await appendDomainEvents(tx, [{ businessId, eventType: 'customers.segment.created', payload: { segmentId: row.id } }]);
      return row;
    });
    const recalculation = await this.recalculateOrDefer(segment, 'segment_change');
    return { segment: await this.present(businessId, segment.id), recalculation };
  }

  async update(businessId: string, id: string, body: unknown) {
    const parsed = updateSegmentBody.safeParse(body);
    if (!parsed.success) throw invalidInput(parsed.error, 'body');
    const { criteria: rawCriteria, ...rest } = parsed.data;
    if (rawCriteria !== undefined && (await findSegment(this.db, businessId, id))?.kind === 'static') {
      throw new AppError('INVALID_INPUT', 'Invalid input: body.criteria: a static segment has no criteria', [
        { field: 'body.criteria', message: 'a static segment has no criteria (its members are assigned by bulk operations)' },
      ]);
    }
    const criteria = rawCriteria === undefined ? undefined : parseSegmentCriteria(rawCriteria, 'body.criteria');
    const segment = await this.db.transaction(async (tx) => {
      const row = await updateSegment(tx, businessId, id, {
        ...rest,
        ...(criteria ? { criteria, timeRelative: isTimeRelative(criteria) } : {}),
      });
      if (!row) throw notFound(id);
      await appendDomainEvents(tx, [{ businessId, eventType: 'customers.segment.updated', payload: { segmentId: id, changedFields: Object.keys(parsed.data) } }]);
      return row;
    });
    const recalculation = await this.recalculateOrDefer(segment, 'segment_change');
    return { segment: await this.present(businessId, id), recalculation };
  }

  /** Soft delete; every member leaves the segment (with an unassigned event each). */
  async delete(businessId: string, id: string) {
    const segment = await this.db.transaction(async (tx) => {
      const row = await updateSegment(tx, businessId, id, { deletedAt: this.now() });
      if (!row) throw notFound(id);
      await appendDomainEvents(tx, [{ businessId, eventType: 'customers.segment.deleted', payload: { segmentId: id } }]);
      return row;
    });
    return { recalculation: await this.recalculateOrDefer(segment, 'segment_change') };
  }

  async get(businessId: string, id: string) {
    return this.present(businessId, id);
  }

  async list(businessId: string, query: unknown) {
    const q = listSegmentsQuery.safeParse(query ?? {});
    if (!q.success) throw invalidInput(q.error, 'query');
    const rows = await listSegments(this.db, businessId, q.data.limit, q.data.cursor ? decodeCursor(q.data.cursor) : undefined);
    const page = keysetPage(rows, q.data.limit);
    const counts = await memberCounts(this.db, page.items.map((s) => s.id));
    return { items: page.items.map((s) => view(s, counts.get(s.id) ?? 0)), nextCursor: page.nextCursor, limit: q.data.limit };
  }

  async members(businessId: string, id: string, query: unknown) {
    const q = segmentMembersPageQuery.safeParse(query ?? {});
    if (!q.success) throw invalidInput(q.error, 'query');
    if (!(await findSegment(this.db, businessId, id))) throw notFound(id);
    const rows = await listMembers(this.db, id, businessId, q.data.limit, q.data.cursor);
    const items = rows.slice(0, q.data.limit);
    return { items, nextCursor: rows.length > q.data.limit ? items[items.length - 1]!.id : null, limit: q.data.limit };
  }

  /** On demand: CONFLICT while another recalculation of the segment runs. */
  async recalculate(businessId: string, id: string, trigger: RecalculationTrigger = 'api'): Promise<SegmentRecalculation> {
    const segment = await findSegment(this.db, businessId, id);
    if (!segment) throw notFound(id);
    const result = await this.tryRecalculate(segment, trigger);
    if (!result) throw new AppError('CONFLICT', `Segment ${id} is being recalculated already; try again when it ends`);
    return result;
  }

  /** The schedule: time-relative segments of every business. */
  async recalculateTimeRelative(): Promise<{ segments: number; entered: number; exited: number }> {
    const totals = { segments: 0, entered: 0, exited: 0 };
    for (const { id, businessId } of await timeRelativeSegments(this.db)) {
      const segment = await findSegment(this.db, businessId, id);
      const result = segment && (await this.tryRecalculate(segment, 'schedule'));
      if (!result) continue;
      totals.segments++;
      totals.entered += result.entered;
      totals.exited += result.exited;
    }
    return totals;
  }

  /** After a definition change: when a run holds the segment, that run sees the change and runs again. */
  private async recalculateOrDefer(segment: SegmentRow, trigger: RecalculationTrigger) {
    return (await this.tryRecalculate(segment, trigger)) ?? DEFERRED;
  }

  private async tryRecalculate(segment: SegmentRow, trigger: RecalculationTrigger): Promise<SegmentRecalculation | null> {
    const result = await withAdvisoryLock(this.database, { key: ADVISORY_LOCKS.segment, id: segment.id }, async () => {
      // Repeats while the definition changed during the run, so the last definition always wins.
      let run = await this.runRecalculation(segment, trigger);
      for (;;) {
        const latest = await this.load(segment.id);
        if (!latest || latest.updatedAt.getTime() === run.definitionAt.getTime()) return run.result;
        run = await this.runRecalculation(latest, trigger);
      }
    });
    return result.ran ? result.value : null;
  }

  private async runRecalculation(segment: SegmentRow, trigger: RecalculationTrigger) {
    // A static segment's members are assigned by hand: nothing to evaluate until it is deleted.
    if (segment.kind === 'static' && !segment.deletedAt) return { definitionAt: segment.updatedAt, result: SKIPPED };
    const started = performance.now();
    const runId = await openRun(this.db, { businessId: segment.businessId, kind: 'segment', segmentId: segment.id, trigger });
    try {
      const asOf = this.now();
      const target = {
        id: segment.id,
        businessId: segment.businessId,
        // Deleted or inactive: nobody is a member.
        criteria: segment.deletedAt || !segment.isActive ? null : (segment.criteria as SegmentCriteria),
      };
      const candidates = await membershipCandidates(this.db, target, asOf);
      const { counts } = await applyInChunks(this.db, candidates, ['standing.segments'], async (tx, ids) => {
        const changes = await applyMemberships(tx, [target], asOf, ids);
        const entered = changes.filter((c) => c.entered).length;
        return { changed: new Set(changes.map((c) => c.customerId)), counts: { entered, exited: changes.length - entered } };
      });
      const entered = counts.entered ?? 0;
      const exited = counts.exited ?? 0;
      this.sync.announceBulk();
      await markCalculated(this.db, segment.id, asOf);
      await closeRun(this.db, runId, { counts: { changed: entered + exited, entered, exited } });
      return {
        definitionAt: segment.updatedAt,
        result: { runId, status: 'completed' as const, entered, exited, durationMs: Math.round(performance.now() - started) },
      };
    } catch (err) {
      await closeRun(this.db, runId, { error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  private async load(id: string): Promise<SegmentRow | undefined> {
    const [row] = await this.db.query.customerSegments.findMany({ where: (s, { eq }) => eq(s.id, id), limit: 1 });
    return row;
  }

  private async present(businessId: string, id: string) {
    const segment = await findSegment(this.db, businessId, id);
    if (!segment) throw notFound(id);
    const counts = await memberCounts(this.db, [id]);
    return view(segment, counts.get(id) ?? 0);
  }
}

function view(s: Omit<SegmentRow, 'deletedAt'> & { deletedAt?: Date | null }, customerCount: number) {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    kind: s.kind,
    criteria: s.criteria,
    isActive: s.isActive,
    timeRelative: s.timeRelative,
    customerCount,
    lastRecalculated: s.lastCalculatedAt,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

const notFound = (id: string) => new AppError('NOT_FOUND', `Segment ${id} not found`);
