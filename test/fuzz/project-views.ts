/**
 * The project views, `GET /v1/pull-logs`, `/v1/pull-metrics` and `/v1/pull-metrics/timeseries`:
 * - valid queries, each with the answer the fixtures make certain: 200 for a live endpoint of the
 *   project, 404 ENDPOINT_NOT_FOUND for another project's, a deleted or an unknown one, 400 for a
 *   `start_time` after `end_time` or a cursor sent back with other filters than its own;
 * - defects of their own: malformed `status` lists, windows outside the enum, cursors of another
 *   list, another project or other filters, endpoints not the project's;
 * - what a 200 must say beyond its schema (`ProjectViews.check`): pull-logs pages newest first,
 *   within the filters, of the project's live endpoints only; metrics one window long, whole
 *   minutes (hours for 7d and 30d), ending with the current one; timeseries buckets as many and as long as the window
 *   says, each with stored + fetched + succeeded = total.
 */
import fc from 'fast-check';
import type { components } from '../../generated/openapi';
import type { Fixtures } from './fixtures';
import type { Outcome } from './harness';
import type { Broken } from './body-defects';
import type { Operation } from './openapi';
import { percentEncode, type Draft, type QueryPair } from './requests';
import { dateTime, nastyString } from './schema-arbitraries';
import { MAX_UUID, NIL_UUID } from './targets';

export const LOGS = 'listPullLogs';
export const METRICS = 'getPullMetrics';
export const SERIES = 'getPullMetricsTimeseries';

export function isProjectView(operation: Operation): boolean {
  return [LOGS, METRICS, SERIES].includes(operation.operationId);
}

/** A pull-logs `next_cursor` and the filters of the page that gave it. */
export interface LogCursor {
  filters: QueryPair[];
  cursor: string;
}

/** Real cursors to send back: other lists', the log's own (with their filters), another project's log's. */
export interface Cursors {
  lists: string[];
  logs: LogCursor[];
  /** A log cursor of ours re-scoped to the other fuzz project's log, if the cursor's form allows it. */
  foreignLog: string | undefined;
}

export function everyCursor(cursors: Cursors): string[] {
  return [...cursors.lists, ...cursors.logs.map((c) => c.cursor)];
}

/** Ours re-scoped to `otherProjectId`'s log: a base64url JSON cursor naming our project, else undefined. */
export function foreignLogCursor(cursor: string | undefined, projectId: string, otherProjectId: string): string | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.includes(projectId)) return undefined;
  return Buffer.from(text.replaceAll(projectId, otherProjectId)).toString('base64url');
}

// ---------------------------------------------------------------------------------------------
// RFC 3339 instants, exactly: the fuzz's own reading, to know when start_time is after end_time.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/** Nanoseconds since the epoch of an RFC 3339 date-time (years 0000-0099 included), or undefined. */
export function exactInstant(value: string): bigint | undefined {
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, offsetHours, offsetMinutes = '0'] = match;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), 0);
  let ms = date.getTime();
  if (!zulu) ms -= (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return BigInt(ms) * 1_000_000n + BigInt(fraction.slice(0, 9).padEnd(9, '0'));
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Form {
  separator: string;
  zulu: string;
  /** The offset written, in minutes; `null`: Z. */
  offset: number | null;
  /** Fraction digits at least (more when the instant needs them). */
  digits: number;
}

const form: fc.Arbitrary<Form> = fc.record({
  separator: fc.constantFrom('T', 'T', 't'),
  zulu: fc.constantFrom('Z', 'Z', 'z'),
  offset: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }) }),
  digits: fc.constantFrom(0, 0, 3, 3, 6, 9, 1),
});

const pad = (n: number) => String(n).padStart(2, '0');

/** `ms` and `nanos` more nanoseconds (0..999_999) written in `f`, every digit kept. */
function formatInstant(ms: number, nanos: number, f: Form): string {
  const local = new Date(ms + (f.offset ?? 0) * MINUTE).toISOString();
  const fractionDigits = String((((ms % 1000) + 1000) % 1000) * 1_000_000 + nanos).padStart(9, '0');
  const digits = Math.max(fractionDigits.replace(/0+$/, '').length, f.digits);
  const base = `${local.slice(0, 10)}${f.separator}${local.slice(11, 19)}${digits > 0 ? `.${fractionDigits.slice(0, digits)}` : ''}`;
  if (f.offset === null) return `${base}${f.zulu}`;
  const abs = Math.abs(f.offset);
  return `${base}${f.offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Instants around now (the fixtures' events), in assorted forms. */
const nearNow = fc
  .tuple(fc.integer({ min: -2 * DAY, max: DAY }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 })), form)
  .map(([delta, nanos, f]) => formatInstant(Date.now() + delta, nanos, f));

const timeValue = fc.oneof({ weight: 2, arbitrary: dateTime() }, { weight: 3, arbitrary: nearNow });

const later = (a: string, b: string) => exactInstant(a)! > exactInstant(b)!;

/** One instant written twice: [t, t) holds nothing, and is no 400. */
const sameInstant = fc
  .tuple(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2031, 0, 1) }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 })), form, form)
  .map(([ms, nanos, a, b]): [string, string] => [formatInstant(ms, nanos, a), formatInstant(ms, nanos, b)]);

/** start_time / end_time pairs on the edges: years 0000-0099, sub-millisecond order, leap seconds, the epoch. */
const EDGE_PAIRS: [string, string][] = [
  ['0099-01-01T00:00:00Z', '0100-01-01T00:00:00Z'],
  ['1999-06-01T00:00:00Z', '0099-12-31T00:00:00Z'],
  ['0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z'],
  ['2026-03-01T00:00:00.0001Z', '2026-03-01T00:00:00.0009Z'],
  ['2026-03-01T00:00:00.0009Z', '2026-03-01T00:00:00.0001Z'],
  ['2026-03-01T00:00:00Z', '2026-02-28T23:59:60Z'],
  ['2026-02-28T23:59:60.5Z', '2026-03-01T00:00:00Z'],
  ['1969-12-31T23:59:59Z', '1970-01-01T00:00:00Z'],
  ['1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z'],
  ['2026-03-01T01:00:00+01:00', '2026-03-01T00:00:00Z'],
  ['2026-03-01T00:00:00-00:01', '2026-03-01T00:00:00Z'],
];

/** start_time and end_time, each maybe absent: mostly in order, sometimes not, sometimes equal. */
const timeBounds = fc.oneof<fc.WeightedArbitrary<[string | undefined, string | undefined]>[]>(
  { weight: 4, arbitrary: fc.constant([undefined, undefined]) },
  { weight: 1, arbitrary: timeValue.map((t) => [t, undefined]) },
  { weight: 1, arbitrary: timeValue.map((t) => [undefined, t]) },
  { weight: 4, arbitrary: fc.tuple(timeValue, timeValue).map(([a, b]) => (later(a, b) ? [b, a] : [a, b])) },
  { weight: 1, arbitrary: fc.tuple(timeValue, timeValue) },
  { weight: 1, arbitrary: sameInstant },
  { weight: 1, arbitrary: fc.constantFrom(...EDGE_PAIRS) },
);

/** Encodings of a date-time value: percent-encoded, reserved characters left as they are, `+` too. */
function timePair(name: string, value: string): fc.Arbitrary<QueryPair> {
  const keep = value.includes('+') ? fc.constantFrom<boolean | 'plus'>(false, true, true, 'plus') : fc.boolean();
  return keep.map((k) => [name, value, k]);
}

// ---------------------------------------------------------------------------------------------
// Endpoints and the other parameters.

/** The fuzz project's endpoints that stay live for the whole run (valid requests delete only disposables). */
function liveEndpoints(fx: Fixtures): string[] {
  return [fx.main, fx.paused, fx.received, fx.leased, ...fx.inboxes].map((e) => e.id);
}

type EndpointState = 'live' | 'maybe deleted' | 'gone';

function endpointState(id: string, fx: Fixtures): EndpointState {
  const lower = id.toLowerCase();
  if (liveEndpoints(fx).includes(lower)) return 'live';
  if (fx.disposable.some((e) => e.id === lower)) return 'maybe deleted';
  return 'gone';
}

/** Not one of the project's live endpoints: another project's, a deleted one, none at all. */
function goneEndpoint(fx: Fixtures): fc.Arbitrary<string> {
  return fc.oneof(fc.constantFrom(fx.foreign.id, fx.deleted.id), fc.uuid({ version: 7 }), fc.uuid(), fc.constantFrom(NIL_UUID, MAX_UUID));
}

function endpointParam(fx: Fixtures): fc.Arbitrary<string> {
  const id = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...liveEndpoints(fx)) },
    { weight: 2, arbitrary: fc.constantFrom(...fx.disposable.map((e) => e.id)) },
    { weight: 2, arbitrary: goneEndpoint(fx) },
  );
  return fc.tuple(id, fc.nat({ max: 5 })).map(([value, dice]) => (dice === 5 ? value.toUpperCase() : value));
}

const STATUSES = ['stored', 'fetched', 'delivered'];
/** Comma-separated, in any order, repeats allowed. */
const statusList = fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 5 }).map((s) => s.join(','));
const WINDOWS = ['1h', '24h', '7d', '30d'];
/** The seeded events' types (src/pull-events/seed.ts), odd ones that match nothing, and metacharacters. */
const eventType = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('order.created', 'order.paid', 'invoice.sent', 'customer.updated') },
  { weight: 1, arbitrary: fc.constantFrom('shop/order:created@v1', 'a+b', 'x'.repeat(200), "' OR '1'='1", '😀') },
  { weight: 1, arbitrary: nastyString(1, 60).filter((s) => !s.includes('\u0000')) },
);
const limit = fc.oneof(fc.constantFrom(1, 2, 999, 1000), fc.integer({ min: 1, max: 1000 })).map(String);

function optional<T>(arbitrary: fc.Arbitrary<T>, absent = 1, present = 1): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: present, arbitrary: arbitrary });
}

const reserved = fc.boolean();

function present(pairs: (QueryPair | undefined)[]): QueryPair[] {
  return pairs.filter((p): p is QueryPair => p !== undefined);
}

function logsFilters(fx: Fixtures): fc.Arbitrary<QueryPair[]> {
  return fc
    .record({
      endpoint: optional(endpointParam(fx), 3, 2),
      status: optional(fc.tuple(statusList, reserved), 2, 1),
      dead: optional(fc.boolean(), 3, 1),
      type: optional(fc.tuple(eventType, reserved), 4, 1),
      bounds: timeBounds,
    })
    .chain(({ endpoint, status, dead, type, bounds: [start, end] }) =>
      fc
        .tuple(start === undefined ? fc.constant(undefined) : timePair('start_time', start), end === undefined ? fc.constant(undefined) : timePair('end_time', end))
        .map(([startPair, endPair]) =>
          present([
            endpoint === undefined ? undefined : ['pull_endpoint_id', endpoint],
            status && ['status', status[0], status[1]],
            dead === undefined ? undefined : ['dead_lettered', String(dead)],
            type && ['event_type', type[0], type[1]],
            startPair,
            endPair,
          ]),
        ),
    );
}

function logsQuery(fx: Fixtures, cursors: Cursors): fc.Arbitrary<QueryPair[]> {
  const fresh = fc.tuple(logsFilters(fx), optional(limit, 2, 1)).map(([filters, l]) => present([...filters, l === undefined ? undefined : ['limit', l]]));
  if (cursors.logs.length === 0) return fresh;
  // A cursor sent back with the filters of its page (a 200), or with new ones (mostly a 400).
  const again = fc
    .tuple(fc.constantFrom(...cursors.logs), optional(limit, 1, 2), fc.boolean())
    .map(([{ filters, cursor }, l, keep]) => present([...filters, l === undefined ? undefined : ['limit', l], ['cursor', cursor, keep]]));
  const mixed = fc.tuple(fresh, fc.constantFrom(...cursors.logs)).map(([query, { cursor }]): QueryPair[] => [...query, ['cursor', cursor]]);
  return fc.oneof({ weight: 6, arbitrary: fresh }, { weight: 3, arbitrary: again }, { weight: 1, arbitrary: mixed });
}

function metricsQuery(fx: Fixtures): fc.Arbitrary<QueryPair[]> {
  return fc
    .tuple(optional(fc.constantFrom(...WINDOWS), 1, 3), optional(endpointParam(fx), 3, 2))
    .map(([window, endpoint]) => present([window === undefined ? undefined : ['window', window], endpoint === undefined ? undefined : ['pull_endpoint_id', endpoint]]));
}

/** Query strings for a project view that its parameters' schemas accept. */
export function projectViewQuery(operation: Operation, fx: Fixtures, cursors: Cursors): fc.Arbitrary<QueryPair[]> {
  return operation.operationId === LOGS ? logsQuery(fx, cursors) : metricsQuery(fx);
}

// ---------------------------------------------------------------------------------------------
// The answer a schema-valid query must get.

const value = (query: QueryPair[], name: string) => query.find(([k]) => k === name)?.[1];

const ceilDiv = (a: bigint, b: bigint) => (a >= 0n ? (a + b - 1n) / b : -(-a / b));

/** A log query's filters as the server compares a cursor's: statuses a set, times to the millisecond. */
function canonicalFilters(query: QueryPair[]): string {
  const time = (name: string) => {
    const v = value(query, name);
    const ns = v === undefined ? undefined : exactInstant(v);
    return ns === undefined ? null : String(ceilDiv(ns, 1_000_000n));
  };
  const status = value(query, 'status');
  return JSON.stringify([
    value(query, 'pull_endpoint_id')?.toLowerCase() ?? null,
    status === undefined ? null : [...new Set(status.split(','))].sort().join(','),
    value(query, 'dead_lettered') ?? null,
    value(query, 'event_type') ?? null,
    time('start_time'),
    time('end_time'),
  ]);
}

/**
 * The statuses the contract allows for a schema-valid `query` of a project view, and the error code
 * when only a 404 is: which of the endpoint, time and cursor checks fails is the server's to say.
 */
export function expectedAnswer(operation: Operation, query: QueryPair[], fx: Fixtures, cursors: Cursors): { expected: number[]; code?: string } {
  const refusals = new Set<number>();
  let mayPass = true;
  const endpoint = value(query, 'pull_endpoint_id');
  if (endpoint !== undefined) {
    const state = endpointState(endpoint, fx);
    if (state === 'gone') {
      refusals.add(404);
      mayPass = false;
    }
    if (state === 'maybe deleted') refusals.add(404);
  }
  if (operation.operationId === LOGS) {
    const [start, end] = [value(query, 'start_time'), value(query, 'end_time')].map((v) => (v === undefined ? undefined : exactInstant(v)));
    const refuse = () => {
      refusals.add(400);
      mayPass = false;
    };
    if (start !== undefined && end !== undefined && start > end) refuse();
    const cursor = value(query, 'cursor');
    if (cursor !== undefined) {
      const issued = cursors.logs.find((c) => c.cursor === cursor);
      // Another list's, another project's or a made-up cursor is refused; ours only with its own filters.
      if (!issued || canonicalFilters(issued.filters) !== canonicalFilters(query)) refuse();
    }
  }
  const expected = [...(mayPass ? [200] : []), ...[...refusals].sort()];
  return expected.length === 1 && expected[0] === 404 ? { expected, code: 'ENDPOINT_NOT_FOUND' } : { expected };
}

// ---------------------------------------------------------------------------------------------
// Defects of their own (api-defects.ts adds the generic ones: credentials, unknown and repeated
// parameters, values of the wrong type or out of range, routes).

const BAD_STATUS_LISTS = [
  'stored,',
  ',stored',
  'stored,,fetched',
  'Stored',
  'FETCHED',
  'any',
  'deleted',
  'stored,any',
  'stored fetched',
  'stored, fetched',
  'stored;fetched',
  'stored|fetched',
  ' stored',
  'stored ',
  '[stored]',
  'stored,fetched,delivered,',
  'stored%2Cfetched',
  'fetched,delivered,stored,lost',
  "stored' OR '1'='1",
  'stored\u0000',
];

const BAD_WINDOWS = ['1d', '2h', '60m', '1w', '12h', '90d', '0h', '-1h', '1h,24h', '24 h', 'all', '1', '24', 'P1D', '1h\u0000', '7D', '30D'];

function replaced(draft: Draft, name: string, pair: QueryPair | undefined): Draft {
  return { ...draft, query: present([...draft.query.filter(([k]) => k !== name), pair]) };
}

/** What changes a cursor's filters: another endpoint, status set, type or time, one added, one dropped. */
function otherFilters(filters: QueryPair[], fx: Fixtures): fc.Arbitrary<QueryPair[]> {
  const without = (name: string) => filters.filter(([k]) => k !== name);
  const changes: fc.Arbitrary<QueryPair[]>[] = [
    fc
      .constantFrom<QueryPair>(['pull_endpoint_id', fx.paused.id], ['status', 'delivered'], ['dead_lettered', 'true'], ['event_type', 'zzz'], ['start_time', '2020-01-01T00:00:01Z'])
      .map((pair) => [...without(pair[0]), pair]),
  ];
  if (filters.length > 0) changes.push(fc.constantFrom(...filters.map(([k]) => k)).map(without));
  return fc.oneof(...changes);
}

export function projectViewDefects(operation: Operation, draft: Draft, fx: Fixtures, cursors: Cursors): fc.Arbitrary<Broken>[] {
  if (!isProjectView(operation)) return [];
  const judged = (broken: Draft, defect: string): Broken => ({ draft: broken, defect, ...expectedAnswer(operation, broken.query, fx, cursors) });
  const out: fc.Arbitrary<Broken>[] = [
    fc.tuple(goneEndpoint(fx), fc.boolean()).map(([id, upper]) => {
      const named = upper ? id.toUpperCase() : id;
      const which = id === fx.foreign.id ? "another project's endpoint" : id === fx.deleted.id ? 'a deleted endpoint' : 'no endpoint';
      return judged(replaced(draft, 'pull_endpoint_id', ['pull_endpoint_id', named]), `pull_endpoint_id ${named} (${which})`);
    }),
  ];
  if (operation.operationId === LOGS) {
    out.push(
      fc.tuple(fc.constantFrom(...BAD_STATUS_LISTS), reserved).map(([list, keep]) => ({
        draft: replaced(draft, 'status', ['status', list, keep]),
        defect: `status=${JSON.stringify(list)}`,
        expected: [400],
      })),
      fc
        .tuple(timeValue, timeValue)
        .filter(([a, b]) => exactInstant(a)! - exactInstant(b)! >= 1_000_000n || exactInstant(b)! - exactInstant(a)! >= 1_000_000n)
        .map(([a, b]): [string, string] => (later(a, b) ? [a, b] : [b, a]))
        .chain(([start, end]) => fc.tuple(timePair('start_time', start), timePair('end_time', end)))
        .map(([start, end]) => judged({ ...draft, query: [...draft.query.filter(([k]) => k !== 'start_time' && k !== 'end_time'), start, end] }, `start_time ${start[1]} after end_time ${end[1]}`)),
    );
    const foreign = cursors.foreignLog;
    const strangers = [...cursors.lists.map((c) => ({ cursor: c, what: "another list's cursor" })), ...(foreign ? [{ cursor: foreign, what: "another project's log cursor" }] : [])];
    if (strangers.length > 0) {
      out.push(fc.constantFrom(...strangers).map(({ cursor, what }) => judged(replaced(draft, 'cursor', ['cursor', cursor]), what)));
    }
    if (cursors.logs.length > 0) {
      const own = fc.constantFrom(...cursors.logs);
      const limitPair = draft.query.find(([k]) => k === 'limit');
      out.push(
        own
          .chain(({ filters, cursor }) => otherFilters(filters, fx).map((other) => ({ other, cursor })))
          .map(({ other, cursor }) => judged({ ...draft, query: present([...other, limitPair, ['cursor', cursor]]) }, `a log cursor with other filters than its page's`))
          .filter((broken) => !broken.expected.includes(200)),
        own.map(({ filters, cursor }) => judged({ ...draft, query: present([...filters, limitPair, ['cursor', cursor.slice(0, -4)]]) }, 'a log cursor cut short')),
      );
    }
  } else {
    out.push(
      fc.constantFrom(...BAD_WINDOWS).map((window) => ({ draft: replaced(draft, 'window', ['window', window]), defect: `window=${JSON.stringify(window)}`, expected: [400] })),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Read-back: what a 200 says beyond its schema.

type PullLog = components['schemas']['PullLog'];
type PullMetrics = components['schemas']['PullMetrics'];
type Bucket = components['schemas']['MetricsBucket'];

export const WINDOW_MS: Record<string, number> = { '1h': 60 * MINUTE, '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY };
/** Bucket length and count per window (openapi.yaml, getPullMetricsTimeseries). */
export const BUCKETS: Record<string, { seconds: number; count: number }> = {
  '1h': { seconds: 60, count: 60 },
  '24h': { seconds: 900, count: 96 },
  '7d': { seconds: 3600, count: 168 },
  '30d': { seconds: 21_600, count: 120 },
};

/** The query as RFC 3986 reads it (no `+` for a space): the first value of each name. */
export function queryOf(target: string): Map<string, string> {
  const query = new Map<string, string>();
  const start = target.indexOf('?');
  if (start < 0) return query;
  for (const pair of target.slice(start + 1).split('&')) {
    const at = pair.indexOf('=');
    const [name, raw] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    try {
      const key = decodeURIComponent(name);
      if (!query.has(key)) query.set(key, decodeURIComponent(raw));
    } catch {
      // Not percent-encoded UTF-8: such a request is never answered 200.
    }
  }
  return query;
}

/** Milliseconds of a UUIDv7's timestamp. */
function timeOfId(id: string): number {
  return parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

/** The checks, and what they need to know: the project's endpoints, and which a request deleted. */
export class ProjectViews {
  /** The fuzz project's fixture endpoints: only they have events (endpoints the fuzz creates get none). */
  private readonly own: Set<string>;
  /** Endpoints deleted by a request answered in an earlier batch. */
  private readonly deleted = new Set<string>();
  private readonly foreignEvents: Set<string>;

  constructor(private readonly fx: Fixtures) {
    this.own = new Set(fx.all.filter((e) => e !== fx.foreign && e !== fx.deleted).map((e) => e.id));
    this.foreignEvents = new Set(fx.foreign.events);
  }

  /** Notes the endpoints a checked batch deleted: the batches after it must not see them. */
  settle(outcomes: Outcome[]): void {
    for (const { request, status } of outcomes) {
      if (request.operation.operationId !== 'deletePullEndpoint' || status !== 200) continue;
      const id = decodeURIComponent(new URL(request.target, 'http://localhost').pathname.split('/')[3] ?? '').toLowerCase();
      this.deleted.add(id);
    }
  }

  /** Throws when a project view's answer says what it must not, beyond its schema. */
  check(outcome: Outcome): void {
    const { request, status } = outcome;
    if (!isProjectView(request.operation)) return;
    const query = queryOf(request.target);
    const endpoint = query.get('pull_endpoint_id')?.toLowerCase();
    const problems: string[] = [];
    if (endpoint !== undefined && this.deleted.has(endpoint) && status === 200) problems.push('an endpoint deleted by an earlier request was answered 200, not 404');
    if (status === 200) {
      const body = JSON.parse(outcome.text) as { data: unknown; meta: { has_more?: boolean; next_cursor?: string | null } };
      const serverTime = Date.parse(outcome.headers.get('date') ?? '');
      switch (request.operation.operationId) {
        case LOGS:
          problems.push(...this.logProblems(body.data as PullLog[], body.meta, query));
          break;
        case METRICS:
          problems.push(...metricsProblems(body.data as PullMetrics, query, serverTime));
          break;
        default:
          problems.push(...seriesProblems(body.data as { window: string; pull_endpoint_id: string | null; bucket_seconds: number; buckets: Bucket[] }, query, serverTime));
      }
    }
    if (problems.length > 0) {
      throw new Error(`${request.operation.key}: ${problems.slice(0, 5).join('; ')}\n${request.method} ${request.target}\n-> ${status} ${outcome.text.slice(0, 600)}`);
    }
  }

  private logProblems(data: PullLog[], meta: { has_more?: boolean; next_cursor?: string | null }, query: Map<string, string>): string[] {
    const problems: string[] = [];
    const limit = Number(query.get('limit') ?? 100);
    if (data.length > limit) problems.push(`${data.length} events for limit ${limit}`);
    if (meta.has_more && data.length !== limit) problems.push(`has_more with ${data.length} events for limit ${limit}`);
    if (data.length > 0 && !meta.next_cursor) problems.push('no next_cursor after a page of events');
    const endpoint = query.get('pull_endpoint_id')?.toLowerCase();
    const statuses = query.get('status')?.split(',');
    const dead = query.get('dead_lettered');
    const type = query.get('event_type');
    const [start, end] = ['start_time', 'end_time'].map((name) => {
      const v = query.get(name);
      return v === undefined ? undefined : exactInstant(v);
    });
    data.forEach((log, i) => {
      const previous = data[i - 1];
      if (previous && previous.event_id.toLowerCase() <= log.event_id.toLowerCase()) problems.push(`event ${log.event_id} follows ${previous.event_id}: not newest first`);
      if (!this.own.has(log.pull_endpoint_id) || this.deleted.has(log.pull_endpoint_id) || this.foreignEvents.has(log.event_id)) {
        problems.push(`event ${log.event_id} of endpoint ${log.pull_endpoint_id}, not a live endpoint of the project`);
      }
      if (Date.parse(log.received_at) !== timeOfId(log.event_id)) problems.push(`event ${log.event_id} received_at ${log.received_at} is not its id's time`);
      if (endpoint !== undefined && log.pull_endpoint_id !== endpoint) problems.push(`event ${log.event_id} of endpoint ${log.pull_endpoint_id}, not ${endpoint}`);
      if (statuses && !statuses.includes(log.status)) problems.push(`event ${log.event_id} is ${log.status}, not ${statuses.join(' or ')}`);
      if (dead !== undefined && (log.dead_lettered_at !== null) !== (dead === 'true')) problems.push(`event ${log.event_id} dead_lettered_at ${log.dead_lettered_at} for dead_lettered=${dead}`);
      if (type !== undefined && log.event_type !== type) problems.push(`event ${log.event_id} is of type ${JSON.stringify(log.event_type)}`);
      const received = BigInt(Date.parse(log.received_at)) * 1_000_000n;
      if (start !== undefined && received < start) problems.push(`event ${log.event_id} received ${log.received_at}, before start_time`);
      if (end !== undefined && received >= end) problems.push(`event ${log.event_id} received ${log.received_at}, not before end_time`);
    });
    return problems;
  }
}

/** A window's unit: minutes for 1h and 24h, hours for 7d and 30d. */
const WINDOW_UNIT_MS: Record<string, number> = { '1h': MINUTE, '24h': MINUTE, '7d': 60 * MINUTE, '30d': 60 * MINUTE };

/** `to` is the end of the unit the server's clock (the Date header, to the second) was in. */
function endsWithCurrentUnit(end: number, unit: number, serverTime: number): boolean {
  return end - unit <= serverTime + 999 && end > serverTime - 5_000;
}

function metricsProblems(data: PullMetrics, query: Map<string, string>, serverTime: number): string[] {
  const problems: string[] = [];
  const window = query.get('window') ?? '24h';
  const from = Date.parse(data.from);
  const to = Date.parse(data.to);
  if (data.window !== window) problems.push(`window ${data.window} for ${window}`);
  if (data.pull_endpoint_id !== (query.get('pull_endpoint_id')?.toLowerCase() ?? null)) problems.push(`pull_endpoint_id ${data.pull_endpoint_id}`);
  if (to - from !== WINDOW_MS[window]) problems.push(`from ${data.from} to ${data.to} is not ${window}`);
  const unit = WINDOW_UNIT_MS[window] ?? MINUTE;
  if (from % unit !== 0 || to % unit !== 0) problems.push(`from ${data.from} / to ${data.to} not whole ${unit / MINUTE}-minute units`);
  if (!endsWithCurrentUnit(to, unit, serverTime)) problems.push(`to ${data.to} is not the end of the current unit (server time ${new Date(serverTime).toISOString()})`);
  const same: [string, number, number][] = [
    ['total_messages and received', data.total_messages, data.received],
    ['failed and rejected', data.failed, data.rejected],
    ['retries and redelivered', data.retries, data.redelivered],
  ];
  for (const [what, a, b] of same) if (a !== b) problems.push(`${what} differ: ${a}, ${b}`);
  if (data.succeeded > data.total_messages) problems.push(`succeeded ${data.succeeded} > total_messages ${data.total_messages}`);
  const rate = data.total_messages === 0 ? 0 : data.succeeded / data.total_messages;
  if (Math.abs(data.success_rate - rate) > 1e-4) problems.push(`success_rate ${data.success_rate}, not ${data.succeeded}/${data.total_messages}`);
  if ((data.avg_latency_ms === null) !== (data.delivered === 0)) problems.push(`avg_latency_ms ${data.avg_latency_ms} with ${data.delivered} delivered`);
  const percentiles: [string, components['schemas']['LatencyPercentiles'], number][] = [
    ['time_to_fetch_ms', data.time_to_fetch_ms, data.fetched],
    ['time_to_ack_ms', data.time_to_ack_ms, data.delivered],
  ];
  for (const [what, { p50, p95 }, count] of percentiles) {
    if ((p50 === null) !== (count === 0) || (p95 === null) !== (count === 0)) problems.push(`${what} ${JSON.stringify({ p50, p95 })} for ${count} events`);
    if (p50 !== null && p95 !== null && p50 > p95) problems.push(`${what} p50 ${p50} > p95 ${p95}`);
  }
  return problems;
}

function seriesProblems(
  data: { window: string; pull_endpoint_id: string | null; bucket_seconds: number; buckets: Bucket[] },
  query: Map<string, string>,
  serverTime: number,
): string[] {
  const problems: string[] = [];
  const window = query.get('window') ?? '24h';
  const { seconds, count } = BUCKETS[window]!;
  const step = seconds * 1000;
  if (data.window !== window) problems.push(`window ${data.window} for ${window}`);
  if (data.pull_endpoint_id !== (query.get('pull_endpoint_id')?.toLowerCase() ?? null)) problems.push(`pull_endpoint_id ${data.pull_endpoint_id}`);
  if (data.bucket_seconds !== seconds) problems.push(`bucket_seconds ${data.bucket_seconds} for ${window}, not ${seconds}`);
  if (data.buckets.length !== count) problems.push(`${data.buckets.length} buckets for ${window}, not ${count}`);
  const first = Date.parse(data.buckets[0]?.timestamp ?? '');
  if (first % step !== 0) problems.push(`the first bucket starts at ${data.buckets[0]?.timestamp}, not on a ${seconds} s boundary`);
  data.buckets.forEach((bucket, i) => {
    if (Date.parse(bucket.timestamp) !== first + i * step) problems.push(`bucket ${i} starts at ${bucket.timestamp}`);
    if (bucket.stored + bucket.fetched + bucket.succeeded !== bucket.total) problems.push(`bucket ${bucket.timestamp}: stored + fetched + succeeded != total ${JSON.stringify(bucket)}`);
  });
  const last = Date.parse(data.buckets.at(-1)?.timestamp ?? '');
  if (!(last <= serverTime + 999 && last + step > serverTime - 5_000)) {
    problems.push(`the last bucket ${data.buckets.at(-1)?.timestamp} is not the one now (${new Date(serverTime).toISOString()}) falls in`);
  }
  return problems;
}

/** A pull-logs path for `query` (for the fixtures' cursors and the paging walk). */
export function logsPath(query: QueryPair[]): string {
  const encoded = query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  return `/v1/pull-logs${encoded ? `?${encoded}` : ''}`;
}
