import type { components } from '../../generated/openapi';
import { randomSecret, sha256Hex } from '../auth/secrets';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { decodeCursor, paginate } from '../http/pagination';
import {
  countEventsByStatus,
  createPullEndpoint,
  findPullEndpoint,
  listPullEndpoints,
  setPaused,
  softDeletePullEndpoint,
  updatePullEndpoint,
  type PullEndpointFields,
  type PullEndpointRow,
} from './repository';

type PullEndpoint = components['schemas']['PullEndpoint'];
type EventTypeSource = components['schemas']['EventTypeSource'];
type EndpointInput = components['schemas']['PullEndpointUpdate'];

export const DEFAULT_EVENT_TYPE_SOURCE: EventTypeSource = { header: 'X-Event-Type' };

export function ingestUrl(publicBaseUrl: string, endpointId: string): string {
  return `${publicBaseUrl}/ingest/${endpointId}`;
}

export function toPullEndpoint(row: PullEndpointRow, publicBaseUrl: string): PullEndpoint {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    retention_days: row.retentionDays,
    event_type_source: row.eventTypeSource as EventTypeSource,
    status: row.pausedAt ? 'paused' : 'active',
    ingest_url: ingestUrl(publicBaseUrl, row.id),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function fieldsOf(input: EndpointInput): PullEndpointFields {
  return {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.retention_days !== undefined && { retentionDays: input.retention_days }),
    ...(input.event_type_source !== undefined && { eventTypeSource: input.event_type_source }),
  };
}

function found<T>(row: T | null): T {
  if (!row) throw AppError.endpointNotFound();
  return row;
}

export async function createEndpoint(db: Database, projectId: string, input: components['schemas']['PullEndpointCreate']) {
  const secretToken = `pes_${randomSecret()}`;
  const fields = { eventTypeSource: DEFAULT_EVENT_TYPE_SOURCE, ...fieldsOf(input), name: input.name };
  const row = await createPullEndpoint(db, projectId, fields, sha256Hex(secretToken));
  return { row, secretToken };
}

export async function listEndpoints(db: Database, projectId: string, limit: number, cursor: string | undefined) {
  const scope = `endpoints:${projectId}`;
  const after = decodeCursor(cursor, scope, {});
  return paginate(await listPullEndpoints(db, projectId, after, limit + 1), limit, scope, {}, cursor);
}

export async function getEndpointWithCounts(db: Database, projectId: string, id: string) {
  const row = found(await findPullEndpoint(db, projectId, id));
  return { row, counts: await countEventsByStatus(db, row.id) };
}

export async function updateEndpoint(db: Database, projectId: string, id: string, input: EndpointInput) {
  return found(await updatePullEndpoint(db, projectId, id, fieldsOf(input)));
}

export async function pauseEndpoint(db: Database, projectId: string, id: string, paused: boolean) {
  return found(await setPaused(db, projectId, id, paused));
}

export async function deleteEndpoint(db: Database, projectId: string, id: string) {
  return found(await softDeletePullEndpoint(db, projectId, id));
}

/** Throws ENDPOINT_NOT_FOUND unless the endpoint is live and the project's. */
export async function requireEndpoint(db: Database, projectId: string, id: string): Promise<PullEndpointRow> {
  return found(await findPullEndpoint(db, projectId, id));
}
