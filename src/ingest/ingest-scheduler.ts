// Cron schedules of POS ingestion: one node-cron task per enabled connection, on the
// connection's own schedule. Every instance may schedule; the advisory lock in IngestService
// makes each tick run once, and a tick that finds the previous run still going is skipped and
// logged. Connections added or changed later are picked up by a periodic reload.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../logger.js';
import type { IngestService } from './ingest.service.js';

const RELOAD_INTERVAL_MS = 60_000;

export class IngestScheduler {
  private readonly tasks = new Map<string, { schedule: string; task: ScheduledTask }>();
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly ingest: IngestService,
    private readonly logger: Logger,
    private readonly onTick?: (outcome: 'succeeded' | 'failed' | 'skipped') => void,
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.reloadTimer = setInterval(() => void this.reload().catch((err: unknown) => this.logger.error({ err }, 'reloading ingest schedules failed')), RELOAD_INTERVAL_MS);
    this.reloadTimer.unref();
  }

  /** Stops the schedules and the runs in progress (at their next page), and waits for them. */
  async stop(): Promise<void> {
    this.ingest.stopRuns();
    clearInterval(this.reloadTimer);
    for (const { task } of this.tasks.values()) await task.stop();
    this.tasks.clear();
    await Promise.allSettled(this.inFlight);
  }

  /** Runs one connection now, as a tick would (used at start in demo mode). */
  runNow(connectionId: string, trigger: 'schedule' | 'startup' = 'schedule'): Promise<void> {
    const work = this.ingest
      .runConnection(connectionId, { trigger })
      .then((outcome) => {
        const status = outcome.skipped ? 'skipped' : outcome.run.status === 'succeeded' ? 'succeeded' : 'failed';
        this.onTick?.(status);
      })
      .catch((err: unknown) => {
        this.onTick?.('failed');
        this.logger.error({ err, connectionId }, 'ingest run could not start');
      });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  private async reload(): Promise<void> {
    const connections = await this.ingest.connections({ enabledOnly: true });
    const wanted = new Map(connections.map((c) => [c.id, c.schedule]));
    for (const [id, entry] of this.tasks) {
      if (wanted.get(id) !== entry.schedule) {
        await entry.task.stop();
        this.tasks.delete(id);
      }
    }
    for (const connection of connections) {
      if (this.tasks.has(connection.id)) continue;
      const task = cron.schedule(connection.schedule, () => void this.runNow(connection.id), { name: `ingest:${connection.id}` });
      this.tasks.set(connection.id, { schedule: connection.schedule, task });
      this.logger.info({ connectionId: connection.id, provider: connection.provider, schedule: connection.schedule }, 'ingest scheduled');
    }
  }
}
