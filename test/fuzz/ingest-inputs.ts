/**
 * What a webhook may carry, all of it valid for the ingest URL: any body bytes under any content
 * type (or none), any query string, hostile headers. Sizes keep the request head under Node's
 * limit (requests.ts, MAX_HEAD_BYTES): query strings up to 5 KiB, extra headers up to 3 KiB.
 */
import fc from 'fast-check';
import { INGEST_BODY_LIMIT_BYTES, percentEncode } from './requests';
import { anyJson, nastyString } from './schema-arbitraries';

const utf8 = (text: string) => Buffer.from(text, 'utf8');

function nested(min: number, max: number): fc.Arbitrary<Buffer> {
  return fc
    .tuple(fc.integer({ min, max }), fc.constantFrom<[string, string]>(['[', ']'], ['{"a":', '}']))
    .map(([depth, [open, close]]) => utf8(`${open.repeat(depth)}1${close.repeat(depth)}`));
}

const JSON_EDGES = [
  '{"a":9007199254740993,"b":1.10,"c":-0,"d":1e400}',
  '{"a":1,"a":2}',
  '{"type":"order.created","data":{"type":"nested"}}',
  '{"type":12345}',
  '{"type":"\\u0000"}',
  `{"type":"${'x'.repeat(300)}"}`,
  `{"type":"a${'😀'.repeat(150)}"}`,
  '{"data":{"type":["not","a","string"]}}',
  '[]',
  '{}',
  '""',
  '0',
  'null',
  ' \r\n\t{"a":[]} ',
  '{"\\ud800":"\\udfff"}',
];

/** A size at or just under the ingest limit, filled with one byte: a body of exactly the limit is accepted. */
const atTheLimit = fc
  .tuple(fc.constantFrom(0, 0, 1, 100), fc.constantFrom(0x20, 0x61, 0x00, 0xff))
  .map(([under, fill]) => Buffer.alloc(INGEST_BODY_LIMIT_BYTES - under, fill));

/** A webhook body: undefined sends none. */
export const ingestBody: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 4, arbitrary: anyJson(3).map((value) => utf8(JSON.stringify(value) ?? 'null')) },
  { weight: 2, arbitrary: fc.constantFrom(...JSON_EDGES).map(utf8) },
  { weight: 2, arbitrary: nastyString(0, 200).map(utf8) },
  { weight: 1, arbitrary: fc.dictionary(nastyString(1, 10), nastyString(0, 20), { maxKeys: 5 }).map((pairs) => utf8(new URLSearchParams(pairs).toString())) },
  { weight: 1, arbitrary: nastyString(0, 40).map((t) => utf8(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;${t.replace(/[<&]/g, '')}</a>`)) },
  { weight: 1, arbitrary: nested(100, 100_000) },
  { weight: 1, arbitrary: anyJson(2).map((value) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(JSON.stringify(value) ?? 'null')])) },
  { weight: 1, arbitrary: atTheLimit },
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'text/plain',
  'text/plain; charset=iso-8859-1',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----fuzz',
  'application/xml',
  'text/xml',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/cloudevents+json; charset=utf-8',
  'text/html',
  'image/png',
  '*/*',
  'application/json; charset=utf-16',
];

const ODD_CONTENT_TYPES = [
  '',
  ';',
  'json',
  'a/b/c',
  'application/json; charset=',
  'text/plain; x="unterminated',
  'caf\u00e9/type',
  "application/json'; DROP TABLE pull_events; --",
  'application/json, text/plain',
  `text/plain; ${'p=1; '.repeat(150)}`,
];

/** A Content-Type: undefined sends none (fetch adds none to a Buffer body). */
export const ingestContentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD_CONTENT_TYPES) },
);

/** Query strings as sent: fetch percent-encodes only what a URL cannot hold (spaces, quotes, `<>`, non-ASCII). */
const ODD_QUERIES = [
  '&&&',
  '=',
  '==&=x',
  '%',
  '%zz',
  '%00',
  '%C0%AF&%FF%FE=%E0%A4%A',
  '+',
  'a+b=c+d',
  '__proto__=1&constructor[prototype][polluted]=1',
  'a[b][c]=1&a[]=2',
  'a=1&a=2&a=3',
  ';a=1;b=2',
  '{"a":1}',
  'since=2026-03-01T00:00:00Z&to=/x/y@z:1',
  ":/?@[]!$'()*,;=",
  '?double',
  'utm_source=shop&utm_medium=webhook&ref=%2F..%2F..%2Fetc%2Fpasswd',
  "q=' OR '1'='1' --",
  'x=<script>alert(1)</script>',
  'caf\u00e9=\u00fcber&emoji=😀',
];

/** A raw query string (without the `?`); undefined sends none, '' a bare `?`. */
export const ingestQuery: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(nastyString(0, 20), nastyString(0, 40)), { minLength: 1, maxLength: 6 })
      .map((pairs) => pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')),
  },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_QUERIES) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1_000, max: 5_000 }), fc.constantFrom('a', '%41', '&', '=', '/'))
      .map(([n, unit]) => `x=${unit.repeat(Math.floor(n / unit.length))}`),
  },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 500 }).map((n) => Array.from({ length: n }, (_, i) => `k${i}=v`).join('&')) },
);

const HEADER_NAMES = [
  'user-agent',
  'accept',
  'accept-language',
  'x-forwarded-for',
  'x-forwarded-host',
  'forwarded',
  'x-real-ip',
  'referer',
  'origin',
  'x-github-event',
  'traceparent',
  'via',
  'cache-control',
  'x-http-method-override',
  'x-original-url',
  'cookie',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-ingest-token',
  'x-request-id',
  'x-event-type',
  'x-delivery-id',
  'content-language',
  'if-none-match',
  'range',
];

/** Header values fetch can send: printable ASCII, tabs and Latin-1 (no control characters, no CR or LF). */
const hostileValue = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 30 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      "' OR '1'='1' --",
      '"; DROP TABLE pull_events; --',
      '${jndi:ldap://x/a}',
      '{{7*7}}',
      '<script>alert(1)</script>',
      '../../../etc/passwd',
      'a\tb',
      '%00%0d%0a',
      'Bearer pes_not_a_token',
      'for=192.0.2.1;proto=https, for="[2001:db8::1]"',
      '127.0.0.1, ::1, not-an-ip',
      '__proto__',
      '{"a":[1]}',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 2_500 }).map((n) => 'h'.repeat(n)) },
);

/** Extra headers, common and odd names, under 3 KiB in all. */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc
  .dictionary(fc.oneof(fc.constantFrom(...HEADER_NAMES), fc.stringMatching(/^x-[a-z0-9!#$%&'*+.^_`|~-]{1,40}$/)), hostileValue, { maxKeys: 8 })
  .map((headers) => {
    let budget = 3_000;
    return Object.fromEntries(Object.entries(headers).filter(([name, value]) => (budget -= name.length + value.length + 4) >= 0));
  });
