import { noSecretBox } from '../../src/auth/encryption';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import * as projectRepository from '../../src/projects/repository';
import { createEndpoint } from '../../src/pull-endpoints/endpoints';
import * as endpointRepository from '../../src/pull-endpoints/repository';
import { testDatabaseUrl } from '../support/server';
import { cliJson, runCli } from './run';

let db: Database;
let project: { id: string; name: string; createdAt: Date };
let keys: { first: projectRepository.CreatedApiKey; revoked: projectRepository.CreatedApiKey };
let endpoints: { live: { id: string; token: string }; paused: { id: string } };

// Built in-process: these tests are about listing, and every CLI run costs a process start.
beforeAll(async () => {
  db = createPrismaClient(testDatabaseUrl());
  const created = await projectRepository.createProject(db, `lists ${Date.now()}`);
  project = created.project;
  keys = { first: created.apiKey, revoked: await projectRepository.createApiKey(db, project.id) };
  await projectRepository.revokeApiKey(db, keys.revoked.prefix);
  const create = async (name: string) => {
    const { row, secretToken } = await createEndpoint({ db, box: noSecretBox }, project.id, { name });
    return { id: row.id, token: secretToken };
  };
  endpoints = { live: await create('live'), paused: await create('paused') };
  const deleted = await create('deleted');
  await endpointRepository.setPaused(db, project.id, endpoints.paused.id, true);
  await endpointRepository.softDeletePullEndpoint(db, project.id, deleted.id);
});
afterAll(() => db.$disconnect());

function expectNoSecret(output: string): void {
  expect(output).not.toContain(keys.first.key);
  expect(output).not.toContain(keys.revoked.key);
  expect(output).not.toContain(endpoints.live.token);
}

/** The table's rows (header first) cut at the header's column starts. */
function columns(stdout: string): string[][] {
  const [header = '', ...rows] = stdout.trimEnd().split('\n');
  const starts = [...header.matchAll(/\S+/g)].map((match) => match.index);
  return [header, ...rows].map((line) => starts.map((start, i) => line.slice(start, starts[i + 1]).trim()));
}

it('lists projects as a JSON array of {id, name, created_at} and as an aligned table', async () => {
  const [json, human] = await Promise.all([cliJson<unknown[]>('project', 'list'), runCli(['project', 'list'])]);
  expect(json).toContainEqual({ id: project.id, name: project.name, created_at: project.createdAt.toISOString() });
  expect(human.code).toBe(0);
  const table = columns(human.stdout);
  expect(table[0]).toEqual(['ID', 'NAME', 'CREATED']);
  expect(table).toContainEqual([project.id, project.name, project.createdAt.toISOString()]);
  expectNoSecret(JSON.stringify(json) + human.stdout);
});

it("lists a project's keys by prefix, revoked ones with revoked_at, and never a key", async () => {
  const [json, human] = await Promise.all([
    cliJson<Record<string, unknown>[]>('key', 'list', '--project', project.id),
    runCli(['key', 'list', '--project', project.id]),
  ]);
  expect(json).toEqual([
    { id: keys.first.id, prefix: keys.first.prefix, project_id: project.id, created_at: expect.any(String), revoked_at: null },
    { id: keys.revoked.id, prefix: keys.revoked.prefix, project_id: project.id, created_at: expect.any(String), revoked_at: expect.any(String) },
  ]);
  const table = columns(human.stdout);
  expect(table).toEqual([
    ['ID', 'PREFIX', 'CREATED', 'REVOKED'],
    [keys.first.id, keys.first.prefix, json[0]!.created_at, '-'],
    [keys.revoked.id, keys.revoked.prefix, json[1]!.created_at, json[1]!.revoked_at],
  ]);
  expectNoSecret(JSON.stringify(json) + human.stdout);
});

it("lists a project's live endpoints, paused ones marked, without ingest URL or token", async () => {
  const [json, human] = await Promise.all([
    cliJson<Record<string, unknown>[]>('endpoint', 'list', '--project', project.id),
    runCli(['endpoint', 'list', '--project', project.id]),
  ]);
  expect(json.map((e) => [e.id, e.name, e.paused, e.active])).toEqual([
    [endpoints.live.id, 'live', false, true],
    [endpoints.paused.id, 'paused', true, true],
  ]);
  for (const endpoint of json) {
    expect(endpoint).not.toHaveProperty('ingest_url');
    expect(endpoint).not.toHaveProperty('secret_token');
  }
  expect(columns(human.stdout)).toEqual([
    ['ID', 'NAME', 'STATE', 'CREATED'],
    [endpoints.live.id, 'live', 'active', json[0]!.created_at],
    [endpoints.paused.id, 'paused', 'paused', json[1]!.created_at],
  ]);
  expect(human.stdout).not.toContain('/pull');
  expectNoSecret(JSON.stringify(json) + human.stdout);
});

it('lists nothing but the header for a project with no endpoints', async () => {
  const { project: empty } = await projectRepository.createProject(db, 'empty');
  const [json, human] = await Promise.all([
    cliJson<unknown[]>('endpoint', 'list', '--project', empty.id),
    runCli(['endpoint', 'list', '--project', empty.id]),
  ]);
  expect(json).toEqual([]);
  expect(human.stdout.trim()).toBe('ID  NAME  STATE  CREATED');
});
