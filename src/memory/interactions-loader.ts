// Moves recorded interactions from PostgreSQL (memory_interactions, where they are durable the
// moment the API answers) into the warehouse `interactions` table in batches, then marks them
// loaded. Runs on an interval in the worker (and the API unless JOBS_IN_PROCESS=false), once
// across instances (advisory lock), and tests call loadBatch() directly.
//
// Invariant: a crash anywhere loses nothing and duplicates nothing. Rows are marked only after
// the warehouse took them, so a crash before the mark leaves them unloaded and the next run sends
// them again; the warehouse row is a pure function of the PostgreSQL row (ingested_at is the
// row's created_at), so the resend is the same natural key and the same version: PostgreSQL
// upserts it in place, BigQuery gets the same insertId and its _latest view keeps one row.
import { ADVISORY_LOCKS, withAdvisoryLock } from '../db/advisory-locks.js';
import type { DatabaseHandle } from '../db/db.client.js';
import type { Logger } from '../logger.js';
import type { Warehouse, WarehouseRow } from '../warehouse/warehouse.port.js';
import { markInteractionsLoaded, unloadedInteractions, type InteractionRow } from './memory.repository.js';

export interface LoadResult {
  /** False when another instance held the loader lock (nothing was done here). */
  ran: boolean;
  loaded: number;
  /** Rows the warehouse refused for good; left unloaded, reported by id in the log. */
  rejected: number;
  /** Loaded rows erased (forget) while they travelled; deleted from the warehouse again. */
  erased: number;
}

export class InteractionsLoader {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly warehouse: Warehouse,
    private readonly logger: Logger,
    private readonly batchSize = 500,
  ) {}

  /** Loads one batch of the oldest unloaded interactions. */
  async loadBatch(): Promise<LoadResult> {
    const outcome = await withAdvisoryLock(this.database, ADVISORY_LOCKS.memoryLoader, () => this.load());
    return outcome.ran ? outcome.value : { ran: false, loaded: 0, rejected: 0, erased: 0 };
  }

  /** Loads batches until the backlog is empty (or only refused rows remain). */
  async loadAll(): Promise<LoadResult> {
    const total: LoadResult = { ran: false, loaded: 0, rejected: 0, erased: 0 };
    for (;;) {
      const batch = await this.loadBatch();
      if (!batch.ran) return total;
      total.ran = true;
      total.loaded += batch.loaded;
      total.rejected += batch.rejected;
      total.erased += batch.erased;
      if (batch.loaded + batch.erased === 0 || batch.loaded + batch.rejected + batch.erased < this.batchSize) return total;
    }
  }

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow warehouse must not stack runs up
      this.running = this.loadAll()
        .then((r) => {
          if (r.loaded + r.rejected + r.erased > 0) this.logger.info(r, 'interactions loaded into the warehouse');
        })
        .catch((err: unknown) => this.logger.error({ err }, 'loading interactions into the warehouse failed; the rows stay queued'))
        .finally(() => {
          this.running = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async load(): Promise<LoadResult> {
    const rows = await unloadedInteractions(this.database.db, this.batchSize);
    if (rows.length === 0) return { ran: true, loaded: 0, rejected: 0, erased: 0 };
    const { rejected } = await this.warehouse.upsert('interactions', rows.map(toWarehouseRow));
    const refused = new Set(rejected.map((r) => r.row.interaction_id).filter((id): id is string => typeof id === 'string'));
    if (refused.size > 0) {
      // Reasons name columns, never values; ids only, no message text (PII).
      this.logger.error({ interactionIds: [...refused], reasons: rejected.map((r) => r.reason) }, 'warehouse refused interactions; they stay unloaded');
    }
    const sent = rows.filter((r) => !refused.has(r.id)).map((r) => r.id);
    const marked = await markInteractionsLoaded(this.database.db, sent);
    // A forget that ran between our read and our upsert deleted the PostgreSQL rows and the
    // warehouse rows before ours arrived: delete what we just resurrected.
    const erased = rows.filter((r) => !refused.has(r.id) && !marked.has(r.id));
    for (const row of erased) {
      const { pending } = await this.warehouse.deleteRows('interactions', { business_id: row.businessId, interaction_id: row.id });
      if (pending) this.logger.warn({ interactionId: row.id }, 'an erased interaction is still in the warehouse streaming buffer; forget the customer again later');
    }
    return { ran: true, loaded: marked.size, rejected: refused.size, erased: erased.length };
  }
}

function toWarehouseRow(row: InteractionRow): WarehouseRow {
  return {
    business_id: row.businessId,
    interaction_id: row.id,
    customer_id: row.customerId,
    session_id: row.sessionId,
    timestamp: row.occurredAt,
    message: row.message,
    response: row.response,
    intent: row.intent,
    sentiment: row.sentiment,
    entities: row.entities as WarehouseRow[string],
    channel: row.channel,
    ingested_at: row.createdAt,
  };
}
