import { v7 as uuidv7 } from 'uuid';
import type { Database } from '../db/prisma';

export async function createPullEndpoint(db: Database, projectId: string, name: string) {
  return db.pullEndpoint.create({ data: { id: uuidv7(), projectId, name } });
}

export async function findLivePullEndpoint(db: Database, id: string) {
  return db.pullEndpoint.findFirst({ where: { id, deletedAt: null } });
}
