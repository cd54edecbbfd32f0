import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { contract } from '../support/contract';
import { describeRequest, type FuzzRequest } from './requests';
import { declaredResponse, type DeclaredResponse, type JsonSchema, type Operation, type Spec } from './openapi';
import { SETTINGS_400S } from './settings-bodies';

const REQUEST_ID = /^req_[A-Za-z0-9_-]{16,}$/;
// As in src/app.ts: ajv-formats' uuid also takes `urn:uuid:`, which the server refuses.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An ajv over openapi.yaml configured as the server's request validator is (full formats, the
 * server's uuid), for checking the generators and for the error body of an unknown route.
 */
export class SchemaValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(spec: Spec) {
    this.ajv = new Ajv2020({ strict: false, allErrors: false });
    addFormats(this.ajv, { mode: 'full' });
    this.ajv.addFormat('uuid', UUID);
    this.ajv.addSchema({ ...spec.document, $id: 'openapi.json' } as object);
  }

  /** True when `value` satisfies `schema` (whose `$ref`s point into openapi.yaml). */
  valid(schema: JsonSchema, value: unknown): boolean {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebase(schema) as object);
      this.compiled.set(key, validate);
    }
    return validate(value);
  }

  errors(): string {
    return this.ajv.errorsText();
  }
}

/** `#/components/...` refs made absolute, so that a schema compiled on its own resolves them. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `openapi.json${v}` : rebase(v)]),
  );
}

export interface Outcome {
  request: FuzzRequest;
  status: number;
  headers: Headers;
  bytes: Buffer;
  /** The bytes as UTF-8. */
  text: string;
  /** When the request was sent and its answer read (Date.now()), to bound the times an answer states. */
  sentAt: number;
  answeredAt: number;
}

export async function send(baseUrl: string, request: FuzzRequest): Promise<Outcome> {
  const sentAt = Date.now();
  try {
    const response = await fetch(`${baseUrl}${request.target}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined && { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    return { request, status: response.status, headers: response.headers, bytes, text: bytes.toString('utf8'), sentAt, answeredAt: Date.now() };
  } catch (error) {
    throw new Error(`no response: ${String(error)}\n${describeRequest(request)}`, { cause: error });
  }
}

function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | null)?.error?.code;
}

function errorMessage(body: unknown): string {
  return (body as { error?: { message?: string } } | null)?.error?.message ?? '';
}

/**
 * 400s a request that satisfies the schemas may still get: the spec documents them in prose, and
 * an endpoint's settings are checked as a whole (a combination a PATCH leaves inconsistent).
 * Anything else refused as INVALID_REQUEST means the server and the contract disagree.
 */
const DOCUMENTED_400S = [/^cursor (is malformed|belongs to another list|was issued for other filters)/, /must not be later than/, /NUL/, /nest deeper than 200/];

function documented400(operation: Operation, message: string): boolean {
  const settings = operation.operationId === 'createPullEndpoint' || operation.operationId === 'updatePullEndpoint' ? SETTINGS_400S : [];
  return [...DOCUMENTED_400S, ...settings].some((pattern) => pattern.test(message));
}

/** What is wrong with a valid request's answer beyond the contract itself, if anything. */
function validProblem(outcome: Outcome, body: unknown): string | undefined {
  const { request, status } = outcome;
  if (request.expected) return request.expected.includes(status) ? undefined : `expected ${request.expected.join(' or ')} from this endpoint`;
  const ingest = request.operation.auth === 'url-token';
  if (status < 300) return undefined;
  switch (status) {
    case 400:
      return documented400(request.operation, errorMessage(body)) ? undefined : 'a request the contract accepts was refused as invalid';
    case 401:
      // An unknown, deleted or rotated token, or one a valid PATCH gave checks; API keys are all live.
      return ingest ? undefined : 'a live API key was refused';
    case 403:
      return ingest ? undefined : 'unexpected 403';
    case 404:
    case 410:
      return undefined;
    case 503:
      return ingest && errorCode(body) === 'ENDPOINT_PAUSED' ? undefined : 'unexpected 503';
    default:
      return `a request the contract accepts was answered ${status}`;
  }
}

/** What is wrong with an answer declared without a JSON body (none, or an event's raw payload). */
function rawAnswerProblem(outcome: Outcome, declared: DeclaredResponse): string | undefined {
  const { headers, bytes } = outcome;
  if (headers.get('x-content-type-options') !== 'nosniff') return 'X-Content-Type-Options is not nosniff';
  if (declared.content === 'none') return bytes.length === 0 ? undefined : `a ${outcome.status} with a body`;
  // The sender's bytes, from this API's origin: never to be run as a page.
  if (!(headers.get('content-disposition') ?? '').startsWith('attachment')) return `Content-Disposition is ${headers.get('content-disposition')}`;
  if (!/\bsandbox\b/.test(headers.get('content-security-policy') ?? '')) return `Content-Security-Policy is ${headers.get('content-security-policy')}`;
  return undefined;
}

/**
 * Checks one answer against the contract and throws, with a reproduction, when it breaks it:
 * - the status is declared for the operation the URL reaches (an unknown route may answer
 *   404 NOT_FOUND), and the body matches that status's schema (test/support/contract.ts), or is
 *   no JSON where the status declares none (a 204, a raw payload);
 * - never 5xx, except the spec's 503 ENDPOINT_PAUSED of a paused endpoint's ingest URL;
 * - X-Request-Id is a request id, equal to meta.request_id;
 * - an invalid request gets one of the statuses its defect calls for; a valid request is not
 *   refused for anything but what the spec documents (a stale cursor, a missing endpoint...),
 *   and gets exactly what its ingest endpoint is set to answer when that is known;
 * - a refusal carries the error code the request names, if it names one (404 ENDPOINT_NOT_FOUND
 *   for a project view's endpoint of another project).
 */
export function checkOutcome(spec: Spec, schemas: SchemaValidator, outcome: Outcome): void {
  const { request, status, headers, text } = outcome;
  const fail = (problem: string): never => {
    throw new Error(`${problem}\n${describeRequest(request)}\n-> ${status} ${text.length > 600 ? `${text.slice(0, 600)}...` : text}`);
  };

  const requestId = headers.get('x-request-id');
  if (!requestId || !REQUEST_ID.test(requestId)) fail(`X-Request-Id is ${JSON.stringify(requestId)}`);
  const pathname = new URL(request.target, 'http://localhost').pathname;
  const reached = spec.route(request.method, pathname);
  const declared = reached && declaredResponse(reached, status);

  let body: unknown;
  if (declared && declared.content !== 'json') {
    const problem = rawAnswerProblem(outcome, declared);
    if (problem) fail(problem);
  } else {
    try {
      body = JSON.parse(text);
    } catch {
      fail(`the answer is not JSON (Content-Type ${headers.get('content-type')})`);
    }
    if (!(headers.get('content-type') ?? '').startsWith('application/json')) fail(`Content-Type is ${headers.get('content-type')}`);
  }

  const ingest = request.operation.auth === 'url-token';
  if (status >= 500 && !(status === 503 && ingest && errorCode(body) === 'ENDPOINT_PAUSED')) fail(`server error ${status}`);

  try {
    if (reached) {
      if (!declared) return fail(`${reached.key} answered ${status}, which it does not declare`);
      if (declared.content === 'json') contract.check(reached.path, request.method, status, headers, body);
    } else {
      if (status !== 404 || errorCode(body) !== 'NOT_FOUND') fail(`an unknown route answered ${status} ${errorCode(body)}, not 404 NOT_FOUND`);
      if (!schemas.valid({ $ref: '#/components/schemas/Error' }, body)) fail(`the 404 body is not an Error: ${schemas.errors()}`);
      if ((body as { meta: { request_id: string } }).meta.request_id !== requestId) fail('X-Request-Id differs from meta.request_id');
    }
  } catch (error) {
    fail((error as Error).message.split('\n')[0]!);
  }

  if (request.kind === 'invalid') {
    if (!request.expected!.includes(status)) {
      fail(status < 300 ? 'an invalid request was accepted' : `expected ${request.expected!.join(' or ')} for this defect`);
    }
  } else {
    const problem = validProblem(outcome, body);
    if (problem) fail(problem);
  }
  if (request.code !== undefined && status >= 400 && errorCode(body) !== request.code) fail(`expected error code ${request.code}`);
}
