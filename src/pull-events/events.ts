import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { decodeCursor, paginate } from '../http/pagination';
import { requireEndpoint } from '../pull-endpoints/endpoints';
import { batchDelete } from './repository';
import { ceilMillis, lowestEventIdAt } from './ids';
import { acknowledge, deleteMatching, listEvents, readEvent, type EventFilter, type EventRow, type EventSummaryRow } from './repository';

type PullEventSummary = components['schemas']['PullEventSummary'];
type PullEvent = components['schemas']['PullEvent'];

export interface ListQuery {
  status: 'stored' | 'fetched' | 'delivered' | 'any';
  eventType: string | undefined;
  since: string | undefined;
  before: string | undefined;
  includeDeleted: boolean;
  limit: number;
  cursor: string | undefined;
}

export function toEventSummary(row: EventSummaryRow): PullEventSummary {
  return {
    id: row.id,
    event_type: row.event_type,
    status: row.status,
    received_at: row.received_at.toISOString(),
    deleted_at: row.deleted_at?.toISOString() ?? null,
  };
}

function toEvent(row: EventRow): PullEvent {
  const deleted = row.deleted_at !== null;
  return {
    ...toEventSummary(row),
    deleted_by_api_key_id: row.deleted_by_api_key_id,
    headers: deleted ? null : row.headers,
    payload: deleted ? null : row.payload,
  };
}

/** Time bounds as id bounds (ids start with the receive time); `since` after `before` is a 400. */
function millisOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = ceilMillis(value);
  if (ms === undefined) throw AppError.invalidRequest(`${name} must be an RFC 3339 date-time, e.g. 2026-04-05T14:23:11.123Z`);
  return ms;
}

function timeRange(since: string | undefined, before: string | undefined, names: [string, string]) {
  const from = millisOf(since, names[0]);
  const to = millisOf(before, names[1]);
  if (from !== undefined && to !== undefined && from > to) {
    throw AppError.invalidRequest(`${names[0]} must not be later than ${names[1]}`);
  }
  return {
    ...(from !== undefined && { fromId: lowestEventIdAt(from) }),
    ...(to !== undefined && { toId: lowestEventIdAt(to) }),
  };
}

export async function listEndpointEvents(db: Database, projectId: string, endpointId: string, query: ListQuery) {
  await requireEndpoint(db, projectId, endpointId);
  const filter: EventFilter = {
    ...(query.status !== 'any' && { status: query.status }),
    ...(query.eventType !== undefined && { eventType: query.eventType }),
    ...timeRange(query.since, query.before, ['since', 'before']),
    includeDeleted: query.includeDeleted,
  };
  const scope = `events:${endpointId}`;
  const after = decodeCursor(query.cursor, scope, filter);
  const rows = await listEvents(db, endpointId, filter, after, query.limit + 1);
  const { page, hasMore, nextCursor } = paginate(rows, query.limit, scope, filter, query.cursor);
  return { events: page.map(toEventSummary), hasMore, nextCursor };
}

export async function getEvent(db: Database, projectId: string, endpointId: string, eventId: string, preview: boolean) {
  await requireEndpoint(db, projectId, endpointId);
  const row = await readEvent(db, endpointId, eventId, preview);
  if (!row) throw AppError.eventNotFound();
  if (row.deleted_at && !preview) {
    throw new AppError(410, 'MESSAGE_DELETED', `event was deleted at ${row.deleted_at.toISOString()}`);
  }
  return toEvent(row);
}

export async function acknowledgeEvents(db: Database, projectId: string, endpointId: string, eventIds: string[]) {
  await requireEndpoint(db, projectId, endpointId);
  const ids = [...new Set(eventIds.map((id) => id.toLowerCase()))];
  return acknowledge(db, endpointId, ids);
}

export async function deleteEvent(db: Database, projectId: string, apiKeyId: string, endpointId: string, eventId: string) {
  const outcome = await batchDelete(db, endpointId, projectId, apiKeyId, [eventId]);
  if (!outcome.endpointFound) throw AppError.endpointNotFound();
  const [row] = outcome.rows;
  if (!row) throw AppError.eventNotFound();
  return { event_id: row.id, deleted_at: row.deletedAt.toISOString(), already_deleted: !row.deletedNow };
}

export async function deleteAllEvents(
  db: Database,
  projectId: string,
  apiKeyId: string,
  endpointId: string,
  body: components['schemas']['DeleteAllRequest'],
) {
  await requireEndpoint(db, projectId, endpointId);
  const filter = {
    ...(body.status !== undefined && { status: body.status }),
    ...(body.event_type !== undefined && { eventType: body.event_type }),
    ...timeRange(body.received_after, body.received_before, ['received_after', 'received_before']),
  };
  const ids = await deleteMatching(db, endpointId, apiKeyId, filter, body.limit ?? 1000);
  return { deleted: ids.length, deleted_event_ids: ids };
}
