// Lightspeed R-Series rate limiting (POS-APIS.md, "Rate limit"): a leaky bucket per account, of
// size 90 plus 10 per extra register, draining `dripRate` units per second (1 by default), plus
// a burst limiter on requests per short window. A GET costs 1 unit, a write 10. Every response
// reports `X-LS-API-Bucket-Level: <level>/<size>`, `X-LS-API-Drip-Rate` and
// `X-LS-API-Burst-Level`; an overflow is a 429 with `Retry-After` (whole seconds until the
// request would fit) and `X-LS-API-RateLimit-Type` (`bucket` or `burst`). A rejected request
// adds nothing to the bucket.
import type { SimClock } from '../sim-clock.js';

export interface RateLimitOptions {
  bucketSize: number;
  dripRatePerSecond: number;
  /** At most `limit` requests in any `windowMs`; null turns the burst limiter off. */
  burst: { limit: number; windowMs: number } | null;
}

export type RateDecision =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; limitType: 'bucket' | 'burst'; retryAfterSeconds: number; headers: Record<string, string> };

export const GET_COST = 1;
export const WRITE_COST = 10;

/** "12.5" rather than "12.500000001": two decimals at most, no trailing zeros. */
const formatLevel = (level: number) => String(Math.round(level * 100) / 100);

export class AccountRateLimiter {
  private level = 0;
  private lastDrainAt: number;
  private recent: number[] = [];

  constructor(
    private options: RateLimitOptions,
    private readonly clock: SimClock,
  ) {
    this.lastDrainAt = clock.now();
  }

  configure(options: Partial<RateLimitOptions>): void {
    this.drain();
    this.options = { ...this.options, ...options };
    this.level = Math.min(this.level, this.options.bucketSize);
  }

  get settings(): Readonly<RateLimitOptions> {
    return this.options;
  }

  /** Current bucket fill after draining. */
  currentLevel(): number {
    this.drain();
    return this.level;
  }

  /** Fills the bucket by `cost` units, as other apps on the same account would. */
  fill(units: number): void {
    this.drain();
    this.level = Math.min(this.options.bucketSize, this.level + units);
  }

  take(cost: number = GET_COST): RateDecision {
    this.drain();
    const now = this.clock.now();
    const burst = this.options.burst;
    if (burst) {
      this.recent = this.recent.filter((at) => at > now - burst.windowMs);
      if (this.recent.length >= burst.limit) {
        const oldest = this.recent[0] ?? now;
        const retryAfterSeconds = Math.max(1, Math.ceil((oldest + burst.windowMs - now) / 1000));
        return { allowed: false, limitType: 'burst', retryAfterSeconds, headers: this.headers() };
      }
    }
    if (this.level + cost > this.options.bucketSize) {
      const excess = this.level + cost - this.options.bucketSize;
      const retryAfterSeconds = Math.max(1, Math.ceil(excess / this.options.dripRatePerSecond));
      return { allowed: false, limitType: 'bucket', retryAfterSeconds, headers: this.headers() };
    }
    this.level += cost;
    if (burst) this.recent.push(now);
    return { allowed: true, headers: this.headers() };
  }

  headers(): Record<string, string> {
    const burst = this.options.burst;
    return {
      'X-LS-API-Bucket-Level': `${formatLevel(this.level)}/${this.options.bucketSize}`,
      'X-LS-API-Drip-Rate': String(this.options.dripRatePerSecond),
      ...(burst ? { 'X-LS-API-Burst-Level': `${this.recent.length}/${burst.limit}` } : {}),
    };
  }

  private drain(): void {
    const now = this.clock.now();
    const elapsedSeconds = Math.max(0, now - this.lastDrainAt) / 1000;
    this.level = Math.max(0, this.level - elapsedSeconds * this.options.dripRatePerSecond);
    this.lastDrainAt = now;
  }
}
