import fc from 'fast-check';
import type { components } from '../../generated/openapi';
import type { Operation } from './openapi';

/** The server's body limits; the test server is started with these. */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const INGEST_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Node refuses a request head (request line and headers) over 16 KiB with 431 before the app sees
 * it. The generators keep every head below this, so a 431 is a failure, never the transport's
 * answer to an oversized request.
 */
export const MAX_HEAD_BYTES = 14 * 1024;

/** Why the ingest URL refused a webhook, as its rejection record says. */
export type RejectionReason = components['schemas']['RejectionReason'];

/** One HTTP request as sent, with what it was meant to test. */
export interface FuzzRequest {
  kind: 'valid' | 'invalid';
  /** The operation the request was derived from. */
  operation: Operation;
  /** For an invalid request, what is wrong with it. */
  defect: string | undefined;
  /**
   * The statuses the contract allows: for an invalid request, those its defect calls for; for a
   * valid one only when the answer is known exactly (an ingest fixture answers what it is set to).
   */
  expected: number[] | undefined;
  /** A refusal the ingest URL records for a known endpoint: the endpoint, and the reasons it may give. */
  rejection: { endpointId: string; reasons: RejectionReason[] } | undefined;
  /** The `error.code` the answer must carry, when `expected` allows exactly one error status. */
  code?: string;
  method: string;
  /** Path and query, as sent. */
  target: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/**
 * A query parameter; `keepReserved` leaves reserved characters unencoded (`allowReserved`), and
 * `'plus'` leaves `+` unencoded too (RFC 3986 counts it among them; form encoding reads it as a space).
 */
export type QueryPair = [name: string, value: string, keepReserved?: boolean | 'plus'];

/** A request before it is encoded: what the generators build and the defects change. */
export interface Draft {
  method: string;
  pathValues: Record<string, string>;
  /** Overrides the operation's path template (unknown routes, the ingest URL's odd paths). */
  rawPath?: string;
  query: QueryPair[];
  /** Overrides `query`, sent as is. */
  rawQuery?: string;
  headers: Record<string, string>;
  body: { json: unknown } | { text: string } | { bytes: Buffer } | undefined;
}

/** RFC 3986 percent-encoding: everything but unreserved characters (encodeURIComponent leaves !'()*). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Percent-encoding that leaves the reserved characters a query value may carry as they are
 * (`allowReserved: true`): all but those that delimit pairs (`&`, `=`), a fragment (`#`) or
 * mean a space (`+`).
 */
function reservedEncode(value: string): string {
  return percentEncode(value).replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B|5B|5D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function withoutHeaders(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
}

/** `draft` sending `query` as its raw query string, or its `query` pairs when undefined. */
export function withRawQuery(draft: Draft, query: string | undefined): Draft {
  const copy = { ...draft };
  delete copy.rawQuery;
  return query === undefined ? copy : { ...copy, rawQuery: query };
}

export function limitFor(operation: Operation): number {
  return operation.auth === 'url-token' ? INGEST_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES;
}

export function bodyBytes(body: Draft['body']): Buffer | undefined {
  if (body === undefined) return undefined;
  if ('bytes' in body) return body.bytes;
  return Buffer.from('text' in body ? body.text : JSON.stringify(body.json), 'utf8');
}

export function encode(operation: Operation, draft: Draft): { target: string; body: Buffer | undefined } {
  const path = draft.rawPath ?? operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => percentEncode(draft.pathValues[name] ?? ''));
  const query =
    draft.rawQuery ??
    draft.query
      .map(([k, v, keepReserved]) => {
        const value = keepReserved === 'plus' ? reservedEncode(v).replaceAll('%2B', '+') : keepReserved ? reservedEncode(v) : percentEncode(v);
        return `${percentEncode(k)}=${value}`;
      })
      .join('&');
  return { target: draft.rawQuery !== undefined || query ? `${path}?${query}` : path, body: bodyBytes(draft.body) };
}

function preview(body: Buffer | undefined): string {
  if (body === undefined) return '(no body)';
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) return `bytes ${body.toString('hex').slice(0, 600)}${body.length > 300 ? '...' : ''} (${body.length} bytes, not UTF-8)`;
  const shown = text.length > 300 ? `${text.slice(0, 300)}... (${body.length} bytes)` : text;
  return JSON.stringify(shown);
}

function shortHeaders(headers: Record<string, string>): string {
  const shown = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.length > 200 ? `${v.slice(0, 200)}... (${v.length} chars)` : v]));
  return JSON.stringify(shown);
}

/** How a request is shown in failure reports (fast-check prints counterexamples with it). */
export function describeRequest(request: FuzzRequest): string {
  const what = request.kind === 'valid' ? 'valid' : `invalid, ${request.defect}`;
  const expecting = request.expected ? `, expecting ${request.expected.join(' or ')}${request.code ? ` ${request.code}` : ''}` : '';
  const target = request.target.length > 300 ? `${request.target.slice(0, 300)}... (${request.target.length} chars)` : request.target;
  return `${request.method} ${target} [${request.operation.key}: ${what}${expecting}]\n  headers ${shortHeaders(request.headers)}\n  body ${preview(request.body)}`;
}

/** The bytes of the request line and headers, as Node counts them against its limit. */
function headBytes(target: string, headers: Record<string, string>): number {
  // fetch adds its own few headers (host, user-agent, accept...): well under 512 bytes.
  return 512 + target.length + Object.entries(headers).reduce((sum, [k, v]) => sum + k.length + Buffer.byteLength(v, 'latin1') + 4, 0);
}

export function finish(
  kind: FuzzRequest['kind'],
  operation: Operation,
  draft: Draft,
  outcome: { defect?: string; expected?: number[]; rejection?: FuzzRequest['rejection']; code?: string } = {},
): FuzzRequest {
  const { target, body } = encode(operation, draft);
  if (headBytes(target, draft.headers) > MAX_HEAD_BYTES) {
    throw new Error(`a generator made a request head over ${MAX_HEAD_BYTES} bytes: ${operation.key} ${outcome.defect ?? ''}`);
  }
  const request: FuzzRequest = {
    kind,
    operation,
    defect: outcome.defect,
    expected: outcome.expected,
    rejection: outcome.rejection,
    ...(outcome.code !== undefined && { code: outcome.code }),
    method: draft.method,
    target,
    headers: draft.headers,
    body,
  };
  return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
}
