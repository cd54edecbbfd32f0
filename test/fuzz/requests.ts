import fc from 'fast-check';
import type { EndpointFixture, Fixtures } from './fixtures';
import {
  BAD_DATE_TIMES,
  METACHARACTERS,
  badUuids,
  flatten,
  invalidValue,
  longString,
  nastyString,
  validValue,
  type SchemaContext,
} from './schema-arbitraries';
import type { Operation, Parameter, Spec } from './openapi';

/** The server's body limits; the test server is started with these. */
export const BODY_LIMIT_BYTES = 64 * 1024;
export const INGEST_BODY_LIMIT_BYTES = 1024 * 1024;

/** One HTTP request as sent, with what it was meant to test. */
export interface FuzzRequest {
  kind: 'valid' | 'invalid';
  /** The operation the request was derived from. */
  operation: Operation;
  /** For an invalid request, what is wrong with it. */
  defect: string | undefined;
  /** For an invalid request, the statuses the contract allows for that defect. */
  expected: number[] | undefined;
  method: string;
  /** Path and query, percent-encoded. */
  target: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

/** A request before it is encoded: what the generators build and the defects change. */
interface Draft {
  method: string;
  pathValues: Record<string, string>;
  /** Overrides the operation's path template (unknown routes). */
  rawPath?: string;
  query: [string, string][];
  /** Overrides `query`, sent as is (e.g. reserved characters left unencoded). */
  rawQuery?: string;
  headers: Record<string, string>;
  body: { json: unknown } | { text: string } | { bytes: Buffer } | undefined;
}

interface Target {
  /** The fixture the path's endpoint id names, or undefined for a random id. */
  endpoint: EndpointFixture | undefined;
  id: string;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** RFC 3986 percent-encoding: everything but unreserved characters (encodeURIComponent leaves !'()*). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function limitFor(operation: Operation): number {
  return operation.auth === 'ingest-token' ? INGEST_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES;
}

function bodyBytes(body: Draft['body']): Buffer | undefined {
  if (body === undefined) return undefined;
  if ('bytes' in body) return body.bytes;
  return Buffer.from('text' in body ? body.text : JSON.stringify(body.json), 'utf8');
}

function encode(operation: Operation, draft: Draft): { target: string; body: Buffer | undefined } {
  const path = draft.rawPath ?? operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => percentEncode(draft.pathValues[name] ?? ''));
  const query = draft.rawQuery ?? draft.query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  return { target: query ? `${path}?${query}` : path, body: bodyBytes(draft.body) };
}

function preview(body: Buffer | undefined): string {
  if (body === undefined) return '(no body)';
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) return `bytes ${body.toString('hex').slice(0, 600)} (not UTF-8)`;
  const shown = text.length > 300 ? `${text.slice(0, 300)}... (${body.length} bytes)` : text;
  return JSON.stringify(shown);
}

/** How a request is shown in failure reports (fast-check prints counterexamples with it). */
export function describeRequest(request: FuzzRequest): string {
  const what = request.kind === 'valid' ? 'valid' : `invalid, ${request.defect}, expecting ${request.expected?.join(' or ')}`;
  const target = request.target.length > 300 ? `${request.target.slice(0, 300)}... (${request.target.length} chars)` : request.target;
  return `${request.method} ${target} [${request.operation.key}: ${what}]\n  headers ${JSON.stringify(request.headers)}\n  body ${preview(request.body)}`;
}

function finish(kind: FuzzRequest['kind'], operation: Operation, draft: Draft, defect?: string, expected?: number[]): FuzzRequest {
  const { target, body } = encode(operation, draft);
  let statuses = expected;
  // A body over the limit is refused with 413 before it is validated (credentials come first).
  if (kind === 'invalid' && body && body.length > limitFor(operation) && !expected?.includes(401) && !expected?.includes(404)) {
    statuses = [413];
  }
  const request: FuzzRequest = {
    kind,
    operation,
    defect,
    expected: statuses,
    method: draft.method,
    target,
    headers: draft.headers,
    body,
  };
  return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
}

// ---------------------------------------------------------------------------------------------
// Valid parts

/** Printable ASCII header values (fetch refuses others), metacharacters included. */
const headerValue = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }),
  fc.constantFrom(METACHARACTERS.join(''), "' OR '1'='1", '"; DROP TABLE pull_events; --', '{"a":[1]}', '%00%27', '/* */'),
);

function endpointTarget(operation: Operation, fx: Fixtures, kind: FuzzRequest['kind']): fc.Arbitrary<Target> {
  if (kind === 'invalid' && operation.auth === 'ingest-token') {
    // The ingest URL checks the token before anything else: a broken webhook is sent to an
    // endpoint that is live for the whole run, or its defect would hide behind a 401.
    return fc.tuple(fc.constantFrom(fx.main, fx.paused, fx.foreign), fc.nat({ max: 5 })).map(([endpoint, dice]) => ({
      endpoint,
      id: dice === 5 ? endpoint.id.toUpperCase() : endpoint.id,
    }));
  }
  // Deleting an endpoint, or every event of one, is kept off the long-lived fixtures.
  const destructive = operation.operationId === 'deletePullEndpoint' || operation.operationId === 'deleteAllPullEvents';
  const known = fc.oneof(
    ...(destructive
      ? []
      : [
          { weight: 4, arbitrary: fc.constant(fx.main) },
          { weight: 2, arbitrary: fc.constant(fx.paused) },
        ]),
    { weight: 3, arbitrary: fc.constantFrom(...fx.disposable) },
    { weight: 1, arbitrary: fc.constant(fx.deleted) },
    { weight: 1, arbitrary: fc.constant(fx.foreign) },
  );
  return fc.oneof(
    { weight: 10, arbitrary: fc.tuple(known, fc.nat({ max: 5 })).map(([endpoint, dice]) => ({ endpoint, id: dice === 5 ? endpoint.id.toUpperCase() : endpoint.id })) },
    { weight: 1, arbitrary: fc.oneof(fc.uuid({ version: 7 }), fc.uuid(), fc.constantFrom(NIL_UUID, MAX_UUID)).map((id) => ({ endpoint: undefined, id })) },
  );
}

/** Event ids for requests on `target`: mostly its own events, sometimes others' or random ones. */
function eventIds(target: Target, fx: Fixtures): fc.Arbitrary<string> {
  const own = target.endpoint?.events ?? [];
  const everyEvent = fx.all.flatMap((e) => e.events);
  return fc.oneof(
    ...(own.length > 0
      ? [
          { weight: 8, arbitrary: fc.constantFrom(...own) },
          { weight: 1, arbitrary: fc.constantFrom(...own).map((id) => id.toUpperCase()) },
        ]
      : []),
    { weight: 1, arbitrary: fc.constantFrom(...everyEvent) },
    { weight: 1, arbitrary: fc.uuid({ version: 7 }) },
    { weight: 1, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom(NIL_UUID, MAX_UUID)) },
  );
}

function queryString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function validQuery(operation: Operation, ctx: SchemaContext, cursors: string[]): fc.Arbitrary<[string, string][]> {
  const pairs = operation.queryParams.map((parameter) => {
    const value =
      parameter.name === 'cursor' && cursors.length > 0
        ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...cursors) }, { weight: 1, arbitrary: validValue(parameter.schema, ctx).map(queryString) })
        : validValue(parameter.schema, ctx).map(queryString);
    // A cursor is rare: one from another list or for other filters is a documented 400.
    const absent = parameter.required ? 0 : parameter.name === 'cursor' ? 8 : 2;
    return fc
      .oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: value })
      .map((v): [string, string] | undefined => (v === undefined ? undefined : [parameter.name, v]));
  });
  return fc.tuple(...pairs).map((all) => all.filter((p): p is [string, string] => p !== undefined));
}

function validCredentials(operation: Operation, fx: Fixtures, target: Target): fc.Arbitrary<Record<string, string>> {
  switch (operation.auth) {
    case 'none':
      // Credentials where none are needed are ignored.
      return fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: headerValue.map((v) => ({ authorization: `Bearer ${v}` })) });
    case 'api-key':
      // RFC 7235: the scheme name is case-insensitive.
      return fc.constantFrom('Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER').map((scheme) => ({ authorization: `${scheme} ${fx.apiKey}` }));
    case 'ingest-token': {
      const token = (target.endpoint ?? fx.main).token;
      return fc.constantFrom<Record<string, string>>({ authorization: `Bearer ${token}` }, { 'x-ingest-token': token });
    }
  }
}

/** Media types are case-insensitive and may carry a UTF-8 charset; the plain form is the most common. */
const JSON_CONTENT_TYPES = fc.oneof(
  { weight: 3, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON') },
);

function extraHeaders(operation: Operation): fc.Arbitrary<Record<string, string>> {
  const names = ['x-fuzz', 'x-request-id', 'x-forwarded-for', ...(operation.auth === 'ingest-token' ? ['x-event-type', 'x-event-type', 'user-agent'] : [])];
  return fc.dictionary(fc.constantFrom(...names), headerValue, { maxKeys: 2 });
}

/** Webhook bodies nested as deep as the API allows (200 levels, see openapi.yaml), or deeper. */
function nested(min: number, max: number) {
  return fc
    .tuple(fc.integer({ min, max }), fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}']))
    .map(([depth, [open, close]]) => ({ text: `${open.repeat(depth)}1${close.repeat(depth)}` }));
}
const deeplyNested = nested(100, 200);
export const tooDeeplyNested = nested(201, 100_000);

function validBody(operation: Operation, ctx: SchemaContext): fc.Arbitrary<Draft['body']> {
  if (!operation.body) return fc.constant(undefined);
  const json = validValue(operation.body.schema, ctx).map((value) => ({ json: value }));
  if (operation.auth !== 'ingest-token') return json;
  return fc.oneof({ weight: 20, arbitrary: json }, { weight: 1, arbitrary: deeplyNested });
}

function validDraft(
  operation: Operation,
  spec: Spec,
  fx: Fixtures,
  cursors: string[],
  kind: FuzzRequest['kind'],
): fc.Arbitrary<{ draft: Draft; target: Target }> {
  return endpointTarget(operation, fx, kind).chain((target) => {
    const ctx: SchemaContext = { spec, uuid: eventIds(target, fx) };
    const pathValues: Record<string, fc.Arbitrary<string>> = {};
    for (const parameter of operation.pathParams) {
      pathValues[parameter.name] = parameter.name === 'id' ? fc.constant(target.id) : eventIds(target, fx);
    }
    return fc
      .record({
        pathValues: fc.record(pathValues),
        query: validQuery(operation, ctx, cursors),
        credentials: validCredentials(operation, fx, target),
        extra: extraHeaders(operation),
        contentType: JSON_CONTENT_TYPES,
        body: validBody(operation, ctx),
      })
      .map(({ pathValues: values, query, credentials, extra, contentType, body }) => ({
        target,
        draft: {
          method: operation.method.toUpperCase(),
          pathValues: values,
          query,
          headers: { ...extra, ...credentials, ...(body !== undefined && { 'content-type': contentType }) },
          body,
        },
      }));
  });
}

/** Requests the contract accepts; a valid body is never over the limit. */
export function validRequest(operation: Operation, spec: Spec, fx: Fixtures, cursors: string[]): fc.Arbitrary<FuzzRequest> {
  return validDraft(operation, spec, fx, cursors, 'valid')
    .map(({ draft }) => finish('valid', operation, draft))
    .filter((request) => (request.body?.length ?? 0) <= limitFor(operation));
}

// ---------------------------------------------------------------------------------------------
// Defects: each takes a valid draft and breaks it in one way.

interface Broken {
  draft: Draft;
  defect: string;
  expected: number[];
}

function withoutHeaders(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return withoutHeaders(headers, 'authorization', 'x-ingest-token');
}

function credentialDefects(operation: Operation, draft: Draft, target: Target, fx: Fixtures): fc.Arbitrary<Broken>[] {
  if (operation.auth === 'none') return [];
  const key = fx.apiKey;
  const token = (target.endpoint ?? fx.main).token;
  const otherToken = fx.all.find((e) => e.token !== token)!.token;
  const variants: [string, Record<string, string>][] =
    operation.auth === 'api-key'
      ? [
          ['no Authorization', {}],
          ['empty Authorization', { authorization: '' }],
          ['Bearer without a key', { authorization: 'Bearer' }],
          ['an unknown API key', { authorization: `Bearer pek_00000000_${'A'.repeat(32)}` }],
          ['a revoked API key', { authorization: `Bearer ${fx.revokedApiKey}` }],
          ['an ingest token instead of an API key', { authorization: `Bearer ${fx.main.token}` }],
          ['an ingest token in X-Ingest-Token', { 'x-ingest-token': fx.main.token }],
          ['the API key in X-Ingest-Token', { 'x-ingest-token': key }],
          ['the API key without a scheme', { authorization: key }],
          ['the API key with Basic', { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` }],
          ['the API key with scheme Token', { authorization: `Token ${key}` }],
          ['the API key and a suffix', { authorization: `Bearer ${key}x` }],
          ['the API key cut short', { authorization: `Bearer ${key.slice(0, -1)}` }],
          ['the API key in upper case', { authorization: `Bearer ${key.toUpperCase()}` }],
          ['the API key prefix only', { authorization: `Bearer ${key.split('_').slice(0, 2).join('_')}` }],
          ['the API key twice', { authorization: `Bearer ${key} ${key}` }],
          ['SQL in the Authorization header', { authorization: "Bearer ' OR '1'='1' --" }],
          ['an 8k Authorization header', { authorization: `Bearer ${'k'.repeat(8000)}` }],
        ]
      : [
          ['no token', {}],
          ['the API key instead of the token', { authorization: `Bearer ${key}` }],
          ['the API key in X-Ingest-Token', { 'x-ingest-token': key }],
          ["another endpoint's token", { authorization: `Bearer ${otherToken}` }],
          ["another endpoint's token in X-Ingest-Token", { 'x-ingest-token': otherToken }],
          ['the token and a suffix', { authorization: `Bearer ${token}x` }],
          ['the token in upper case', { 'x-ingest-token': token.toUpperCase() }],
          ['the token without a scheme', { authorization: token }],
          ['the token with Basic', { authorization: `Basic ${Buffer.from(`${token}:`).toString('base64')}` }],
          ['an empty X-Ingest-Token', { 'x-ingest-token': '' }],
          ['SQL in X-Ingest-Token', { 'x-ingest-token': "' OR '1'='1' --" }],
        ];
  return [
    fc.constantFrom(...variants).map(([defect, credentials]) => ({
      draft: { ...draft, headers: { ...withoutCredentials(draft.headers), ...credentials } },
      defect: `credentials: ${defect}`,
      expected: [401],
    })),
  ];
}

function pathDefects(operation: Operation, draft: Draft): fc.Arbitrary<Broken>[] {
  if (operation.pathParams.length === 0) return [];
  // The ingest URL authenticates first, and an id it cannot read has no token: 401.
  const expected = operation.auth === 'ingest-token' ? [401] : [400];
  return [
    fc
      .constantFrom(...operation.pathParams.map((p) => p.name))
      .chain((name) => fc.constantFrom(...badUuids(draft.pathValues[name] ?? NIL_UUID)).map((value) => ({ name, value })))
      .map(({ name, value }) => ({
        draft: { ...draft, pathValues: { ...draft.pathValues, [name]: value } },
        defect: `path parameter ${name} is ${JSON.stringify(value)}`,
        expected,
      })),
  ];
}

const UNKNOWN_PARAMETERS = ['foo', 'LIMIT', 'Status', 'limit ', 'token', 'api_key', 'access_token', '__proto__', 'constructor', 'id', 'preview[]', "'; --", '😀', '\u0000'];

const BAD_INTEGERS = ['abc', '1.5', '0.5', 'NaN', '1,2', '--1', '1;', "1'", '٣', 'true', '[]', '{}', '1 OR 1=1'];
const BAD_BOOLEANS = ['1', '0', 'yes', 'no', 'TRUE', 'False', 'on', 'null', "true'", 't'];

/** Query values the parameter's schema refuses (query strings are coerced, so not every JSON breakage applies). */
function badQueryValues(parameter: Parameter, spec: Spec): fc.Arbitrary<string> {
  const schema = flatten(parameter.schema, spec);
  const options: fc.Arbitrary<string>[] = [fc.constant('')];
  if (schema.type === 'integer') {
    const outOfRange = [
      ...(schema.minimum !== undefined ? [schema.minimum - 1, schema.minimum - 100] : []),
      ...(schema.maximum !== undefined ? [schema.maximum + 1, 2 ** 31, 2 ** 53] : []),
    ].map(String);
    options.push(fc.constantFrom(...BAD_INTEGERS, ...outOfRange));
  }
  if (schema.type === 'boolean') options.push(fc.constantFrom(...BAD_BOOLEANS));
  if (schema.enum) {
    const strings = schema.enum.map(String);
    options.push(fc.constantFrom(...strings.map((s) => s.toUpperCase()), ...strings.map((s) => `${s} `), 'lost', "stored' OR '1'='1").filter((v) => !strings.includes(v)));
  }
  if (schema.format === 'date-time') options.push(fc.constantFrom(...BAD_DATE_TIMES.filter((v) => v.trim() !== '')));
  if (schema.type === 'string' && schema.maxLength !== undefined) {
    const max = schema.maxLength;
    // ASCII only: a URL over 16 KiB is refused by Node before the app sees it.
    options.push(fc.tuple(fc.constantFrom('x', "'", '%', ';'), fc.integer({ min: max + 1, max: 4_000 })).map(([unit, n]) => unit.repeat(n)));
  }
  return fc.oneof(...options);
}

function queryDefects(operation: Operation, draft: Draft, spec: Spec): fc.Arbitrary<Broken>[] {
  const declared = new Set(operation.queryParams.map((p) => p.name));
  const out: fc.Arbitrary<Broken>[] = [
    fc
      .tuple(fc.constantFrom(...UNKNOWN_PARAMETERS.filter((n) => !declared.has(n))), nastyString(0, 30))
      .map(([name, value]) => ({
        draft: { ...draft, query: [...draft.query, [name, value]] },
        defect: `unknown query parameter ${JSON.stringify(name)}`,
        expected: [400],
      })),
  ];
  if (operation.queryParams.length > 0) {
    out.push(
      fc
        .constantFrom(...operation.queryParams)
        .chain((parameter) => badQueryValues(parameter, spec).map((value) => ({ parameter, value })))
        .map(({ parameter, value }) => ({
          draft: { ...draft, query: [...draft.query.filter(([k]) => k !== parameter.name), [parameter.name, value]] },
          defect: `query parameter ${parameter.name}=${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`,
          expected: [400],
        })),
      fc
        .constantFrom(...operation.queryParams)
        .chain((parameter) => validValue(parameter.schema, { spec, uuid: fc.uuid() }).map((v) => ({ parameter, value: queryString(v) })))
        .map(({ parameter, value }) => ({
          draft: { ...draft, query: [...draft.query.filter(([k]) => k !== parameter.name), [parameter.name, value], [parameter.name, value]] },
          defect: `query parameter ${parameter.name} given twice`,
          expected: [400],
        })),
      fc.constantFrom(...operation.queryParams).map((parameter) => ({
        // Reserved characters must be percent-encoded in a query value (allowReserved is false).
        draft: { ...draft, rawQuery: `${parameter.name}=2026-04-05T14:23:11Z'*` },
        defect: `query parameter ${parameter.name} with reserved characters not percent-encoded`,
        expected: [400],
      })),
    );
  }
  return out;
}

/** Whether the server's JSON body reader accepts `text`: a JSON object or array. */
function isJsonBody(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null;
  } catch {
    return false;
  }
}

function bodyDefects(operation: Operation, draft: Draft, ctx: SchemaContext): fc.Arbitrary<Broken>[] {
  if (!operation.body || draft.body === undefined) return [];
  const schema = operation.body.schema;
  const out: fc.Arbitrary<Broken>[] = [];
  if ('json' in draft.body) {
    const value = draft.body.json;
    out.push(
      invalidValue(schema, value, ctx).map((mutation) => ({
        draft: { ...draft, body: mutation.value === undefined ? undefined : { json: mutation.value } },
        defect: mutation.defect,
        expected: [400],
      })),
    );
  }
  const text = bodyBytes(draft.body)!.toString('utf8');
  const malformed = fc.oneof(
    fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => ({ text: text.slice(0, n), what: `cut after ${n} characters` })),
    fc.constantFrom(
      { text: `${text}}`, what: 'a stray }' },
      { text: `${text},`, what: 'a trailing comma' },
      { text: `${text}${text}`, what: 'two documents' },
      { text: `x${text}`, what: 'leading garbage' },
      { text: `)]}'\n${text}`, what: 'an XSSI prefix' },
      { text: text.replace('"', "'"), what: 'a single quote for a double quote' },
      { text: text.replace(/}$/, ',}'), what: 'a trailing comma in an object' },
      { text: 'NaN', what: 'NaN' },
      { text: 'undefined', what: 'undefined' },
      { text: "{'name': 'x'}", what: 'single-quoted JSON' },
      { text: '{name: "x"}', what: 'unquoted keys' },
      { text: '{"a":"\\x"}', what: 'a bad escape' },
      { text: '{"a":0x10}', what: 'a hex number' },
      { text: '{"a":"\u0000"}', what: 'a raw NUL in a string' },
      { text: '{"a":1 /* comment */}', what: 'a comment' },
      { text: '[', what: 'an open array' },
      { text: '{', what: 'an open object' },
      { text: ' ', what: 'only whitespace' },
    ),
    // Values JSON allows but an API body may not be.
    fc.constantFrom('"a string"', '42', 'null', 'true', '-0', '"\'; DROP TABLE pull_events; --"').map((t) => ({ text: t, what: `the JSON scalar ${t}` })),
  );
  out.push(
    // Some edits do nothing to some bodies (no quote to replace in `[]`): those are left out.
    malformed.filter(({ text: body }) => !isJsonBody(body)).map(({ text: body, what }) => ({
      draft: { ...draft, body: { text: body } },
      defect: `malformed JSON body: ${what}`,
      expected: [400],
    })),
    fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), Buffer.from([0xc0, 0xaf])).map((bytes) => ({
      draft: { ...draft, body: { bytes } },
      defect: `body that is not UTF-8 (${bytes.toString('hex')})`,
      // README: 415 for a body not sent as UTF-8 JSON; a parse error (400) is as good.
      expected: [400, 415],
    })),
    fc.constant({ draft: { ...draft, body: { text: '' } }, defect: 'an empty body (the body is required)', expected: [400] }),
    tooDeeplyNested.map((body) => ({ draft: { ...draft, body }, defect: 'JSON nested deeper than 200 levels', expected: [400] })),
    fc.constant({
      draft: { ...draft, body: undefined, headers: withoutContentType(draft.headers) },
      defect: 'no body and no Content-Type (the body is required)',
      expected: [400, 415],
    }),
  );
  return out;
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  return withoutHeaders(headers, 'content-type');
}

const BAD_CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/merge-patch+json',
  'application/vnd.api+json',
  'json',
  '*/*',
  'application/*',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=ascii',
  "application/json; charset='; DROP TABLE x; --",
];

function mediaTypeDefects(operation: Operation, draft: Draft): fc.Arbitrary<Broken>[] {
  if (!operation.body || draft.body === undefined) return [];
  return [
    fc.constantFrom(...BAD_CONTENT_TYPES).map((contentType) => ({
      draft: { ...draft, headers: { ...draft.headers, 'content-type': contentType } },
      defect: `Content-Type ${contentType}`,
      expected: [415],
    })),
    fc.constant({ draft: { ...draft, headers: withoutContentType(draft.headers) }, defect: 'no Content-Type', expected: [415] }),
    fc.constantFrom('gzip', 'deflate', 'br', 'x-unknown').map((encoding) => ({
      draft: { ...draft, headers: { ...draft.headers, 'content-encoding': encoding } },
      defect: `Content-Encoding ${encoding} on a plain body`,
      expected: [415],
    })),
  ];
}

function oversizedDefects(operation: Operation, draft: Draft): fc.Arbitrary<Broken>[] {
  if (!operation.body || draft.body === undefined) return [];
  const limit = limitFor(operation);
  const text = bodyBytes(draft.body)!.toString('utf8');
  return [
    fc.tuple(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(' ', '\n', '\t')).map(([extra, blank]) => ({
      // Still valid JSON: whitespace padding past the limit.
      draft: { ...draft, body: { text: text + blank.repeat(Math.max(0, limit - Buffer.byteLength(text)) + extra) } },
      defect: `a valid body padded past ${limit} bytes`,
      expected: [413],
    })),
    longString(limit + 1, limit + 5_000).map((filler) => ({
      draft: { ...draft, body: { json: { filler } } },
      defect: `a body with a ${filler.length}-character string, over ${limit} bytes`,
      expected: [413],
    })),
  ];
}

function routeDefects(operation: Operation, draft: Draft, spec: Spec): fc.Arbitrary<Broken>[] {
  const defined = new Set(spec.operations.filter((o) => o.path === operation.path).map((o) => o.method.toUpperCase()));
  const path = encode(operation, { ...draft, rawQuery: '' }).target;
  // A method the path lacks, unless the path then reads as another operation's (GET .../events/ack).
  const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !defined.has(m) && !spec.route(m, path));
  const out: fc.Arbitrary<Broken>[] = [
    fc.constantFrom('/nope', '/v2', '/v1/v1', '/%2e%2e-').map((prefix) => ({
      draft: { ...draft, rawPath: prefix + path },
      defect: `an unknown path (prefix ${prefix})`,
      expected: [404],
    })),
  ];
  if (others.length > 0) {
    out.push(
      fc.constantFrom(...others).map((method) => ({
        draft: { ...draft, method, body: method === 'GET' ? undefined : draft.body },
        defect: `method ${method}, which ${operation.path} does not have`,
        expected: [404],
      })),
    );
  }
  return out;
}

/** Requests broken in exactly one way, with the statuses the contract allows for it. */
export function invalidRequest(operation: Operation, spec: Spec, fx: Fixtures, cursors: string[]): fc.Arbitrary<FuzzRequest> {
  return validDraft(operation, spec, fx, cursors, 'invalid').chain(({ draft, target }) => {
    const ctx: SchemaContext = { spec, uuid: eventIds(target, fx) };
    const weighted = (weight: number, arbitraries: fc.Arbitrary<Broken>[]) => arbitraries.map((arbitrary) => ({ weight, arbitrary }));
    const defects = [
      ...weighted(3, credentialDefects(operation, draft, target, fx)),
      ...weighted(2, pathDefects(operation, draft)),
      ...weighted(2, queryDefects(operation, draft, spec)),
      ...weighted(6, bodyDefects(operation, draft, ctx)),
      ...weighted(2, mediaTypeDefects(operation, draft)),
      ...weighted(1, oversizedDefects(operation, draft)),
      ...weighted(1, routeDefects(operation, draft, spec)),
    ];
    return fc.oneof(...defects).map(({ draft: broken, defect, expected }) => finish('invalid', operation, broken, defect, expected));
  });
}
