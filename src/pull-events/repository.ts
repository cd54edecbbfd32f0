import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { retryTransient } from '../db/retry';

export interface BatchDeleteRow {
  id: string;
  deletedAt: Date;
  /** True when this statement deleted the event, false when it was deleted before. */
  deletedNow: boolean;
}

export interface BatchDeleteOutcome {
  endpointFound: boolean;
  /** The requested events that exist on the endpoint; ids absent from it were not found. */
  rows: BatchDeleteRow[];
}

/**
 * Soft-deletes the given events of one endpoint in a single statement, so one round trip and one
 * implicit transaction whatever the number of ids.
 *
 * `locked` takes the row locks in id order (concurrent batches on overlapping ids queue instead
 * of deadlocking) and, under READ COMMITTED, re-reads each row it waited for: it sees the
 * deleted_at that a racing request committed. The outer SELECT reads only `locked` and the
 * UPDATE's RETURNING, never the table, whose snapshot predates such a commit. Should PostgreSQL
 * still pick the statement as a deadlock victim (a lock taken by another kind of writer), it is
 * retried: it rolled back whole.
 */
export function batchDeleteSql(endpointId: string, projectId: string, apiKeyId: string, ids: string[]) {
  return Prisma.sql`
    WITH endpoint AS (
      SELECT id FROM pull_endpoints
      WHERE id = ${endpointId}::uuid AND project_id = ${projectId}::uuid AND deleted_at IS NULL
    ), locked AS (
      SELECT e.id, e.deleted_at FROM pull_events e
      WHERE e.pull_endpoint_id = (SELECT id FROM endpoint) AND e.id = ANY(${ids}::uuid[])
      ORDER BY e.id
      FOR UPDATE
    ), deleted AS (
      UPDATE pull_events e
      SET deleted_at = now(), deleted_by_api_key_id = ${apiKeyId}::uuid
      FROM locked
      WHERE e.pull_endpoint_id = ${endpointId}::uuid AND e.id = locked.id AND locked.deleted_at IS NULL
      RETURNING e.id, e.deleted_at
    )
    SELECT found.endpoint_found, r.id, r.deleted_at, r.deleted_now
    FROM (SELECT EXISTS (SELECT 1 FROM endpoint) AS endpoint_found) found
    LEFT JOIN (
      SELECT locked.id::text AS id,
             COALESCE(deleted.deleted_at, locked.deleted_at) AS deleted_at,
             deleted.id IS NOT NULL AS deleted_now
      FROM locked LEFT JOIN deleted ON deleted.id = locked.id
    ) r ON true`;
}

interface Row {
  endpoint_found: boolean;
  id: string | null;
  deleted_at: Date | null;
  deleted_now: boolean | null;
}

export async function batchDelete(
  db: Database,
  endpointId: string,
  projectId: string,
  apiKeyId: string,
  ids: string[],
): Promise<BatchDeleteOutcome> {
  const sql = batchDeleteSql(endpointId, projectId, apiKeyId, ids);
  const result = await retryTransient(() => db.$queryRaw<Row[]>(sql));
  const endpointFound = result[0]?.endpoint_found ?? false;
  const rows: BatchDeleteRow[] = [];
  for (const row of result) {
    if (row.id === null || row.deleted_at === null) continue;
    rows.push({ id: row.id, deletedAt: row.deleted_at, deletedNow: row.deleted_now === true });
  }
  return { endpointFound, rows };
}
