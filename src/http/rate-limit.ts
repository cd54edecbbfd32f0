import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors';

export interface RateLimiter {
  /** Spends one request of `key`'s budget; throws a 429 AppError once it is used up. */
  consume(key: string): Promise<void>;
}

export const unlimited: RateLimiter = { consume: async () => undefined };

/** A budget of `perMinute` requests per key and minute; 0 means no limit. */
export function createRateLimiter(perMinute: number, keyPrefix: string): RateLimiter {
  if (perMinute <= 0) return unlimited;
  const limiter: RateLimiterAbstract = new RateLimiterMemory({ points: perMinute, duration: 60, keyPrefix });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
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
