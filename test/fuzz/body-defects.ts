/** Defects of an API request's JSON body: broken by its schema, malformed, mistyped, oversized. */
import fc from 'fast-check';
import type { Operation } from './openapi';
import { bodyBytes, limitFor, withoutHeaders, type Draft } from './requests';
import { invalidValue, longString, type SchemaContext } from './schema-arbitraries';

export interface Broken {
  draft: Draft;
  defect: string;
  expected: number[];
  /** The error code, when `expected` is a single error status. */
  code?: string;
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  return withoutHeaders(headers, 'content-type');
}

/** JSON nested deeper than the API's 200 levels (openapi.yaml). */
const tooDeeplyNested = fc
  .tuple(fc.integer({ min: 201, max: 100_000 }), fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}']))
  .map(([depth, [open, close]]) => ({ text: `${open.repeat(depth)}1${close.repeat(depth)}` }));

/** Whether the server's JSON body reader accepts `text`: a JSON object or array. */
function isJsonBody(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null;
  } catch {
    return false;
  }
}

export function bodyDefects(operation: Operation, draft: Draft, ctx: SchemaContext): fc.Arbitrary<Broken>[] {
  if (!operation.body || draft.body === undefined) return [];
  const { schema, required } = operation.body;
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
    // Some edits do nothing to some bodies (no quote to replace in `[]`): those are left out, and
    // so is an empty body where the body is optional: that is no body.
    malformed.filter(({ text: body }) => !isJsonBody(body) && (required || body !== '')).map(({ text: body, what }) => ({
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
    tooDeeplyNested.map((body) => ({ draft: { ...draft, body }, defect: 'JSON nested deeper than 200 levels', expected: [400] })),
  );
  if (required) {
    out.push(
      fc.constant({ draft: { ...draft, body: { text: '' } }, defect: 'an empty body (the body is required)', expected: [400] }),
      fc.constant({
        draft: { ...draft, body: undefined, headers: withoutContentType(draft.headers) },
        defect: 'no body and no Content-Type (the body is required)',
        expected: [400, 415],
      }),
    );
  }
  return out;
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

export function mediaTypeDefects(operation: Operation, draft: Draft): fc.Arbitrary<Broken>[] {
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

export function oversizedDefects(operation: Operation, draft: Draft): fc.Arbitrary<Broken>[] {
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
