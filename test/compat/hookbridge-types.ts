/**
 * HookBridge's wire types for the pull API, and a strict decoder for them.
 *
 * Written from HookBridge's side only, never from our openapi.yaml: a program built against
 * HookBridge (or its SDKs pointed at our base URL) decodes our answers with these types, so a
 * missing field, a renamed one or one of another type is a break for that program.
 *
 * Sources, cited per schema below:
 *   [go]    github.com/hookbridge/hookbridge-go, types.go (v1.5.0: PullEndpoint, PullEndpointSummary,
 *           PullEventSummary, PullEventDetail, PullLogEntry, Metrics, PullTimeSeriesBucket,
 *           apiResponse/responseMeta/apiError) and client.go (how each request is sent)
 *   [php]   github.com/hookbridge/hookbridge-php, src/Response/ParityResponses.php (PullEndpoint,
 *           PauseState, DeleteResult, PullTimingBreakdown, PullEventSummary, PullEventDetail,
 *           DeleteEventResult, DeleteEventBatchResult, DeletePullEventsAllResult, PullLogEntry,
 *           PullTimeSeriesBucket) and tests/SpecParityTest.php (fixtures of real answers)
 *   [seed]  /work/shared/seed/delete-batch-pull-events.txt (HookBridge's delete-batch page)
 *   [ref]   /work/shared/reference/hookbridge-pull.md and pull-api.md (what HookBridge documents
 *           and what we settled where it is silent)
 *
 * Nullability follows the SDKs (a Go pointer / PHP `?T` may be null); presence follows [ref]:
 * "for every HookBridge field we return the same name, type and meaning ... never rename, retype or
 * drop one", so every listed field must be present, even when null. Extra fields are allowed.
 */

/** The field kinds a HookBridge client decodes into. */
interface KindTypes {
  string: string;
  'string|null': string | null;
  /** A string in UUID form (ids are UUIDv7 [ref pull-api "Conventions"]; [seed] `format: uuid`). */
  uuid: string;
  /** A JSON integer: Go `int` refuses 1.5; PHP `int` under strict_types refuses a float. */
  int: number;
  'int|null': number | null;
  /** Go `float64`, PHP `float`. */
  number: number;
  bool: boolean;
  /** RFC 3339, as Go's time.Time and PHP's DateTimeImmutable read it. */
  datetime: string;
  'datetime|null': string | null;
  'string[]': string[];
  'string[]|null': string[] | null;
  'uuid[]': string[];
  /** Go `*map[string]string`, PHP `?array` of header name to value. */
  'headers|null': Record<string, string> | null;
  /** Any JSON value, null included (Go `any`, PHP `mixed`); must be present. */
  json: unknown;
}

export type Kind = keyof KindTypes;

export type Field =
  | Kind
  /** May be absent (Go `omitempty`), else of this kind. */
  | { readonly optional: Kind }
  | { readonly enum: readonly string[]; readonly nullable?: boolean }
  | { readonly object: Schema; readonly nullable?: boolean }
  | { readonly array: Schema };

export type Schema = { readonly [name: string]: Field };

type FieldType<F> = F extends Kind
  ? KindTypes[F]
  : F extends { readonly optional: infer K extends Kind }
    ? KindTypes[K] | undefined
    : F extends { readonly enum: readonly (infer E)[]; readonly nullable: true }
      ? E | null
      : F extends { readonly enum: readonly (infer E)[] }
        ? E
        : F extends { readonly object: infer S extends Schema; readonly nullable: true }
          ? Decoded<S> | null
          : F extends { readonly object: infer S extends Schema }
            ? Decoded<S>
            : F extends { readonly array: infer S extends Schema }
              ? Decoded<S>[]
              : never;

export type Decoded<S extends Schema> = { -readonly [K in keyof S]: FieldType<S[K]> };

// ---------------------------------------------------------------------------------------------
// The decoder table: one schema per HookBridge type.
// ---------------------------------------------------------------------------------------------

/** [go] PullEndpointCounts, [php] PullEndpointCounts; [ref] "GET one adds counts {stored, fetched, delivered, total}". */
export const PullEndpointCounts = {
  stored: 'int',
  fetched: 'int',
  delivered: 'int',
  total: 'int',
} as const satisfies Schema;

/**
 * [go] PullEndpoint, [php] PullEndpoint; [ref] "Endpoints": `mode` is "pull", `paused` always
 * present, `event_type_source` is "body" | "header" | null, secrets never returned.
 */
export const PullEndpoint = {
  id: 'uuid',
  name: 'string|null',
  description: 'string|null',
  mode: 'string',
  ingest_url: 'string',
  active: 'bool',
  paused: 'bool',
  retention_days: 'int|null',
  event_type_source: { enum: ['body', 'header'], nullable: true },
  event_type_path: 'string|null',
  verify_static_token: 'bool',
  token_header_name: 'string|null',
  token_query_param: 'string|null',
  verify_hmac: 'bool',
  hmac_header_name: 'string|null',
  timestamp_header_name: 'string|null',
  timestamp_ttl_seconds: 'int|null',
  verify_ip_allowlist: 'bool',
  allowed_cidrs: 'string[]|null',
  ingest_response_code: 'int',
  idempotency_header_names: 'string[]|null',
  created_at: 'datetime',
  updated_at: 'datetime',
} as const satisfies Schema;

/** [go] CreatePullEndpointResponse = PullEndpoint + secret_token; [ref] create returns it once. */
export const CreatedPullEndpoint = { ...PullEndpoint, secret_token: 'string' } as const satisfies Schema;

/** [go]/[php] GetPullEndpoint decodes PullEndpoint; [ref] "GET one adds counts". */
export const PullEndpointWithCounts = { ...PullEndpoint, counts: { object: PullEndpointCounts } } as const satisfies Schema;

/** [go] PullEndpointSummary, [php] PullEndpointSummary: the items of GET /v1/pull-endpoints. */
export const PullEndpointSummary = {
  id: 'uuid',
  name: 'string|null',
  active: 'bool',
  paused: 'bool',
  ingest_url: 'string',
  created_at: 'datetime',
} as const satisfies Schema;

/** [php] PauseState {id, paused} (required there), [go] ToggleResourceResponse. */
export const PauseState = { id: 'uuid', paused: 'bool' } as const satisfies Schema;

/** [php] DeleteResult {deleted, id}, [go] ToggleResourceResponse; [ref] delete answers {id, deleted: true}. */
export const DeleteResult = { id: 'uuid', deleted: 'bool' } as const satisfies Schema;

/** [php] PullTimingBreakdown (`?int` each); [ref] "Events": the four timing keys. */
export const PullTimingBreakdown = {
  ingest_processing_ms: 'int|null',
  time_to_fetch_ms: 'int|null',
  time_to_ack_ms: 'int|null',
  total_lifecycle_ms: 'int|null',
} as const satisfies Schema;

/**
 * [go] PullEventSummary, [php] PullEventSummary (with `timing`); [ref] "List ... Items: id,
 * event_type, status, size_bytes, received_at, fetched_at, delivered_at, timing".
 */
export const PullEventSummary = {
  id: 'uuid',
  event_type: 'string|null',
  status: { enum: ['stored', 'fetched', 'delivered'] },
  size_bytes: 'int',
  received_at: 'datetime',
  fetched_at: 'datetime|null',
  delivered_at: 'datetime|null',
  timing: { object: PullTimingBreakdown },
} as const satisfies Schema;

/** [go] PullEventDetail, [php] PullEventDetail (`content_type` is a non-null string there). */
export const PullEventDetail = {
  ...PullEventSummary,
  content_type: 'string',
  headers: 'headers|null',
  payload: 'json',
} as const satisfies Schema;

/** [ref] "Deleted: ... with preview 200, payload/headers null, deleted_at, deleted_by_api_key_id". */
export const DeletedPullEventPreview = {
  ...PullEventDetail,
  deleted_at: 'datetime',
  deleted_by_api_key_id: 'string',
} as const satisfies Schema;

/** [go] AckPullEventsResponse, [php] AckPullEventsResponse. */
export const AckResult = { acknowledged: 'int' } as const satisfies Schema;

/** [php] DeleteEventResult {eventId, deletedAt, alreadyDeleted}. */
export const DeleteEventResult = { event_id: 'uuid', deleted_at: 'datetime', already_deleted: 'bool' } as const satisfies Schema;

/** [seed] results[] item; [php] DeleteEventBatchItemResult (`?deletedAt`). */
export const DeleteBatchItem = {
  event_id: 'uuid',
  outcome: { enum: ['deleted', 'already_deleted', 'not_found'] },
  deleted_at: { optional: 'datetime' },
} as const satisfies Schema;

/** [seed] 200 body `data`; [php] DeleteEventBatchResult. */
export const DeleteBatchResult = {
  results: { array: DeleteBatchItem },
  deleted_count: 'int',
  already_deleted_count: 'int',
  not_found_count: 'int',
} as const satisfies Schema;

/** [go] pullDeleteAllEnvelope.Data, [php] DeletePullEventsAllResult. */
export const DeleteAllResult = { deleted: 'int', deleted_event_ids: 'uuid[]' } as const satisfies Schema;

/**
 * [go] PullLogEntry, [php] PullLogEntry (with `timing`); [ref] "Project-wide views": items add
 * `deleted_at` (pull-logs lists deleted events too).
 */
export const PullLogEntry = {
  event_id: 'uuid',
  pull_endpoint_id: 'uuid',
  endpoint_name: 'string|null',
  event_type: 'string|null',
  status: { enum: ['stored', 'fetched', 'delivered'] },
  size_bytes: 'int',
  received_at: 'datetime',
  fetched_at: 'datetime|null',
  delivered_at: 'datetime|null',
  deleted_at: 'datetime|null',
  timing: { object: PullTimingBreakdown },
} as const satisfies Schema;

/**
 * [go] Metrics (GetPullMetrics decodes into it): `success_rate float64`, every count `int`, and
 * `avg_latency_ms int` (a fraction would fail Go's decoder; a null leaves it 0, which Go accepts).
 * [ref] success_rate is a fraction 0..1.
 */
export const PullMetrics = {
  window: { enum: ['1h', '24h', '7d', '30d'] },
  total_messages: 'int',
  succeeded: 'int',
  failed: 'int',
  retries: 'int',
  success_rate: 'number',
  avg_latency_ms: 'int|null',
} as const satisfies Schema;

/** [go] PullTimeSeriesBucket, [php] PullTimeSeriesBucket. */
export const PullTimeSeriesBucket = {
  timestamp: 'datetime',
  stored: 'int',
  fetched: 'int',
  succeeded: 'int',
  total: 'int',
} as const satisfies Schema;

/** [go] PullTimeSeriesMetrics, [php] PullTimeSeriesMetrics. */
export const PullTimeSeries = {
  window: { enum: ['1h', '24h', '7d', '30d'] },
  buckets: { array: PullTimeSeriesBucket },
} as const satisfies Schema;

/** [ref] "Settled details": the ingest answer's `data`. */
export const IngestAnswer = { event_id: 'uuid', received_at: 'datetime' } as const satisfies Schema;

/** [go] apiError, [seed] error bodies: `{error: {code, message}, meta: {request_id}}`. */
export const ApiError = { code: 'string', message: 'string' } as const satisfies Schema;

// ---------------------------------------------------------------------------------------------
// The decoder.
// ---------------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return `number ${value}`;
  return typeof value;
}

function kindProblem(kind: Kind, value: unknown): string | undefined {
  if (kind === 'json') return undefined; // any JSON value, null included: only its presence is checked
  const nullable = kind.endsWith('|null');
  if (value === null) return nullable ? undefined : `expected ${kind}, got null`;
  const base = nullable ? kind.slice(0, -'|null'.length) : kind;
  const ok = (() => {
    switch (base) {
      case 'string':
        return typeof value === 'string';
      case 'uuid':
        return typeof value === 'string' && UUID.test(value);
      case 'int':
        return Number.isSafeInteger(value);
      case 'number':
        return typeof value === 'number' && Number.isFinite(value);
      case 'bool':
        return typeof value === 'boolean';
      case 'datetime':
        return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value));
      case 'string[]':
        return Array.isArray(value) && value.every((item) => typeof item === 'string');
      case 'uuid[]':
        return Array.isArray(value) && value.every((item) => typeof item === 'string' && UUID.test(item));
      case 'headers':
        return isObject(value) && Object.values(value).every((item) => typeof item === 'string');
      default:
        throw new Error(`unknown field kind ${kind}`);
    }
  })();
  return ok ? undefined : `expected ${kind}, got ${describe(value)}`;
}

function check(schema: Schema, value: unknown, path: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${path}: expected an object, got ${describe(value)}`);
    return;
  }
  for (const [name, field] of Object.entries(schema)) {
    const at = `${path}.${name}`;
    const present = Object.hasOwn(value, name);
    const item = value[name];
    if (typeof field === 'object' && 'optional' in field) {
      if (present) {
        const problem = kindProblem(field.optional, item);
        if (problem) problems.push(`${at}: ${problem}`);
      }
      continue;
    }
    if (!present) {
      problems.push(`${at}: missing`);
      continue;
    }
    if (typeof field === 'string') {
      const problem = kindProblem(field, item);
      if (problem) problems.push(`${at}: ${problem}`);
    } else if ('enum' in field) {
      if (item === null && field.nullable) continue;
      if (typeof item !== 'string' || !field.enum.includes(item)) {
        problems.push(`${at}: expected one of ${field.enum.join(' | ')}${field.nullable ? ' | null' : ''}, got ${describe(item)}`);
      }
    } else if ('object' in field) {
      if (item === null && field.nullable) continue;
      check(field.object, item, at, problems);
    } else if (!Array.isArray(item)) {
      problems.push(`${at}: expected an array, got ${describe(item)}`);
    } else {
      item.forEach((element, index) => check(field.array, element, `${at}[${index}]`, problems));
    }
  }
}

/** The problems decoding `value` as `schema` would have, empty when it decodes. */
export function decodeProblems(schema: Schema, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  check(schema, value, path, problems);
  return problems;
}

/** `value` as a HookBridge client reads it; throws listing every field that would not decode. */
export function decode<S extends Schema>(schema: S, value: unknown, path = '$'): Decoded<S> {
  const problems = decodeProblems(schema, value, path);
  if (problems.length > 0) {
    throw new Error(`not decodable as HookBridge's type:\n  ${problems.join('\n  ')}\nbody: ${JSON.stringify(value).slice(0, 2000)}`);
  }
  return value as Decoded<S>;
}

/** [go] responseMeta, [ref pull-api] "Success body: { data, meta: { request_id: "req_..." } }". */
const Meta = { request_id: 'string' } as const satisfies Schema;
/** [go] responseMeta.HasMore / NextCursor; [ref pull-api] "meta.has_more, meta.next_cursor". */
const ListMeta = { request_id: 'string', has_more: 'bool', next_cursor: 'string|null' } as const satisfies Schema;

function requestIdOf(meta: { request_id: string }): string {
  if (!meta.request_id.startsWith('req_')) throw new Error(`meta.request_id ${JSON.stringify(meta.request_id)} is not "req_..."`);
  return meta.request_id;
}

/** `{data: <schema>, meta: {request_id}}`. */
export function decodeEnvelope<S extends Schema>(schema: S, body: unknown): Decoded<S> {
  const envelope = decode({ data: { object: schema }, meta: { object: Meta } }, body);
  requestIdOf(envelope.meta);
  return envelope.data as Decoded<S>;
}

/** `{data: [<schema>...], meta: {request_id, has_more, next_cursor}}`. */
export function decodeList<S extends Schema>(schema: S, body: unknown) {
  const envelope = decode({ data: { array: schema }, meta: { object: ListMeta } }, body);
  requestIdOf(envelope.meta);
  return { items: envelope.data as Decoded<S>[], hasMore: envelope.meta.has_more, nextCursor: envelope.meta.next_cursor };
}

/** `{error: {code, message}, meta: {request_id}}`. */
export function decodeError(body: unknown) {
  const envelope = decode({ error: { object: ApiError }, meta: { object: Meta } }, body);
  requestIdOf(envelope.meta);
  return envelope.error;
}
