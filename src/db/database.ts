import type { Config } from '../config';
import { startEmbeddedPostgres } from './embedded';
import { migrate } from './migrate';
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
