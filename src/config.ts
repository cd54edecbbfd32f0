import path from 'node:path';

export interface Config {
  port: number;
  /** Unset means: run on the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  databasePoolSize: number;
  logLevel: string;
  /** Redis for rate-limit budgets shared across replicas; unset keeps them per process. */
  redisUrl: string | undefined;
  http: HttpSettings;
  sweeper: SweeperSettings;
}

export interface HttpSettings {
  validateResponses: boolean;
  /** Request validation is the contract's gate; turning it off exists only to measure its cost. */
  validateRequests: boolean;
  /** Base of the ingest URLs the API hands out, e.g. https://pull.example.net. */
  publicBaseUrl: string;
  /** Largest API request body, in bytes. */
  bodyLimitBytes: number;
  /** Largest webhook body the ingest URL accepts, in bytes. */
  ingestBodyLimitBytes: number;
  /** Requests per minute per API key; 0 turns the limit off. */
  apiRateLimitPerMinute: number;
  /** Webhooks per minute per endpoint; 0 turns the limit off. */
  ingestRateLimitPerMinute: number;
}

export interface SweeperSettings {
  /** How often the service sweeps; 0 turns the in-service sweeper off. */
  intervalMs: number;
  /** How long a deleted event's payload is kept before it is erased. */
  graceSeconds: number;
  batchSize: number;
}

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(): Config {
  const port = intFromEnv('PORT', 3000);
  return {
    port,
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: path.resolve(process.env.DATA_DIR ?? '.data'),
    embeddedPostgresPort: intFromEnv('EMBEDDED_PG_PORT', 54329),
    databasePoolSize: intFromEnv('DATABASE_POOL_SIZE', 10),
    logLevel: process.env.LOG_LEVEL ?? 'info',
    redisUrl: process.env.REDIS_URL || undefined,
    http: {
      validateResponses: process.env.VALIDATE_RESPONSES === '1',
      validateRequests: process.env.VALIDATE_REQUESTS !== '0',
      publicBaseUrl: (process.env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
      bodyLimitBytes: intFromEnv('BODY_LIMIT_BYTES', 64 * 1024),
      ingestBodyLimitBytes: intFromEnv('INGEST_BODY_LIMIT_BYTES', 1024 * 1024),
      apiRateLimitPerMinute: intFromEnv('API_RATE_LIMIT_PER_MINUTE', 600, 0),
      ingestRateLimitPerMinute: intFromEnv('INGEST_RATE_LIMIT_PER_MINUTE', 6000, 0),
    },
    sweeper: {
      intervalMs: intFromEnv('SWEEP_INTERVAL_MS', 60_000, 0),
      graceSeconds: intFromEnv('DELETED_PAYLOAD_GRACE_SECONDS', 0, 0),
      batchSize: intFromEnv('SWEEP_BATCH_SIZE', 1000),
    },
  };
}
