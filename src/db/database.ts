import type { Config } from '../config';
import { startEmbeddedPostgres } from './embedded';
import { migrate } from './migrate';
import { parseDatabaseUrl } from './pooler';
import { createPrismaClient, type Database } from './prisma';

export interface OpenDatabase {
  db: Database;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Connects to DATABASE_URL, or to the embedded PostgreSQL when it is unset, and applies pending
 * migrations: one code path for both.
 */
export async function openDatabase(
  config: Config,
  log: (message: string) => void = () => undefined,
  warn: (message: string) => void = log,
): Promise<OpenDatabase> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, log);
  const url = config.databaseUrl ?? embedded!.url;
  try {
    const applied = await migrate(url);
    if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const db = createPrismaClient(url, { poolSize: config.databasePoolSize });
  if (parseDatabaseUrl(url).transactionPooler) {
    const timeout = await serverStatementTimeout(db).catch(async (error: unknown) => {
      await db.$disconnect();
      await embedded?.stop();
      throw error;
    });
    if (timeout === '0') warn(UNBOUNDED_STATEMENTS);
  }
  return {
    db,
    url,
    embedded: embedded !== undefined,
    async close() {
      await db.$disconnect();
      await embedded?.stop();
    },
  };
}

const UNBOUNDED_STATEMENTS =
  'DATABASE_URL leads to a transaction pooler (pgbouncer=true), where the service cannot set its 15 s statement ' +
  "timeout, and the server's statement_timeout is 0: a stuck statement runs on after its request gave up. Set it " +
  "for the service's role (ALTER ROLE ... SET statement_timeout = '15s') or in the pooler's connect_query.";

/** The statement timeout a pooled server connection runs with (PgBouncer passes no startup settings). */
async function serverStatementTimeout(db: Database): Promise<string> {
  const rows = await db.$queryRawUnsafe<{ statement_timeout: string }[]>('SHOW statement_timeout');
  return rows[0]?.statement_timeout ?? '0';
}
