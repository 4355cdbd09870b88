// Runs the work queues (work-queue.ts) in the worker, or in the API process when JOBS_IN_PROCESS:
// polls every queue, each in its own lane (one row at a time per queue, queues side by side),
// records failures and retries, and runs each queue's periodic sweep (e.g. expiring exports). `wake()` starts a pass
// at once (the API calls it after enqueueing); `drain()` runs passes until nothing is due
// (tests, and the bench).
import type { Db } from '../db/db.client.js';
import type { Logger } from '../logger.js';
import { claimNext, recordFailure, retryLater, RetryLater, type ClaimedRow, type QueueSpec } from './work-queue.js';

export interface QueueHandler {
  /** For logs and metrics: 'exports', 'erasures', 'imports'. */
  name: string;
  spec: QueueSpec;
  /** Does the work of one claimed row and marks it done. Throws to fail the attempt; RetryLater to wait. */
  process(row: ClaimedRow, now: Date): Promise<void>;
  /** Optional housekeeping run on every pass (cheap, indexed). */
  sweep?(now: Date): Promise<void>;
}

/** Housekeeping with no rows to claim (a retention sweep), run on every pass beside the queues. */
export interface Sweeper {
  name: string;
  sweep(now: Date): Promise<void>;
}

const isQueue = (h: QueueHandler | Sweeper): h is QueueHandler => 'spec' in h;

export class QueueWorker {
  private timer: NodeJS.Timeout | undefined;
  /** Each queue runs on its own, so a long import does not hold up exports and erasures. */
  private readonly lanes: Lane[] = [];
  private stopped = false;

  constructor(
    private readonly db: Db,
    /** Read when lanes are made, so handlers pushed after construction (as createApplication does) run too. */
    private readonly handlers: (QueueHandler | Sweeper)[],
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    private readonly onOutcome?: (queue: string, outcome: 'completed' | 'retried' | 'failed') => void,
  ) {}

  start(pollIntervalMs: number): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Starts a pass of every queue now, or right after the pass it is running. */
  wake(): void {
    if (this.stopped) return;
    for (const lane of this.lanesNow()) {
      if (lane.pass) {
        lane.again = true;
        continue;
      }
      lane.pass = this.runLane(lane).finally(() => (lane.pass = undefined));
    }
  }

  /** Runs every queue until none has a due row (sweeps included); for tests and the bench. */
  async drain(): Promise<void> {
    await Promise.all(this.lanesNow().map((lane) => lane.pass ?? Promise.resolve()));
    for (let worked = true; worked; ) {
      worked = false;
      for (const lane of this.lanesNow()) if (await this.runOnce(lane.handler)) worked = true;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.lanes.map((lane) => lane.pass ?? Promise.resolve()));
  }

  private lanesNow(): Lane[] {
    for (const handler of this.handlers.slice(this.lanes.length)) this.lanes.push({ handler, again: false });
    return this.lanes;
  }

  private async runLane(lane: Lane): Promise<void> {
    do {
      lane.again = false;
      try {
        while (!this.stopped && (await this.runOnce(lane.handler))) {
          /* until nothing is due */
        }
      } catch (err) {
        this.logger.error({ err, queue: lane.handler.name }, 'work queue pass failed');
      }
    } while (lane.again && !this.stopped);
  }

  /** The queue's sweep, then one due row if there is one; true when a row was processed. */
  private async runOnce(handler: QueueHandler | Sweeper): Promise<boolean> {
    const now = this.clock();
    if (handler.sweep) await handler.sweep(now);
    if (!isQueue(handler)) return false;
    const row = await claimNext(this.db, handler.spec, now);
    if (!row) return false;
    await this.process(handler, row);
    return true;
  }

  private async process(handler: QueueHandler, row: ClaimedRow): Promise<void> {
    const log = this.logger.child({ queue: handler.name, jobId: row.id, attempt: row.attempts });
    try {
      await handler.process(row, this.clock());
      this.onOutcome?.(handler.name, 'completed');
    } catch (err) {
      const now = this.clock();
      if (err instanceof RetryLater) {
        await retryLater(this.db, handler.spec, row, err.delayMs, err.message, now);
        log.info({ delayMs: err.delayMs, why: err.message }, 'work queue row deferred');
        this.onOutcome?.(handler.name, 'retried');
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      const status = await recordFailure(this.db, handler.spec, row, message, now);
      // The message and code only: a driver error's detail can quote the values of a row.
      log.warn({ error: message, code: (err as { code?: unknown }).code, status }, 'work queue attempt failed');
      this.onOutcome?.(handler.name, status === 'FAILED' ? 'failed' : 'retried');
    }
  }
}

interface Lane {
  handler: QueueHandler | Sweeper;
  pass?: Promise<void>;
  again: boolean;
}
