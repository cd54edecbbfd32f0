import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { decodeCursor, paginate } from '../http/pagination';
import { requireEndpoint } from '../pull-endpoints/endpoints';
import { batchDelete } from './repository';
import { ceilMillis, isLater, lowestEventIdAt } from './ids';
import { acknowledge, deleteMatching, listEvents, readEvent, type EventFilter, type EventRow, type EventStatus, type EventSummaryRow } from './repository';

type PullEventSummary = components['schemas']['PullEventSummary'];
type PullEvent = components['schemas']['PullEvent'];

export interface ListQuery {
  status: 'stored' | 'fetched' | 'delivered' | 'any';
  eventType: string | undefined;
  deadLettered: boolean | undefined;
  since: string | undefined;
  before: string | undefined;
  includeDeleted: boolean;
  limit: number;
  cursor: string | undefined;
}

const between = (from: Date | null, to: Date | null) => (from && to ? Math.max(0, to.getTime() - from.getTime()) : null);

export function toEventSummary(row: EventSummaryRow): PullEventSummary {
  return {
    id: row.id,
    event_type: row.event_type,
    status: row.status,
    size_bytes: row.size_bytes,
    content_type: row.content_type ?? '',
    received_at: row.received_at.toISOString(),
    fetched_at: row.fetched_at?.toISOString() ?? null,
    delivered_at: row.delivered_at?.toISOString() ?? null,
    timing: {
      ingest_processing_ms: row.ingest_processing_ms,
      time_to_fetch_ms: between(row.received_at, row.fetched_at),
      time_to_ack_ms: between(row.fetched_at ?? row.received_at, row.delivered_at),
      total_lifecycle_ms: between(row.received_at, row.delivered_at),
    },
    deleted_at: row.deleted_at?.toISOString() ?? null,
    delivery_count: row.delivery_count,
    dead_lettered_at: row.dead_lettered_at?.toISOString() ?? null,
  };
}

/**
 * The event as the API shows it, and its payload as JSON text to place in the answer as it is: a
 * JSON body is its own bytes (checked to be valid UTF-8 JSON at ingest), so big numbers, decimals
 * and key order come back exactly as sent; any other body is a base64 string.
 */
export interface EventView {
  event: Omit<PullEvent, 'payload'>;
  payloadJson: string;
}

export function toEventView(row: EventRow): EventView {
  const readable = row.deleted_at === null && row.payload !== null;
  const payload = readable ? Buffer.from(row.payload!) : undefined;
  return {
    event: {
      ...toEventSummary(row),
      deleted_by_api_key_id: row.deleted_by_api_key_id,
      headers: readable ? row.headers : null,
      query_string: readable ? row.query_string : null,
      payload_encoding: payload ? (row.payload_is_json ? 'json' : 'base64') : null,
    },
    payloadJson: !payload ? 'null' : row.payload_is_json ? payload.toString('utf8') : JSON.stringify(payload.toString('base64')),
  };
}

/** Time bounds as id bounds (ids start with the receive time); `since` after `before` is a 400. */
function millisOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = ceilMillis(value);
  if (ms === undefined) throw AppError.invalidRequest(`${name} must be an RFC 3339 date-time, e.g. 2026-04-05T14:23:11.123Z`);
  return ms;
}

export function timeRange(since: string | undefined, before: string | undefined, names: [string, string]) {
  const from = millisOf(since, names[0]);
  const to = millisOf(before, names[1]);
  if (from !== undefined && to !== undefined && isLater(since!, before!)) {
    throw AppError.invalidRequest(`${names[0]} must not be later than ${names[1]}`);
  }
  return {
    ...(from !== undefined && { fromId: lowestEventIdAt(from) }),
    ...(to !== undefined && { toId: lowestEventIdAt(to) }),
  };
}

export async function listEndpointEvents(db: Database, projectId: string, endpointId: string, query: ListQuery) {
  const scope = `events:${endpointId}`;
  let filter: EventFilter;
  let after: string | undefined;
  try {
    filter = {
      ...(query.status !== 'any' && { status: query.status }),
      ...(query.eventType !== undefined && { eventType: query.eventType }),
      ...(query.deadLettered !== undefined && { deadLettered: query.deadLettered }),
      ...timeRange(query.since, query.before, ['since', 'before']),
      includeDeleted: query.includeDeleted,
    };
    after = decodeCursor(query.cursor, scope, filter);
  } catch (error) {
    // An unknown endpoint is a 404 before any complaint about the query.
    await requireEndpoint(db, projectId, endpointId);
    throw error;
  }
  // One statement checks the endpoint and reads the page.
  const rows = await listEvents(db, { projectId, endpointId }, filter, after, query.limit + 1);
  if (rows === null) throw AppError.endpointNotFound();
  const { page, hasMore, nextCursor } = paginate(rows, query.limit, scope, filter, query.cursor);
  return { events: page.map(toEventSummary), hasMore, nextCursor };
}

/** The event row (moved to `fetched` unless `preview`); 404 when absent, 410 when deleted and not a preview. */
async function readLiveEvent(
  db: Database,
  projectId: string,
  endpointId: string,
  eventId: string,
  read: { preview: boolean; countsAsRedelivery: boolean },
): Promise<EventRow> {
  const { preview } = read;
  await requireEndpoint(db, projectId, endpointId);
  const row = await readEvent(db, { projectId, endpointId }, eventId, read);
  if (!row) throw AppError.eventNotFound();
  if (row.deleted_at && !preview) {
    throw new AppError(410, 'MESSAGE_DELETED', `event was deleted at ${row.deleted_at.toISOString()}`);
  }
  return row;
}

export async function getEvent(db: Database, projectId: string, endpointId: string, eventId: string, preview: boolean): Promise<EventView> {
  return toEventView(await readLiveEvent(db, projectId, endpointId, eventId, { preview, countsAsRedelivery: true }));
}

/** The raw body and its content type; a deleted event is a 410 even with `preview`, as it has no body left. */
export async function getEventPayload(db: Database, projectId: string, endpointId: string, eventId: string, preview: boolean) {
  // Reading the raw bytes of an event already fetched is part of that delivery, not a new one.
  const row = await readLiveEvent(db, projectId, endpointId, eventId, { preview, countsAsRedelivery: false });
  if (row.deleted_at || row.payload === null) {
    throw new AppError(410, 'MESSAGE_DELETED', `event was deleted at ${(row.deleted_at ?? row.received_at).toISOString()}`);
  }
  return { id: row.id, contentType: row.content_type, body: Buffer.from(row.payload) };
}

export async function acknowledgeEvents(db: Database, projectId: string, endpointId: string, eventIds: string[]) {
  await requireEndpoint(db, projectId, endpointId);
  const ids = [...new Set(eventIds.map((id) => id.toLowerCase()))];
  return acknowledge(db, { projectId, endpointId }, ids);
}

export async function deleteEvent(db: Database, projectId: string, apiKeyId: string, endpointId: string, eventId: string) {
  const outcome = await batchDelete(db, endpointId, projectId, apiKeyId, [eventId]);
  if (!outcome.endpointFound) throw AppError.endpointNotFound();
  const [row] = outcome.rows;
  if (!row) throw AppError.eventNotFound();
  return { event_id: row.id, deleted_at: row.deletedAt, already_deleted: !row.deletedNow };
}

export interface DeleteAllQuery {
  /** Comma-separated statuses, as HookBridge takes them. */
  status: string | undefined;
  eventType: string | undefined;
  receivedAfter: string | undefined;
  receivedBefore: string | undefined;
  limit: number;
}

export async function deleteAllEvents(db: Database, projectId: string, apiKeyId: string, endpointId: string, query: DeleteAllQuery) {
  await requireEndpoint(db, projectId, endpointId);
  const filter = {
    ...(query.status !== undefined && { statuses: [...new Set(query.status.split(','))] as EventStatus[] }),
    ...(query.eventType !== undefined && { eventType: query.eventType }),
    ...timeRange(query.receivedAfter, query.receivedBefore, ['received_after', 'received_before']),
  };
  const ids = await deleteMatching(db, { projectId, endpointId }, apiKeyId, filter, query.limit);
  return { deleted: ids.length, deleted_event_ids: ids };
}
