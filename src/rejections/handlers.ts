import type { Database } from '../db/prisma';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import { listEndpointRejections } from './rejections';

export function rejectionsHandlers(db: Database) {
  return {
    async listPullEndpointRejections(req: OperationRequest<'listPullEndpointRejections'>, res: OperationResponse<'listPullEndpointRejections'>) {
      const { rejections, hasMore, nextCursor } = await listEndpointRejections(
        db,
        authOf(req).projectId,
        req.params.id.toLowerCase(),
        req.query.limit ?? 100,
        req.query.cursor,
      );
      res.status(200).json({ data: rejections, meta: { ...meta(req), has_more: hasMore, next_cursor: nextCursor } });
    },
  };
}
