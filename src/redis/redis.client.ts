// Redis client factory. Without REDIS_URL the Redis-backed features fall back to in-process
// equivalents, so there is no client at all.
import { Redis } from 'ioredis';
import type { Config } from '../config.js';

export function createRedis(config: Config['redis']): { client: Redis; describe: string } | undefined {
  if (config.kind === 'memory') return undefined;
  const client = new Redis(config.url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  const url = new URL(config.url);
  return { client, describe: `Redis at ${url.hostname}:${url.port || 6379}` };
}
