import fs from 'node:fs';
import { parse } from 'yaml';
import { API_SPEC_PATH } from '../../src/app';

/** The JSON Schema keywords openapi.yaml uses (OpenAPI 3.1 schemas are JSON Schema 2020-12). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  minProperties?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  examples?: unknown[];
  example?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
const METHODS: HttpMethod[] = ['get', 'post', 'put', 'patch', 'delete'];

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  /** A query value may carry reserved characters (`:`, `/`, `@`...) without percent-encoding. */
  allowReserved: boolean;
  schema: JsonSchema;
}

/**
 * How an operation authenticates: an API key (its or the document's `security`), nothing, or the
 * secret in its URL (no `security`, and a `{token}` path parameter: the ingest URL).
 */
export type AuthKind = 'api-key' | 'url-token' | 'none';

export interface Operation {
  /** `GET /v1/pull-endpoints/{id}`: the key used in reports and statistics. */
  key: string;
  operationId: string;
  method: HttpMethod;
  /** The path template, as in openapi.yaml. */
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  /** `raw`: a body of any media type (the wildcard media range), sent as bytes; else a JSON body. */
  body: { required: boolean; schema: JsonSchema; raw: boolean } | undefined;
  auth: AuthKind;
  /** Every response the operation declares, by status or range (`2XX`), and what body it has. */
  responses: Map<string, DeclaredResponse>;
}

/** A declared response's body: JSON, other bytes (an event's raw payload), or none (a 204). */
export interface DeclaredResponse {
  content: 'json' | 'raw' | 'none';
}

/** The response declared for `status`: an exact status wins over a range (`2XX`), as OpenAPI says. */
export function declaredResponse(operation: Operation, status: number): DeclaredResponse | undefined {
  return operation.responses.get(String(status)) ?? operation.responses.get(`${String(status)[0]}XX`);
}

interface RawParameter {
  $ref?: string;
  name: string;
  in: Parameter['in'];
  required?: boolean;
  allowReserved?: boolean;
  schema: JsonSchema;
}
interface RawResponse {
  $ref?: string;
  content?: Record<string, unknown>;
}
interface RawOperation {
  operationId: string;
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  security?: Record<string, string[]>[];
  responses: Record<string, RawResponse>;
}
type RawPathItem = Partial<Record<HttpMethod, RawOperation>> & { parameters?: RawParameter[] };
interface RawDocument {
  security?: Record<string, string[]>[];
  paths: Record<string, RawPathItem>;
  components: Record<string, Record<string, unknown>>;
}

/** openapi.yaml, read as data: its operations, `$ref` resolution and route matching. */
export class Spec {
  readonly document: RawDocument;
  readonly operations: Operation[];

  constructor(specPath = API_SPEC_PATH) {
    this.document = parse(fs.readFileSync(specPath, 'utf8')) as RawDocument;
    this.operations = [];
    for (const [path, item] of Object.entries(this.document.paths)) {
      for (const method of METHODS) {
        const raw = item[method];
        if (raw) this.operations.push(this.operationOf(path, method, item, raw));
      }
    }
  }

  /** The object a local `$ref` such as `#/components/schemas/EventId` points at. */
  pointer(ref: string): unknown {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    let node: unknown = this.document;
    for (const raw of ref.slice(2).split('/')) {
      const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      node = (node as Record<string, unknown> | undefined)?.[part];
      if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    }
    return node;
  }

  /** Follows `$ref`s until a schema with content; sibling keywords of a `$ref` are kept. */
  resolve(schema: JsonSchema): JsonSchema {
    let current = schema;
    while (current.$ref) {
      const { $ref, ...siblings } = current;
      current = { ...(this.pointer($ref) as JsonSchema), ...siblings };
    }
    return current;
  }

  /** The operation a request for `method` and an already-normalised URL `pathname` reaches, if any. */
  route(method: string, pathname: string): Operation | undefined {
    const lower = method.toLowerCase();
    // Express matches a trailing slash too; literal segments win over parameters (`/events/ack`).
    const trimmed = pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname;
    const candidates = this.operations
      .filter((operation) => operation.method === lower)
      .sort((a, b) => a.pathParams.length - b.pathParams.length);
    return candidates.find((operation) => templateRegExp(operation.path).test(trimmed));
  }

  private parameter(raw: RawParameter): Parameter {
    const resolved = raw.$ref ? (this.pointer(raw.$ref) as RawParameter) : raw;
    return {
      name: resolved.name,
      in: resolved.in,
      required: resolved.required ?? false,
      allowReserved: resolved.allowReserved ?? false,
      schema: resolved.schema,
    };
  }

  private operationOf(path: string, method: HttpMethod, item: RawPathItem, raw: RawOperation): Operation {
    const parameters = [...(item.parameters ?? []), ...(raw.parameters ?? [])].map((p) => this.parameter(p));
    const security = raw.security ?? this.document.security ?? [];
    const schemes = security.flatMap((requirement) => Object.keys(requirement));
    const pathParams = parameters.filter((p) => p.in === 'path');
    const auth: AuthKind = schemes.includes('ApiKeyAuth') ? 'api-key' : pathParams.some((p) => p.name === 'token') ? 'url-token' : 'none';
    const content = raw.requestBody?.content ?? {};
    const media = content['application/json'] ?? content['*/*'];
    const responses = new Map<string, DeclaredResponse>();
    for (const [status, response] of Object.entries(raw.responses)) {
      const resolved = response.$ref ? (this.pointer(response.$ref) as RawResponse) : response;
      const types = Object.keys(resolved.content ?? {});
      responses.set(status, { content: types.includes('application/json') ? 'json' : types.length > 0 ? 'raw' : 'none' });
    }
    return {
      key: `${method.toUpperCase()} ${path}`,
      operationId: raw.operationId,
      method,
      path,
      pathParams,
      queryParams: parameters.filter((p) => p.in === 'query'),
      body: media ? { required: raw.requestBody?.required ?? false, schema: media.schema, raw: !content['application/json'] } : undefined,
      auth,
      responses,
    };
  }
}

function templateRegExp(template: string): RegExp {
  const escaped = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${escaped}$`);
}
