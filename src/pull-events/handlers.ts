import type { Database } from '../db/prisma';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import { deleteEventsBatch } from './delete-batch';

export function pullEventsHandlers(db: Database) {
  return {
    async deletePullEventsBatch(
      req: OperationRequest<'deletePullEventsBatch'>,
      res: OperationResponse<'deletePullEventsBatch'>,
    ) {
      const { apiKeyId, projectId } = authOf(req);
      const data = await deleteEventsBatch(db, {
        endpointId: req.params.id,
        projectId,
        apiKeyId,
        messageIds: req.body.message_ids,
      });
      res.status(200).json({ data, meta: meta(req) });
    },
  };
}
