import type { Redis } from 'ioredis';
import type { Logger } from './logger';

/**
 * A Redis client for shared rate-limit budgets. No offline queue: while Redis is down a budget
 * check fails at once and the limiter falls back to memory, instead of requests waiting on it.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  // Loaded only when REDIS_URL is set: ioredis costs a single-process service ~10 MB of memory.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deliberate lazy load
  const { Redis: RedisClient } = require('ioredis') as typeof import('ioredis');
  const redis = new RedisClient(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
  let healthy = true;
  redis.on('error', (error: Error) => {
    if (healthy) logger.warn({ err: error }, 'redis unavailable; rate limits fall back to per-process memory');
    healthy = false;
  });
  redis.on('ready', () => {
    if (!healthy) logger.info('redis reachable again');
    healthy = true;
  });
  return redis;
}
