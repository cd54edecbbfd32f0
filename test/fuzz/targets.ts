import fc from 'fast-check';
import type { EndpointFixture, Fixtures } from './fixtures';
import type { Operation } from './openapi';

/** The endpoint an API request's path names. */
export interface Target {
  /** The fixture the path's endpoint id names, or undefined for a random id. */
  endpoint: EndpointFixture | undefined;
  id: string;
}

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
export const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** Operations that delete an endpoint or its events wholesale, or retire its token. */
const DISRUPTIVE = ['deletePullEndpoint', 'deleteAllPullEvents', 'rotatePullEndpointToken'];

/** Issue 9's operations: receive, the lease operations, redrive and replay. */
export const LEASE_OPERATIONS = ['receivePullEvents', 'ackPullEventLeases', 'extendPullEventLeases', 'releasePullEventLeases', 'redrivePullEvents', 'replayPullEvents'];

/**
 * Which endpoint a request on `operation` names. Disruptive requests (valid ones, and invalid ones
 * a bug might let through) are kept to the disposable endpoints, so that the long-lived fixtures
 * stay useful for the whole run; the ingest URL's inboxes are reached by reads only, so that their
 * settings and tokens never change.
 */
export function endpointTarget(operation: Operation, fx: Fixtures): fc.Arbitrary<Target> {
  const disruptive = DISRUPTIVE.includes(operation.operationId);
  const reads = operation.method === 'get';
  // Mostly the endpoint whose dead letters, deliveries and leases the fixtures prepared for them.
  const leased = LEASE_OPERATIONS.includes(operation.operationId) ? 40 : 2;
  const known = fc.oneof(
    ...(disruptive
      ? []
      : [
          { weight: 4, arbitrary: fc.constant(fx.main) },
          { weight: 2, arbitrary: fc.constant(fx.paused) },
          { weight: 2, arbitrary: fc.constant(fx.received) },
          { weight: leased, arbitrary: fc.constant(fx.leased) },
        ]),
    ...(reads ? [{ weight: 2, arbitrary: fc.constantFrom(...fx.inboxes) }] : []),
    { weight: 3, arbitrary: fc.constantFrom(...fx.disposable) },
    { weight: 1, arbitrary: fc.constant(fx.deleted) },
    { weight: 1, arbitrary: fc.constant(fx.foreign) },
  );
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc.tuple(known, fc.nat({ max: 5 })).map(([endpoint, dice]) => ({ endpoint, id: dice === 5 ? endpoint.id.toUpperCase() : endpoint.id })),
    },
    { weight: 1, arbitrary: fc.oneof(fc.uuid({ version: 7 }), fc.uuid(), fc.constantFrom(NIL_UUID, MAX_UUID)).map((id) => ({ endpoint: undefined, id })) },
  );
}

/** Event ids for requests on `target`: mostly its own events, sometimes others' or random ones. */
export function eventIds(target: Target, fx: Fixtures): fc.Arbitrary<string> {
  const own = target.endpoint?.events ?? [];
  const everyEvent = fx.all.flatMap((e) => e.events);
  return fc.oneof(
    ...(own.length > 0
      ? [
          { weight: 8, arbitrary: fc.constantFrom(...own) },
          { weight: 1, arbitrary: fc.constantFrom(...own).map((id) => id.toUpperCase()) },
        ]
      : []),
    { weight: 1, arbitrary: fc.constantFrom(...everyEvent) },
    { weight: 1, arbitrary: fc.uuid({ version: 7 }) },
    { weight: 1, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom(NIL_UUID, MAX_UUID)) },
  );
}
