import { v7 as uuidv7 } from 'uuid';
import { Prisma } from '../db/generated/client';
import type { PullEndpointModel } from '../db/generated/models';
import type { Database } from '../db/prisma';

export type PullEndpointRow = PullEndpointModel;

export interface PullEndpointFields {
  name?: string;
  description?: string | null;
  retentionDays?: number | null;
  eventTypeSource?: Prisma.InputJsonValue;
}

const live = (projectId: string, id: string) => ({ id, projectId, deletedAt: null });

export async function createPullEndpoint(
  db: Database,
  projectId: string,
  fields: PullEndpointFields & { name: string },
  secretTokenHash: string,
): Promise<PullEndpointRow> {
  return db.pullEndpoint.create({ data: { id: uuidv7(), projectId, secretTokenHash, ...fields } });
}

/** Live endpoints of a project in id (creation) order, after `afterId`, at most `take`. */
export async function listPullEndpoints(db: Database, projectId: string, afterId: string | undefined, take: number) {
  return db.pullEndpoint.findMany({
    where: { projectId, deletedAt: null, ...(afterId ? { id: { gt: afterId } } : {}) },
    orderBy: { id: 'asc' },
    take,
  });
}

export async function findPullEndpoint(db: Database, projectId: string, id: string): Promise<PullEndpointRow | null> {
  return db.pullEndpoint.findFirst({ where: live(projectId, id) });
}

/** Applies `data` to a live endpoint of the project that also matches `where`; null when none does. */
async function updateLive(
  db: Database,
  projectId: string,
  id: string,
  data: Prisma.PullEndpointUpdateManyMutationInput,
  where: Prisma.PullEndpointWhereInput = {},
) {
  const [row] = await db.pullEndpoint.updateManyAndReturn({
    where: { ...where, ...live(projectId, id) },
    data: { ...data, updatedAt: new Date() },
  });
  return row ?? null;
}

export function updatePullEndpoint(db: Database, projectId: string, id: string, fields: PullEndpointFields) {
  return updateLive(db, projectId, id, fields);
}

/** Pauses or resumes; an endpoint already in that state is returned unchanged. */
export async function setPaused(db: Database, projectId: string, id: string, paused: boolean) {
  const changed = await updateLive(
    db,
    projectId,
    id,
    { pausedAt: paused ? new Date() : null },
    { pausedAt: paused ? null : { not: null } },
  );
  return changed ?? findPullEndpoint(db, projectId, id);
}

export function softDeletePullEndpoint(db: Database, projectId: string, id: string) {
  return updateLive(db, projectId, id, { deletedAt: new Date() });
}

export interface EventCounts {
  stored: number;
  fetched: number;
  delivered: number;
}

export async function countEventsByStatus(db: Database, endpointId: string): Promise<EventCounts> {
  const groups = await db.pullEvent.groupBy({
    by: ['status'],
    where: { pullEndpointId: endpointId, deletedAt: null },
    _count: { _all: true },
  });
  const counts: EventCounts = { stored: 0, fetched: 0, delivered: 0 };
  for (const group of groups) counts[group.status] = group._count._all;
  return counts;
}

/** What the ingest URL needs to know of an endpoint: null when it does not exist or was deleted. */
export async function findForIngest(db: Database, id: string) {
  return db.pullEndpoint.findFirst({
    where: { id, deletedAt: null },
    select: { id: true, secretTokenHash: true, pausedAt: true, eventTypeSource: true },
  });
}
