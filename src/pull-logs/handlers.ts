import type { Database } from '../db/prisma';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import { listPullLogs } from './logs';

export function pullLogsHandlers(db: Database) {
  return {
    async listPullLogs(req: OperationRequest<'listPullLogs'>, res: OperationResponse<'listPullLogs'>) {
      const { query } = req;
      const { logs, hasMore, nextCursor } = await listPullLogs(db, authOf(req).projectId, {
        endpointId: query.pull_endpoint_id?.toLowerCase(),
        status: query.status,
        eventType: query.event_type,
        deadLettered: query.dead_lettered,
        startTime: query.start_time,
        endTime: query.end_time,
        limit: query.limit ?? 100,
        cursor: query.cursor,
      });
      res.status(200).json({ data: logs, meta: { ...meta(req), has_more: hasMore, next_cursor: nextCursor } });
    },
  };
}
