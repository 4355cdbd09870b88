// The scheduled standing job: for every business, the tier recalculation (downgrades whose grace
// period ended, rolling evaluation windows), then every time-relative segment. One instance runs
// a tick (advisory lock); each recalculation is recorded in recalculation_runs.
import cron, { type ScheduledTask } from 'node-cron';
import { ADVISORY_LOCKS, withAdvisoryLock } from '../db/advisory-locks.js';
import type { DatabaseHandle } from '../db/db.client.js';
import type { Logger } from '../logger.js';
import { listBusinesses } from '../businesses/businesses.repository.js';
import type { SegmentsService } from '../segments/segments.service.js';
import type { TiersService } from '../tiers/tiers.service.js';

export class StandingJob {
  private task: ScheduledTask | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly tiers: TiersService,
    private readonly segments: SegmentsService,
    private readonly logger: Logger,
    private readonly onRun?: (status: 'succeeded' | 'failed' | 'skipped') => void,
  ) {}

  start(schedule: string): void {
    this.task = cron.schedule(schedule, () => void this.runOnce().catch((err: unknown) => this.logger.error({ err }, 'standing job failed')), {
      name: 'standing',
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.task?.stop();
    await this.running;
  }

  async runOnce(): Promise<boolean> {
    if (this.stopped) return false;
    const work = withAdvisoryLock(this.database, ADVISORY_LOCKS.standingSchedule, async () => {
      let failed = false;
      for (const { id: businessId } of await listBusinesses(this.database.db)) {
        if (this.stopped) break;
        const run = await this.tiers.tryRecalculate(businessId, 'schedule').catch((err: unknown) => {
          failed = true;
          this.logger.error({ businessId, err }, 'scheduled tier recalculation failed');
          return null;
        });
        if (run) this.logger.info({ businessId, changed: run.changed, upgraded: run.upgraded, downgraded: run.downgraded }, 'tiers recalculated');
      }
      if (!this.stopped) {
        const segments = await this.segments.recalculateTimeRelative();
        this.logger.info(segments, 'time-relative segments recalculated');
      }
      this.onRun?.(failed ? 'failed' : 'succeeded');
    });
    this.running = work;
    const outcome = await work;
    if (!outcome.ran) {
      this.onRun?.('skipped');
      this.logger.info('standing tick skipped: another instance is running it');
    }
    return outcome.ran;
  }
}
