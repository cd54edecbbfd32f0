import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { Request, RequestHandler, Response } from 'express';
import getRawBody from 'raw-body';
import type { SecretBox } from '../auth/encryption';
import { sha256Hex } from '../auth/secrets';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import type { RateLimiter } from '../http/rate-limit';
import { meta } from '../http/request-id';
import { eventTypeOf } from './event-type';
import { storedHeaders, storedQuery } from './headers';
import { findEndpointByToken, recordRejection, storeEvent, type IngestEndpointRow } from './repository';
import { displayAddress, idempotencyKey, ipAllowed, signatureRefusal, staticTokenRefusal } from './verification';

export interface IngestOptions {
  db: Database;
  box: SecretBox;
  limiter: RateLimiter;
  bodyLimitBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The one answer to every credential failure: it does not say which check failed. */
const unauthorized = () => new AppError(401, 'UNAUTHORIZED', 'Invalid or missing ingest credentials');

function isJsonType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  try {
    const { type } = parseContentType(contentType);
    return type === 'application/json' || type.endsWith('+json');
  } catch {
    return false;
  }
}

/** The body as JSON when it is JSON (a JSON content type, UTF-8, and parses); else undefined. */
function parseJson(contentType: string | undefined, body: Buffer): { value: unknown } | undefined {
  if (!isJsonType(contentType) || body.length === 0) return undefined;
  try {
    return { value: JSON.parse(utf8.decode(body)) as unknown };
  } catch {
    return undefined;
  }
}

function rawQuery(req: Request): string | null {
  const index = req.originalUrl.indexOf('?');
  return index >= 0 ? req.originalUrl.slice(index + 1) : null;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return getRawBody(req, { limit, length: req.headers['content-length'] ?? null });
}

/**
 * `POST /pull/<token>`: the ingest URL. Outside the contract validator, since its body is any
 * bytes and its credential is the URL; its answers are declared in openapi.yaml all the same.
 * Checks run cheapest first, and the body is read only once the sender passed those that do not
 * need it. Every refusal of a known endpoint is recorded in its rejections.
 */
export function ingestHandler({ db, box, limiter, bodyLimitBytes }: IngestOptions): RequestHandler {
  return async (req: Request, res: Response) => {
    const { token } = req.params;
    const tokenHash = sha256Hex(typeof token === 'string' ? token : '');
    const endpoint = await findEndpointByToken(db, tokenHash);
    if (!endpoint) {
      req.log?.info({ ingestRefusal: 'unknown_token' }, 'ingest refused: no live endpoint has this token');
      throw unauthorized();
    }
    await limiter.consume(endpoint.id);

    const query = rawQuery(req);
    const contentType = req.headers['content-type'];
    const refuse = async (reason: string, error: AppError, sizeBytes?: number): Promise<never> => {
      // A body left unread is not drained: the connection closes after the answer.
      if (sizeBytes === undefined) res.setHeader('Connection', 'close');
      const announced = Number(req.headers['content-length']);
      // The sender gets its answer even when the record cannot be written.
      await recordRejection(db, {
        endpointId: endpoint.id,
        reason,
        sourceIp: displayAddress(req.ip ?? req.socket.remoteAddress ?? 'unknown'),
        method: req.method,
        queryString: storedQuery(query, endpoint.token_query_param),
        contentType: contentType ?? null,
        sizeBytes: sizeBytes ?? (Number.isSafeInteger(announced) ? announced : null),
        headers: storedHeaders(req.headers, endpoint.token_header_name),
      }).catch((failure: unknown) => req.log?.error({ err: failure }, 'recording a rejected webhook failed'));
      throw error;
    };

    if (endpoint.paused) await refuse('paused', new AppError(503, 'ENDPOINT_PAUSED', 'endpoint is paused'));
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      await refuse('unsupported_encoding', new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `unsupported content encoding "${encoding}": send the body uncompressed`));
    }
    if (!ipAllowed(endpoint, req.ip ?? '')) {
      await refuse('ip_not_allowed', new AppError(403, 'FORBIDDEN', "the sender's address is not allowed to deliver to this URL"));
    }
    const tokenRefusal = staticTokenRefusal(endpoint, req.headers, query);
    if (tokenRefusal) await refuse(tokenRefusal, unauthorized());

    let body: Buffer;
    try {
      body = await readBody(req, bodyLimitBytes);
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === 'entity.too.large') {
        return refuse('too_large', new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${bodyLimitBytes} bytes`));
      }
      // The sender went away (or cut the body short): nothing to store, and no fault of ours.
      if (type === 'request.aborted' || type === 'stream.not.readable' || type === 'request.size.invalid') {
        throw AppError.invalidRequest('the request body was cut off before its announced length');
      }
      throw error;
    }
    const signature = signatureRefusal(endpoint, box, req.headers, body);
    if (signature) await refuse(signature, unauthorized(), body.length);

    await accept(db, endpoint, tokenHash, req, res, body, query);
  };
}

async function accept(db: Database, endpoint: IngestEndpointRow, tokenHash: string, req: Request, res: Response, body: Buffer, query: string | null) {
  const contentType = req.headers['content-type'];
  const json = parseJson(contentType, body);
  const outcome = await storeEvent(db, {
    endpointId: endpoint.id,
    tokenHash,
    eventType: eventTypeOf({ source: endpoint.event_type_source, path: endpoint.event_type_path }, req.headers, json?.value),
    headers: storedHeaders(req.headers, endpoint.token_header_name),
    contentType: contentType ?? null,
    payload: body,
    payloadIsJson: json !== undefined,
    queryString: storedQuery(query, endpoint.token_query_param),
    idempotencyKey: idempotencyKey(endpoint.idempotency_header_names, req.headers),
  });
  if (outcome.kind === 'paused') throw new AppError(503, 'ENDPOINT_PAUSED', 'endpoint is paused');
  if (outcome.kind === 'refused') throw unauthorized();
  const status = endpoint.ingest_response_code;
  if (status === 204) {
    res.status(204).end();
    return;
  }
  res.status(status).json({
    data: { event_id: outcome.id, received_at: outcome.receivedAt.toISOString(), duplicate: outcome.kind === 'duplicate' },
    meta: meta(req),
  });
}
