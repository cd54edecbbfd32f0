import path from 'node:path';
import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { pinoHttp } from 'pino-http';
import { apiKeyAuth } from './auth/security';
import type { Database } from './db/prisma';
import { healthHandlers } from './health/handlers';
import { errorHandler, notFound } from './http/error-handler';
import { jsonBody, rejectHeldBodyError } from './http/json-body';
import type { Logger } from './http/logger';
import { requestId } from './http/request-id';
import { pullEventsHandlers } from './pull-events/handlers';

export const API_SPEC_PATH = path.resolve(__dirname, '../openapi.yaml');

// ajv-formats' uuid also accepts a `urn:uuid:` prefix, which PostgreSQL's uuid type does not.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppOptions {
  db: Database;
  logger: Logger;
  validateResponses: boolean;
  bodyLimitBytes: number;
}

export function createApp({ db, logger, validateResponses, bodyLimitBytes }: AppOptions): Express {
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
  app.use(jsonBody(bodyLimitBytes));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: API_SPEC_PATH,
      validateApiSpec: true,
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses,
      validateSecurity: { handlers: { ApiKeyAuth: apiKeyAuth(db) } },
      validateFormats: true,
      ajvFormats: { mode: 'full' },
      formats: { uuid: UUID },
    }),
  );
  app.use(rejectHeldBodyError);

  const health = healthHandlers(db);
  app.get('/healthz', health.getHealth);
  app.get('/readyz', health.getReadiness);

  const pullEvents = pullEventsHandlers(db);
  app.post('/v1/pull-endpoints/:id/events/delete-batch', pullEvents.deletePullEventsBatch);

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
