import type { Database } from '../db/prisma';

/** An endpoint's rejections, newest first, before `beforeId`. */
export async function listRejections(db: Database, endpointId: string, beforeId: string | undefined, take: number) {
  return db.pullEndpointRejection.findMany({
    where: { pullEndpointId: endpointId, ...(beforeId ? { id: { lt: beforeId } } : {}) },
    orderBy: { id: 'desc' },
    take,
  });
}

/** Deletes all but the newest `keep` rejections of an endpoint (all of them for 0); returns how many went. */
export async function trimRejections(db: Database, endpointId: string, keep: number): Promise<number> {
  if (keep <= 0) return db.$executeRaw`DELETE FROM pull_endpoint_rejections WHERE pull_endpoint_id = ${endpointId}::uuid`;
  return db.$executeRaw`
    DELETE FROM pull_endpoint_rejections
    WHERE pull_endpoint_id = ${endpointId}::uuid AND id < (
      SELECT id FROM pull_endpoint_rejections WHERE pull_endpoint_id = ${endpointId}::uuid
      ORDER BY id DESC OFFSET ${keep - 1} LIMIT 1)`;
}
