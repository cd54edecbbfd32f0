import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type IRateLimiterOptions, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors';

export interface RateLimiter {
  /** Spends one request of `key`'s budget; throws a 429 AppError once it is used up. */
  consume(key: string): Promise<void>;
}

export const unlimited: RateLimiter = { consume: async () => undefined };

/**
 * A budget of `perMinute` requests per key and minute; 0 means no limit. With a Redis client the
 * budget is shared by every replica using that Redis; while Redis does not answer, each process
 * falls back to its own in-memory budget rather than failing requests.
 */
export function createRateLimiter(perMinute: number, keyPrefix: string, redis?: Redis): RateLimiter {
  if (perMinute <= 0) return unlimited;
  const limiter = limiterStore({ points: perMinute, duration: 60, keyPrefix: `pull-events:${keyPrefix}` }, redis);
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = retryAfterSeconds(rejection);
        throw new AppError(
          429,
          'RATE_LIMITED',
          `rate limit of ${perMinute} requests per minute exceeded; retry in ${retryAfter} s`,
          { 'Retry-After': String(retryAfter) },
        );
      }
    },
  };
}

/**
 * Where a budget is counted: in Redis when given, shared by every replica using it; while Redis
 * does not answer, in this process's memory rather than failing requests.
 */
export function limiterStore(options: IRateLimiterOptions, redis?: Redis): RateLimiterAbstract {
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
}

/** A rejection's wait in whole seconds for Retry-After, at least 1. */
export function retryAfterSeconds(rejection: RateLimiterRes): number {
  return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
}
