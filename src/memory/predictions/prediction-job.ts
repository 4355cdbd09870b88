// The nightly prediction job: for every business, refit and rescore (runForBusiness) and then
// measure earlier predictions whose horizon has passed (evaluate). One instance runs a tick
// (advisory lock); each business's run is recorded in prediction_runs.
import cron, { type ScheduledTask } from 'node-cron';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../../db/advisory-locks.js';
import type { DatabaseHandle } from '../../db/db.client.js';
import type { Logger } from '../../logger.js';
import { listBusinessIds } from './prediction.repository.js';
import type { PredictionService } from './prediction.service.js';

export class PredictionJob {
  private task: ScheduledTask | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly predictions: PredictionService,
    private readonly logger: Logger,
    private readonly onRun?: (status: 'succeeded' | 'failed' | 'skipped') => void,
  ) {}

  start(schedule: string): void {
    this.task = cron.schedule(schedule, () => void this.runOnce('schedule'), { name: 'predictions' });
  }

  /** No new tick starts; the one in progress ends after its current business. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.task?.stop();
    await this.running;
  }

  /** All businesses, once across instances; returns false when another instance holds the tick. */
  async runOnce(trigger: string): Promise<boolean> {
    if (this.stopped) return false;
    const work = withAdvisoryLock(this.database, ADVISORY_LOCKS.predictions, async () => {
      for (const businessId of await listBusinessIds(this.database.db)) {
        if (this.stopped) break;
        const run = await this.predictions.runForBusiness(businessId, trigger);
        this.onRun?.(run.status === 'succeeded' ? 'succeeded' : 'failed');
        const evaluated = await this.predictions.evaluate(businessId).catch((err: unknown) => {
          this.logger.error({ businessId, err }, 'prediction accuracy job failed');
          return 0;
        });
        this.logger.info({ businessId, runId: run.id, status: run.status, customers: run.customers, evaluated, note: run.note }, 'predictions updated');
      }
    });
    this.running = work;
    const outcome = await work;
    if (!outcome.ran) {
      this.onRun?.('skipped');
      this.logger.info('prediction tick skipped: another instance is running it');
    }
    return outcome.ran;
  }
}
