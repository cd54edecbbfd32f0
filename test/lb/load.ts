import type { Middleware } from 'openapi-fetch';
import { contract } from '../support/contract';

/**
 * Counting every request a load generator sends through the balancer: answered as expected, failed,
 * or failed in a way a client may safely retry (and then retried). Safe means nothing can have
 * happened twice: the connection was refused before a byte of the request was sent, or the
 * operation is one the client library repeats on an unknown outcome (`REPEATABLE` in
 * src/client/transport.ts: GETs, acks, deletes) and the answer was a 502, 503 or 504 or the
 * connection was lost. A lost answer to a webhook or a receive is a failure: the sender cannot
 * know whether it was stored or leased.
 */
export interface Tally {
  requests: number;
  ok: number;
  /** Safely retried attempts, by operation and reason. */
  retried: Map<string, number>;
  /** One line per failed request: operation, what happened, which replica answered. */
  failures: string[];
}

export const newTally = (): Tally => ({ requests: 0, ok: 0, retried: new Map(), failures: [] });

export const retriedCount = (tally: Tally) => [...tally.retried.values()].reduce((sum, n) => sum + n, 0);

/** What a request came back with: its status, headers (`X-Served-By` names the replica) and parsed answer. */
export interface Answer<T> {
  status: number;
  headers: Headers;
  value: T;
}

const RETRYABLE_STATUSES = new Set([502, 503, 504]);
const ATTEMPTS = 5;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The errno-like code somewhere down an error's causes (fetch wraps undici's, the client wraps
 * fetch's). Not `instanceof Error`: fetch's errors come from Node's realm, not the test's.
 */
function errorCode(error: unknown): string | undefined {
  let current = error as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    if (typeof current.code === 'string') return current.code;
    current = current.cause as typeof current;
  }
  return undefined;
}

/**
 * Sends `send` until it is answered as `expected`, at most `ATTEMPTS` times while its failures are
 * safe to retry; counts every attempt in `tally`. Resolves undefined when the request failed.
 */
export async function call<T>(
  tally: Tally,
  operation: string,
  repeatable: boolean,
  send: () => Promise<Answer<T>>,
  expected: number[] = [200],
): Promise<Answer<T> | undefined> {
  for (let attempt = 1; ; attempt++) {
    tally.requests += 1;
    let reason: string;
    let safe: boolean;
    try {
      const answer = await send();
      if (expected.includes(answer.status)) {
        tally.ok += 1;
        return answer;
      }
      reason = `status ${answer.status} from ${answer.headers.get('x-served-by') ?? 'the balancer'}`;
      safe = repeatable && RETRYABLE_STATUSES.has(answer.status);
    } catch (error) {
      const code = errorCode(error);
      reason = code ?? String(error);
      // No code: not a connection failure (a contract violation, a bug in the test): never retried.
      safe = code === 'ECONNREFUSED' || (code !== undefined && repeatable);
    }
    if (!safe) {
      tally.failures.push(`${operation}: ${reason}`);
      return undefined;
    }
    const key = `${operation} ${reason}`;
    tally.retried.set(key, (tally.retried.get(key) ?? 0) + 1);
    if (attempt === ATTEMPTS) {
      tally.failures.push(`${operation}: still ${reason} after ${ATTEMPTS} attempts`);
      return undefined;
    }
    await sleep(200 * attempt);
  }
}

/** Runs `step` over and over in each of `workers` loops until `running()` turns false. */
export async function loop(workers: number, running: () => boolean, step: (worker: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (running()) {
        await step(worker);
        // Continuous, not flat out: the machine also runs the replicas, HAProxy and PostgreSQL, and
        // a replica starting again needs its share of the CPU.
        await sleep(100);
      }
    }),
  );
}

/**
 * The contract check for answers through the balancer: those of a replica (HAProxy names it in
 * `X-Served-By`) are checked against openapi.yaml; HAProxy's own error pages (502, 503, 504) are
 * not the API's, and their status is what `call` judges.
 */
export function replicaContract(): Middleware {
  const check = contract.middleware();
  return {
    onResponse: (options) => (options.response.headers.has('x-served-by') ? check.onResponse?.(options) : undefined),
  };
}
