import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpointWithCounts,
  ingestUrl,
  listEndpoints,
  pauseEndpoint,
  rotateEndpointToken,
  toPullEndpoint,
  updateEndpoint,
  type EndpointContext,
} from './endpoints';

export function pullEndpointsHandlers(ctx: EndpointContext) {
  const { db, ingestBaseUrl } = ctx;
  const lowercase = (id: string) => id.toLowerCase();
  return {
    async createPullEndpoint(req: OperationRequest<'createPullEndpoint'>, res: OperationResponse<'createPullEndpoint'>) {
      const { row, secretToken } = await createEndpoint(ctx, authOf(req).projectId, req.body);
      res.status(201).json({
        data: { ...toPullEndpoint(row, ingestBaseUrl), ingest_url: ingestUrl(ingestBaseUrl, secretToken), secret_token: secretToken },
        meta: meta(req),
      });
    },

    async listPullEndpoints(req: OperationRequest<'listPullEndpoints'>, res: OperationResponse<'listPullEndpoints'>) {
      const { page, hasMore, nextCursor } = await listEndpoints(db, authOf(req).projectId, req.query.limit ?? 20, req.query.cursor);
      res.status(200).json({
        data: page.map((row) => toPullEndpoint(row, ingestBaseUrl)),
        meta: { ...meta(req), has_more: hasMore, next_cursor: nextCursor },
      });
    },

    async getPullEndpoint(req: OperationRequest<'getPullEndpoint'>, res: OperationResponse<'getPullEndpoint'>) {
      const { row, counts } = await getEndpointWithCounts(db, authOf(req).projectId, lowercase(req.params.id));
      res.status(200).json({ data: { ...toPullEndpoint(row, ingestBaseUrl), counts }, meta: meta(req) });
    },

    async updatePullEndpoint(req: OperationRequest<'updatePullEndpoint'>, res: OperationResponse<'updatePullEndpoint'>) {
      const row = await updateEndpoint(ctx, authOf(req).projectId, lowercase(req.params.id), req.body);
      res.status(200).json({ data: toPullEndpoint(row, ingestBaseUrl), meta: meta(req) });
    },

    async deletePullEndpoint(req: OperationRequest<'deletePullEndpoint'>, res: OperationResponse<'deletePullEndpoint'>) {
      const row = await deleteEndpoint(db, authOf(req).projectId, lowercase(req.params.id));
      res.status(200).json({ data: { id: row.id, deleted: true, active: false, deleted_at: row.deletedAt!.toISOString() }, meta: meta(req) });
    },

    async pausePullEndpoint(req: OperationRequest<'pausePullEndpoint'>, res: OperationResponse<'pausePullEndpoint'>) {
      const row = await pauseEndpoint(db, authOf(req).projectId, lowercase(req.params.id), true);
      res.status(200).json({ data: toPullEndpoint(row, ingestBaseUrl), meta: meta(req) });
    },

    async resumePullEndpoint(req: OperationRequest<'resumePullEndpoint'>, res: OperationResponse<'resumePullEndpoint'>) {
      const row = await pauseEndpoint(db, authOf(req).projectId, lowercase(req.params.id), false);
      res.status(200).json({ data: toPullEndpoint(row, ingestBaseUrl), meta: meta(req) });
    },

    async rotatePullEndpointToken(req: OperationRequest<'rotatePullEndpointToken'>, res: OperationResponse<'rotatePullEndpointToken'>) {
      const overlap = req.body?.expire_previous_after_seconds ?? 0;
      const { row, secretToken, previousTokenExpiresAt } = await rotateEndpointToken(db, authOf(req).projectId, lowercase(req.params.id), overlap);
      res.status(200).json({
        data: {
          ...toPullEndpoint(row, ingestBaseUrl),
          ingest_url: ingestUrl(ingestBaseUrl, secretToken),
          secret_token: secretToken,
          previous_token_expires_at: previousTokenExpiresAt?.toISOString() ?? null,
        },
        meta: meta(req),
      });
    },
  };
}
