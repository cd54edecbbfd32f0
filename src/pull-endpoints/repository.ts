import { v7 as uuidv7 } from 'uuid';
import { Prisma } from '../db/generated/client';
import type { PullEndpointModel } from '../db/generated/models';
import type { Database } from '../db/prisma';
import type { SettingsFields } from './settings';

export type PullEndpointRow = PullEndpointModel;

const live = (projectId: string, id: string) => ({ id, projectId, deletedAt: null });

export async function createPullEndpoint(
  db: Database,
  projectId: string,
  fields: SettingsFields & { name: string | null },
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
  db: Database | Prisma.TransactionClient,
  projectId: string,
  id: string,
  data: Prisma.PullEndpointUpdateManyMutationInput,
  where: Prisma.PullEndpointWhereInput = {},
) {
  const [row] = await db.pullEndpoint.updateManyAndReturn({
    where: { ...where, ...live(projectId, id) },
    data: { ...data, updatedAt: new Date(), configVersion: { increment: 1 } },
  });
  return row ?? null;
}

/**
 * Applies the fields `change` computes from the current row, under the row's lock, so that two
 * concurrent updates cannot each check a configuration the other one then changes.
 */
export async function updatePullEndpoint(
  db: Database,
  projectId: string,
  id: string,
  change: (current: PullEndpointRow) => SettingsFields,
): Promise<PullEndpointRow | null> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT 1 FROM pull_endpoints WHERE id = ${id}::uuid FOR NO KEY UPDATE`;
    const current = await tx.pullEndpoint.findFirst({ where: live(projectId, id) });
    if (!current) return null;
    return updateLive(tx, projectId, id, change(current));
  });
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

/**
 * Makes `tokenHash` the endpoint's token. The token it replaces keeps working for
 * `overlapSeconds` (none when 0); one replaced earlier stops at once.
 */
export async function rotateToken(db: Database, projectId: string, id: string, tokenHash: string, overlapSeconds: number) {
  const [row] = await db.$queryRaw<{ id: string }[]>`
    UPDATE pull_endpoints SET
      previous_token_hash = CASE WHEN ${overlapSeconds}::int > 0 THEN secret_token_hash END,
      previous_token_expires_at = CASE WHEN ${overlapSeconds}::int > 0 THEN now() + make_interval(secs => ${overlapSeconds}::int) END,
      secret_token_hash = ${tokenHash},
      config_version = config_version + 1,
      updated_at = now()
    WHERE id = ${id}::uuid AND project_id = ${projectId}::uuid AND deleted_at IS NULL
    RETURNING id::text AS id`;
  return row ? findPullEndpoint(db, projectId, id) : null;
}

export interface EventCounts {
  stored: number;
  fetched: number;
  delivered: number;
  total: number;
}

export async function countEventsByStatus(db: Database, endpointId: string): Promise<EventCounts> {
  const groups = await db.pullEvent.groupBy({
    by: ['status'],
    where: { pullEndpointId: endpointId, deletedAt: null },
    _count: { _all: true },
  });
  const counts: EventCounts = { stored: 0, fetched: 0, delivered: 0, total: 0 };
  for (const group of groups) {
    counts[group.status] = group._count._all;
    counts.total += group._count._all;
  }
  return counts;
}

/** Whether a live endpoint has this id, whichever project owns it (the CLI works across projects). */
export async function pullEndpointExists(db: Database, id: string): Promise<boolean> {
  return (await db.pullEndpoint.count({ where: { id, deletedAt: null } })) > 0;
}
