#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import type { Database } from '../db/prisma';
import { noSecretBox } from '../auth/encryption';
import { createEndpoint, ingestUrl } from '../pull-endpoints/endpoints';
import { sweep } from '../sweeper/sweeper';
import { seedEvents } from '../pull-events/seed';
import { createApiKey, createProject, projectExists, revokeApiKey } from '../projects/repository';
import { progressReporter } from './progress';

interface JsonOption {
  json?: boolean;
}

/** Prints `--json` output as one JSON document, or the human lines otherwise. */
function report(options: JsonOption, json: unknown, lines: string[]): void {
  console.log(options.json ? JSON.stringify(json, null, 2) : lines.join('\n'));
}

function fail(message: string): never {
  throw new CliError(message);
}

class CliError extends Error {}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function uuid(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('must be a UUID');
  return value.toLowerCase();
}

/** Runs a command against DATABASE_URL or the embedded database, whether or not the service runs. */
async function withDatabase(run: (db: Database) => Promise<void>): Promise<void> {
  const database = await openDatabase(loadConfig());
  try {
    await run(database.db);
  } finally {
    await database.close();
  }
}

async function requireProject(db: Database, projectId: string): Promise<void> {
  if (!(await projectExists(db, projectId))) fail(`project ${projectId} not found`);
}

const program = new Command('pull-events')
  .description('Administer the pull events service: projects, API keys, endpoints, demo data.')
  .showHelpAfterError();

const project = program.command('project').description('projects');
project
  .command('create')
  .description('create a project and its first API key (the key is shown once)')
  .requiredOption('--name <name>', 'project name')
  .option('--json', 'print JSON')
  .action((options: JsonOption & { name: string }) =>
    withDatabase(async (db) => {
      const { project: created, apiKey } = await createProject(db, options.name);
      report(
        options,
        { project_id: created.id, name: created.name, api_key: apiKey.key, key_prefix: apiKey.prefix },
        [`project id: ${created.id}`, `API key:    ${apiKey.key}   (shown once; store it now)`],
      );
    }),
  );

const key = program.command('key').description('API keys');
key
  .command('create')
  .description('create another API key for a project (shown once)')
  .requiredOption('--project <id>', 'project id', uuid)
  .option('--json', 'print JSON')
  .action((options: JsonOption & { project: string }) =>
    withDatabase(async (db) => {
      await requireProject(db, options.project);
      const created = await createApiKey(db, options.project);
      report(options, { api_key_id: created.id, api_key: created.key, key_prefix: created.prefix }, [
        `API key: ${created.key}   (shown once; store it now)`,
        `prefix:  ${created.prefix}`,
      ]);
    }),
  );
key
  .command('revoke')
  .description('revoke an API key by its display prefix (e.g. pek_a1b2c3d4)')
  .requiredOption('--key-prefix <prefix>', 'the key prefix')
  .option('--json', 'print JSON')
  .action((options: JsonOption & { keyPrefix: string }) =>
    withDatabase(async (db) => {
      const id = await revokeApiKey(db, options.keyPrefix);
      if (!id) fail(`no live API key with prefix ${options.keyPrefix}`);
      report(options, { api_key_id: id, key_prefix: options.keyPrefix, revoked: true }, [
        `revoked ${options.keyPrefix}`,
      ]);
    }),
  );

const endpoint = program.command('endpoint').description('pull endpoints');
endpoint
  .command('create')
  .description('create a pull endpoint in a project')
  .requiredOption('--project <id>', 'project id', uuid)
  .requiredOption('--name <name>', 'endpoint name')
  .option('--json', 'print JSON')
  .action((options: JsonOption & { project: string; name: string }) =>
    withDatabase(async (db) => {
      await requireProject(db, options.project);
      const { row, secretToken } = await createEndpoint({ db, box: noSecretBox }, options.project, { name: options.name });
      const url = ingestUrl(loadConfig().http.ingestBaseUrl, secretToken);
      report(
        options,
        { endpoint_id: row.id, project_id: row.projectId, name: row.name, ingest_url: url, secret_token: secretToken },
        [`endpoint id:  ${row.id}`, `ingest URL:   ${url}   (shown once; give it to the sender)`, `secret token: ${secretToken}`],
      );
    }),
  );

const events = program.command('events').description('pull events');
events
  .command('seed')
  .description('bulk-insert synthetic stored events (demos, benchmarks)')
  .requiredOption('--endpoint <id>', 'pull endpoint id', uuid)
  .requiredOption('--count <n>', 'number of events', positiveInt)
  .option('--json', 'print JSON (includes the new ids)')
  .action((options: JsonOption & { endpoint: string; count: number }) =>
    withDatabase(async (db) => {
      const live = await db.pullEndpoint.count({ where: { id: options.endpoint, deletedAt: null } });
      if (!live) fail(`pull endpoint ${options.endpoint} not found`);
      const progress = progressReporter(options.count, !options.json);
      const started = Date.now();
      const ids = await seedEvents(db, options.endpoint, options.count, progress.update);
      progress.stop();
      const seconds = (Date.now() - started) / 1000;
      report(options, { endpoint_id: options.endpoint, count: ids.length, seconds, event_ids: ids }, [
        `inserted ${ids.length} events into ${options.endpoint} in ${seconds.toFixed(1)} s`,
        ...(ids.length <= 10 ? ids : [...ids.slice(0, 3), `... (${ids.length - 6} more)`, ...ids.slice(-3)]),
      ]);
    }),
  );

program
  .command('sweep')
  .description('erase payloads of deleted events and expire events past their endpoint retention, once')
  .option('--json', 'print JSON')
  .action((options: JsonOption) =>
    withDatabase(async (db) => {
      const result = await sweep(db, loadConfig().sweeper);
      report(options, result, [`erased ${result.erased} payloads, expired ${result.expired} events`]);
    }),
  );

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
