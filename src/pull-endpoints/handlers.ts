import type { Database } from '../db/prisma';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpointWithCounts,
  listEndpoints,
  pauseEndpoint,
  toPullEndpoint,
  updateEndpoint,
} from './endpoints';

export function pullEndpointsHandlers(db: Database, publicBaseUrl: string) {
  const lowercase = (id: string) => id.toLowerCase();
  return {
    async createPullEndpoint(req: OperationRequest<'createPullEndpoint'>, res: OperationResponse<'createPullEndpoint'>) {
      const { row, secretToken } = await createEndpoint(db, authOf(req).projectId, req.body);
      res.status(201).json({ data: { ...toPullEndpoint(row, publicBaseUrl), secret_token: secretToken }, meta: meta(req) });
    },

    async listPullEndpoints(req: OperationRequest<'listPullEndpoints'>, res: OperationResponse<'listPullEndpoints'>) {
      const { page, hasMore, nextCursor } = await listEndpoints(db, authOf(req).projectId, req.query.limit ?? 20, req.query.cursor);
      res.status(200).json({
        data: page.map((row) => toPullEndpoint(row, publicBaseUrl)),
        meta: { ...meta(req), has_more: hasMore, next_cursor: nextCursor },
      });
    },

    async getPullEndpoint(req: OperationRequest<'getPullEndpoint'>, res: OperationResponse<'getPullEndpoint'>) {
      const { row, counts } = await getEndpointWithCounts(db, authOf(req).projectId, lowercase(req.params.id));
      res.status(200).json({ data: { ...toPullEndpoint(row, publicBaseUrl), counts }, meta: meta(req) });
    },

    async updatePullEndpoint(req: OperationRequest<'updatePullEndpoint'>, res: OperationResponse<'updatePullEndpoint'>) {
      const row = await updateEndpoint(db, authOf(req).projectId, lowercase(req.params.id), req.body);
      res.status(200).json({ data: toPullEndpoint(row, publicBaseUrl), meta: meta(req) });
    },

    async deletePullEndpoint(req: OperationRequest<'deletePullEndpoint'>, res: OperationResponse<'deletePullEndpoint'>) {
      const row = await deleteEndpoint(db, authOf(req).projectId, lowercase(req.params.id));
      res.status(200).json({ data: { id: row.id, deleted_at: row.deletedAt!.toISOString() }, meta: meta(req) });
    },

    async pausePullEndpoint(req: OperationRequest<'pausePullEndpoint'>, res: OperationResponse<'pausePullEndpoint'>) {
      const row = await pauseEndpoint(db, authOf(req).projectId, lowercase(req.params.id), true);
      res.status(200).json({ data: toPullEndpoint(row, publicBaseUrl), meta: meta(req) });
    },

    async resumePullEndpoint(req: OperationRequest<'resumePullEndpoint'>, res: OperationResponse<'resumePullEndpoint'>) {
      const row = await pauseEndpoint(db, authOf(req).projectId, lowercase(req.params.id), false);
      res.status(200).json({ data: toPullEndpoint(row, publicBaseUrl), meta: meta(req) });
    },
  };
}
