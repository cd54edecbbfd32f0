import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { decodeCursor, paginate } from '../http/pagination';
import { requireEndpoint } from '../pull-endpoints/endpoints';
import { timeRange, toEventSummary } from '../pull-events/events';
import * as eventRepository from '../pull-events/repository';
import type { EventStatus } from '../pull-events/repository';

type PullLog = components['schemas']['PullLog'];

export interface LogsQuery {
  endpointId: string | undefined;
  /** Comma-separated statuses. */
  status: string | undefined;
  eventType: string | undefined;
  deadLettered: boolean | undefined;
  startTime: string | undefined;
  endTime: string | undefined;
  limit: number;
  cursor: string | undefined;
}

function toPullLog(row: eventRepository.ProjectEventRow): PullLog {
  const { id, status, event_type, size_bytes, received_at, fetched_at, delivered_at, deleted_at, delivery_count, dead_lettered_at, timing } =
    toEventSummary(row);
  return {
    event_id: id,
    pull_endpoint_id: row.pull_endpoint_id,
    endpoint_name: row.endpoint_name,
    event_type,
    status,
    size_bytes,
    received_at,
    fetched_at,
    delivered_at,
    deleted_at,
    delivery_count,
    dead_lettered_at,
    timing,
  };
}

/** A page of the project's events, newest first; the cursor is the last event's id. */
export async function listPullLogs(db: Database, projectId: string, query: LogsQuery) {
  if (query.endpointId !== undefined) await requireEndpoint(db, projectId, query.endpointId);
  const filter = {
    ...(query.endpointId !== undefined && { endpointId: query.endpointId }),
    ...(query.status !== undefined && { statuses: [...new Set(query.status.split(','))].sort() as EventStatus[] }),
    ...(query.eventType !== undefined && { eventType: query.eventType }),
    ...(query.deadLettered !== undefined && { deadLettered: query.deadLettered }),
    ...timeRange(query.startTime, query.endTime, ['start_time', 'end_time']),
  };
  const scope = `logs:${projectId}`;
  const before = decodeCursor(query.cursor, scope, filter);
  const { endpointId, ...eventFilter } = filter;
  const rows = await eventRepository.listProjectEvents(
    db,
    { projectId, ...(endpointId !== undefined && { endpointId }) },
    eventFilter,
    before,
    query.limit + 1,
  );
  const { page, hasMore, nextCursor } = paginate(rows, query.limit, scope, filter, query.cursor);
  return { logs: page.map(toPullLog), hasMore, nextCursor };
}
