import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../../src/db/prisma';
import { createApiKey, createProject } from '../../src/projects/repository';
import { createPullEndpoint } from '../../src/pull-endpoints/repository';
import { seedEvents } from '../../src/pull-events/seed';

export interface TestProject {
  projectId: string;
  apiKey: string;
  apiKeyId: string;
}

export async function buildProject(db: Database, name = 'test project'): Promise<TestProject> {
  const { project, apiKey } = await createProject(db, name);
  return { projectId: project.id, apiKey: apiKey.key, apiKeyId: apiKey.id };
}

export async function buildApiKey(db: Database, projectId: string) {
  return createApiKey(db, projectId);
}

export async function buildEndpoint(db: Database, projectId: string, overrides: { deletedAt?: Date } = {}) {
  const endpoint = await createPullEndpoint(db, projectId, 'test endpoint');
  if (overrides.deletedAt) {
    await db.pullEndpoint.update({ where: { id: endpoint.id }, data: { deletedAt: overrides.deletedAt } });
  }
  return endpoint.id;
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
