// Cache of built memory profiles, one entry per business and customer, for a few minutes: in
// Redis when the service has one (shared by every instance), else in process memory.
//
// Invariant: once invalidate() has returned, no profile built from data read before it is served.
// A plain DEL would not give that: a read that started before a write could store its stale
// profile right after the write's DEL. So each customer has a generation counter, bumped by
// invalidate(); a reader notes the generation before building, stores the profile tagged with it,
// and get() serves an entry only when its tag equals the current generation.
import type { Redis } from 'ioredis';
import type { MemoryProfile } from './memory.schema.js';

export interface CachedProfile {
  /** The profile, if a current one is cached. */
  profile?: MemoryProfile;
  /** The generation to tag a profile built now with. */
  generation: string;
}

export interface ProfileCache {
  readonly describe: string;
  get(businessId: string, customerId: string): Promise<CachedProfile>;
  set(businessId: string, customerId: string, generation: string, profile: MemoryProfile): Promise<void>;
  invalidate(businessId: string, customerId: string): Promise<void>;
  /**
   * Erasure: removes every entry naming the customer, generation counter included, so no key is
   * left behind. Only for a customer who can no longer be built (erased): the counter restarts,
   * so a build that began before could still store its profile; erasure purges again when its
   * job completes.
   */
  purge(businessId: string, customerId: string): Promise<void>;
}

// Generations outlive profiles by far, so an expired counter cannot come back to a value a stored
// profile still carries (the counter restarts at 0 only after a day with no write).
const GENERATION_TTL_SECONDS = 86_400;

/** Where the Redis profile cache keeps a profile: `<prefix><businessId>:<customerId>` (and `…:gen`). */
export const MEMORY_PROFILE_CACHE_PREFIX = 'c360:memory:profile:';

export class RedisProfileCache implements ProfileCache {
  readonly describe = 'Redis';

  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly prefix = MEMORY_PROFILE_CACHE_PREFIX,
  ) {}

  /** The profile's key (tests look at its TTL). */
  key(businessId: string, customerId: string): string {
    return `${this.prefix}${businessId}:${customerId}`;
  }

  private generationKey(businessId: string, customerId: string): string {
    return `${this.key(businessId, customerId)}:gen`;
  }

  async get(businessId: string, customerId: string): Promise<CachedProfile> {
    const [entry, generation] = await this.redis.mget(this.key(businessId, customerId), this.generationKey(businessId, customerId));
    const current = generation ?? '0';
    if (!entry) return { generation: current };
    const stored = JSON.parse(entry) as { generation: string; profile: MemoryProfile };
    return stored.generation === current ? { profile: stored.profile, generation: current } : { generation: current };
  }

  async set(businessId: string, customerId: string, generation: string, profile: MemoryProfile): Promise<void> {
    await this.redis.set(this.key(businessId, customerId), JSON.stringify({ generation, profile }), 'EX', this.ttlSeconds);
  }

  async invalidate(businessId: string, customerId: string): Promise<void> {
    const generationKey = this.generationKey(businessId, customerId);
    await this.redis.multi().incr(generationKey).expire(generationKey, GENERATION_TTL_SECONDS).del(this.key(businessId, customerId)).exec();
  }

  async purge(businessId: string, customerId: string): Promise<void> {
    await this.redis.del(this.key(businessId, customerId), this.generationKey(businessId, customerId));
  }
}

/** The same contract in one process; bounded, the oldest entry goes first when full. */
export class InProcessProfileCache implements ProfileCache {
  readonly describe = 'in-process memory (REDIS_URL not set)';
  private readonly entries = new Map<string, { generation: string; profile: MemoryProfile; expiresAt: number }>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(businessId: string, customerId: string): Promise<CachedProfile> {
    const key = `${businessId}:${customerId}`;
    const generation = String(this.generations.get(key) ?? 0);
    const entry = this.entries.get(key);
    if (entry && (entry.expiresAt <= this.now() || entry.generation !== generation)) this.entries.delete(key);
    const fresh = this.entries.get(key);
    return Promise.resolve(fresh ? { profile: fresh.profile, generation } : { generation });
  }

  set(businessId: string, customerId: string, generation: string, profile: MemoryProfile): Promise<void> {
    const key = `${businessId}:${customerId}`;
    this.entries.delete(key); // re-inserted last: Map order is the eviction order
    this.entries.set(key, { generation, profile, expiresAt: this.now() + this.ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return Promise.resolve();
  }

  invalidate(businessId: string, customerId: string): Promise<void> {
    const key = `${businessId}:${customerId}`;
    this.entries.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
    // Generations are only needed while a profile might carry an old one; keep the map bounded too.
    if (this.generations.size > this.maxEntries * 2) {
      const oldest = this.generations.keys().next().value!;
      this.generations.delete(oldest);
      this.entries.delete(oldest); // its counter restarts at 0: no entry may carry an old tag
    }
    return Promise.resolve();
  }

  purge(businessId: string, customerId: string): Promise<void> {
    const key = `${businessId}:${customerId}`;
    this.entries.delete(key);
    this.generations.delete(key);
    return Promise.resolve();
  }
}
