import { v7 as uuidv7 } from 'uuid';
import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { addFactsSql } from '../metrics/repository';

/** What the ingest URL needs of the endpoint its token names. */
export interface IngestEndpointRow {
  id: string;
  project_id: string;
  /** Moves with every change of the endpoint: a webhook is stored only under the settings it was checked against. */
  config_version: number;
  paused: boolean;
  event_type_source: string | null;
  event_type_path: string | null;
  verify_static_token: boolean;
  token_header_name: string | null;
  token_query_param: string | null;
  token_value_hash: string | null;
  verify_hmac: boolean;
  hmac_scheme: string | null;
  hmac_header_name: string | null;
  hmac_secret_encrypted: string | null;
  timestamp_header_name: string | null;
  timestamp_ttl_seconds: number | null;
  verify_ip_allowlist: boolean;
  allowed_cidrs: string[];
  ingest_response_code: number;
  idempotency_header_names: string[];
}

/** A token is valid while it is the endpoint's current one, or its previous one within the overlap. */
const tokenMatches = (tokenHash: string) =>
  Prisma.sql`(secret_token_hash = ${tokenHash} OR (previous_token_hash = ${tokenHash} AND previous_token_expires_at > now()))`;

export function ingestEndpointSql(tokenHash: string) {
  return Prisma.sql`
    SELECT id::text AS id, project_id::text AS project_id, config_version, paused_at IS NOT NULL AS paused, event_type_source, event_type_path,
           verify_static_token, token_header_name, token_query_param, token_value_hash,
           verify_hmac, hmac_scheme, hmac_header_name, hmac_secret_encrypted, timestamp_header_name,
           timestamp_ttl_seconds, verify_ip_allowlist, allowed_cidrs, ingest_response_code, idempotency_header_names
    FROM pull_endpoints
    WHERE ${tokenMatches(tokenHash)} AND deleted_at IS NULL
    LIMIT 1`;
}

/** The live endpoint a token opens, or undefined (unknown, deleted, or past its overlap). */
export async function findEndpointByToken(db: Database, tokenHash: string): Promise<IngestEndpointRow | undefined> {
  const [row] = await db.$queryRaw<IngestEndpointRow[]>(ingestEndpointSql(tokenHash));
  return row;
}

export interface NewEvent {
  endpointId: string;
  configVersion: number;
  tokenHash: string;
  eventType: string | null;
  headers: Record<string, string>;
  contentType: string | null;
  payload: Buffer;
  payloadIsJson: boolean;
  queryString: string | null;
  idempotencyKey: string | null;
  /** From the webhook's arrival to this statement. */
  processingMs: number;
}

// The successor of a UUID as a 128-bit number: its last 8 bytes + 1 (UUIDv7's random part, which
// 62 random bits keep from overflowing).
const SUCCESSOR = Prisma.sql`(encode(substring(uuid_send(last_event_id) FROM 1 FOR 8), 'hex')
  || lpad(to_hex(('x' || encode(substring(uuid_send(last_event_id) FROM 9 FOR 8), 'hex'))::bit(64)::bigint + 1), 16, '0'))::uuid`;

/**
 * Stores one webhook in one statement (one round trip, one implicit transaction):
 * - `endpoint` moves the endpoint's `last_event_id` forward to a fresh UUIDv7 (made here, `fresh`)
 *   or, if the clock is behind it, to its successor. The UPDATE re-reads the endpoint row after
 *   waiting for its lock, so ingests on one endpoint queue there, each id is greater than every id
 *   committed before, and ids grow in commit order: a reader paging by id skips nothing. The same
 *   UPDATE re-checks, under that lock, that the endpoint's settings are still those the webhook was
 *   checked against (`config_version`: no change, pause, delete or rotation since) and that the
 *   token is still valid (a rotation's overlap ends by time alone), so no webhook is accepted on a
 *   token a racing rotation just retired, nor under settings a racing update just replaced.
 * - `claimed` inserts the idempotency key, if any; a duplicate inserts nothing (the primary key
 *   decides, not a check before the insert) and so stores no event.
 * - `stored` inserts the event with its raw bytes; `received_at` is the id's time.
 * - `counted` adds it to the metrics rollup.
 */
export function storeEventSql(event: NewEvent, fresh = uuidv7()) {
  const claim = event.idempotencyKey === null
    ? Prisma.sql`SELECT id FROM endpoint`
    : Prisma.sql`
        INSERT INTO pull_event_idempotency_keys (pull_endpoint_id, idempotency_key, event_id)
        SELECT ${event.endpointId}::uuid, ${event.idempotencyKey}, id FROM endpoint
        ON CONFLICT DO NOTHING
        RETURNING event_id AS id`;
  return Prisma.sql`
    WITH endpoint AS (
      UPDATE pull_endpoints SET last_event_id = CASE
        WHEN last_event_id IS NULL OR last_event_id < ${fresh}::uuid THEN ${fresh}::uuid ELSE ${SUCCESSOR} END
      WHERE id = ${event.endpointId}::uuid AND config_version = ${event.configVersion}::int
        AND deleted_at IS NULL AND paused_at IS NULL AND ${tokenMatches(event.tokenHash)}
      RETURNING last_event_id AS id, project_id
    ), claimed AS (${claim}), stored AS (
      INSERT INTO pull_events (pull_endpoint_id, id, event_type, received_at, headers, payload, content_type,
                               payload_is_json, size_bytes, query_string, ingest_processing_ms)
      SELECT ${event.endpointId}::uuid, id, ${event.eventType},
             to_timestamp(('x' || encode(substring(uuid_send(id) FROM 1 FOR 6), 'hex'))::bit(48)::bigint / 1000.0),
             ${JSON.stringify(event.headers)}::jsonb, ${event.payload}::bytea, ${event.contentType},
             ${event.payloadIsJson}, ${event.payload.length}::int, ${event.queryString}, ${event.processingMs}::int
      FROM claimed
      RETURNING id, received_at
    ), counted AS (${addFactsSql(Prisma.sql`
      SELECT ${event.endpointId}::uuid AS pull_endpoint_id, endpoint.project_id, 'received' AS kind, stored.received_at AS at, NULL::bigint AS ms
      FROM stored CROSS JOIN endpoint`)})
    SELECT (SELECT count(*) FROM endpoint)::int AS endpoints, id::text AS id, received_at FROM (SELECT 1) one LEFT JOIN stored ON true`;
}

export type StoreOutcome =
  | { kind: 'stored'; id: string; receivedAt: Date }
  | { kind: 'duplicate'; id: string; receivedAt: Date }
  /** The endpoint changed since it was read (settings, pause, delete, rotation), or the token expired. */
  | { kind: 'changed' };

interface StoreRow {
  endpoints: number;
  id: string | null;
  received_at: Date | null;
}

/** Stores a webhook, or says why not: a duplicate (with the original), or an endpoint that changed. */
export async function storeEvent(db: Database, event: NewEvent): Promise<StoreOutcome> {
  const [row] = await db.$queryRaw<StoreRow[]>(storeEventSql(event));
  if (row?.id && row.received_at) return { kind: 'stored', id: row.id, receivedAt: row.received_at };
  if (row && row.endpoints > 0 && event.idempotencyKey !== null) {
    const [original] = await db.$queryRaw<{ id: string; received_at: Date }[]>`
      SELECT e.id::text AS id, e.received_at FROM pull_event_idempotency_keys k
      JOIN pull_events e ON e.pull_endpoint_id = k.pull_endpoint_id AND e.id = k.event_id
      WHERE k.pull_endpoint_id = ${event.endpointId}::uuid AND k.idempotency_key = ${event.idempotencyKey}`;
    if (original) return { kind: 'duplicate', id: original.id, receivedAt: original.received_at };
  }
  return { kind: 'changed' };
}

export interface NewRejection {
  endpointId: string;
  projectId: string;
  reason: string;
  sourceIp: string;
  method: string;
  queryString: string | null;
  contentType: string | null;
  sizeBytes: number | null;
  headers: Record<string, string>;
}

/** Records a refused webhook and counts it in the metrics rollup, in one statement. */
export async function recordRejection(db: Database, rejection: NewRejection): Promise<void> {
  await db.$executeRaw`
    WITH rejection AS (
      INSERT INTO pull_endpoint_rejections (pull_endpoint_id, id, reason, source_ip, method, query_string, content_type, size_bytes, headers)
      VALUES (${rejection.endpointId}::uuid, ${uuidv7()}::uuid, ${rejection.reason}, ${rejection.sourceIp}, ${rejection.method},
              ${rejection.queryString}, ${rejection.contentType}, ${rejection.sizeBytes}::int, ${JSON.stringify(rejection.headers)}::jsonb)
      RETURNING pull_endpoint_id, received_at
    ), counted AS (${addFactsSql(Prisma.sql`
      SELECT pull_endpoint_id, ${rejection.projectId}::uuid AS project_id, 'rejected' AS kind, received_at AS at, NULL::bigint AS ms
      FROM rejection`)})
    SELECT 1`;
}
