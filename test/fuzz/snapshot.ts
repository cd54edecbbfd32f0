import type { Database } from '../../src/db/prisma';
import { describeRequest, type RejectionReason } from './requests';
import type { Outcome } from './harness';

/**
 * The fuzz projects' rows, to tell what a batch of invalid requests changed: nothing may change,
 * but the ingest URL records each webhook it refuses for a known endpoint in its rejections, a
 * side effect the contract asks for; those are compared with the refusals the batch expected.
 */
export interface Snapshot {
  /** Each row as canonical JSON, keyed by table and id. */
  rows: Map<string, string>;
  /** Rejection records by id. */
  rejections: Map<string, { endpointId: string; reason: string }>;
}

/**
 * Endpoints whole; events by their row version (`xmin`, which any UPDATE changes) and the columns
 * worth reading in a report, not their payloads (up to 1 MiB), headers or query strings (up to
 * 16 KiB): read twice a batch, those would be most of the run. Versions are compared only for live
 * events of live endpoints: the sweeper (which another test file may run at the same time)
 * legitimately erases the payloads of deleted ones, and trims old rejections.
 */
export async function snapshot(db: Database, projectIds: string[]): Promise<Snapshot> {
  const rows = await db.$queryRaw<{ key: string; row: string }[]>`
    WITH endpoints AS (SELECT * FROM pull_endpoints WHERE project_id = ANY(${projectIds}::uuid[]))
    SELECT 'pull_endpoints ' || e.id AS key, to_jsonb(e)::text AS row FROM endpoints e
    UNION ALL
    SELECT 'pull_events ' || v.id, (
      jsonb_build_object('endpoint', v.pull_endpoint_id, 'event_type', v.event_type, 'status', v.status,
        'received_at', v.received_at, 'size_bytes', v.size_bytes, 'deleted_at', v.deleted_at,
        'deleted_by_api_key_id', v.deleted_by_api_key_id)
      || CASE WHEN v.deleted_at IS NULL AND e.deleted_at IS NULL THEN jsonb_build_object('version', v.xmin::text) ELSE '{}'::jsonb END)::text
    FROM pull_events v JOIN endpoints e ON e.id = v.pull_endpoint_id
    UNION ALL
    SELECT 'pull_event_idempotency_keys ' || k.pull_endpoint_id || ' ' || k.idempotency_key, to_jsonb(k)::text
    FROM pull_event_idempotency_keys k JOIN endpoints e ON e.id = k.pull_endpoint_id`;
  const rejections = await db.$queryRaw<{ id: string; endpoint_id: string; reason: string }[]>`
    SELECT r.id::text AS id, r.pull_endpoint_id::text AS endpoint_id, r.reason FROM pull_endpoint_rejections r
    WHERE r.pull_endpoint_id IN (SELECT id FROM pull_endpoints WHERE project_id = ANY(${projectIds}::uuid[]))`;
  return {
    rows: new Map(rows.map(({ key, row }) => [key, row])),
    rejections: new Map(rejections.map(({ id, endpoint_id, reason }) => [id, { endpointId: endpoint_id, reason }])),
  };
}

/** What changed between two snapshots, one line per row (at most `limit` lines); rejections aside. */
export function differences(before: Snapshot, after: Snapshot, limit = 10): string[] {
  const lines: string[] = [];
  for (const [key, row] of after.rows) {
    const old = before.rows.get(key);
    if (old === undefined) lines.push(`added   ${key}: ${row}`);
    else if (old !== row) lines.push(`changed ${key}:\n    before ${old}\n    after  ${row}`);
  }
  for (const key of before.rows.keys()) if (!after.rows.has(key)) lines.push(`removed ${key}`);
  return lines.length > limit ? [...lines.slice(0, limit), `... and ${lines.length - limit} more`] : lines;
}

/** The status each refusal answers (openapi.yaml, RejectionReason and the ingest responses). */
const STATUS_OF: Record<RejectionReason, number> = {
  missing_token: 401,
  bad_token: 401,
  missing_signature: 401,
  bad_signature: 401,
  stale_timestamp: 401,
  ip_not_allowed: 403,
  paused: 503,
  too_large: 413,
  unsupported_encoding: 415,
};

/** Whether each recorded reason can be given to a distinct refusal that allows it. */
function matches(reasons: string[], wanted: Set<string>[]): boolean {
  if (reasons.length !== wanted.length) return false;
  const [first, ...rest] = reasons;
  if (first === undefined) return true;
  return wanted.some((set, i) => set.has(first) && matches(rest, wanted.filter((_, j) => j !== i)));
}

/**
 * What is wrong with the rejections a batch added: each webhook refused for a known endpoint adds
 * one, on that endpoint, with a reason its defect allows and its status matches; nothing else adds any.
 */
export function rejectionProblems(before: Snapshot, after: Snapshot, outcomes: Outcome[], labels: Map<string, string>): string[] {
  const added = new Map<string, string[]>();
  for (const [id, { endpointId, reason }] of after.rejections) {
    if (!before.rejections.has(id)) added.set(endpointId, [...(added.get(endpointId) ?? []), reason]);
  }
  const expected = new Map<string, Outcome[]>();
  for (const outcome of outcomes) {
    const rejection = outcome.request.rejection;
    if (rejection) expected.set(rejection.endpointId, [...(expected.get(rejection.endpointId) ?? []), outcome]);
  }
  const problems: string[] = [];
  for (const endpointId of new Set([...added.keys(), ...expected.keys()])) {
    const reasons = added.get(endpointId) ?? [];
    const refused = expected.get(endpointId) ?? [];
    const wanted = refused.map(({ request, status }) => new Set(request.rejection!.reasons.filter((r) => STATUS_OF[r] === status)));
    if (!matches(reasons, wanted)) {
      const requests = refused.map((o) => `  -> ${o.status} for ${describeRequest(o.request)}\n     may record ${o.request.rejection!.reasons.join(' or ')}`);
      const endpoint = `${labels.get(endpointId) ?? 'endpoint'} ${endpointId}`;
      problems.push(`${endpoint} recorded rejections [${reasons.join(', ')}] for ${refused.length} refused webhooks:\n${requests.join('\n')}`);
    }
  }
  return problems;
}
