import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { contract } from '../support/contract';
import { describeRequest, type FuzzRequest } from './requests';
import type { JsonSchema, Spec } from './openapi';

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
  text: string;
}

export async function send(baseUrl: string, request: FuzzRequest): Promise<Outcome> {
  try {
    const response = await fetch(`${baseUrl}${request.target}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined && { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    return { request, status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    throw new Error(`no response: ${String(error)}\n${describeRequest(request)}`, { cause: error });
  }
}

/** Counts for the closing log line and the coverage check. */
export class FuzzStats {
  valid = 0;
  invalid = 0;
  readonly statuses: Record<string, number> = {};
  /** `operation key` -> statuses seen per kind, e.g. `valid 200`. */
  readonly coverage = new Map<string, Set<string>>();

  record(outcome: Outcome): void {
    const { request, status } = outcome;
    this[request.kind] += 1;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    const seen = this.coverage.get(request.operation.key) ?? new Set<string>();
    seen.add(`${request.kind} ${status}`);
    this.coverage.set(request.operation.key, seen);
  }

  get total(): number {
    return this.valid + this.invalid;
  }
}

function errorCode(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | null)?.error?.code;
}

function errorMessage(body: unknown): string {
  return (body as { error?: { message?: string } } | null)?.error?.message ?? '';
}

/**
 * 400s a request that satisfies the schemas may still get: the spec documents them in prose.
 * Anything else refused as INVALID_REQUEST means the server and the contract disagree.
 */
const DOCUMENTED_400S = [/cursor/, /must not be later than/, /NUL/, /nest deeper than 200/];

/** What is wrong with a valid request's answer beyond the contract itself, if anything. */
function validProblem(outcome: Outcome, body: unknown): string | undefined {
  const { request, status } = outcome;
  const ingest = request.operation.auth === 'ingest-token';
  if (status < 300) return undefined;
  switch (status) {
    case 400:
      return DOCUMENTED_400S.some((pattern) => pattern.test(errorMessage(body))) ? undefined : 'a request the contract accepts was refused as invalid';
    case 401:
      // An ingest URL of a deleted or unknown endpoint has no valid token; API keys are all live.
      return ingest ? undefined : 'a live API key was refused';
    case 404:
    case 410:
      return undefined;
    case 503:
      return ingest && errorCode(body) === 'ENDPOINT_PAUSED' ? undefined : 'unexpected 503';
    default:
      return `a request the contract accepts was answered ${status}`;
  }
}

/**
 * Checks one answer against the contract and throws, with a reproduction, when it breaks it:
 * - the status is declared for the operation the URL reaches (an unknown route may answer
 *   404 NOT_FOUND), and the body matches that status's schema (test/support/contract.ts);
 * - never 5xx, except the spec's 503 ENDPOINT_PAUSED of a paused endpoint's ingest URL;
 * - X-Request-Id is a request id, equal to meta.request_id;
 * - an invalid request gets one of the statuses its defect calls for; a valid request is not
 *   refused for anything but what the spec documents (a stale cursor, a missing endpoint...).
 */
export function checkOutcome(spec: Spec, schemas: SchemaValidator, outcome: Outcome): void {
  const { request, status, headers, text } = outcome;
  const fail = (problem: string): never => {
    throw new Error(`${problem}\n${describeRequest(request)}\n-> ${status} ${text.length > 600 ? `${text.slice(0, 600)}...` : text}`);
  };

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`the answer is not JSON (Content-Type ${headers.get('content-type')})`);
  }
  if (!(headers.get('content-type') ?? '').startsWith('application/json')) fail(`Content-Type is ${headers.get('content-type')}`);
  const requestId = headers.get('x-request-id');
  if (!requestId || !REQUEST_ID.test(requestId)) fail(`X-Request-Id is ${JSON.stringify(requestId)}`);

  const ingest = request.operation.auth === 'ingest-token';
  if (status >= 500 && !(status === 503 && ingest && errorCode(body) === 'ENDPOINT_PAUSED')) fail(`server error ${status}`);

  const pathname = new URL(request.target, 'http://localhost').pathname;
  const reached = spec.route(request.method, pathname);
  try {
    if (reached) {
      contract.check(reached.path, request.method, status, headers, body);
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
}
