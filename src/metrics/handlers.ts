import type { Database } from '../db/prisma';
import { meta } from '../http/request-id';
import { authOf, type OperationRequest, type OperationResponse } from '../http/types';
import { getMetrics, getTimeseries } from './metrics';

export function metricsHandlers(db: Database) {
  return {
    async getPullMetrics(req: OperationRequest<'getPullMetrics'>, res: OperationResponse<'getPullMetrics'>) {
      const data = await getMetrics(db, authOf(req).projectId, {
        window: req.query.window ?? '24h',
        endpointId: req.query.pull_endpoint_id?.toLowerCase(),
      });
      res.status(200).json({ data, meta: meta(req) });
    },

    async getPullMetricsTimeseries(req: OperationRequest<'getPullMetricsTimeseries'>, res: OperationResponse<'getPullMetricsTimeseries'>) {
      const data = await getTimeseries(db, authOf(req).projectId, {
        window: req.query.window ?? '24h',
        endpointId: req.query.pull_endpoint_id?.toLowerCase(),
      });
      res.status(200).json({ data, meta: meta(req) });
    },
  };
}
