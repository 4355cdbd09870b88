// Fault injection for one simulated server, set at start and changeable at runtime. Request
// numbers count from the moment the faults were last set (1 = the next request), across all API
// endpoints or, when a rule names an `endpoint`, across that endpoint only. Random faults draw
// from a seeded stream, so a failing run can be replayed.
import { Prng } from './data/prng.js';

export type MalformedKind = 'missing_field' | 'invalid_value';

export interface FaultOptions {
  /**
   * Answer 429 to `count` consecutive requests from the `startAt`-th on (default 1), with
   * `Retry-After: retryAfterSeconds` (default 1). Square documents no Retry-After, so `null`
   * leaves it out there (clients must back off on their own); Lightspeed always sends one.
   */
  rateLimitBurst?: { startAt?: number; count: number; retryAfterSeconds?: number | null; endpoint?: string } | null;
  /** Answer 5xx (default 500) to the listed request numbers and/or with probability `rate`. */
  serverErrors?: { onRequests?: number[]; rate?: number; status?: 500 | 502 | 503 | 504; endpoint?: string } | null;
  /** When the Nth request arrives, the access token(s) in use expire; that request gets 401. */
  expireTokenOnRequest?: number | null;
  /**
   * Serve `count` records (default 1) of `resource` with a field missing or invalid, in pages
   * that are otherwise valid. The same records stay bad until the faults change; `ids` pins them.
   */
  malformedRows?: { resource: string; count?: number; kind?: MalformedKind; ids?: string[] } | null;
  /** Records created or changed at runtime stay invisible to reads for this long (ms). */
  consistencyDelayMs?: number;
  /** Added to every API response (ms). */
  latencyMs?: number;
}

export type InjectedFault =
  | { kind: 'rate_limit'; retryAfterSeconds: number | null }
  | { kind: 'server_error'; status: number }
  | { kind: 'expire_token' };

export class FaultInjector {
  private options: FaultOptions = {};
  private readonly counts = new Map<string, number>();
  private readonly random: Prng;
  private malformedCache = new Map<string, Set<string>>();

  constructor(seed: string, initial: FaultOptions = {}) {
    this.random = new Prng(`${seed}/faults`);
    this.set(initial);
  }

  /** Merges `options` into the current faults (a `null` clears one) and restarts request numbering. */
  set(options: FaultOptions): void {
    const merged: Record<string, unknown> = { ...this.options };
    for (const [key, value] of Object.entries(options)) {
      if (value === null || value === undefined) delete merged[key];
      else merged[key] = value;
    }
    this.options = merged;
    this.counts.clear();
    this.malformedCache = new Map();
  }

  clear(): void {
    this.options = {};
    this.counts.clear();
    this.malformedCache = new Map();
  }

  get current(): Readonly<FaultOptions> {
    return this.options;
  }

  get consistencyDelayMs(): number {
    return this.options.consistencyDelayMs ?? 0;
  }

  get latencyMs(): number {
    return this.options.latencyMs ?? 0;
  }

  /**
   * Counts one request and says which fault, if any, it meets. An `auxiliary` endpoint (the
   * OAuth token endpoint) is left out of the all-endpoint numbering and meets only the rules
   * that name it.
   */
  onRequest(endpoint: string, auxiliary = false): InjectedFault | undefined {
    const all = auxiliary ? undefined : this.bump('*');
    const own = this.bump(endpoint);
    const numberFor = (scope?: string) => (scope === undefined ? all : scope === endpoint ? own : undefined);

    const burst = this.options.rateLimitBurst;
    if (burst) {
      const n = numberFor(burst.endpoint);
      const start = burst.startAt ?? 1;
      if (n !== undefined && n >= start && n < start + burst.count) {
        return { kind: 'rate_limit', retryAfterSeconds: burst.retryAfterSeconds === undefined ? 1 : burst.retryAfterSeconds };
      }
    }
    const errors = this.options.serverErrors;
    if (errors) {
      const n = numberFor(errors.endpoint);
      if (n !== undefined && (errors.onRequests?.includes(n) || (errors.rate !== undefined && this.random.chance(errors.rate)))) {
        return { kind: 'server_error', status: errors.status ?? 500 };
      }
    }
    if (all !== undefined && this.options.expireTokenOnRequest === all) {
      return { kind: 'expire_token' };
    }
    return undefined;
  }

  /**
   * The ids served malformed for `resource`, chosen once per fault setting from `candidateIds`
   * (spread evenly over them, so a bad record sits inside a page, not at an edge).
   */
  malformedIds(resource: string, candidateIds: () => string[]): { ids: Set<string>; kind: MalformedKind } | undefined {
    const rule = this.options.malformedRows;
    if (!rule || rule.resource !== resource) return undefined;
    let ids = this.malformedCache.get(resource);
    if (!ids) {
      if (rule.ids) ids = new Set(rule.ids);
      else {
        const candidates = candidateIds();
        const count = Math.min(rule.count ?? 1, candidates.length);
        ids = new Set();
        for (let i = 0; i < count; i++) ids.add(candidates[Math.floor(((i + 1) * candidates.length) / (count + 1))] as string);
      }
      this.malformedCache.set(resource, ids);
    }
    return { ids, kind: rule.kind ?? 'invalid_value' };
  }

  private bump(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }
}
