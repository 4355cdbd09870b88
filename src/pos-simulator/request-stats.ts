import type { RequestHandler } from 'express';
import type { FaultOptions } from './faults.js';
import type { SimClock } from './sim-clock.js';

// Per-endpoint request counts and a bounded request log of one simulated server, so tests can
// assert how an ingester used the API (pages fetched, retries after a 429, token refreshes).
export interface RequestLogEntry {
  at: number;
  endpoint: string;
  method: string;
  /** Path and query string as received. */
  url: string;
  status: number;
  fault?: string;
}

const LOG_LIMIT = 10_000;

export class RequestStats {
  private readonly counts = new Map<string, number>();
  private entries: RequestLogEntry[] = [];

  record(entry: RequestLogEntry): void {
    this.counts.set(entry.endpoint, (this.counts.get(entry.endpoint) ?? 0) + 1);
    this.entries.push(entry);
    if (this.entries.length > LOG_LIMIT) this.entries = this.entries.slice(-LOG_LIMIT / 2);
  }

  /** Requests per endpoint key, e.g. `{ 'payments.list': 4, 'locations.list': 1 }`. */
  countsByEndpoint(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  count(endpoint: string): number {
    return this.counts.get(endpoint) ?? 0;
  }

  log(): RequestLogEntry[] {
    return [...this.entries];
  }

  reset(): void {
    this.counts.clear();
    this.entries = [];
  }
}

/** Records every request when its response finishes (handlers name the endpoint in res.locals). */
export function recordRequests(stats: RequestStats, clock: SimClock): RequestHandler {
  return (req, res, next) => {
    const at = clock.now();
    res.on('finish', () => {
      stats.record({
        at,
        endpoint: (res.locals.endpoint as string | undefined) ?? 'unknown',
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ...(res.locals.fault ? { fault: res.locals.fault as string } : {}),
      });
    });
    next();
  };
}

/** What every simulated server's control offers: faults and request statistics. */
export interface SimulatorControl {
  setFaults(faults: FaultOptions): void;
  clearFaults(): void;
  faults(): Readonly<FaultOptions>;
  requestCounts(): Record<string, number>;
  requestLog(): RequestLogEntry[];
  resetRequestStats(): void;
}
