/**
 * Read-back of issue 9's operations: after a batch of valid requests, the events their answers
 * name are read with the events list, and must be as the answers said:
 * - received: `fetched`, not dead-lettered, `delivery_count` as answered; and a receive that
 *   answered no event left no `stored` one of its type (a stored event is always receivable);
 * - acked (by lease): `delivered`;
 * - redriven: `fetched`, not dead-lettered, `delivery_count` 0; and no `fetched` dead letter it was
 *   asked for (or, with `all`, none at all, unless it stopped at `limit`) is left;
 * - replayed: `stored` with no fetch, delivery or dead letter, matching the filters; and no
 *   delivered event matching them is left, unless it stopped at `limit`.
 * Only answers no other request of the batch may have undone are read back: none that may undo
 * them (UNDONE_BY) named their endpoint.
 *
 * Beside them, the answers that say what they must without a read: a list with `dead_lettered`
 * holds only (or no) dead letters, in the statuses asked for (`any` by default with
 * `dead_lettered=true`, else `stored`); an endpoint created or updated with `max_deliveries` says so.
 */
import type { components } from '../../generated/openapi';
import type { Fixtures } from './fixtures';
import { knownReadBackBug } from './known-bugs';
import type { Outcome } from './harness';
import { endpointOf } from './lease-ledger';
import type { Operation } from './openapi';
import { exactInstant, queryOf } from './project-views';
import { finish, type FuzzRequest, type QueryPair } from './requests';

type Summary = components['schemas']['PullEventSummary'];
type Body = Record<string, unknown>;

const DELETES = ['deletePullEvent', 'deletePullEventsBatch', 'deleteAllPullEvents', 'deletePullEndpoint'];

/**
 * The operations that, on the same endpoint in the same batch, may change what an answer's read
 * back looks at: receive moves events to `fetched` (and counts them), replay to `stored`, reading
 * an event moves it to `fetched`, acks to `delivered`, a webhook adds a `stored` one, a delete
 * makes events no longer live. Extend, release, redrive, settings and reads leave these alone.
 */
const UNDONE_BY: Record<string, string[]> = {
  receivePullEvents: ['receivePullEvents', 'replayPullEvents', 'ackPullEvents', 'ingestPullEvent'],
  ackPullEventLeases: ['replayPullEvents'],
  redrivePullEvents: ['receivePullEvents', 'ackPullEvents'],
  replayPullEvents: ['receivePullEvents', 'getPullEvent', 'getPullEventPayload', 'ackPullEvents', 'ackPullEventLeases', ...DELETES],
};

function json(text: string | undefined): Body {
  return JSON.parse(text || '{}') as Body;
}

/** The endpoint a request names: in its path, or by its ingest token. */
function named(outcome: Outcome, fx: Fixtures): string | undefined {
  if (outcome.request.operation.auth === 'url-token') {
    const token = decodeURIComponent(new URL(outcome.request.target, 'http://localhost').pathname.split('/')[2] ?? '');
    return fx.all.find((e) => e.token === token)?.id;
  }
  return outcome.request.operation.path.startsWith('/v1/pull-endpoints/{id}') ? endpointOf(outcome) : undefined;
}

/** What the read-back shows wrong with an answer, and the known bugs (known-bugs.ts) it let pass. */
function problemsOf(outcome: Outcome, events: Map<string, Summary>): { problems: string[]; skipped: string[] } {
  const problems: string[] = [];
  const skipped: string[] = [];
  const operationId = outcome.request.operation.operationId;
  const request = json(outcome.request.body?.toString('utf8'));
  const data = json(outcome.text).data as Body;
  const expect = (id: string, what: string, ok: (e: Summary) => boolean) => {
    const event = events.get(id.toLowerCase());
    if (!event || ok(event)) return;
    const bug = knownReadBackBug(operationId, event);
    if (bug) skipped.push(bug);
    else problems.push(`event ${id} should be ${what}: ${JSON.stringify(event)}`);
  };
  const live = [...events.values()].filter((e) => e.deleted_at === null);
  switch (operationId) {
    case 'receivePullEvents': {
      const answered = data.events as { id: string; delivery_count: number }[];
      for (const e of answered) expect(e.id, `fetched with delivery_count ${e.delivery_count}`, (s) => s.status === 'fetched' && s.dead_lettered_at === null && s.delivery_count === e.delivery_count);
      const type = request.event_type as string | undefined;
      const left = live.find((e) => e.status === 'stored' && (type === undefined || e.event_type === type));
      if (answered.length === 0 && left) problems.push(`no event answered, though stored event ${left.id} was receivable`);
      break;
    }
    case 'ackPullEventLeases':
      for (const r of data.results as { event_id?: string; outcome: string }[]) {
        if (r.outcome === 'acked') expect(r.event_id!, 'delivered', (s) => s.status === 'delivered' && s.delivered_at !== null);
      }
      break;
    case 'redrivePullEvents': {
      const moved = data.redriven_event_ids as string[];
      for (const id of moved) expect(id, 'fetched, not dead-lettered, delivery_count 0', (s) => s.status === 'fetched' && s.dead_lettered_at === null && s.delivery_count === 0);
      const asked = Array.isArray(request.event_ids) ? new Set((request.event_ids as string[]).map((id) => id.toLowerCase())) : undefined;
      // One acked by event id keeps its dead_lettered_at but is done with: redrive leaves it (ba06633).
      const left = live.find((e) => e.dead_lettered_at !== null && e.status === 'fetched' && (asked ? asked.has(e.id.toLowerCase()) : moved.length < ((request.limit as number | undefined) ?? 1000)));
      if (left) problems.push(`dead letter ${left.id} was left`);
      break;
    }
    case 'replayPullEvents': {
      const type = request.event_type as string | undefined;
      const [after, before] = [request.received_after, request.received_before].map((t) => (t === undefined ? undefined : exactInstant(t as string)));
      const matches = (e: Summary) => {
        const at = BigInt(Date.parse(e.received_at)) * 1_000_000n;
        return (type === undefined || e.event_type === type) && (after === undefined || at >= after) && (before === undefined || at < before);
      };
      for (const id of data.replayed_event_ids as string[]) {
        expect(id, 'stored afresh, matching the filters', (s) => {
          const afresh = s.status === 'stored' && s.fetched_at === null && s.delivered_at === null && s.delivery_count === 0 && s.dead_lettered_at === null;
          return afresh && s.deleted_at === null && matches(s);
        });
      }
      const left = live.find((e) => e.status === 'delivered' && matches(e));
      if (left && (data.replayed as number) < ((request.limit as number | undefined) ?? 1000)) problems.push(`delivered event ${left.id} matching the filters was left`);
    }
  }
  return { problems, skipped };
}

/** Every event of an endpoint, deleted ones too, by id, read with `list`; undefined if the endpoint is gone. */
export async function listEvents(
  list: Operation,
  apiKey: string,
  endpointId: string,
  answer: (request: FuzzRequest) => Promise<Outcome>,
): Promise<Map<string, Summary> | undefined> {
  const events = new Map<string, Summary>();
  let cursor: string | undefined;
  do {
    const query: QueryPair[] = [['status', 'any'], ['include_deleted', 'true'], ['limit', '1000'], ...(cursor === undefined ? [] : [['cursor', cursor] as QueryPair])];
    const outcome = await answer(finish('valid', list, { method: 'GET', pathValues: { id: endpointId }, query, headers: { authorization: `Bearer ${apiKey}` }, body: undefined }));
    if (outcome.status === 404) return undefined;
    const page = JSON.parse(outcome.text) as components['schemas']['PullEventListResponse'];
    for (const event of page.data) events.set(event.id.toLowerCase(), event);
    cursor = page.meta.has_more ? (page.meta.next_cursor ?? undefined) : undefined;
  } while (cursor !== undefined);
  return events;
}

/**
 * Reads back what the batch's answers to issue 9's operations said, with `list` (every event of
 * an endpoint, deleted ones too, or undefined if the endpoint is gone); throws on a difference.
 * Answers the known bugs let pass.
 */
export async function readBackLeases(outcomes: Outcome[], fx: Fixtures, list: (endpointId: string) => Promise<Map<string, Summary> | undefined>): Promise<string[]> {
  const claims = outcomes.filter((outcome) => {
    const undoers = UNDONE_BY[outcome.request.operation.operationId];
    if (outcome.status !== 200 || outcome.request.kind !== 'valid' || !undoers) return false;
    const endpointId = endpointOf(outcome);
    return !outcomes.some((other) => other !== outcome && undoers.includes(other.request.operation.operationId) && named(other, fx) === endpointId);
  });
  const listed = new Map<string, Map<string, Summary> | undefined>();
  for (const endpointId of new Set(claims.map(endpointOf))) listed.set(endpointId, await list(endpointId));
  const skipped: string[] = [];
  for (const outcome of claims) {
    const events = listed.get(endpointOf(outcome));
    const { problems, skipped: passed } = events ? problemsOf(outcome, events) : { problems: [], skipped: [] };
    skipped.push(...passed);
    if (problems.length > 0) {
      const { request } = outcome;
      throw new Error(
        `read back after ${request.operation.key}: ${problems.slice(0, 5).join('; ')}\n${request.method} ${request.target}\n  body ${request.body?.toString('utf8').slice(0, 600)}\n-> ${outcome.status} ${outcome.text.slice(0, 1200)}`,
      );
    }
  }
  return skipped;
}

/** Throws when a list filtered by `dead_lettered`, or a stored `max_deliveries`, says otherwise than asked. */
export function checkLeaseFilters(outcome: Outcome): void {
  const { request, status } = outcome;
  const operationId = request.operation.operationId;
  if (request.kind !== 'valid' || status >= 300) return;
  const problems: string[] = [];
  if (operationId === 'listPullEvents') {
    const query = queryOf(request.target);
    const dead = query.get('dead_lettered');
    const wanted = query.get('status') ?? (dead === 'true' ? 'any' : 'stored');
    for (const event of json(outcome.text).data as Summary[]) {
      if (dead !== undefined && (event.dead_lettered_at !== null) !== (dead === 'true')) problems.push(`event ${event.id} dead_lettered_at ${event.dead_lettered_at} for dead_lettered=${dead}`);
      if (wanted !== 'any' && event.status !== wanted) problems.push(`event ${event.id} is ${event.status}, not ${wanted}`);
    }
  }
  if ((operationId === 'createPullEndpoint' || operationId === 'updatePullEndpoint') && request.body) {
    const asked = json(request.body.toString('utf8')).max_deliveries;
    const stored = (json(outcome.text).data as Body).max_deliveries;
    if (asked !== undefined && stored !== asked) problems.push(`max_deliveries ${JSON.stringify(stored)}, not ${JSON.stringify(asked)}`);
  }
  if (problems.length > 0) {
    throw new Error(`${request.operation.key}: ${problems.slice(0, 5).join('; ')}\n${request.method} ${request.target}\n-> ${status} ${outcome.text.slice(0, 600)}`);
  }
}
