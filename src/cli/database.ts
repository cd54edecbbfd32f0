import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import type { Database } from '../db/prisma';
import { projectExists } from '../projects/repository';
import { connectionFailure, notFound } from './errors';

/** Runs a command against DATABASE_URL or the embedded database, whether or not the service runs. */
export async function withDatabase(run: (db: Database) => Promise<void>): Promise<void> {
  const database = await openDatabase(loadConfig()).catch((error: unknown) => {
    throw connectionFailure(error);
  });
  try {
    await run(database.db);
  } finally {
    await database.close();
  }
}

export async function requireProject(db: Database, projectId: string): Promise<void> {
  if (!(await projectExists(db, projectId))) throw notFound(`project ${projectId} not found`);
}
