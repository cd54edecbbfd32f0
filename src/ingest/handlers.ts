import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import type { Request, RequestHandler, Response } from 'express';
import getRawBody from 'raw-body';
import type { components } from '../../generated/openapi';
import type { SecretBox } from '../auth/encryption';
import type { FailedAuthGuard } from '../auth/failed-auth';
import { sha256Hex } from '../auth/secrets';
import type { Database } from '../db/prisma';
import { noRoute } from '../http/error-handler';
import { AppError } from '../http/errors';
import type { RateLimiter } from '../http/rate-limit';
import { tagOperation } from '../http/operation';
import { meta } from '../http/request-id';
import type { Telemetry, WebhookRefusal } from '../telemetry/registry';
import { EndpointCache } from './endpoint-cache';
import { eventTypeOf } from './event-type';
import { storedHeaders, storedQuery } from './headers';
import { findEndpointByToken, recordRejection, storeEvent, type IngestEndpointRow } from './repository';
import { displayAddress, idempotencyKey, ipAllowed, signatureRefusal, staticTokenRefusal } from './verification';

export interface IngestOptions {
  db: Database;
  box: SecretBox;
  limiter: RateLimiter;
  /** Counts unknown tokens per sender address; over budget, a token not known good is refused unlooked-up. */
  failedAuth: FailedAuthGuard;
  bodyLimitBytes: number;
  /** Called once a new event is committed (long polling's wake-up). */
  onStored?: (endpointId: string) => void;
  telemetry: Telemetry;
}

// ignoreBOM keeps a byte order mark in the text, where JSON.parse refuses it: such a body is not
// JSON text that can be placed in an answer as it is.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const INGEST_OPERATION = { operationId: 'ingestPullEvent', route: '/pull/{token}' };

/** The one answer to every credential failure: it does not say which check failed. */
const unauthorized = () => new AppError(401, 'UNAUTHORIZED', 'Invalid or missing ingest credentials');
const paused = () => new AppError(503, 'ENDPOINT_PAUSED', 'endpoint is paused');

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
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] ?? null });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') throw new Refusal('too_large', new AppError(413, 'PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`));
    // The sender went away (or cut the body short): nothing to store, and no fault of ours.
    if (type === 'request.aborted' || type === 'stream.not.readable' || type === 'request.size.invalid') {
      throw AppError.invalidRequest('the request body was cut off before its announced length');
    }
    throw error;
  }
}

/** A webhook the endpoint's settings refuse; recorded in its rejections once they are known to be current. */
class Refusal {
  constructor(
    readonly reason: components['schemas']['RejectionReason'],
    readonly error: AppError,
    /** The body's length once it was read. */
    readonly sizeBytes?: number,
  ) {}
}

type Outcome = { kind: 'refused'; refusal: Refusal; body?: Buffer } | { kind: 'stale'; body: Buffer } | { kind: 'answered' };

/**
 * `POST /pull/<token>`, mounted with `app.use('/pull', ...)`: the ingest URL. Outside the contract validator, since its body is any
 * bytes and its credential is the URL; its answers are declared in openapi.yaml all the same.
 * Checks run cheapest first, and the body is read only once the sender passed those that do not
 * need it. A verdict reached on a cached endpoint that is not "stored" is reached again on a fresh
 * look-up before it is answered; every refusal of a known endpoint is recorded in its rejections.
 */
export function ingestHandler({ db, box, limiter, failedAuth, bodyLimitBytes, onStored, telemetry }: IngestOptions): RequestHandler {
  const cache = new EndpointCache();
  const refused = (reason: WebhookRefusal) => telemetry.webhooksRejected.inc({ reason });

  const lookUp = async (req: Request, tokenHash: string): Promise<IngestEndpointRow> => {
    const sender = req.ip ?? req.socket.remoteAddress ?? '';
    const endpoint = await failedAuth.attempt(sender, tokenHash, () => findEndpointByToken(db, tokenHash));
    if (!endpoint) {
      cache.delete(tokenHash);
      refused('unknown_token');
      req.log?.debug({ ingestRefusal: 'unknown_token' }, 'ingest refused: no live endpoint has this token');
      throw unauthorized();
    }
    cache.set(tokenHash, endpoint);
    return endpoint;
  };

  /** Checks the webhook against `endpoint`'s settings and stores it if they allow. */
  const attempt = async (
    req: Request,
    res: Response,
    endpoint: IngestEndpointRow,
    tokenHash: string,
    arrived: number,
    read?: Buffer,
  ): Promise<Outcome> => {
    const query = rawQuery(req);
    const refused = (refusal: Refusal, body?: Buffer): Outcome => ({ kind: 'refused', refusal, ...(body && { body }) });
    if (endpoint.paused) return refused(new Refusal('paused', paused()), read);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      const error = new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', `unsupported content encoding "${encoding}": send the body uncompressed`);
      return refused(new Refusal('unsupported_encoding', error), read);
    }
    if (!ipAllowed(endpoint, req.ip ?? '')) {
      return refused(new Refusal('ip_not_allowed', new AppError(403, 'FORBIDDEN', "the sender's address is not allowed to deliver to this URL")), read);
    }
    const tokenRefusal = staticTokenRefusal(endpoint, req.headers, query);
    if (tokenRefusal) return refused(new Refusal(tokenRefusal, unauthorized()), read);

    let body: Buffer;
    try {
      body = read ?? (await readBody(req, bodyLimitBytes));
    } catch (error) {
      if (error instanceof Refusal) return refused(error);
      throw error;
    }
    const signature = signatureRefusal(endpoint, box, req.headers, body);
    if (signature) return refused(new Refusal(signature, unauthorized(), body.length), body);

    const contentType = req.headers['content-type'];
    const json = parseJson(contentType, body);
    const outcome = await storeEvent(db, {
      endpointId: endpoint.id,
      configVersion: endpoint.config_version,
      tokenHash,
      eventType: eventTypeOf({ source: endpoint.event_type_source, path: endpoint.event_type_path }, req.headers, json?.value),
      headers: storedHeaders(req.headers, endpoint.token_header_name),
      contentType: contentType ?? null,
      payload: body,
      payloadIsJson: json !== undefined,
      queryString: storedQuery(query, endpoint.token_query_param),
      idempotencyKey: idempotencyKey(endpoint.idempotency_header_names, req.headers),
      processingMs: Math.round(performance.now() - arrived),
    });
    if (outcome.kind === 'changed') return { kind: 'stale', body };
    if (outcome.kind !== 'duplicate') {
      telemetry.events.ingested.inc();
      onStored?.(endpoint.id);
    }
    answer(req, res, endpoint.ingest_response_code, outcome.id, outcome.receivedAt, outcome.kind === 'duplicate');
    return { kind: 'answered' };
  };

  const record = async (req: Request, res: Response, endpoint: IngestEndpointRow, refusal: Refusal) => {
    const announced = Number(req.headers['content-length']);
    // The sender gets its answer even when the record cannot be written.
    await recordRejection(db, {
      endpointId: endpoint.id,
      projectId: endpoint.project_id,
      reason: refusal.reason,
      sourceIp: displayAddress(req.ip ?? req.socket.remoteAddress ?? 'unknown'),
      method: req.method,
      queryString: storedQuery(rawQuery(req), endpoint.token_query_param),
      contentType: req.headers['content-type'] ?? null,
      sizeBytes: refusal.sizeBytes ?? (Number.isSafeInteger(announced) ? announced : null),
      headers: storedHeaders(req.headers, endpoint.token_header_name),
    }).catch((failure: unknown) => req.log?.error({ err: failure }, 'recording a rejected webhook failed'));
  };

  const handle = async (req: Request, res: Response, token: string) => {
    const arrived = performance.now();
    const tokenHash = sha256Hex(token);
    const cached = cache.get(tokenHash);
    let endpoint = cached ?? (await lookUp(req, tokenHash));
    await limiter.consume(endpoint.id);

    let outcome = await attempt(req, res, endpoint, tokenHash, arrived);
    // A body over the limit is refused whatever the settings, and cannot be read a second time.
    const settingsDecided = outcome.kind === 'stale' || (outcome.kind === 'refused' && outcome.refusal.reason !== 'too_large');
    if (settingsDecided && cached && outcome.kind !== 'answered') {
      // The cached settings may be out of date: decide again on the endpoint as it is now.
      endpoint = await lookUp(req, tokenHash);
      outcome = await attempt(req, res, endpoint, tokenHash, arrived, outcome.body);
    }
    if (outcome.kind === 'answered') return;
    if (outcome.kind === 'stale') {
      // Changed between the fresh look-up and the store: paused, deleted or its token rotated out.
      cache.delete(tokenHash);
      const isPaused = (await findEndpointByToken(db, tokenHash))?.paused === true;
      refused(isPaused ? 'paused' : 'unknown_token');
      throw isPaused ? paused() : unauthorized();
    }
    refused(outcome.refusal.reason);
    await record(req, res, endpoint, outcome.refusal);
    throw outcome.refusal.error;
  };

  // Mounted at /pull. The token is taken as sent, not percent-decoded (tokens never need it), and
  // anything else under /pull is a 404 before any body reader sees it.
  return (req, res, next) => {
    const token = req.method === 'POST' ? INGEST_PATH.exec(req.path)?.[1] : undefined;
    if (token === undefined) return next(noRoute({ method: req.method, path: `${req.baseUrl}${req.path}` }));
    tagOperation(req, INGEST_OPERATION);
    return handle(req, res, token).catch((error: unknown) => {
      // Over the endpoint's budget, or the sender's budget of failed tokens.
      if (error instanceof AppError && error.status === 429) refused('rate_limited');
      throw error;
    });
  };
}

/** `/<token>` or `/<token>/` under the /pull mount. */
const INGEST_PATH = /^\/([^/]+)\/?$/;

function answer(req: Request, res: Response, status: number, eventId: string, receivedAt: Date, duplicate: boolean) {
  // HTTP gives 204 and 205 no content.
  if (status === 204 || status === 205) {
    res.status(status).end();
    return;
  }
  res.status(status).json({ data: { event_id: eventId, received_at: receivedAt.toISOString(), duplicate }, meta: meta(req) });
}
