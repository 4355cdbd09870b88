// Runs the work queues (work-queue.ts) in the worker, or in the API process when JOBS_IN_PROCESS:
// polls every queue, processes claimed rows one at a time per queue, records failures and
// retries, and runs each queue's periodic sweep (e.g. expiring exports). `wake()` starts a pass
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

export class QueueWorker {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly handlers: QueueHandler[],
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

  /** Starts a pass now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPasses().finally(() => (this.pass = undefined));
  }

  /** Runs passes until no queue has a due row (sweeps included). */
  async drain(): Promise<void> {
    await this.pass;
    while (await this.runPass()) {
      /* keep going */
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pass;
  }

  private async runPasses(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped && (await this.runPass())) {
          /* until nothing is due */
        }
      } catch (err) {
        this.logger.error({ err }, 'work queue pass failed');
      }
    } while (this.again && !this.stopped);
  }

  /** One row from each queue that has one due, then every sweep; true when any row was processed. */
  private async runPass(): Promise<boolean> {
    let worked = false;
    for (const handler of this.handlers) {
      if (this.stopped) break;
      const now = this.clock();
      if (handler.sweep) await handler.sweep(now);
      const row = await claimNext(this.db, handler.spec, now);
      if (!row) continue;
      worked = true;
      await this.runOne(handler, row);
    }
    return worked;
  }

  private async runOne(handler: QueueHandler, row: ClaimedRow): Promise<void> {
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
      log.warn({ err, status }, 'work queue attempt failed');
      this.onOutcome?.(handler.name, status === 'FAILED' ? 'failed' : 'retried');
    }
  }
}
