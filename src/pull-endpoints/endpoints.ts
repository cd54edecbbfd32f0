import type { components } from '../../generated/openapi';
import type { SecretBox } from '../auth/encryption';
import { randomSecret, sha256Hex } from '../auth/secrets';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { decodeCursor, paginate } from '../http/pagination';
import type { HmacScheme } from '../ingest/signatures';
import * as endpointRepository from './repository';
import type { PullEndpointRow } from './repository';
import { effectiveHmac, NO_SETTINGS, settingsToWrite } from './settings';

type PullEndpoint = components['schemas']['PullEndpoint'];

export interface EndpointContext {
  db: Database;
  box: SecretBox;
  /** Base of the ingest URLs, e.g. https://in.example.net: URLs are `<base>/pull/<token>`. */
  ingestBaseUrl: string;
}

export function ingestUrl(ingestBaseUrl: string, token?: string): string {
  return token === undefined ? `${ingestBaseUrl}/pull` : `${ingestBaseUrl}/pull/${token}`;
}

function newToken(): string {
  return `pes_${randomSecret()}`;
}

/** The endpoint as the API shows it: HMAC headers as in force, secrets only as "set". */
export function toPullEndpoint(row: PullEndpointRow, ingestBaseUrl: string): PullEndpoint {
  const hmacConfigured = row.verifyHmac || row.hmacSecretEncrypted !== null || row.hmacScheme !== null;
  const hmac = effectiveHmac(row);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    mode: 'pull',
    active: row.deletedAt === null,
    paused: row.pausedAt !== null,
    retention_days: row.retentionDays,
    max_deliveries: row.maxDeliveries,
    event_type_source: row.eventTypeSource as PullEndpoint['event_type_source'],
    event_type_path: row.eventTypePath,
    ingest_url: ingestUrl(ingestBaseUrl),
    verify_static_token: row.verifyStaticToken,
    token_header_name: row.tokenHeaderName,
    token_query_param: row.tokenQueryParam,
    token_value_set: row.tokenValueHash !== null,
    verify_hmac: row.verifyHmac,
    hmac_scheme: hmacConfigured ? (hmac.scheme as HmacScheme) : null,
    hmac_header_name: hmacConfigured ? hmac.headerName : row.hmacHeaderName,
    hmac_secret_set: row.hmacSecretEncrypted !== null,
    timestamp_header_name: hmacConfigured ? hmac.timestampHeaderName : row.timestampHeaderName,
    timestamp_ttl_seconds: hmacConfigured ? hmac.ttlSeconds : row.timestampTtlSeconds,
    verify_ip_allowlist: row.verifyIpAllowlist,
    allowed_cidrs: row.allowedCidrs,
    ingest_response_code: row.ingestResponseCode,
    idempotency_header_names: row.idempotencyHeaderNames,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

function found<T>(row: T | null): T {
  if (!row) throw AppError.endpointNotFound();
  return row;
}

export async function createEndpoint(ctx: Pick<EndpointContext, 'db' | 'box'>, projectId: string, input: components['schemas']['PullEndpointCreate']) {
  const secretToken = newToken();
  const fields = { ...settingsToWrite(input, NO_SETTINGS, ctx.box), name: input.name ?? null };
  const row = await endpointRepository.createPullEndpoint(ctx.db, projectId, fields, sha256Hex(secretToken));
  return { row, secretToken };
}

export async function listEndpoints(db: Database, projectId: string, limit: number, cursor: string | undefined) {
  const scope = `endpoints:${projectId}`;
  const after = decodeCursor(cursor, scope, {});
  return paginate(await endpointRepository.listPullEndpoints(db, projectId, after, limit + 1), limit, scope, {}, cursor);
}

export async function getEndpointWithCounts(db: Database, projectId: string, id: string) {
  const row = found(await endpointRepository.findPullEndpoint(db, projectId, id));
  return { row, counts: await endpointRepository.countEventsByStatus(db, row.id) };
}

export async function updateEndpoint(ctx: EndpointContext, projectId: string, id: string, input: components['schemas']['PullEndpointUpdate']) {
  return found(await endpointRepository.updatePullEndpoint(ctx.db, projectId, id, (current) => settingsToWrite(input, current, ctx.box)));
}

export async function pauseEndpoint(db: Database, projectId: string, id: string, paused: boolean) {
  return found(await endpointRepository.setPaused(db, projectId, id, paused));
}

export async function deleteEndpoint(db: Database, projectId: string, id: string) {
  return found(await endpointRepository.softDeletePullEndpoint(db, projectId, id));
}

/** A new token, answered once; the previous one works for `overlapSeconds` more. */
export async function rotateEndpointToken(db: Database, projectId: string, id: string, overlapSeconds: number) {
  const secretToken = newToken();
  const row = found(await endpointRepository.rotateToken(db, projectId, id, sha256Hex(secretToken), overlapSeconds));
  return { row, secretToken, previousTokenExpiresAt: overlapSeconds > 0 ? row.previousTokenExpiresAt : null };
}

/** Throws ENDPOINT_NOT_FOUND unless the endpoint is live and the project's. */
export async function requireEndpoint(db: Database, projectId: string, id: string): Promise<PullEndpointRow> {
  return found(await endpointRepository.findPullEndpoint(db, projectId, id));
}
