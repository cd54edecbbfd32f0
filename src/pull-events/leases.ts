import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import type { Telemetry } from '../telemetry/registry';
import { requireEndpoint } from '../pull-endpoints/endpoints';
import { timeRange, toEventView, type EventView } from './events';
import {
  changeLeases,
  nextLeaseExpiry,
  receive,
  redrive,
  replay,
  type LeaseKey,
  type LeaseOperation,
  type LeasedEventRow,
} from './leases-repository';
import type { Wakeups } from './wakeups';

type LeaseAckResult = components['schemas']['LeaseAckResult'];

/**
 * A lease id names the event and its lease: 16 bytes of event id, then 16 of lease, base64url.
 * The operations on leases find the event by its primary key, so no index on leases is needed.
 */
export function encodeLeaseId(eventId: string, leaseId: string): string {
  return Buffer.from(`${eventId}${leaseId}`.replaceAll('-', ''), 'hex').toString('base64url');
}

const LEASE_ID = /^[A-Za-z0-9_-]{43}$/;
const asUuid = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** The event and lease a lease id names; undefined when it is not one this service made. */
export function decodeLeaseId(value: string): LeaseKey | undefined {
  if (!LEASE_ID.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64url');
  // Only the canonical spelling: a last character with stray low bits decodes to the same bytes.
  if (bytes.length !== 32 || bytes.toString('base64url') !== value) return undefined;
  const hex = bytes.toString('hex');
  return { eventId: asUuid(hex.slice(0, 32)), leaseId: asUuid(hex.slice(32)) };
}

export interface LeasedEventView extends EventView {
  lease: { lease_id: string; lease_expires_at: string };
}

function toLeasedView(row: LeasedEventRow): LeasedEventView {
  return {
    ...toEventView(row),
    lease: { lease_id: encodeLeaseId(row.id, row.lease_id), lease_expires_at: row.lease_expires_at.toISOString() },
  };
}

export interface ReceiveRequest {
  maxEvents: number;
  leaseSeconds: number;
  waitSeconds: number;
  eventType: string | undefined;
}

/**
 * Receives, waiting up to `waitSeconds` for something receivable. The waiter registers before
 * each look, so a notification committed between the look and the wait still wakes it; it then
 * sleeps holding no connection until woken, until the earliest lease in flight runs out, or until
 * the deadline. `signal` ends the wait early (the client went away).
 */
export async function receiveEvents(
  db: Database,
  wakeups: Wakeups,
  scope: { projectId: string; endpointId: string },
  request: ReceiveRequest,
  signal: AbortSignal,
  telemetry: Pick<Telemetry, 'events'>,
): Promise<LeasedEventView[]> {
  const deadline = Date.now() + request.waitSeconds * 1000;
  const command = {
    ...scope,
    maxEvents: request.maxEvents,
    leaseSeconds: request.leaseSeconds,
    ...(request.eventType !== undefined && { eventType: request.eventType }),
  };
  for (;;) {
    // A client gone before a look gets no lease: it would be held for nobody.
    if (signal.aborted) return [];
    const ticket = request.waitSeconds > 0 && !signal.aborted ? wakeups.subscribe(scope.endpointId) : undefined;
    try {
      const outcome = await receive(db, command);
      if (!outcome.endpointFound) throw AppError.endpointNotFound();
      telemetry.events.deadLettered.inc(outcome.deadLettered);
      if (outcome.leased.length > 0) return outcome.leased.map(toLeasedView);
      // Every candidate was dead-lettered (they leave the receivable index): look again at once.
      if (outcome.deadLettered > 0) continue;
      if (!ticket || Date.now() >= deadline) return [];
      const nextExpiry = await nextLeaseExpiry(db, scope.endpointId, request.eventType);
      const until = Math.min(deadline, nextExpiry ? nextExpiry.getTime() + 1 : deadline);
      const reason = await sleepUntil(ticket, until, signal);
      if (reason === 'closed' || reason === 'aborted') return [];
    } finally {
      ticket?.cancel();
    }
  }
}

function sleepUntil(ticket: { woken: Promise<'woken' | 'closed'> }, until: number, signal: AbortSignal) {
  return new Promise<'woken' | 'closed' | 'timeout' | 'aborted'>((resolve) => {
    const timer = setTimeout(() => done('timeout'), Math.max(0, until - Date.now()));
    const onAbort = () => done('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    function done(reason: 'woken' | 'closed' | 'timeout' | 'aborted') {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(reason);
    }
    void ticket.woken.then(done);
  });
}

/** Rejects the whole request when a lease id appears twice. */
function distinct(leaseIds: string[]): string[] {
  const seen = new Set<string>();
  for (const id of leaseIds) {
    if (seen.has(id)) throw AppError.invalidRequest(`lease_ids: ${id} appears more than once`);
    seen.add(id);
  }
  return leaseIds;
}

type Outcome = LeaseAckResult['outcome'] | 'extended' | 'released';

export interface LeaseResult {
  lease_id: string;
  event_id?: string;
  outcome: Outcome;
  lease_expires_at?: string;
}

/**
 * Applies a lease operation and answers one result per lease id, in request order, with the
 * count of each outcome. Ids that name no lease of this service are `not_found` without a look.
 */
export async function applyToLeases(
  db: Database,
  wakeups: Wakeups,
  scope: { projectId: string; endpointId: string },
  leaseIds: string[],
  operation: LeaseOperation,
): Promise<{ results: LeaseResult[]; counts: Record<Outcome, number> }> {
  const keys = distinct(leaseIds).map((id) => ({ id, key: decodeLeaseId(id) }));
  const valid = keys.flatMap(({ key }) => (key ? [key] : []));
  const { endpointFound, rows } = await changeLeases(db, scope, valid, operation);
  if (!endpointFound) throw AppError.endpointNotFound();
  const byKey = new Map(rows.map((row) => [`${row.event_id}/${row.lease_id}`, row]));
  const changed = operation.kind === 'ack' ? 'acked' : operation.kind === 'extend' ? 'extended' : 'released';
  const counts: Record<Outcome, number> = { acked: 0, already_acked: 0, extended: 0, released: 0, lease_expired: 0, not_found: 0 };
  const results = keys.map(({ id, key }): LeaseResult => {
    const row = key && byKey.get(`${key.eventId}/${key.leaseId}`);
    if (!row || row.state === 'not_found') {
      counts.not_found += 1;
      return { lease_id: id, outcome: 'not_found' };
    }
    // An acknowledged lease has ended: only ack reports it as such, extend and release as expired.
    const outcome: Outcome =
      row.state === 'current' ? changed : row.state === 'already_acked' && operation.kind === 'ack' ? 'already_acked' : 'lease_expired';
    counts[outcome] += 1;
    return {
      lease_id: id,
      event_id: row.event_id,
      outcome,
      ...(outcome === 'extended' && row.lease_expires_at && { lease_expires_at: row.lease_expires_at.toISOString() }),
    };
  });
  // Released events are receivable now, or (delayed, or a lease cut short) earlier than a waiter
  // may know: it looks again and learns the new next expiry.
  if (counts.released > 0 || rows.some((row) => row.shortened)) wakeups.notify(scope.endpointId);
  return { results, counts };
}

export async function redriveEvents(
  db: Database,
  wakeups: Wakeups,
  scope: { projectId: string; endpointId: string },
  ids: string[] | undefined,
  limit: number,
) {
  await requireEndpoint(db, scope.projectId, scope.endpointId);
  const moved = await redrive(db, scope.endpointId, ids && [...new Set(ids.map((id) => id.toLowerCase()))], limit);
  if (moved.length > 0) wakeups.notify(scope.endpointId);
  return { redriven: moved.length, redriven_event_ids: moved };
}

export interface ReplayQuery {
  eventType: string | undefined;
  receivedAfter: string | undefined;
  receivedBefore: string | undefined;
  limit: number;
}

export async function replayEvents(
  db: Database,
  wakeups: Wakeups,
  scope: { projectId: string; endpointId: string },
  query: ReplayQuery,
) {
  await requireEndpoint(db, scope.projectId, scope.endpointId);
  const filter = {
    ...(query.eventType !== undefined && { eventType: query.eventType }),
    ...timeRange(query.receivedAfter, query.receivedBefore, ['received_after', 'received_before']),
  };
  const moved = await replay(db, scope, filter, query.limit);
  if (moved.length > 0) wakeups.notify(scope.endpointId);
  return { replayed: moved.length, replayed_event_ids: moved };
}
