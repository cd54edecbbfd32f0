/**
 * Valid bodies for issue 9's operations, drawn from their schemas and then steered so that they
 * reach the rows, and the answers they must get where the fixtures make them certain.
 *
 * Receive's `wait_seconds` is kept to 0 or 1. The schema allows up to 20, and a receive that finds
 * nothing waits that long: a batch waits for its slowest request, so a 10 s mean wait would add
 * minutes to a run (the disposable endpoints, `received` and `main` are soon drained, and leases
 * of hours hold their events), and a wait over 15 s outlives send()'s timeout. One second still
 * takes the waiting path (subscribe, look, sleep, answer `events: []`) and costs a default run
 * about a second in all. How long a wait lasts is for the leases tests to time, not the fuzz.
 */
import fc from 'fast-check';
import type { Fixtures } from './fixtures';
import { leaseIds } from './lease-ids';
import type { LeaseLedger } from './lease-ledger';
import type { Operation } from './openapi';
import { exactInstant } from './project-views';
import type { Target } from './targets';

/** The seeded events' types (src/pull-events/seed.ts): a filter that matches something. */
const SEEDED_TYPES = ['order.created', 'order.paid', 'invoice.sent', 'customer.updated'];
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Absent (the default, 0) or 0 mostly: a wait costs its second when the endpoint has nothing receivable. */
const waitSeconds = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) });
/** Some leases run out between batches (lease_expired, receivable again, dead letters); most hold. */
const leaseSeconds = fc.oneof({ weight: 1, arbitrary: fc.constantFrom(1, 2) }, { weight: 3, arbitrary: fc.integer({ min: 30, max: 43_200 }) });
/** A few at a time mostly, or `leased` runs dry in a batch or two. */
const maxEvents = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 10 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) });
const delaySeconds = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 43_200 }) });
/** Before or after the fixtures' events (received at the start of the run), evaluated when drawn. */
const past = fc.integer({ min: 5 * MINUTE, max: 2 * DAY }).map((ago) => new Date(Date.now() - ago).toISOString());
const future = fc.integer({ min: MINUTE, max: DAY }).map((ahead) => new Date(Date.now() + ahead).toISOString());

type Body = Record<string, unknown>;

/** `body` with each field it has replaced by one drawn from `fields`; absent ones stay absent (their defaults). */
function steered(body: Body, fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Body> {
  const present = Object.fromEntries(Object.entries(fields).filter(([name]) => name in body));
  return fc.record(present).map((values) => ({ ...body, ...values }));
}

function eventType(drawn: unknown): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SEEDED_TYPES) }, { weight: 1, arbitrary: fc.constant(drawn) });
}

/** Replay's filters: mostly a seeded type and bounds around the fixtures' events, sometimes as drawn (any year, either order). */
function replayBody(body: Body): fc.Arbitrary<Body> {
  return fc
    .tuple(steered(body, { event_type: eventType(body.event_type), received_after: past, received_before: future }), fc.nat({ max: 3 }))
    .map(([steer, dice]) => (dice === 0 ? body : steer));
}

/** A valid body the schema drew for `operation`, steered as the module's comment says. */
export function leaseBody(operation: Operation, drawn: fc.Arbitrary<unknown>, target: Target, ledger: LeaseLedger): fc.Arbitrary<unknown> {
  return drawn.chain((value) => {
    const body = value as Body;
    switch (operation.operationId) {
      case 'receivePullEvents':
        return fc
          .tuple(steered(body, { max_events: maxEvents, lease_seconds: leaseSeconds, event_type: eventType(body.event_type) }), waitSeconds)
          .map(([steer, wait]) => {
            const rest = Object.fromEntries(Object.entries(steer).filter(([name]) => name !== 'wait_seconds'));
            return wait === undefined ? rest : { ...rest, wait_seconds: wait };
          });
      case 'ackPullEventLeases':
        return leaseIds(ledger, target.id).map((ids) => ({ ...body, lease_ids: ids }));
      case 'extendPullEventLeases':
        return fc.tuple(leaseIds(ledger, target.id), leaseSeconds).map(([ids, seconds]) => ({ ...body, lease_ids: ids, lease_seconds: seconds }));
      case 'releasePullEventLeases':
        return fc.tuple(leaseIds(ledger, target.id), steered(body, { delay_seconds: delaySeconds })).map(([ids, steer]) => ({ ...steer, lease_ids: ids }));
      case 'replayPullEvents':
        return replayBody(body);
      default:
        return fc.constant(value);
    }
  });
}

function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, v]) => key.includes('\u0000') || hasNul(v));
}

/**
 * What a valid request to one of issue 9's operations must be answered, when the fixtures make
 * it certain: 400 for a NUL in a string (openapi.yaml: refused before anything else); 404
 * ENDPOINT_NOT_FOUND for a deleted endpoint, another project's or none; 400 for a replay whose
 * received_after is later than its received_before (or 404: which check comes first is the
 * server's to say).
 */
export function expectedLeaseAnswer(operation: Operation, target: Target, body: unknown, fx: Fixtures): { expected?: number[]; code?: string } {
  if (hasNul(body)) return { expected: [400] };
  const gone = target.endpoint === undefined || target.endpoint === fx.deleted || target.endpoint === fx.foreign;
  const { received_after: after, received_before: before } = (body ?? {}) as { received_after?: string; received_before?: string };
  const reversed = operation.operationId === 'replayPullEvents' && after !== undefined && before !== undefined && exactInstant(after)! > exactInstant(before)!;
  if (reversed) return { expected: gone || fx.disposable.includes(target.endpoint!) ? [400, 404] : [400] };
  return gone ? { expected: [404], code: 'ENDPOINT_NOT_FOUND' } : {};
}
