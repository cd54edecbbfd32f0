import { v7 as uuidv7 } from 'uuid';
import { generateApiKey } from '../auth/api-keys';
import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';

export interface CreatedApiKey {
  id: string;
  projectId: string;
  key: string;
  prefix: string;
}

export interface AuthenticatedKey {
  apiKeyId: string;
  projectId: string;
}

export async function createProject(db: Database, name: string) {
  const project = await db.project.create({ data: { id: uuidv7(), name } });
  const apiKey = await createApiKey(db, project.id);
  return { project, apiKey };
}

export async function createApiKey(db: Database, projectId: string): Promise<CreatedApiKey> {
  const generated = generateApiKey();
  const row = await db.apiKey.create({
    data: { id: uuidv7(), projectId, keyHash: generated.hash, keyPrefix: generated.prefix },
  });
  return { id: row.id, projectId, key: generated.key, prefix: generated.prefix };
}

/** Returns the revoked key's id, or undefined when no live key has that prefix. */
export async function revokeApiKey(db: Database, prefix: string): Promise<string | undefined> {
  const revoked = await db.apiKey.updateManyAndReturn({
    where: { keyPrefix: prefix, revokedAt: null },
    data: { revokedAt: new Date() },
    select: { id: true },
  });
  return revoked[0]?.id;
}

/** The statement behind `findLiveApiKey` (the benchmark's database floor runs it as is). */
export function liveApiKeySql(keyHash: string) {
  return Prisma.sql`
    SELECT id::text AS id, project_id::text AS project_id FROM api_keys
    WHERE key_hash = ${keyHash} AND revoked_at IS NULL`;
}

/** The live key with this hash. On every request's path, so one plain indexed statement. */
export async function findLiveApiKey(db: Database, keyHash: string): Promise<AuthenticatedKey | undefined> {
  const [row] = await db.$queryRaw<{ id: string; project_id: string }[]>(liveApiKeySql(keyHash));
  return row ? { apiKeyId: row.id, projectId: row.project_id } : undefined;
}

export async function countProjects(db: Database): Promise<number> {
  return db.project.count();
}

export async function projectExists(db: Database, id: string): Promise<boolean> {
  return (await db.project.count({ where: { id } })) > 0;
}

/** Every project, oldest first (ids are UUIDv7: id order is creation order). */
export async function listProjects(db: Database) {
  return db.project.findMany({ orderBy: { id: 'asc' } });
}

/** What may be shown of an API key: never its hash. */
const apiKeyListing = { id: true, projectId: true, keyPrefix: true, createdAt: true, revokedAt: true } as const;

/** A project's API keys, revoked ones too, oldest first. */
export async function listApiKeys(db: Database, projectId: string) {
  return db.apiKey.findMany({ where: { projectId }, orderBy: { id: 'asc' }, select: apiKeyListing });
}

export async function findApiKey(db: Database, id: string) {
  return db.apiKey.findUnique({ where: { id }, select: apiKeyListing });
}
