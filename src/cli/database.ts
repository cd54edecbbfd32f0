import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { partitionCountProblem, partitionPullEvents } from '../db/partition';
import type { Database } from '../db/prisma';
import { projectExists } from '../projects/repository';
import { CliError, connectionFailure, notFound } from './errors';
import { jsonOption, report, type JsonOption } from './output';

/**
 * Runs a command against DATABASE_URL or the embedded database, whether or not the service runs,
 * once pending migrations are applied; `url` is the database's, for work done outside Prisma.
 */
export async function withDatabase(run: (db: Database, url: string) => Promise<void>): Promise<void> {
  const database = await openDatabase(loadConfig()).catch((error: unknown) => {
    throw connectionFailure(error);
  });
  try {
    await run(database.db, database.url);
  } finally {
    await database.close();
  }
}

export async function requireProject(db: Database, projectId: string): Promise<void> {
  if (!(await projectExists(db, projectId))) throw notFound(`project ${projectId} not found`);
}

function partitionCount(value: string): number {
  const n = Number(value);
  const problem = partitionCountProblem(n);
  if (problem) throw new InvalidArgumentError(problem);
  return n;
}

/** `db ...`: changes of the database's layout that an operator runs, never the service. */
export function addDatabaseCommands(program: Command): void {
  const db = program.command('db').description('the database: layout changes an operator runs');
  db.command('partition-events')
    .description('hash-partition pull_events by endpoint, moving its rows in one transaction that locks it (a partitioned table is left as it is)')
    .addOption(new Option('--partitions <n>', 'number of hash partitions').argParser(partitionCount).default(16))
    .addOption(jsonOption())
    .action((options: JsonOption & { partitions: number }) =>
      withDatabase(async (_db, url) => {
        const { moved, partitions, alreadyPartitioned } = await partitionPullEvents(url, options.partitions);
        if (alreadyPartitioned && partitions !== options.partitions) {
          throw new CliError('INVALID_REQUEST', `pull_events has ${partitions} partitions already; changing the number of partitions is not supported`);
        }
        report(options, { moved, partitions, already_partitioned: alreadyPartitioned }, [
          alreadyPartitioned
            ? `pull_events has ${partitions} hash partitions by pull_endpoint_id already: nothing to do`
            : `pull_events: ${partitions} hash partitions by pull_endpoint_id, ${moved} events moved`,
        ]);
      }),
    );
}
