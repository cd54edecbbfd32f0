import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../src/db/prisma';
import { createApiKey, createProject } from '../../src/projects/repository';
import { createEndpoint } from '../../src/pull-endpoints/endpoints';
import { seedEvents } from '../../src/pull-events/seed';
import type { components } from '../../generated/openapi';
import { rememberSecret } from './log-scan';
import { testSecretBox } from './server';

type PullEndpointCreate = components['schemas']['PullEndpointCreate'];

export interface TestProject {
  projectId: string;
  apiKey: string;
  apiKeyId: string;
}

export async function buildProject(db: Database, name = 'test project'): Promise<TestProject> {
  const { project, apiKey } = await createProject(db, name);
  rememberSecret(apiKey.key);
  return { projectId: project.id, apiKey: apiKey.key, apiKeyId: apiKey.id };
}

export async function buildApiKey(db: Database, projectId: string) {
  const created = await createApiKey(db, projectId);
  rememberSecret(created.key);
  return created;
}

export async function buildEndpoint(db: Database, projectId: string, overrides: { deletedAt?: Date } = {}) {
  return (await buildEndpointWithToken(db, projectId, overrides)).id;
}

/** An endpoint and its ingest secret token. */
export async function buildEndpointWithToken(
  db: Database,
  projectId: string,
  overrides: { deletedAt?: Date } & Omit<PullEndpointCreate, 'name'> = {},
) {
  const { deletedAt, ...settings } = overrides;
  rememberSecret(settings.hmac_secret, settings.token_value);
  const { row, secretToken } = await createEndpoint({ db, box: testSecretBox() }, projectId, { name: 'test endpoint', ...settings });
  rememberSecret(secretToken);
  if (deletedAt) {
    await db.pullEndpoint.update({ where: { id: row.id }, data: { deletedAt } });
  }
  return { id: row.id, token: secretToken, ingestPath: `/pull/${secretToken}` };
}

export async function buildEvents(db: Database, endpointId: string, count: number): Promise<string[]> {
  return seedEvents(db, endpointId, count);
}

/** Soft-deletes an event directly, as an earlier request would have. */
export async function markDeleted(db: Database, endpointId: string, id: string, deletedAt: Date, apiKeyId: string) {
  await db.pullEvent.update({
    where: { pullEndpointId_id: { pullEndpointId: endpointId, id } },
    data: { deletedAt, deletedByApiKeyId: apiKeyId },
  });
}

export async function eventRows(db: Database, endpointId: string, ids: string[]) {
  return db.pullEvent.findMany({
    where: { pullEndpointId: endpointId, id: { in: ids } },
    select: { id: true, deletedAt: true, deletedByApiKeyId: true },
    orderBy: { id: 'asc' },
  });
}

export function randomId(): string {
  return uuidv7();
}
