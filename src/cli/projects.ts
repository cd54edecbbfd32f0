import type { Command } from 'commander';
import type { Database } from '../db/prisma';
import * as projectRepository from '../projects/repository';
import { requireProject, withDatabase } from './database';
import { notFound } from './errors';
import { jsonOption, report, reportList, type JsonOption } from './output';
import { required, uuid } from './program';

type ApiKeyRow = NonNullable<Awaited<ReturnType<typeof projectRepository.findApiKey>>>;
type ProjectRow = Awaited<ReturnType<typeof projectRepository.listProjects>>[number];

/** A key as the CLI shows it: its prefix is its handle; the key itself only once, on create. */
function toApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    prefix: row.keyPrefix,
    project_id: row.projectId,
    created_at: row.createdAt.toISOString(),
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

function toProject(row: ProjectRow) {
  return { id: row.id, name: row.name, created_at: row.createdAt.toISOString() };
}

async function apiKey(db: Database, id: string) {
  const row = await projectRepository.findApiKey(db, id);
  if (!row) throw notFound(`API key ${id} not found`);
  return toApiKey(row);
}

function addProjectCommands(program: Command): void {
  const project = program.command('project').description('projects');
  project
    .command('create')
    .description('create a project and its first API key (the key is shown once)')
    .addOption(required('--name <name>', 'project name'))
    .addOption(jsonOption())
    .action((options: JsonOption & { name: string }) =>
      withDatabase(async (db) => {
        const { project: created, apiKey: key } = await projectRepository.createProject(db, options.name);
        report(
          options,
          { ...toProject(created), api_key: { id: key.id, key: key.key, prefix: key.prefix } },
          [`project id: ${created.id}`, `API key:    ${key.key}   (shown once; store it now)`],
        );
      }),
    );
  project
    .command('list')
    .description('list the projects')
    .addOption(jsonOption())
    .action((options: JsonOption) =>
      withDatabase(async (db) => {
        const projects = (await projectRepository.listProjects(db)).map(toProject);
        reportList(options, projects, ['ID', 'NAME', 'CREATED'], (p) => [p.id, p.name, p.created_at]);
      }),
    );
}

function addKeyCommands(program: Command): void {
  const key = program.command('key').description('API keys');
  key
    .command('create')
    .description('create another API key for a project (shown once)')
    .addOption(required('--project <id>', 'project id', uuid))
    .addOption(jsonOption())
    .action((options: JsonOption & { project: string }) =>
      withDatabase(async (db) => {
        await requireProject(db, options.project);
        const created = await projectRepository.createApiKey(db, options.project);
        report(options, { ...(await apiKey(db, created.id)), key: created.key }, [
          `API key: ${created.key}   (shown once; store it now)`,
          `prefix:  ${created.prefix}`,
        ]);
      }),
    );
  key
    .command('list')
    .description("list a project's API keys, revoked ones too (prefixes only: keys are not stored)")
    .addOption(required('--project <id>', 'project id', uuid))
    .addOption(jsonOption())
    .action((options: JsonOption & { project: string }) =>
      withDatabase(async (db) => {
        await requireProject(db, options.project);
        const keys = (await projectRepository.listApiKeys(db, options.project)).map(toApiKey);
        reportList(options, keys, ['ID', 'PREFIX', 'CREATED', 'REVOKED'], (k) => [k.id, k.prefix, k.created_at, k.revoked_at ?? '-']);
      }),
    );
  key
    .command('revoke')
    .description('revoke an API key by its display prefix (e.g. pek_a1b2c3d4)')
    .addOption(required('--key-prefix <prefix>', 'the key prefix'))
    .addOption(jsonOption())
    .action((options: JsonOption & { keyPrefix: string }) =>
      withDatabase(async (db) => {
        const id = await projectRepository.revokeApiKey(db, options.keyPrefix);
        if (!id) throw notFound(`no live API key with prefix ${options.keyPrefix}`);
        report(options, await apiKey(db, id), [`revoked ${options.keyPrefix}`]);
      }),
    );
}

export function addProjectAndKeyCommands(program: Command): void {
  addProjectCommands(program);
  addKeyCommands(program);
}
