import type { Command } from 'commander';
import type { components } from '../../generated/openapi';
import { noSecretBox } from '../auth/encryption';
import { loadConfig } from '../config';
import type { Database } from '../db/prisma';
import { seedEvents } from '../pull-events/seed';
import { createEndpoint, ingestUrl, toPullEndpoint } from '../pull-endpoints/endpoints';
import * as endpointRepository from '../pull-endpoints/repository';
import { requireProject, withDatabase } from './database';
import { CliError } from './errors';
import { jsonOption, report, reportList, type JsonOption } from './output';
import { positiveInt, required, uuid } from './program';
import { progressReporter } from './progress';

type PullEndpoint = components['schemas']['PullEndpoint'];

const PAGE = 500;

async function allEndpoints(db: Database, projectId: string) {
  const rows: endpointRepository.PullEndpointRow[] = [];
  for (;;) {
    const page = await endpointRepository.listPullEndpoints(db, projectId, rows.at(-1)?.id, PAGE);
    rows.push(...page);
    if (page.length < PAGE) return rows;
  }
}

/**
 * The endpoint as GET /v1/pull-endpoints/{id} shows it, without `ingest_url`: a list has no token
 * to put in it, and the bare base would read as a URL to hand out.
 */
function toListedEndpoint(row: endpointRepository.PullEndpointRow): Omit<PullEndpoint, 'ingest_url'> {
  const endpoint: Omit<PullEndpoint, 'ingest_url'> & { ingest_url?: string } = toPullEndpoint(row, '');
  delete endpoint.ingest_url;
  return endpoint;
}

function addEndpointCommands(program: Command): void {
  const endpoint = program.command('endpoint').description('pull endpoints');
  endpoint
    .command('create')
    .description('create a pull endpoint in a project (its ingest URL and token are shown once)')
    .addOption(required('--project <id>', 'project id', uuid))
    .addOption(required('--name <name>', 'endpoint name'))
    .addOption(jsonOption())
    .action((options: JsonOption & { project: string; name: string }) =>
      withDatabase(async (db) => {
        await requireProject(db, options.project);
        const { row, secretToken } = await createEndpoint({ db, box: noSecretBox }, options.project, { name: options.name });
        const base = loadConfig().http.ingestBaseUrl;
        // The create operation's answer: the URL with its token, and the token, this once.
        const created = { ...toPullEndpoint(row, base), ingest_url: ingestUrl(base, secretToken), secret_token: secretToken };
        report(options, created, [
          `endpoint id:  ${row.id}`,
          `ingest URL:   ${created.ingest_url}   (shown once; give it to the sender)`,
          `secret token: ${secretToken}`,
        ]);
      }),
    );
  endpoint
    .command('list')
    .description("list a project's live endpoints (ingest URLs are not listed: they hold the token)")
    .addOption(required('--project <id>', 'project id', uuid))
    .addOption(jsonOption())
    .action((options: JsonOption & { project: string }) =>
      withDatabase(async (db) => {
        await requireProject(db, options.project);
        const endpoints = (await allEndpoints(db, options.project)).map(toListedEndpoint);
        reportList(options, endpoints, ['ID', 'NAME', 'STATE', 'CREATED'], (e) => [
          e.id,
          e.name ?? '-',
          e.paused ? 'paused' : 'active',
          e.created_at,
        ]);
      }),
    );
}

function addEventCommands(program: Command): void {
  const events = program.command('events').description('pull events');
  events
    .command('seed')
    .description('bulk-insert synthetic stored events (demos, benchmarks)')
    .addOption(required('--endpoint <id>', 'pull endpoint id', uuid))
    .addOption(required('--count <n>', 'number of events', positiveInt))
    .addOption(jsonOption('print JSON (includes the new ids)'))
    .action((options: JsonOption & { endpoint: string; count: number }) =>
      withDatabase(async (db) => {
        if (!(await endpointRepository.pullEndpointExists(db, options.endpoint))) {
          throw new CliError('ENDPOINT_NOT_FOUND', `pull endpoint ${options.endpoint} not found`);
        }
        const progress = progressReporter(options.count, !options.json);
        const started = Date.now();
        const ids = await seedEvents(db, options.endpoint, options.count, progress.update);
        progress.stop();
        const seconds = (Date.now() - started) / 1000;
        report(options, { pull_endpoint_id: options.endpoint, count: ids.length, seconds, event_ids: ids }, [
          `inserted ${ids.length} events into ${options.endpoint} in ${seconds.toFixed(1)} s`,
          ...(ids.length <= 10 ? ids : [...ids.slice(0, 3), `... (${ids.length - 6} more)`, ...ids.slice(-3)]),
        ]);
      }),
    );
}

export function addEndpointAndEventCommands(program: Command): void {
  addEndpointCommands(program);
  addEventCommands(program);
}
