import type { Request, Response } from 'express';
import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import { countLeaseOutcomes, type Telemetry } from '../telemetry/registry';
import { applyToLeases, receiveEvents, redriveEvents, replayEvents } from './leases';
import type { Wakeups } from './wakeups';

type Schemas = components['schemas'];

const scopeOf = (req: Pick<Request<{ id: string }>, 'auth' | 'params'>) => ({
  projectId: authOf(req).projectId,
  endpointId: req.params.id.toLowerCase(),
});

export function leaseHandlers(db: Database, wakeups: Wakeups, telemetry: Telemetry) {
  return {
    async receivePullEvents(req: OperationRequest<'receivePullEvents'>, res: Response) {
      const body = req.body ?? {};
      // A client that goes away stops its wait (and frees its place among the waiters).
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      const events = await receiveEvents(
        db,
        wakeups,
        scopeOf(req),
        {
          maxEvents: body.max_events ?? 10,
          leaseSeconds: body.lease_seconds ?? 30,
          waitSeconds: body.wait_seconds ?? 0,
          eventType: body.event_type,
        },
        gone.signal,
        telemetry,
      );
      telemetry.events.fetched.inc(events.length);
      telemetry.events.redelivered.inc(events.filter(({ event }) => event.delivery_count > 1).length);
      if (res.destroyed) return;
      // Each payload is placed in the answer as the text it was received as, never re-serialised.
      const items = events.map(({ event, payloadJson, lease }) => {
        const fields = JSON.stringify({ ...event, ...lease });
        return `${fields.slice(0, -1)},"payload":${payloadJson}}`;
      });
      res
        .status(200)
        .type('application/json')
        .send(`{"data":{"events":[${items.join(',')}]},"meta":${JSON.stringify(meta(req))}}`);
    },

    async ackPullEventLeases(req: OperationRequest<'ackPullEventLeases'>, res: OperationResponse<'ackPullEventLeases'>) {
      const { results, counts } = await applyToLeases(db, wakeups, scopeOf(req), req.body.lease_ids, { kind: 'ack' });
      countLeaseOutcomes(telemetry, 'ack', counts);
      telemetry.events.acked.inc(counts.acked);
      res.status(200).json({
        data: {
          results: results as Schemas['LeaseAckResult'][],
          acked_count: counts.acked,
          already_acked_count: counts.already_acked,
          lease_expired_count: counts.lease_expired,
          not_found_count: counts.not_found,
        },
        meta: meta(req),
      });
    },

    async extendPullEventLeases(req: OperationRequest<'extendPullEventLeases'>, res: OperationResponse<'extendPullEventLeases'>) {
      const { results, counts } = await applyToLeases(db, wakeups, scopeOf(req), req.body.lease_ids, {
        kind: 'extend',
        leaseSeconds: req.body.lease_seconds,
      });
      countLeaseOutcomes(telemetry, 'extend', counts);
      res.status(200).json({
        data: {
          results: results as Schemas['LeaseExtendResult'][],
          extended_count: counts.extended,
          lease_expired_count: counts.lease_expired,
          not_found_count: counts.not_found,
        },
        meta: meta(req),
      });
    },

    async releasePullEventLeases(req: OperationRequest<'releasePullEventLeases'>, res: OperationResponse<'releasePullEventLeases'>) {
      const { results, counts } = await applyToLeases(db, wakeups, scopeOf(req), req.body.lease_ids, {
        kind: 'release',
        delaySeconds: req.body.delay_seconds ?? 0,
      });
      countLeaseOutcomes(telemetry, 'release', counts);
      res.status(200).json({
        data: {
          results: results as Schemas['LeaseReleaseResult'][],
          released_count: counts.released,
          lease_expired_count: counts.lease_expired,
          not_found_count: counts.not_found,
        },
        meta: meta(req),
      });
    },

    async redrivePullEvents(req: OperationRequest<'redrivePullEvents'>, res: OperationResponse<'redrivePullEvents'>) {
      const { body } = req;
      const data =
        'event_ids' in body
          ? await redriveEvents(db, wakeups, scopeOf(req), body.event_ids, body.event_ids.length)
          : await redriveEvents(db, wakeups, scopeOf(req), undefined, body.limit ?? 1000);
      res.status(200).json({ data, meta: meta(req) });
    },

    async replayPullEvents(req: OperationRequest<'replayPullEvents'>, res: OperationResponse<'replayPullEvents'>) {
      const { body } = req;
      const data = await replayEvents(db, wakeups, scopeOf(req), {
        eventType: body.event_type,
        receivedAfter: body.received_after,
        receivedBefore: body.received_before,
        limit: body.limit ?? 1000,
      });
      res.status(200).json({ data, meta: meta(req) });
    },
  };
}
