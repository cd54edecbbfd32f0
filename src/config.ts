import path from 'node:path';

export interface Config {
  port: number;
  /** Unset means: run on the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** DATABASE_DIRECT_URL: a session connection for LISTEN (long polling) when DATABASE_URL is a transaction pooler. */
  databaseDirectUrl: string | undefined;
  /** MAX_WAITING_RECEIVES: long-polling receives one process holds waiting; beyond them, receive answers at once. */
  maxWaitingReceives: number;
  /**
   * SHUTDOWN_DRAIN_MS: after a stop signal, how long the process keeps serving, with /readyz
   * answering 503, before it closes its listener: long enough for a load balancer's checks to take
   * it out of rotation. 0 closes the listener at once.
   */
  shutdownDrainMs: number;
  dataDir: string;
  embeddedPostgresPort: number;
  databasePoolSize: number;
  logLevel: string;
  /** LOG_FORMAT: `json` or `pretty`; unset is pretty on a terminal, JSON otherwise. */
  logFormat: 'json' | 'pretty' | undefined;
  /** Redis for rate-limit budgets shared across replicas; unset keeps them per process. */
  redisUrl: string | undefined;
  /** SECRET_ENCRYPTION_KEY: seals HMAC secrets. Required on a real database; generated on the embedded one. */
  secretEncryptionKey: string | undefined;
  /** SECRET_ENCRYPTION_OLD_KEYS: earlier keys, comma-separated, still opening what they sealed. */
  secretEncryptionOldKeys: string[];
  http: HttpSettings;
  sweeper: SweeperSettings;
  metrics: MetricsSettings;
}

export interface MetricsSettings {
  /** METRICS_PORT: where GET /metrics (Prometheus) listens, apart from the API; unset serves no metrics. */
  port: number | undefined;
  /** METRICS_HOST: the address it binds; loopback unless set, so that it is not public by accident. */
  host: string;
}

export interface HttpSettings {
  validateResponses: boolean;
  /** Request validation is the contract's gate; turning it off exists only to measure its cost. */
  validateRequests: boolean;
  /** Base of the ingest URLs the API hands out (`<base>/pull/<token>`), e.g. https://in.example.net. */
  ingestBaseUrl: string;
  /** Express's `trust proxy`: which proxies' X-Forwarded-For is believed for the sender's address. */
  trustProxy: boolean | number | string;
  /** Largest API request body, in bytes. */
  bodyLimitBytes: number;
  /** Largest webhook body the ingest URL accepts, in bytes. */
  ingestBodyLimitBytes: number;
  /** Requests per minute per API key; 0 turns the limit off. */
  apiRateLimitPerMinute: number;
  /** Webhooks per minute per endpoint; 0 turns the limit off. */
  ingestRateLimitPerMinute: number;
  /** AUTH_FAILURE_LIMIT: distinct unknown API keys (and, apart, ingest tokens) per client address and window; 0 turns it off. */
  authFailureLimit: number;
  /** AUTH_FAILURE_WINDOW_SECONDS: the window of that budget. */
  authFailureWindowSeconds: number;
}

export const DEFAULT_REJECTIONS_KEPT = 1000;
export const DEFAULT_MAX_WAITING_RECEIVES = 1000;

export interface SweeperSettings {
  /** How often the service sweeps; 0 turns the in-service sweeper off. */
  intervalMs: number;
  /** How long a deleted event's payload is kept before it is erased. */
  graceSeconds: number;
  batchSize: number;
  /** Rejections kept per endpoint; older ones are trimmed. */
  rejectionsKept: number;
  /** DEFAULT_RETENTION_DAYS: the retention of endpoints whose retention_days is null; unset keeps their events until deleted. */
  defaultRetentionDays?: number;
}

/**
 * TRUST_PROXY as Express takes it: unset or `false` trusts no proxy (the sender is the TCP peer),
 * `true` trusts every hop, a number that many hops, anything else is a list of addresses or
 * subnets (`loopback, 10.0.0.0/8`).
 */
export function parseTrustProxy(raw: string | undefined): boolean | number | string {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** A configuration or environment the service cannot start with; its message says what to do. */
export class StartupError extends Error {}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new StartupError(`${name} must be one of ${allowed.join(', ')}; got "${raw}"`);
  return raw as T;
}

function intFromEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new StartupError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(): Config {
  const port = intFromEnv('PORT', 3000);
  const publicBaseUrl = (process.env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  return {
    port,
    databaseUrl: process.env.DATABASE_URL || undefined,
    databaseDirectUrl: process.env.DATABASE_DIRECT_URL || undefined,
    maxWaitingReceives: intFromEnv('MAX_WAITING_RECEIVES', DEFAULT_MAX_WAITING_RECEIVES, 0),
    shutdownDrainMs: intFromEnv('SHUTDOWN_DRAIN_MS', 0, 0),
    dataDir: path.resolve(process.env.DATA_DIR ?? '.data'),
    embeddedPostgresPort: intFromEnv('EMBEDDED_PG_PORT', 54329),
    databasePoolSize: intFromEnv('DATABASE_POOL_SIZE', 10),
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS) ?? 'info',
    logFormat: oneOf('LOG_FORMAT', ['json', 'pretty'] as const),
    redisUrl: process.env.REDIS_URL || undefined,
    secretEncryptionKey: process.env.SECRET_ENCRYPTION_KEY || undefined,
    secretEncryptionOldKeys: (process.env.SECRET_ENCRYPTION_OLD_KEYS ?? '').split(',').map((key) => key.trim()).filter(Boolean),
    http: {
      validateResponses: process.env.VALIDATE_RESPONSES === '1',
      validateRequests: process.env.VALIDATE_REQUESTS !== '0',
      ingestBaseUrl: (process.env.PUBLIC_INGEST_BASE_URL || publicBaseUrl).replace(/\/+$/, ''),
      trustProxy: parseTrustProxy(process.env.TRUST_PROXY),
      bodyLimitBytes: intFromEnv('BODY_LIMIT_BYTES', 64 * 1024),
      ingestBodyLimitBytes: intFromEnv('INGEST_BODY_LIMIT_BYTES', 1024 * 1024),
      apiRateLimitPerMinute: intFromEnv('API_RATE_LIMIT_PER_MINUTE', 600, 0),
      ingestRateLimitPerMinute: intFromEnv('INGEST_RATE_LIMIT_PER_MINUTE', 6000, 0),
      authFailureLimit: intFromEnv('AUTH_FAILURE_LIMIT', 30, 0),
      authFailureWindowSeconds: intFromEnv('AUTH_FAILURE_WINDOW_SECONDS', 300),
    },
    sweeper: {
      intervalMs: intFromEnv('SWEEP_INTERVAL_MS', 60_000, 0),
      graceSeconds: intFromEnv('DELETED_PAYLOAD_GRACE_SECONDS', 0, 0),
      batchSize: intFromEnv('SWEEP_BATCH_SIZE', 1000),
      rejectionsKept: intFromEnv('REJECTIONS_KEPT_PER_ENDPOINT', DEFAULT_REJECTIONS_KEPT),
      ...(process.env.DEFAULT_RETENTION_DAYS && { defaultRetentionDays: intFromEnv('DEFAULT_RETENTION_DAYS', 1) }),
    },
    metrics: {
      port: process.env.METRICS_PORT ? intFromEnv('METRICS_PORT', 0, 0) : undefined,
      host: process.env.METRICS_HOST || '127.0.0.1',
    },
  };
}
