import { isDeepStrictEqual } from 'node:util';
import type { Outcome } from './harness';

/**
 * Odd webhooks sent to one endpoint's ingest URL while the fixtures are built, so that reads of
 * their events (`GET .../events/{event_id}` and `.../payload`) can be compared with what was sent:
 * the exact bytes and Content-Type, the query string, the headers without credentials.
 */
export interface SentWebhook {
  what: string;
  body: Buffer | undefined;
  contentType?: string;
  query?: string;
  headers?: Record<string, string>;
}

const text = (value: string) => Buffer.from(value, 'utf8');

const ODD_WEBHOOKS: SentWebhook[] = [
  { what: 'JSON with big numbers, decimals and key order', body: text('{"z":1,"a":9007199254740993,"d":1.10,"e":-0.0,"type":"order.created"}'), contentType: 'application/json' },
  { what: 'a JSON array', body: text('[1,"two",{"three":[3]}]'), contentType: 'application/json; charset=utf-8' },
  { what: 'a JSON string', body: text('"just a string"'), contentType: 'application/json' },
  { what: 'JSON null', body: text('null'), contentType: 'application/json' },
  { what: 'a +json media type', body: text('{"type":42}'), contentType: 'application/vnd.shop+json' },
  { what: 'JSON escapes', body: text('{"nul":"\\u0000","lone":"\\ud800","rlo":"\\u202e","q":"\\"\'","type":"\\u0000x"}'), contentType: 'application/json' },
  { what: 'JSON with whitespace around it', body: text(' \n\t{"a":1}\r\n '), contentType: 'application/json' },
  { what: 'JSON nested 10000 levels', body: text(`${'['.repeat(10_000)}1${']'.repeat(10_000)}`), contentType: 'application/json' },
  { what: 'JSON sent as text/plain', body: text('{"a":1}'), contentType: 'text/plain' },
  { what: 'malformed JSON', body: text('{"a":'), contentType: 'application/json' },
  { what: 'a JSON type, not UTF-8', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), contentType: 'application/json' },
  { what: 'JSON after a byte order mark', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text('{"a":1}')]), contentType: 'application/json' },
  { what: 'form fields', body: text('a=1&b=%20x&c&type=form'), contentType: 'application/x-www-form-urlencoded' },
  { what: 'XML', body: text('<?xml version="1.0"?><a b="1">&amp;<![CDATA[x]]></a>'), contentType: 'application/xml' },
  { what: 'HTML with a script', body: text('<html><script>alert(document.cookie)</script></html>'), contentType: 'text/html; charset=utf-8' },
  { what: 'every byte value', body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), contentType: 'application/octet-stream' },
  { what: 'an empty body without a content type', body: Buffer.alloc(0) },
  { what: 'no body', body: undefined, contentType: 'text/plain' },
  { what: 'an odd content type', body: text('x'), contentType: 'a/b; c="d; e"; f' },
  { what: 'an odd query string', body: text('{}'), contentType: 'application/json', query: 'a=1&a=2&b=:/@?&c=%zz&&=&d=%00&e=%C0%AF+x&f=[]' },
  {
    what: 'hostile headers',
    body: text('{}'),
    contentType: 'application/json',
    headers: { 'x-sql': "' OR '1'='1' --", 'x-latin1': 'caf\u00e9 \u00ff', 'x-json': '{"a":[1]}', authorization: 'Bearer not-ours', cookie: 'session=x' },
  },
];

/** Headers never stored with an event (credentials). */
const CREDENTIALS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];

/** Sends the odd webhooks to `ingestPath`; returns them by the id of the event each was stored as. */
export async function sendOddWebhooks(baseUrl: string, ingestPath: string): Promise<Map<string, SentWebhook>> {
  const sent = new Map<string, SentWebhook>();
  for (const webhook of ODD_WEBHOOKS) {
    const response = await fetch(`${baseUrl}${ingestPath}${webhook.query === undefined ? '' : `?${webhook.query}`}`, {
      method: 'POST',
      headers: { ...webhook.headers, ...(webhook.contentType !== undefined && { 'content-type': webhook.contentType }) },
      ...(webhook.body !== undefined && { body: webhook.body }),
    });
    const answer = (await response.json()) as { data?: { event_id: string } };
    if (!answer.data) throw new Error(`fixtures: "${webhook.what}" was answered ${response.status} ${JSON.stringify(answer)}`);
    sent.set(answer.data.event_id, webhook);
  }
  return sent;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The body as JSON, if it is UTF-8 JSON text; a leading byte order mark is let pass here. */
function jsonText(bytes: Buffer): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown };
  } catch {
    return undefined;
  }
}

/** Deep equality of JSON values, without recursion: payloads nest thousands of levels deep. */
function sameJson(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  while (pending.length > 0) {
    const [x, y] = pending.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || Array.isArray(x) !== Array.isArray(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pending.push([(x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key]]);
    }
  }
  return true;
}

function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

/** What the event's JSON answer gets wrong about the webhook, if anything. */
function eventProblems(webhook: SentWebhook, data: Record<string, unknown>): string[] {
  const bytes = webhook.body ?? Buffer.alloc(0);
  const problems: string[] = [];
  const expect = (field: string, wanted: unknown) => {
    if (!isDeepStrictEqual(data[field], wanted)) problems.push(`${field} is ${JSON.stringify(data[field])}, not ${JSON.stringify(wanted)}`);
  };
  expect('size_bytes', bytes.length);
  // openapi.yaml: "" when the webhook sent no Content-Type (a string either way, as HookBridge's SDKs decode it).
  expect('content_type', webhook.contentType ?? '');
  expect('query_string', webhook.query ?? null);
  const headers = (data.headers ?? {}) as Record<string, string>;
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    const stored = headers[name];
    if (CREDENTIALS.includes(name) ? stored !== undefined : stored !== value) problems.push(`header ${name} was stored as ${JSON.stringify(stored)}`);
  }
  const parsed = jsonText(bytes);
  if (data.payload_encoding === 'json') {
    if (!parsed) problems.push('payload_encoding is json for a body that is not JSON');
    else if (!sameJson(data.payload, parsed.value)) problems.push('the JSON payload differs from the body sent');
  } else if (data.payload_encoding === 'base64') {
    if (data.payload !== bytes.toString('base64')) problems.push('the base64 payload is not the bytes sent');
    // RFC 8259 lets a parser refuse a byte order mark: such a body may be kept as bytes.
    const json = parsed && bytes.length > 0 && !bytes.subarray(0, 3).equals(BOM);
    if (json && isJsonType(webhook.contentType)) problems.push('a JSON body sent as JSON came back as base64');
  } else {
    problems.push(`payload_encoding is ${JSON.stringify(data.payload_encoding)} for a live event`);
  }
  return problems;
}

/**
 * For a 200 to a read of one of the odd webhooks' events, throws unless the answer gives back what
 * was sent: `.../payload` the exact bytes under the same Content-Type, the event (alone, or among
 * those a receive answered) its fields.
 */
export function checkReadBack(outcome: Outcome, sent: Map<string, SentWebhook>): void {
  const { request, status } = outcome;
  const read = request.operation.operationId;
  if (status === 200 && read === 'receivePullEvents') {
    const { events } = (JSON.parse(outcome.text) as { data: { events: Record<string, unknown>[] } }).data;
    for (const event of events) {
      const webhook = sent.get(String(event.id).toLowerCase());
      const problems = webhook ? eventProblems(webhook, event) : [];
      if (problems.length > 0) throw new Error(`receive gives back "${webhook!.what}" otherwise than sent: ${problems.join('; ')}\n${request.method} ${request.target}`);
    }
    return;
  }
  if (status !== 200 || (read !== 'getPullEvent' && read !== 'getPullEventPayload')) return;
  const eventId = decodeURIComponent(new URL(request.target, 'http://localhost').pathname.split('/')[5] ?? '').toLowerCase();
  const webhook = sent.get(eventId);
  if (!webhook) return;
  const problems: string[] = [];
  if (read === 'getPullEventPayload') {
    if (!outcome.bytes.equals(webhook.body ?? Buffer.alloc(0))) problems.push(`the payload is not the ${webhook.body?.length ?? 0} bytes sent`);
    const contentType = outcome.headers.get('content-type');
    const sentType = webhook.contentType ?? null;
    if (contentType !== sentType) problems.push(`Content-Type is ${JSON.stringify(contentType)}, not ${JSON.stringify(sentType)}`);
  } else {
    const data = (JSON.parse(outcome.text) as { data: Record<string, unknown> }).data;
    if (data.deleted_at === null) problems.push(...eventProblems(webhook, data));
  }
  if (problems.length > 0) {
    throw new Error(`the event of "${webhook.what}" does not give back what was sent: ${problems.join('; ')}\n${request.method} ${request.target}`);
  }
}
