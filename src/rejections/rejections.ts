import type { components } from '../../generated/openapi';
import type { PullEndpointRejectionModel } from '../db/generated/models';
import type { Database } from '../db/prisma';
import { decodeCursor, paginate } from '../http/pagination';
import { requireEndpoint } from '../pull-endpoints/endpoints';
import * as rejectionRepository from './repository';

type Rejection = components['schemas']['Rejection'];

function toRejection(row: PullEndpointRejectionModel): Rejection {
  return {
    id: row.id,
    reason: row.reason as Rejection['reason'],
    received_at: row.receivedAt.toISOString(),
    source_ip: row.sourceIp,
    method: row.method,
    query_string: row.queryString,
    content_type: row.contentType,
    size_bytes: row.sizeBytes,
    headers: row.headers as Record<string, string>,
  };
}

export async function listEndpointRejections(db: Database, projectId: string, endpointId: string, limit: number, cursor: string | undefined) {
  await requireEndpoint(db, projectId, endpointId);
  const scope = `rejections:${endpointId}`;
  const before = decodeCursor(cursor, scope, {});
  const rows = await rejectionRepository.listRejections(db, endpointId, before, limit + 1);
  const { page, hasMore, nextCursor } = paginate(rows, limit, scope, {}, cursor);
  return { rejections: page.map(toRejection), hasMore, nextCursor };
}
