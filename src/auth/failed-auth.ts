import ipaddr from 'ipaddr.js';
import type { Redis } from 'ioredis';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../http/errors';
import { limiterStore, retryAfterSeconds } from '../http/rate-limit';
import { sha256Hex } from './secrets';

const KNOWN_GOOD_TTL_MS = 60 * 60 * 1000;
const MAX_REMEMBERED = 10_000;

export interface FailedAuthSettings {
  /** Distinct failed credentials per client address and window; 0 turns the guard off. */
  limit: number;
  windowSeconds: number;
  /** API keys and ingest tokens have separate budgets, so a dead webhook URL never locks out API clients. */
  kind: 'api' | 'ingest';
  /** Budgets and the known-good set live in this Redis when given (shared by replicas). */
  redis?: Redis;
}

export interface FailedAuthGuard {
  /**
   * Looks up the credential hashed as `credentialHash`, sent from `ip`, with `lookUp`; a falsy
   * result is a failed attempt. Throws a 429 without calling `lookUp` while the address is over
   * its budget, unless this credential authenticated recently.
   */
  attempt<T>(ip: string, credentialHash: string, lookUp: () => Promise<T>): Promise<T>;
}

export const unguarded: FailedAuthGuard = { attempt: (_ip, _hash, lookUp) => lookUp() };

/**
 * Brute-force protection: each client address may present `limit` distinct credentials that match
 * nothing per window. A credential failing again costs nothing more (a provider retrying a dead
 * webhook URL guesses nothing), and a credential that authenticated within the last hour is let
 * through to its normal look-up even from an address over budget, so clients sharing an address
 * (a NAT, a webhook provider's senders) are not locked out by one another's failures. An address
 * is an IPv4 address or an IPv6 /64, the block one host usually holds.
 */
export function createFailedAuthGuard({ limit, windowSeconds, kind, redis }: FailedAuthSettings): FailedAuthGuard {
  if (limit <= 0) return unguarded;
  const failures = limiterStore({ points: limit, duration: windowSeconds, keyPrefix: `pull-events:auth-failures:${kind}` }, redis);
  const knownGood = new KnownGood(`pull-events:auth-known-good:${kind}:`, redis);
  const recentFailures = new RecentSet(windowSeconds * 1000);

  /** Spends a point before the look-up, so concurrent guesses cannot all slip in under the budget. */
  const reserve = async (address: string, credentialHash: string): Promise<boolean> => {
    try {
      await failures.consume(address);
      return true;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      if (await knownGood.isShared(credentialHash)) return false;
      const retryAfter = retryAfterSeconds(rejection);
      throw new AppError(
        429,
        'RATE_LIMITED',
        `too many failed authentication attempts from this address; retry in ${retryAfter} s`,
        { 'Retry-After': String(retryAfter) },
      );
    }
  };

  const attemptOnce = async <T>(address: string, credentialHash: string, lookUp: () => Promise<T>): Promise<T> => {
    const reserved = knownGood.isLocal(credentialHash) ? false : await reserve(address, credentialHash);
    let found: T;
    try {
      found = await lookUp();
    } catch (error) {
      // A look-up that could not be made is no failed attempt.
      if (reserved) await failures.reward(address);
      throw error;
    }
    if (found) {
      if (reserved) await failures.reward(address);
      await knownGood.add(credentialHash);
      return found;
    }
    knownGood.forget(credentialHash);
    const failure = `${address} ${credentialHash}`;
    const repeated = recentFailures.seenAt(failure) !== undefined;
    recentFailures.mark(failure);
    if (reserved && repeated) await failures.reward(address);
    if (!reserved && !repeated) await failures.penalty(address);
    return found;
  };

  /**
   * A client's first burst with a key new to this process (200 long polls at start-up) would
   * otherwise reserve a point per request before the first look-up answers, and find itself over
   * budget with a valid key: requests with the same credential from the same address share one
   * look-up, and its verdict.
   */
  const inFlight = new Map<string, Promise<unknown>>();
  return {
    attempt<T>(ip: string, credentialHash: string, lookUp: () => Promise<T>): Promise<T> {
      const address = addressOf(ip);
      const key = `${address} ${credentialHash}`;
      const pending = inFlight.get(key) as Promise<T> | undefined;
      if (pending) return pending;
      const attempt = attemptOnce(address, credentialHash, lookUp).finally(() => inFlight.delete(key));
      inFlight.set(key, attempt);
      return attempt;
    },
  };
}

/** What a budget is kept per: an IPv4 address, or the /64 an IPv6 address is in. */
function addressOf(ip: string): string {
  let address = addresses.get(ip);
  if (address === undefined) {
    // Clients come from few addresses: each is parsed once, not on every request.
    if (addresses.size >= MAX_ADDRESSES) addresses.clear();
    address = parseAddress(ip);
    addresses.set(ip, address);
  }
  return address;
}

const MAX_ADDRESSES = 10_000;
const addresses = new Map<string, string>();

function parseAddress(ip: string): string {
  try {
    const address = ipaddr.process(ip);
    if (address.kind() === 'ipv4') return address.toString();
    return `${address.toNormalizedString().split(':').slice(0, 4).join(':')}::/64`;
  } catch {
    return ip;
  }
}

/** Keys marked within `ttlMs`, at most `maxEntries` of them (the oldest go first). */
class RecentSet {
  private readonly marks = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = MAX_REMEMBERED,
  ) {}

  seenAt(key: string, now = Date.now()): number | undefined {
    const at = this.marks.get(key);
    if (at !== undefined && now - at < this.ttlMs) return at;
    if (at !== undefined) this.marks.delete(key);
    return undefined;
  }

  mark(key: string, now = Date.now()): void {
    this.marks.delete(key);
    // A Map iterates in insertion order: the first key is the oldest mark.
    if (this.marks.size >= this.maxEntries) this.marks.delete(this.marks.keys().next().value!);
    this.marks.set(key, now);
  }

  forget(key: string): void {
    this.marks.delete(key);
  }
}

/**
 * Credentials (by hash) that authenticated within the hour: in this process, and in Redis for the
 * other replicas. Redis is written at most every half hour per credential and process, so a busy
 * client costs no Redis round trip, and read only for an address over budget.
 */
class KnownGood {
  private readonly local = new RecentSet(KNOWN_GOOD_TTL_MS);

  constructor(
    private readonly prefix: string,
    private readonly redis: Redis | undefined,
  ) {}

  isLocal(credentialHash: string): boolean {
    return this.local.seenAt(credentialHash) !== undefined;
  }

  async isShared(credentialHash: string): Promise<boolean> {
    if (!this.redis) return false;
    // While Redis does not answer, only this process's own memory counts.
    return (await this.redis.exists(this.redisKey(credentialHash)).catch(() => 0)) === 1;
  }

  async add(credentialHash: string, now = Date.now()): Promise<void> {
    const at = this.local.seenAt(credentialHash, now);
    if (at !== undefined && now - at < KNOWN_GOOD_TTL_MS / 2) return;
    this.local.mark(credentialHash, now);
    await this.redis?.set(this.redisKey(credentialHash), '1', 'PX', KNOWN_GOOD_TTL_MS).catch(() => undefined);
  }

  /**
   * Only this process forgets a credential that stopped working: Redis may vouch for it until its
   * entry expires, which lets that one credential reach its look-up (and fail) but helps no guess.
   */
  forget(credentialHash: string): void {
    this.local.forget(credentialHash);
  }

  /** Hashed again so that Redis never holds the hash the database is searched by. */
  private redisKey(credentialHash: string): string {
    return `${this.prefix}${sha256Hex(credentialHash)}`;
  }
}
