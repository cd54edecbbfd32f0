/** Invalid requests for the API's operations: a valid one broken in exactly one way. */
import fc from 'fast-check';
import { queryString, validApiDraft } from './api-requests';
import { bodyDefects, mediaTypeDefects, oversizedDefects, type Broken } from './body-defects';
import type { Fixtures } from './fixtures';
import { knownBugDefect } from './known-bugs';
import type { LeaseLedger } from './lease-ledger';
import type { Operation, Parameter, Spec } from './openapi';
import { encode, finish, limitFor, withoutHeaders, withRawQuery, type Draft, type FuzzRequest } from './requests';
import { BAD_DATE_TIMES, badUuids, flatten, nastyString, validValue, type SchemaContext } from './schema-arbitraries';
import { projectViewDefects, type Cursors } from './project-views';
import { eventIds, NIL_UUID } from './targets';

function credentialDefects(operation: Operation, draft: Draft, fx: Fixtures): fc.Arbitrary<Broken>[] {
  if (operation.auth !== 'api-key') return [];
  const key = fx.apiKey;
  const variants: [string, Record<string, string>][] = [
    ['no Authorization', {}],
    ['empty Authorization', { authorization: '' }],
    ['Bearer without a key', { authorization: 'Bearer' }],
    ['an unknown API key', { authorization: `Bearer pek_00000000_${'A'.repeat(32)}` }],
    ['a revoked API key', { authorization: `Bearer ${fx.revokedApiKey}` }],
    ['an ingest token instead of an API key', { authorization: `Bearer ${fx.main.token}` }],
    ['an ingest token in X-Ingest-Token', { 'x-ingest-token': fx.main.token }],
    ['the API key in X-Ingest-Token', { 'x-ingest-token': key }],
    ['the API key in X-Api-Key', { 'x-api-key': key }],
    ['the API key without a scheme', { authorization: key }],
    ['the API key with Basic', { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` }],
    ['the API key with scheme Token', { authorization: `Token ${key}` }],
    ['the API key and a suffix', { authorization: `Bearer ${key}x` }],
    ['the API key cut short', { authorization: `Bearer ${key.slice(0, -1)}` }],
    ['the API key in upper case', { authorization: `Bearer ${key.toUpperCase()}` }],
    ['the API key prefix only', { authorization: `Bearer ${key.split('_').slice(0, 2).join('_')}` }],
    ['the API key twice', { authorization: `Bearer ${key} ${key}` }],
    ['SQL in the Authorization header', { authorization: "Bearer ' OR '1'='1' --" }],
    ['Latin-1 in the Authorization header', { authorization: `Bearer ${key}\u00e9` }],
    ['an 8k Authorization header', { authorization: `Bearer ${'k'.repeat(8000)}` }],
  ];
  return [
    fc.constantFrom(...variants).map(([defect, credentials]) => ({
      draft: { ...draft, headers: { ...withoutHeaders(draft.headers, 'authorization'), ...credentials } },
      defect: `credentials: ${defect}`,
      expected: [401],
    })),
  ];
}

function pathDefects(operation: Operation, draft: Draft): fc.Arbitrary<Broken>[] {
  if (operation.pathParams.length === 0) return [];
  return [
    fc
      .constantFrom(...operation.pathParams.map((p) => p.name))
      .chain((name) => fc.constantFrom(...badUuids(draft.pathValues[name] ?? NIL_UUID)).map((value) => ({ name, value })))
      .map(({ name, value }) => ({
        draft: { ...draft, pathValues: { ...draft.pathValues, [name]: value } },
        defect: `path parameter ${name} is ${JSON.stringify(value)}`,
        expected: [400],
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
    // At most 4,000 bytes once percent-encoded ('%' and ';' take three), so the URL stays under
    // Node's header limit with the rest of the query (requests.ts, MAX_HEAD_BYTES).
    options.push(
      fc
        .constantFrom('x', "'", '%', ';')
        .chain((unit) => {
          const most = Math.max(max + 1, Math.floor(4_000 / encodeURIComponent(unit).length));
          return fc.integer({ min: max + 1, max: most }).map((n) => unit.repeat(n));
        }),
    );
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
    const others = (name: string) => draft.query.filter(([k]) => k !== name);
    out.push(
      fc
        .constantFrom(...operation.queryParams)
        .chain((parameter) => badQueryValues(parameter, spec).map((value) => ({ parameter, value })))
        .map(({ parameter, value }) => ({
          draft: { ...draft, query: [...others(parameter.name), [parameter.name, value]] },
          defect: `query parameter ${parameter.name}=${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`,
          expected: [400],
        })),
      fc
        .constantFrom(...operation.queryParams)
        .chain((parameter) => validValue(parameter.schema, { spec, uuid: fc.uuid() }).map((v) => ({ parameter, value: queryString(v) })))
        .map(({ parameter, value }) => ({
          draft: { ...draft, query: [...others(parameter.name), [parameter.name, value], [parameter.name, value]] },
          defect: `query parameter ${parameter.name} given twice`,
          expected: [400],
        })),
    );
  }
  return out;
}

function routeDefects(operation: Operation, draft: Draft, spec: Spec): fc.Arbitrary<Broken>[] {
  const defined = new Set(spec.operations.filter((o) => o.path === operation.path).map((o) => o.method.toUpperCase()));
  const path = encode(operation, withRawQuery({ ...draft, query: [] }, undefined)).target;
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
export function invalidApiRequest(operation: Operation, spec: Spec, fx: Fixtures, cursors: Cursors, leases: LeaseLedger): fc.Arbitrary<FuzzRequest> {
  return validApiDraft(operation, spec, fx, cursors, leases).chain(({ draft, target }) => {
    const ctx: SchemaContext = { spec, uuid: eventIds(target, fx) };
    const weighted = (weight: number, arbitraries: fc.Arbitrary<Broken>[]) => arbitraries.map((arbitrary) => ({ weight, arbitrary }));
    const defects = [
      ...weighted(3, credentialDefects(operation, draft, fx)),
      ...weighted(2, pathDefects(operation, draft)),
      ...weighted(2, queryDefects(operation, draft, spec)),
      ...weighted(6, bodyDefects(operation, draft, ctx)),
      ...weighted(2, mediaTypeDefects(operation, draft)),
      ...weighted(1, oversizedDefects(operation, draft)),
      ...weighted(1, routeDefects(operation, draft, spec)),
      ...weighted(3, projectViewDefects(operation, draft, fx, cursors)),
    ];
    return fc.oneof(...defects).filter(({ defect }) => !knownBugDefect(operation, defect)).map(({ draft: broken, defect, expected, code }) => {
      const size = encode(operation, broken).body?.length ?? 0;
      // A body over the limit is refused with 413 before it is validated (credentials come first).
      const statuses = size > limitFor(operation) && !expected.includes(401) && !expected.includes(404) ? [413] : expected;
      return finish('invalid', operation, broken, { defect, expected: statuses, ...(statuses === expected && code !== undefined && { code }) });
    });
  });
}
