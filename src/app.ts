import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import * as OpenApiValidator from 'express-openapi-validator';
import type { SecretBox } from './auth/encryption';
import { createFailedAuthGuard } from './auth/failed-auth';
import { apiKeyAuth } from './auth/security';
import { DEFAULT_MAX_WAITING_RECEIVES, type HttpSettings } from './config';
import type { Database } from './db/prisma';
import { healthHandlers } from './health/handlers';
import { API_SPEC_PATH, CONSOLE_DIR } from './paths';
import { consoleRouter } from './http/console';
import { docsRouter } from './http/docs';
import { errorHandler, notFound } from './http/error-handler';
import { jsonBody, rejectHeldBodyError } from './http/json-body';
import type { Logger } from './http/logger';
import { createRateLimiter } from './http/rate-limit';
import { parseQuery } from './http/query';
import { requestId } from './http/request-id';
import { requestLogger } from './http/request-log';
import { mountOperations } from './http/routes';
import { ingestHandler } from './ingest/handlers';
import { pullEndpointsHandlers } from './pull-endpoints/handlers';
import { metricsHandlers } from './metrics/handlers';
import { pullEventsHandlers } from './pull-events/handlers';
import { leaseHandlers } from './pull-events/lease-handlers';
import { Wakeups } from './pull-events/wakeups';
import { pullLogsHandlers } from './pull-logs/handlers';
import { rejectionsHandlers } from './rejections/handlers';
import { requestMetrics } from './telemetry/http-metrics';
import { createTelemetry, type Telemetry } from './telemetry/registry';

export { API_SPEC_PATH };

// ajv-formats' uuid also accepts a `urn:uuid:` prefix, which PostgreSQL's uuid type does not.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppOptions extends HttpSettings {
  db: Database;
  logger: Logger;
  /** Seals and opens endpoints' HMAC secrets. */
  box: SecretBox;
  /** Rate-limit budgets live in this Redis when given (shared by replicas), else in memory. */
  redis?: Redis;
  /** Long polling's wake-ups; without them, waiting receives are woken by this process's changes only. */
  wakeups?: Wakeups;
  /** Its Prometheus metrics; one of its own when absent. The app keeps it in `app.locals.telemetry`. */
  telemetry?: Telemetry;
}

export function createApp(options: AppOptions): Express {
  const { db, logger, box } = options;
  const wakeups = options.wakeups ?? new Wakeups({ maxWaiting: DEFAULT_MAX_WAITING_RECEIVES });
  const limiters = {
    api: createRateLimiter(options.apiRateLimitPerMinute, 'api', options.redis),
    ingest: createRateLimiter(options.ingestRateLimitPerMinute, 'ingest', options.redis),
  };
  const failedAuthSettings = { limit: options.authFailureLimit, windowSeconds: options.authFailureWindowSeconds, ...(options.redis && { redis: options.redis }) };
  const failedAuth = {
    api: createFailedAuthGuard({ ...failedAuthSettings, kind: 'api' }),
    ingest: createFailedAuthGuard({ ...failedAuthSettings, kind: 'ingest' }),
  };
  const telemetry = options.telemetry ?? createTelemetry(db);
  const app = express();
  app.locals.telemetry = telemetry;
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', parseQuery);
  app.set('trust proxy', options.trustProxy);

  app.use(requestId);
  app.use(requestMetrics(telemetry));
  app.use(requestLogger(logger));
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  // The ingest URL takes any bytes and authenticates by the token in its path: it sits before the
  // JSON body parser and the contract validator, and answers only what openapi.yaml declares.
  app.use(
    '/pull',
    ingestHandler({
      db,
      box,
      limiter: limiters.ingest,
      failedAuth: failedAuth.ingest,
      bodyLimitBytes: options.ingestBodyLimitBytes,
      onStored: (endpointId) => wakeups.notify(endpointId),
      telemetry,
    }),
  );

  // The contract itself, its reference page, the console and `/` are not operations of the API:
  // they sit before the validator and out of openapi.yaml, so that the generated types and the
  // typed client hold API operations only, and a link to /docs with tracking parameters still
  // opens the page. test/docs and test/console check what they answer.
  app.use(docsRouter(API_SPEC_PATH));
  // The web console (console/): static files that call the API like any other client.
  app.use(consoleRouter(CONSOLE_DIR));

  app.use(jsonBody(options.bodyLimitBytes));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: API_SPEC_PATH,
      validateApiSpec: true,
      validateRequests: options.validateRequests ? { allowUnknownQueryParameters: false } : false,
      validateResponses: options.validateResponses,
      validateSecurity: { handlers: { ApiKeyAuth: apiKeyAuth(db, limiters.api, failedAuth.api) } },
      ignorePaths: /^\/pull\//,
      validateFormats: true,
      ajvFormats: { mode: 'full' },
      formats: { uuid: UUID },
    }),
  );
  app.use(rejectHeldBodyError);

  // The path and method of every operation come from openapi.yaml; this table only binds handlers.
  mountOperations(app, API_SPEC_PATH, {
    ...healthHandlers(db),
    ...pullEndpointsHandlers({ db, box, ingestBaseUrl: options.ingestBaseUrl }),
    ...rejectionsHandlers(db),
    ...pullEventsHandlers(db, telemetry),
    ...leaseHandlers(db, wakeups, telemetry),
    ...pullLogsHandlers(db),
    ...metricsHandlers(db),
  });

  app.use(notFound);
  app.use(errorHandler);
  return app;
}
