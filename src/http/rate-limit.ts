// Per-token rate limit (express-rate-limit). Counters live in Redis when REDIS_URL is set, so
// every instance shares them; otherwise in process memory.
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';

export function createRateLimiter(config: Config['rateLimit'], redis: Redis | undefined, prefix = 'c360:rl:'): RequestHandler {
  return rateLimit({
    windowMs: config.windowMs,
    limit: config.max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Runs after authentication: one bucket per business and token subject.
    keyGenerator: (req) => `${req.principal?.businessId ?? 'anonymous'}:${req.principal?.subject ?? ''}`,
    store: redis
      ? new RedisStore({
          prefix,
          sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
        })
      : undefined,
    handler: (_req, _res, next) => {
      next(new AppError('RATE_LIMITED', 'Too many requests, slow down and retry later'));
    },
  });
}
