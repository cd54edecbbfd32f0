import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { meta } from '../http/request-id';
import type { OperationRequest, OperationResponse } from '../http/types';
import { eventTypeOf } from './event-type';
import { storedHeaders } from './headers';
import { storeEvent } from './repository';

type EventTypeSource = components['schemas']['EventTypeSource'];

export function ingestHandlers(db: Database) {
  return {
    async ingestPullEvent(req: OperationRequest<'ingestPullEvent'>, res: OperationResponse<'ingestPullEvent'>) {
      const endpoint = req.ingestEndpoint;
      if (!endpoint) throw new Error('route is not behind the ingest security handler');
      const source = endpoint.eventTypeSource as EventTypeSource;
      const outcome = await storeEvent(db, endpoint.id, {
        eventType: eventTypeOf(source, req.headers, req.body),
        headers: storedHeaders(req.headers),
        payload: req.body,
      });
      if (!outcome.stored) {
        throw outcome.reason === 'paused'
          ? new AppError(503, 'ENDPOINT_PAUSED', 'endpoint is paused')
          : new AppError(401, 'UNAUTHORIZED', 'Invalid or missing ingest token');
      }
      res.status(202).json({ data: { event_id: outcome.id, received_at: outcome.receivedAt.toISOString() }, meta: meta(req) });
    },
  };
}
