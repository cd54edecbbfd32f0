import type { Response } from 'express';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { hasBody } from '../http/json-body';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import type { Telemetry } from '../telemetry/registry';
import { deleteEventsBatch } from './delete-batch';
import { acknowledgeEvents, deleteAllEvents, deleteEvent, getEvent, getEventPayload, listEndpointEvents } from './events';

export function pullEventsHandlers(db: Database, { events: counted }: Telemetry) {
  return {
    async listPullEvents(req: OperationRequest<'listPullEvents'>, res: OperationResponse<'listPullEvents'>) {
      const { query } = req;
      const { events, hasMore, nextCursor } = await listEndpointEvents(db, authOf(req).projectId, req.params.id.toLowerCase(), {
        status: query.status ?? (query.dead_lettered ? 'any' : 'stored'),
        eventType: query.event_type,
        deadLettered: query.dead_lettered,
        since: query.since,
        before: query.before,
        includeDeleted: query.include_deleted ?? false,
        limit: query.limit ?? 100,
        cursor: query.cursor,
      });
      res.status(200).json({ data: events, meta: { ...meta(req), has_more: hasMore, next_cursor: nextCursor } });
    },

    async getPullEvent(req: OperationRequest<'getPullEvent'>, res: Response) {
      const { id, event_id } = req.params;
      const preview = req.query.preview ?? false;
      const { event, payloadJson } = await getEvent(db, authOf(req).projectId, id.toLowerCase(), event_id.toLowerCase(), preview);
      if (!preview) counted.fetched.inc();
      // The payload is placed in the answer as the text it was received as, never re-serialised.
      const data = JSON.stringify(event);
      res
        .status(200)
        .type('application/json')
        .send(`{"data":${data.slice(0, -1)},"payload":${payloadJson}},"meta":${JSON.stringify(meta(req))}}`);
    },

    async getPullEventPayload(req: OperationRequest<'getPullEventPayload'>, res: Response) {
      const { id, event_id } = req.params;
      const payload = await getEventPayload(db, authOf(req).projectId, id.toLowerCase(), event_id.toLowerCase(), req.query.preview ?? false);
      // The sender's bytes under its own Content-Type, from this API's origin: never run as a page.
      res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      res.setHeader('Content-Disposition', `attachment; filename="${payload.id}"`);
      if (payload.contentType !== null) res.setHeader('Content-Type', payload.contentType);
      res.status(200).end(payload.body);
    },

    async ackPullEvents(req: OperationRequest<'ackPullEvents'>, res: OperationResponse<'ackPullEvents'>) {
      const acknowledged = await acknowledgeEvents(db, authOf(req).projectId, req.params.id.toLowerCase(), req.body.event_ids);
      counted.acked.inc(acknowledged);
      res.status(200).json({ data: { acknowledged }, meta: meta(req) });
    },

    async deletePullEvent(req: OperationRequest<'deletePullEvent'>, res: OperationResponse<'deletePullEvent'>) {
      const { projectId, apiKeyId } = authOf(req);
      const { id, event_id } = req.params;
      const data = await deleteEvent(db, projectId, apiKeyId, id.toLowerCase(), event_id.toLowerCase());
      if (!data.already_deleted) counted.deleted.inc();
      res.status(200).json({ data, meta: meta(req) });
    },

    async deletePullEventsBatch(req: OperationRequest<'deletePullEventsBatch'>, res: OperationResponse<'deletePullEventsBatch'>) {
      const { apiKeyId, projectId } = authOf(req);
      const data = await deleteEventsBatch(db, {
        endpointId: req.params.id,
        projectId,
        apiKeyId,
        messageIds: req.body.message_ids,
      });
      counted.deleted.inc(data.deleted_count);
      res.status(200).json({ data, meta: meta(req) });
    },

    async deleteAllPullEvents(req: OperationRequest<'deleteAllPullEvents'>, res: OperationResponse<'deleteAllPullEvents'>) {
      const { projectId, apiKeyId } = authOf(req);
      // Filters sent as a body (this operation's earlier form) must not widen the deletion to everything.
      if (hasBody(req.headers)) throw AppError.invalidRequest('delete-all takes its filters as query parameters and no body');
      const { query } = req;
      const data = await deleteAllEvents(db, projectId, apiKeyId, req.params.id.toLowerCase(), {
        status: query.status,
        eventType: query.event_type,
        receivedAfter: query.received_after,
        receivedBefore: query.received_before,
        limit: query.limit ?? 1000,
      });
      counted.deleted.inc(data.deleted);
      res.status(200).json({ data, meta: meta(req) });
    },
  };
}
