import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import * as OpenApiValidator from 'express-openapi-validator';
import { pinoHttp } from 'pino-http';
import { apiKeyAuth } from './auth/security';
import type { HttpSettings } from './config';
import type { Database } from './db/prisma';
import { healthHandlers } from './health/handlers';
import { API_SPEC_PATH } from './paths';
import { errorHandler, notFound } from './http/error-handler';
import { jsonBody, rejectHeldBodyError } from './http/json-body';
import type { Logger } from './http/logger';
import { createRateLimiter } from './http/rate-limit';
import { requestId } from './http/request-id';
import { ingestHandlers } from './ingest/handlers';
import { ingestTokenAuth } from './ingest/security';
import { pullEndpointsHandlers } from './pull-endpoints/handlers';
import { pullEventsHandlers } from './pull-events/handlers';

export { API_SPEC_PATH };

// ajv-formats' uuid also accepts a `urn:uuid:` prefix, which PostgreSQL's uuid type does not.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppOptions extends HttpSettings {
  db: Database;
  logger: Logger;
  /** Rate-limit budgets live in this Redis when given (shared by replicas), else in memory. */
  redis?: Redis;
}

export function createApp(options: AppOptions): Express {
  const { db, logger } = options;
  const limiters = {
    api: createRateLimiter(options.apiRateLimitPerMinute, 'api', options.redis),
    ingest: createRateLimiter(options.ingestRateLimitPerMinute, 'ingest', options.redis),
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestId);
  app.use(
    pinoHttp({
      logger,
      genReqId: (req) => req.id,
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  const apiBody = jsonBody(options.bodyLimitBytes);
  const webhookBody = jsonBody(options.ingestBodyLimitBytes);
  app.use((req, res, next) => (req.path.startsWith('/ingest/') ? webhookBody : apiBody)(req, res, next));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: API_SPEC_PATH,
      validateApiSpec: true,
      validateRequests: options.validateRequests ? { allowUnknownQueryParameters: false } : false,
      validateResponses: options.validateResponses,
      validateSecurity: {
        handlers: {
          ApiKeyAuth: apiKeyAuth(db, limiters.api),
          IngestBearer: ingestTokenAuth(db, limiters.ingest),
          IngestTokenHeader: ingestTokenAuth(db, limiters.ingest),
        },
      },
      validateFormats: true,
      ajvFormats: { mode: 'full' },
      formats: { uuid: UUID },
    }),
  );
  app.use(rejectHeldBodyError);

  const health = healthHandlers(db);
  app.get('/healthz', health.getHealth);
  app.get('/readyz', health.getReadiness);

  const endpoints = pullEndpointsHandlers(db, options.publicBaseUrl);
  app.post('/v1/pull-endpoints', endpoints.createPullEndpoint);
  app.get('/v1/pull-endpoints', endpoints.listPullEndpoints);
  app.get('/v1/pull-endpoints/:id', endpoints.getPullEndpoint);
  app.patch('/v1/pull-endpoints/:id', endpoints.updatePullEndpoint);
  app.delete('/v1/pull-endpoints/:id', endpoints.deletePullEndpoint);
  app.post('/v1/pull-endpoints/:id/pause', endpoints.pausePullEndpoint);
  app.post('/v1/pull-endpoints/:id/resume', endpoints.resumePullEndpoint);

  const events = pullEventsHandlers(db);
  app.get('/v1/pull-endpoints/:id/events', events.listPullEvents);
  app.post('/v1/pull-endpoints/:id/events/ack', events.ackPullEvents);
  app.post('/v1/pull-endpoints/:id/events/delete-batch', events.deletePullEventsBatch);
  app.post('/v1/pull-endpoints/:id/events/delete-all', events.deleteAllPullEvents);
  app.get('/v1/pull-endpoints/:id/events/:event_id', events.getPullEvent);
  app.delete('/v1/pull-endpoints/:id/events/:event_id', events.deletePullEvent);

  app.post('/ingest/:id', ingestHandlers(db).ingestPullEvent);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
