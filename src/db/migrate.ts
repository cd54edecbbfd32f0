import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR } from '../paths';
import { parseDatabaseUrl } from './pooler';

export { MIGRATIONS_DIR };

// Any constant shared by every replica: pg_advisory_xact_lock serialises concurrent migrators on it.
export const MIGRATION_LOCK_KEY = 727_146_338;

// The table `prisma migrate deploy` keeps, so that it treats these migrations as applied.
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Applies pending migrations and returns the names it applied. Each runs in its own transaction
 * that first takes a transaction-scoped advisory lock and reads the history again, so replicas
 * starting together apply each migration once, and nothing (lock or setting) outlives its
 * transaction: it works the same through a pooler in transaction mode.
 */
export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = readMigrations(dir);
  // A host that drops packets fails the start (or the CLI) in seconds rather than hanging it.
  const client = new pg.Client({
    connectionString: parseDatabaseUrl(databaseUrl).connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  const done: string[] = [];
  try {
    // The history table first, on its own: a failing first migration leaves it, empty.
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(CREATE_HISTORY_TABLE);
    await client.query('COMMIT');
    for (;;) {
      await client.query('BEGIN');
      try {
        const next = await nextPending(client, migrations);
        if (!next) {
          await client.query('COMMIT');
          return done;
        }
        // Behind a pooler the server's default statement timeout applies; an index build may
        // take longer.
        await client.query('SET LOCAL statement_timeout = 0');
        try {
          await client.query(next.sql);
        } catch (error) {
          throw new Error(`migration ${next.name} failed: ${(error as Error).message}`, { cause: error });
        }
        await client.query(
          `INSERT INTO "_prisma_migrations"
             (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), next.checksum, next.name],
        );
        await client.query('COMMIT');
        done.push(next.name);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Under the migration lock: the first migration not applied yet, after checking the applied ones were not edited. */
async function nextPending(client: pg.Client, migrations: Migration[]): Promise<Migration | undefined> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  const { rows } = await client.query<{ migration_name: string; checksum: string }>(
    `SELECT migration_name, checksum FROM "_prisma_migrations"
     WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
  for (const migration of migrations) {
    const checksum = applied.get(migration.name);
    if (checksum === undefined) return migration;
    if (checksum !== migration.checksum) {
      throw new Error(`migration ${migration.name} was edited after it was applied; add a new migration instead`);
    }
  }
  return undefined;
}
