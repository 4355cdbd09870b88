// Prometheus metrics at /metrics: HTTP latency by route, sync backlog and lag (read from the
// outbox at scrape time, so every instance reports the same truth), projector throughput.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/db.client.js';
import type { RunResult } from '../sync/sync-projector.js';
import { outboxBacklog } from '../sync/sync-logs.repository.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly projected = new Counter({
    name: 'sync_projected_customers_total',
    help: 'Customers brought up to date in Firestore',
    registers: [this.registry],
  });
  private readonly projectionFailures = new Counter({
    name: 'sync_projection_failures_total',
    help: 'Customer projections that failed (will retry, or went dead)',
    registers: [this.registry],
  });
  private readonly documentsWritten = new Counter({
    name: 'sync_documents_written_total',
    help: 'Firestore document writes made by the projector',
    registers: [this.registry],
  });

  private readonly ingestRows = new Counter({
    name: 'ingest_rows_total',
    help: 'Records read from POS APIs, by source and stream',
    labelNames: ['source', 'stream'] as const,
    registers: [this.registry],
  });
  private readonly jobRuns = new Counter({
    name: 'job_runs_total',
    help: 'Scheduled and manual job runs by job and outcome',
    labelNames: ['job', 'status'] as const,
    registers: [this.registry],
  });

  constructor(db: Db) {
    collectDefaultMetrics({ register: this.registry });
    let snapshot: Promise<Awaited<ReturnType<typeof outboxBacklog>>> | undefined;
    // One outbox query per scrape, shared by the three gauges.
    const read = () => (snapshot ??= outboxBacklog(db).finally(() => setTimeout(() => (snapshot = undefined), 0)));
    new Gauge({
      name: 'sync_backlog_rows',
      help: 'Outbox rows waiting for projection (pending or failed)',
      registers: [this.registry],
      async collect() {
        this.set((await read()).backlog);
      },
    });
    new Gauge({
      name: 'sync_dead_rows',
      help: 'Outbox rows that gave up and need an operator (POST /api/v1/sync/retry)',
      registers: [this.registry],
      async collect() {
        this.set((await read()).dead);
      },
    });
    new Gauge({
      name: 'sync_lag_seconds',
      help: 'Age of the oldest outbox row still waiting',
      registers: [this.registry],
      async collect() {
        this.set((await read()).oldestSeconds);
      },
    });
  }

  recordProjection(result: RunResult): void {
    this.projected.inc(result.projected);
    this.projectionFailures.inc(result.failed);
    this.documentsWritten.inc(result.documentsWritten);
  }

  recordIngestRows(source: string, stream: string, rows: number): void {
    this.ingestRows.inc({ source, stream }, rows);
  }

  recordJobRun(job: string, status: 'succeeded' | 'failed' | 'skipped'): void {
    this.jobRuns.inc({ job, status });
  }

  /** Times every request; the route label is the matched pattern (ids never become labels). */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const stop = this.httpDuration.startTimer();
      res.on('finish', () => {
        const route = req.route ? `${req.baseUrl}${String((req.route as { path: string }).path)}` : 'unmatched';
        stop({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    };
  }
}
