/** Valid requests for the API's operations (all but the ingest URL), drawn from openapi.yaml. */
import fc from 'fast-check';
import type { Fixtures } from './fixtures';
import { expectedLeaseAnswer, leaseBody } from './lease-bodies';
import type { LeaseLedger } from './lease-ledger';
import type { Operation, Spec } from './openapi';
import { everyCursor, expectedAnswer, isProjectView, projectViewQuery, type Cursors } from './project-views';
import { finish, limitFor, type Draft, type FuzzRequest, type QueryPair } from './requests';
import { METACHARACTERS, validValue, type SchemaContext } from './schema-arbitraries';
import { consistentSettings } from './settings-bodies';
import { endpointTarget, eventIds, LEASE_OPERATIONS, type Target } from './targets';

/** Printable ASCII header values (fetch refuses control characters), metacharacters included. */
const headerValue = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }),
  fc.constantFrom(METACHARACTERS.join(''), "' OR '1'='1", '"; DROP TABLE pull_events; --', '{"a":[1]}', '%00%27', '/* */'),
);

export function queryString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function validQuery(operation: Operation, ctx: SchemaContext, cursors: string[]): fc.Arbitrary<QueryPair[]> {
  const pairs = operation.queryParams.map((parameter) => {
    const value =
      parameter.name === 'cursor' && cursors.length > 0
        ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...cursors) }, { weight: 1, arbitrary: validValue(parameter.schema, ctx).map(queryString) })
        : validValue(parameter.schema, ctx).map(queryString);
    // A cursor is rare: one from another list or for other filters is a documented 400.
    const absent = parameter.required ? 0 : parameter.name === 'cursor' ? 8 : 2;
    // `allowReserved`: `since=2026-03-01T00:00:00Z`, `/`, `:` and `@` may come unencoded.
    const keepReserved = parameter.allowReserved ? fc.boolean() : fc.constant(false);
    return fc
      .oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.tuple(value, keepReserved) })
      .map((v): QueryPair | undefined => (v === undefined ? undefined : [parameter.name, v[0], v[1]]));
  });
  return fc.tuple(...pairs).map((all) => all.filter((p): p is QueryPair => p !== undefined));
}

function validCredentials(operation: Operation, fx: Fixtures): fc.Arbitrary<Record<string, string>> {
  if (operation.auth === 'api-key') {
    // RFC 7235: the scheme name is case-insensitive.
    return fc.constantFrom('Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER').map((scheme) => ({ authorization: `${scheme} ${fx.apiKey}` }));
  }
  // Credentials where none are needed are ignored.
  return fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: headerValue.map((v) => ({ authorization: `Bearer ${v}` })) });
}

/** Media types are case-insensitive and may carry a UTF-8 charset; the plain form is the most common. */
const JSON_CONTENT_TYPES = fc.oneof(
  { weight: 3, arbitrary: fc.constant('application/json') },
  { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json;charset=UTF-8', 'Application/JSON') },
);

const extraHeaders = fc.dictionary(fc.constantFrom('x-fuzz', 'x-request-id', 'x-forwarded-for'), headerValue, { maxKeys: 2 });

const SETTINGS_OPERATIONS = ['createPullEndpoint', 'updatePullEndpoint'];

function validBody(operation: Operation, ctx: SchemaContext, target: Target, leases: LeaseLedger): fc.Arbitrary<Draft['body']> {
  if (!operation.body) return fc.constant(undefined);
  let value = validValue(operation.body.schema, ctx);
  if (LEASE_OPERATIONS.includes(operation.operationId)) value = leaseBody(operation, value, target, leases);
  if (SETTINGS_OPERATIONS.includes(operation.operationId)) {
    // Mostly consistent settings, so that most are stored; the rest may get a documented 400.
    value = fc.oneof(
      { weight: 3, arbitrary: value.chain((v) => consistentSettings(v as Record<string, unknown>)) },
      { weight: 1, arbitrary: value },
    );
  }
  const json = value.map((v) => ({ json: v }));
  return operation.body.required ? json : fc.oneof({ weight: 2, arbitrary: json }, { weight: 1, arbitrary: fc.constant(undefined) });
}

export function validApiDraft(operation: Operation, spec: Spec, fx: Fixtures, cursors: Cursors, leases: LeaseLedger): fc.Arbitrary<{ draft: Draft; target: Target }> {
  return endpointTarget(operation, fx).chain((target) => {
    const ctx: SchemaContext = { spec, uuid: eventIds(target, fx) };
    const pathValues: Record<string, fc.Arbitrary<string>> = {};
    for (const parameter of operation.pathParams) {
      pathValues[parameter.name] = parameter.name === 'id' ? fc.constant(target.id) : eventIds(target, fx);
    }
    return fc
      .record({
        pathValues: fc.record(pathValues),
        query: isProjectView(operation) ? projectViewQuery(operation, fx, cursors) : validQuery(operation, ctx, everyCursor(cursors)),
        credentials: validCredentials(operation, fx),
        extra: extraHeaders,
        contentType: JSON_CONTENT_TYPES,
        body: validBody(operation, ctx, target, leases),
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

function expectedOf(operation: Operation, draft: Draft, target: Target, fx: Fixtures, cursors: Cursors): { expected?: number[]; code?: string } {
  if (isProjectView(operation)) return expectedAnswer(operation, draft.query, fx, cursors);
  if (LEASE_OPERATIONS.includes(operation.operationId)) return expectedLeaseAnswer(operation, target, draft.body && 'json' in draft.body ? draft.body.json : undefined, fx);
  return {};
}

/**
 * Requests the contract accepts; a valid body is never over the limit. A project view's answer is
 * known from its query (project-views.ts): a 200, or the 400 or 404 its query calls for; so is
 * that of issue 9's operations on an endpoint that is gone (lease-bodies.ts).
 */
export function validApiRequest(operation: Operation, spec: Spec, fx: Fixtures, cursors: Cursors, leases: LeaseLedger): fc.Arbitrary<FuzzRequest> {
  return validApiDraft(operation, spec, fx, cursors, leases)
    .map(({ draft, target }) => finish('valid', operation, draft, expectedOf(operation, draft, target, fx, cursors)))
    .filter((request) => (request.body?.length ?? 0) <= limitFor(operation));
}
