import path from 'node:path';

export interface Config {
  port: number;
  /** Unset means: run on the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  validateResponses: boolean;
  logLevel: string;
  /** Largest request body the API parses, in bytes. */
  bodyLimitBytes: number;
  databasePoolSize: number;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got "${raw}"`);
  }
  return value;
}

export function loadConfig(): Config {
  return {
    port: intFromEnv('PORT', 3000),
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: path.resolve(process.env.DATA_DIR ?? '.data'),
    embeddedPostgresPort: intFromEnv('EMBEDDED_PG_PORT', 54329),
    validateResponses: process.env.VALIDATE_RESPONSES === '1',
    logLevel: process.env.LOG_LEVEL ?? 'info',
    bodyLimitBytes: intFromEnv('BODY_LIMIT_BYTES', 64 * 1024),
    databasePoolSize: intFromEnv('DATABASE_POOL_SIZE', 10),
  };
}
