import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { addFactsSql } from '../metrics/repository';

export interface SweepEndpoint {
  id: string;
  projectId: string;
  deletedAt: Date | null;
  retentionDays: number | null;
}

/** Every endpoint, deleted ones too, in id order. */
export async function endpointsPage(db: Database, afterId: string | undefined, take: number): Promise<SweepEndpoint[]> {
  return db.pullEndpoint.findMany({
    where: afterId ? { id: { gt: afterId } } : {},
    select: { id: true, projectId: true, deletedAt: true, retentionDays: true },
    orderBy: { id: 'asc' },
    take,
  });
}

const ERASE = Prisma.sql`payload = NULL, headers = '{}'::jsonb, payload_erased_at = now()`;

/**
 * One bounded batch on one endpoint. Rows another sweeper holds are skipped (SKIP LOCKED), so
 * replicas sweeping at once split the work instead of queueing on it.
 */
async function sweepBatch(db: Database, endpointId: string, where: Prisma.Sql, set: Prisma.Sql, order: Prisma.Sql, limit: number) {
  return db.$executeRaw`
    WITH batch AS (
      SELECT id FROM pull_events
      WHERE pull_endpoint_id = ${endpointId}::uuid AND payload_erased_at IS NULL AND ${where}
      ORDER BY ${order}
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE pull_events e SET ${set}
    FROM batch
    WHERE e.pull_endpoint_id = ${endpointId}::uuid AND e.id = batch.id`;
}

/** Erases headers and payloads of events deleted at or before `cutoff`. */
export function eraseDeletedPayloads(db: Database, endpointId: string, cutoff: Date, limit: number) {
  return sweepBatch(db, endpointId, Prisma.sql`deleted_at <= ${cutoff}`, ERASE, Prisma.sql`deleted_at`, limit);
}

/**
 * Deletes (no API key: retention did it) and erases live events with ids below `beforeId`, and
 * counts the deletions in the metrics rollup, in one statement.
 */
export async function expireEvents(db: Database, endpoint: Pick<SweepEndpoint, 'id' | 'projectId'>, beforeId: string, limit: number) {
  const [row] = await db.$queryRaw<{ expired: number }[]>`
    WITH batch AS (
      SELECT id FROM pull_events
      WHERE pull_endpoint_id = ${endpoint.id}::uuid AND payload_erased_at IS NULL AND deleted_at IS NULL AND id < ${beforeId}::uuid
      ORDER BY id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), deleted AS (
      UPDATE pull_events e SET deleted_at = now(), ${ERASE}
      FROM batch
      WHERE e.pull_endpoint_id = ${endpoint.id}::uuid AND e.id = batch.id
      RETURNING e.deleted_at
    ), counted AS (${addFactsSql(Prisma.sql`
      SELECT ${endpoint.id}::uuid AS pull_endpoint_id, ${endpoint.projectId}::uuid AS project_id, 'deleted' AS kind, deleted_at AS at, NULL::bigint AS ms
      FROM deleted`)})
    SELECT count(*)::int AS expired FROM deleted`;
  return row?.expired ?? 0;
}

/** Erases every payload of a deleted endpoint's events. */
export function eraseEndpointPayloads(db: Database, endpointId: string, limit: number) {
  return sweepBatch(db, endpointId, Prisma.sql`true`, ERASE, Prisma.sql`id`, limit);
}

/**
 * Seconds since the oldest payload still awaiting erasure was deleted (its event, or its whole
 * endpoint), by the database's clock; null when none awaits. One probe of pull_events_sweep_idx per
 * endpoint, and a second for a deleted one. Both order by the constant payload_erased_at: the index
 * order then serves the ORDER BY, so a probe reads one entry, where the planner would otherwise sort
 * the endpoint's whole backlog (the first) or walk the table until a row matches (the second).
 */
export const oldestUnerasedPayloadSql = Prisma.sql`
  SELECT extract(epoch FROM now() - min(w.at))::float8 AS age_seconds
  FROM pull_endpoints p
  CROSS JOIN LATERAL (
    (SELECT e.deleted_at AS at FROM pull_events e
     WHERE e.pull_endpoint_id = p.id AND e.payload_erased_at IS NULL AND e.deleted_at IS NOT NULL
     ORDER BY e.payload_erased_at, e.deleted_at
     LIMIT 1)
    UNION ALL
    (SELECT p.deleted_at FROM pull_events e
     WHERE p.deleted_at IS NOT NULL AND e.pull_endpoint_id = p.id AND e.payload_erased_at IS NULL
     ORDER BY e.payload_erased_at
     LIMIT 1)
  ) w`;

/** The sweeper's lag in seconds (0 when nothing awaits erasure); `timeoutMs` bounds the statement on the server. */
export async function oldestUnerasedPayloadAge(db: Database, timeoutMs: number): Promise<number> {
  const [, [row]] = await db.$transaction([
    db.$queryRaw`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`,
    db.$queryRaw<{ age_seconds: number | null }[]>(oldestUnerasedPayloadSql),
  ]);
  return Math.max(0, row?.age_seconds ?? 0);
}
