/**
 * What a 200 of issue 9's operations must say beyond its schema, given its request and the leases
 * answered in earlier batches (lease-ledger.ts):
 * - receive: at most `max_events` events, oldest first, of the type asked for, each now `fetched`,
 *   live, not dead-lettered nor delivered, received at least once, under a lease never seen before
 *   that ends `lease_seconds` after the receive ran;
 * - ack, extend, release: one result per lease id, in request order, counts that add up, an
 *   `event_id` exactly when the lease was found (the event its receive answered), a new
 *   `lease_expires_at` exactly when extended, `lease_seconds` from when it ran; no success for a
 *   lease id no receive of this endpoint answered (another endpoint's is `not_found`, so is a
 *   malformed or non-canonical one); none for a lease an earlier answer ended (acked: only
 *   `already_acked` again; released or superseded: never even that);
 * - redrive and replay: as many ids as they say, in id order, at most `limit`, and for redrive by
 *   ids only ids asked for.
 */
import type { components } from '../../generated/openapi';
import type { Outcome } from './harness';
import { endpointOf, type LeaseLedger } from './lease-ledger';

type LeasedEvent = components['schemas']['LeasedEvent'];
interface LeaseResult {
  lease_id: string;
  event_id?: string;
  outcome: string;
  lease_expires_at?: string;
}

const OUTCOMES: Record<string, string[]> = {
  ackPullEventLeases: ['acked', 'already_acked', 'lease_expired', 'not_found'],
  extendPullEventLeases: ['extended', 'lease_expired', 'not_found'],
  releasePullEventLeases: ['released', 'lease_expired', 'not_found'],
};
const SUCCESSES = ['acked', 'already_acked', 'extended', 'released'];

/** The spelling receive gives lease ids: 32 bytes in base64url, no stray bits in the last character. */
function canonical(id: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(id) && Buffer.from(id, 'base64url').toString('base64url') === id;
}

/** Whether `at` is `seconds` after a time between the request's sending and its answer (1 s slack for rounding). */
function endsAfter(at: string, seconds: number, outcome: Outcome): boolean {
  const t = Date.parse(at) - seconds * 1000;
  return t >= outcome.sentAt - 1000 && t <= outcome.answeredAt + 1000;
}

function ascending(ids: string[]): boolean {
  return ids.every((id, i) => i === 0 || ids[i - 1]!.toLowerCase() < id.toLowerCase());
}

function receiveProblems(request: Record<string, unknown>, events: LeasedEvent[], outcome: Outcome, ledger: LeaseLedger): string[] {
  const problems: string[] = [];
  const max = (request.max_events as number | undefined) ?? 10;
  const seconds = (request.lease_seconds as number | undefined) ?? 30;
  if (events.length > max) problems.push(`${events.length} events for max_events ${max}`);
  if (!ascending(events.map((e) => e.id))) problems.push('events not oldest first');
  for (const event of events) {
    const wrong = (what: string) => problems.push(`event ${event.id}: ${what}`);
    if (event.status !== 'fetched') wrong(`status ${event.status}`);
    if (event.deleted_at !== null || event.dead_lettered_at !== null || event.delivered_at !== null) wrong('deleted, dead-lettered or delivered');
    if (event.fetched_at === null || event.delivery_count < 1) wrong(`fetched_at ${event.fetched_at}, delivery_count ${event.delivery_count}`);
    if (request.event_type !== undefined && event.event_type !== request.event_type) wrong(`type ${JSON.stringify(event.event_type)}`);
    if (ledger.lease(event.lease_id)) wrong(`lease ${event.lease_id} was handed out before`);
    if (!endsAfter(event.lease_expires_at, seconds, outcome)) wrong(`lease_expires_at ${event.lease_expires_at} is not ${seconds} s after the receive`);
  }
  ledger.note('receivePullEvents events', events.length);
  if (((request.wait_seconds as number | undefined) ?? 0) > 0) ledger.note('receivePullEvents waited');
  return problems;
}

function leaseProblems(operationId: string, request: Record<string, unknown>, data: Record<string, unknown>, outcome: Outcome, ledger: LeaseLedger): string[] {
  const problems: string[] = [];
  const ids = request.lease_ids as string[];
  const results = data.results as LeaseResult[];
  const endpointId = endpointOf(outcome);
  if (results.length !== ids.length || results.some((r, i) => r.lease_id !== ids[i])) problems.push('results are not one per lease id, in request order');
  for (const name of OUTCOMES[operationId]!) {
    const count = results.filter((r) => r.outcome === name).length;
    if (data[`${name}_count`] !== count) problems.push(`${name}_count ${String(data[`${name}_count`])}, not ${count}`);
  }
  for (const result of results) {
    const wrong = (what: string) => problems.push(`lease ${JSON.stringify(result.lease_id.slice(0, 60))} ${result.outcome}: ${what}`);
    ledger.note(`${operationId} ${result.outcome}`);
    if ((result.event_id !== undefined) !== (result.outcome !== 'not_found')) wrong(`event_id ${result.event_id}`);
    if ((result.lease_expires_at !== undefined) !== (result.outcome === 'extended')) wrong(`lease_expires_at ${result.lease_expires_at}`);
    if (result.outcome === 'extended' && !endsAfter(result.lease_expires_at!, request.lease_seconds as number, outcome)) wrong('not lease_seconds from now');
    const lease = ledger.lease(result.lease_id);
    const success = SUCCESSES.includes(result.outcome);
    if (!lease) {
      if (success) wrong('no receive answered this lease id');
      if (!canonical(result.lease_id) && result.outcome !== 'not_found') wrong('a malformed lease id must be not_found');
    } else if (lease.endpointId !== endpointId) {
      if (result.outcome !== 'not_found') wrong(`the lease is endpoint ${lease.endpointId}'s`);
    } else {
      if (result.event_id !== undefined && result.event_id.toLowerCase() !== lease.eventId) wrong(`the lease is event ${lease.eventId}'s`);
      if (lease.ended === 'dead' && success) wrong('an earlier answer released it, or a newer receive superseded it');
      if (lease.ended === 'acked' && success && result.outcome !== 'already_acked') wrong('an earlier answer acked it');
    }
  }
  return problems;
}

function movedProblems(operationId: string, request: Record<string, unknown>, data: Record<string, unknown>, ledger: LeaseLedger): string[] {
  const problems: string[] = [];
  const [count, ids] = operationId === 'redrivePullEvents' ? [data.redriven, data.redriven_event_ids] : [data.replayed, data.replayed_event_ids];
  const moved = ids as string[];
  const limit = (request.limit as number | undefined) ?? 1000;
  if (count !== moved.length) problems.push(`count ${String(count)} for ${moved.length} ids`);
  if (moved.length > limit) problems.push(`${moved.length} ids for limit ${limit}`);
  if (!ascending(moved)) problems.push('ids not in id order');
  if (Array.isArray(request.event_ids)) {
    const asked = new Set((request.event_ids as string[]).map((id) => id.toLowerCase()));
    for (const id of moved) if (!asked.has(id.toLowerCase())) problems.push(`${id} was not asked for`);
  }
  ledger.note(`${operationId} moved`, moved.length);
  return problems;
}

/** Throws when a valid request's 200 to one of issue 9's operations says what it must not. */
export function checkLeaseAnswer(outcome: Outcome, ledger: LeaseLedger): void {
  const { request, status } = outcome;
  const operationId = request.operation.operationId;
  const known = operationId === 'receivePullEvents' || operationId in OUTCOMES || operationId === 'redrivePullEvents' || operationId === 'replayPullEvents';
  if (!known || status !== 200 || request.kind !== 'valid') return;
  const body = JSON.parse(request.body?.toString('utf8') || '{}') as Record<string, unknown>;
  const data = (JSON.parse(outcome.text) as { data: Record<string, unknown> }).data;
  const problems =
    operationId === 'receivePullEvents'
      ? receiveProblems(body, data.events as LeasedEvent[], outcome, ledger)
      : operationId in OUTCOMES
        ? leaseProblems(operationId, body, data, outcome, ledger)
        : movedProblems(operationId, body, data, ledger);
  if (problems.length > 0) {
    throw new Error(`${request.operation.key}: ${problems.slice(0, 5).join('; ')}\n${request.method} ${request.target}\n  body ${request.body?.toString('utf8').slice(0, 600)}\n-> ${status} ${outcome.text.slice(0, 1200)}`);
  }
}
