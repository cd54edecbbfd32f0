import { PullEventsApiError } from './errors.js';
import { backoffMs, sleep } from './transport.js';
import type {
  CallOptions,
  LeaseAckResult,
  LeaseExtendResult,
  LeaseReleaseResult,
  LeasedEvent,
  ReceiveRequest,
  ReceiveResult,
} from './types.js';

export interface LeaseMethods {
  receive(endpointId: string, body?: ReceiveRequest, options?: CallOptions): Promise<ReceiveResult>;
  ackLeases(endpointId: string, body: { lease_ids: string[] }): Promise<LeaseAckResult>;
  extendLeases(endpointId: string, body: { lease_ids: string[]; lease_seconds: number }): Promise<LeaseExtendResult>;
  releaseLeases(endpointId: string, body: { lease_ids: string[]; delay_seconds?: number }): Promise<LeaseReleaseResult>;
}

/** Resolves once the event is handled (it is then acked); a throw has it released and retried. */
export type EventHandler = (event: LeasedEvent, signal: AbortSignal) => Promise<void> | void;

export interface ConsumeOptions {
  /** Abort to stop: receiving stops, running handlers finish (or give up), then `consume` resolves. */
  signal?: AbortSignal;
  /** Handlers running at once. Default 10. */
  concurrency?: number;
  /** Each lease's length; it is extended each time a handler has run half of it. Default 30. */
  leaseSeconds?: number;
  /** How long a receive waits for an event (long polling). Default 20, the most the API allows. */
  waitSeconds?: number;
  /** Only events of this type. */
  eventType?: string;
  /** How long a failed event waits before it is received again. Default `min(300, 2 ** delivery_count)`. */
  retryDelaySeconds?: (event: LeasedEvent) => number;
  /** Handler failures, lost leases and failed API calls. Default `console.error`. */
  onError?: (error: unknown, event?: LeasedEvent) => void;
}

const MAX_EVENTS_PER_RECEIVE = 100;

/** `client.consume`: see `ConsumeOptions`. Rejects only when a receive can not succeed (4xx other than 429). */
export async function consume(client: LeaseMethods, endpointId: string, handler: EventHandler, options: ConsumeOptions = {}): Promise<void> {
  const {
    signal = new AbortController().signal,
    concurrency = 10,
    leaseSeconds = 30,
    waitSeconds = 20,
    eventType,
    retryDelaySeconds = (event) => Math.min(300, 2 ** event.delivery_count),
    onError = (error, event) => console.error('pull-events consume', event?.id ?? '', error),
  } = options;

  async function handle(event: LeasedEvent): Promise<void> {
    const lease = { lease_ids: [event.lease_id] };
    let running = true;
    const keepLease = setInterval(() => {
      client
        .extendLeases(endpointId, { ...lease, lease_seconds: leaseSeconds })
        .then(({ results }) => {
          if (running && results[0]?.outcome !== 'extended') onError(new Error(`lease of event ${event.id} lost while handling it`), event);
        })
        .catch((error: unknown) => onError(error, event));
    }, (leaseSeconds * 1000) / 2);
    let failure: { error: unknown } | undefined;
    try {
      await handler(event, signal);
    } catch (error) {
      failure = { error };
    } finally {
      running = false;
      clearInterval(keepLease);
    }
    try {
      if (!failure) {
        const { results } = await client.ackLeases(endpointId, lease);
        if (results[0]?.outcome === 'lease_expired') onError(new Error(`lease of event ${event.id} expired before the ack`), event);
        return;
      }
      onError(failure.error, event);
      // A handler that gave up on shutdown hands its event straight to another worker.
      await client.releaseLeases(endpointId, { ...lease, delay_seconds: signal.aborted ? 0 : retryDelaySeconds(event) });
    } catch (error) {
      // The lease runs out and the event comes back: nothing is lost.
      onError(error, event);
    }
  }

  const inFlight = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;
  let failures = 0;
  while (!signal.aborted) {
    if (inFlight.size >= concurrency) {
      await Promise.race(inFlight);
      continue;
    }
    let events: LeasedEvent[];
    try {
      const body: ReceiveRequest = {
        max_events: Math.min(MAX_EVENTS_PER_RECEIVE, concurrency - inFlight.size),
        lease_seconds: leaseSeconds,
        wait_seconds: waitSeconds,
        ...(eventType !== undefined && { event_type: eventType }),
      };
      ({ events } = await client.receive(endpointId, body, { signal }));
      failures = 0;
    } catch (error) {
      if (signal.aborted) break;
      // A wrong key or a deleted endpoint will not mend; a 5xx or the network may (429s were retried).
      if (error instanceof PullEventsApiError && error.status < 500 && error.status !== 429) {
        fatal = { error };
        break;
      }
      onError(error);
      await sleep(backoffMs(failures++, 1000, 30_000), signal).catch(() => undefined);
      continue;
    }
    for (const event of events) {
      const task = handle(event).finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  }
  await Promise.all(inFlight);
  if (fatal) throw fatal.error;
}
