import fc from 'fast-check';
import { invalidApiRequest } from './api-defects';
import { validApiRequest } from './api-requests';
import { buildFixtures, type Fixtures } from './fixtures';
import { checkOutcome, SchemaValidator, send, type Outcome } from './harness';
import { invalidIngestRequest, validIngestRequest } from './ingest-requests';
import { knownBug } from './known-bugs';
import { checkLeaseAnswer } from './lease-answers';
import { LeaseLedger } from './lease-ledger';
import { checkLeaseFilters, listEvents, readBackLeases } from './lease-readback';
import { Spec, type Operation } from './openapi';
import { foreignLogCursor, logsPath, ProjectViews, type Cursors, type LogCursor } from './project-views';
import { checkReadBack } from './readback';
import { BODY_LIMIT_BYTES, describeRequest, finish, INGEST_BODY_LIMIT_BYTES, type FuzzRequest } from './requests';
import { differences, rejectionProblems, snapshot, type Snapshot } from './snapshot';
import { startTestServer, type TestServer } from '../support/server';

/** Counts for the closing log line and the coverage check. */
export class FuzzStats {
  valid = 0;
  invalid = 0;
  /** Answers left unchecked because they hit a known server bug (known-bugs.ts), by bug id. */
  readonly skipped: Record<string, number> = {};
  readonly statuses: Record<string, number> = {};
  /** Requests per operation key. */
  readonly requests: Record<string, number> = {};
  /** `operation key` -> statuses seen per kind, e.g. `valid 200`. */
  readonly coverage = new Map<string, Set<string>>();

  record(outcome: Outcome): void {
    const { request, status } = outcome;
    this[request.kind] += 1;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.requests[request.operation.key] = (this.requests[request.operation.key] ?? 0) + 1;
    const seen = this.coverage.get(request.operation.key) ?? new Set<string>();
    seen.add(`${request.kind} ${status}`);
    this.coverage.set(request.operation.key, seen);
  }

  skip(bug: string): void {
    this.skipped[bug] = (this.skipped[bug] ?? 0) + 1;
  }

  get total(): number {
    return this.valid + this.invalid;
  }
}

/** A fuzz run's server, fixtures and counts, and how a batch of requests is drawn, sent and checked. */
export class FuzzSession {
  readonly spec = new Spec();
  readonly schemas = new SchemaValidator(this.spec);
  readonly stats = new FuzzStats();
  readonly leases = new LeaseLedger();
  readonly ingest: Operation;
  server!: TestServer;
  fx!: Fixtures;
  views!: ProjectViews;
  cursors: Cursors = { lists: [], logs: [], foreignLog: undefined };
  /**
   * The state after the last batch of invalid requests that changed nothing it should not have:
   * the state before the next one, unless another request was sent since.
   */
  private settled: Snapshot | undefined;

  constructor(private readonly batchSize: number) {
    this.ingest = this.spec.operations.find((o) => o.auth === 'url-token')!;
  }

  async start(): Promise<void> {
    this.server = await startTestServer({ bodyLimitBytes: BODY_LIMIT_BYTES, ingestBodyLimitBytes: INGEST_BODY_LIMIT_BYTES });
    this.fx = await buildFixtures(this.server.db, this.server.baseUrl);
    this.views = new ProjectViews(this.fx);
    this.cursors = await this.collectCursors();
    await this.receiveLeases();
  }

  /** Real leases for the first batches' lease operations to name: a receive from `leased`. */
  private async receiveLeases(): Promise<void> {
    const receive = this.spec.operations.find((o) => o.operationId === 'receivePullEvents')!;
    const draft = {
      method: 'POST',
      pathValues: { id: this.fx.leased.id },
      query: [],
      headers: { authorization: `Bearer ${this.fx.apiKey}`, 'content-type': 'application/json' },
      body: { json: { max_events: 20, lease_seconds: 43_200 } },
    };
    await this.answer(finish('valid', receive, draft, { expected: [200] }));
  }

  /** Sends one request and checks its answer. */
  async answer(request: FuzzRequest): Promise<Outcome> {
    const outcomes = await this.sendAll([request]);
    this.checkAll(outcomes);
    return outcomes[0]!;
  }

  /** Reads back what a checked batch's answers to issue 9's operations said (lease-readback.ts). */
  async readBack(outcomes: Outcome[]): Promise<void> {
    const list = this.spec.operations.find((o) => o.operationId === 'listPullEvents')!;
    const checked = outcomes.filter((outcome) => !knownBug(outcome));
    const skipped = await readBackLeases(checked, this.fx, (endpointId) => listEvents(list, this.fx.apiKey, endpointId, (request) => this.answer(request)));
    for (const bug of skipped) this.stats.skip(bug);
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  /** Real `next_cursor`s of the fuzz project's lists, for valid requests to send back. */
  private async collectCursors(): Promise<Cursors> {
    const { fx } = this;
    const read = async (path: string) => {
      const response = await fetch(`${this.server.baseUrl}${path}`, { headers: { authorization: `Bearer ${fx.apiKey}` } });
      const body = (await response.json()) as { meta?: { next_cursor?: string | null } };
      return body.meta?.next_cursor ?? undefined;
    };
    const blocked = fx.inboxes.find((inbox) => inbox.answers === 403)!;
    const found = await Promise.all([
      read('/v1/pull-endpoints?limit=1'),
      read(`/v1/pull-endpoints/${fx.main.id}/events?limit=2`),
      read(`/v1/pull-endpoints/${fx.main.id}/events?limit=5&status=any&include_deleted=true`),
      read(`/v1/pull-endpoints/${blocked.id}/rejections?limit=1`),
    ]);
    // The log's, each with the filters of its page: sent back with them, or with others (a 400).
    const logFilters: LogCursor['filters'][] = [
      [],
      [['status', 'stored,delivered', true]],
      [['pull_endpoint_id', fx.main.id], ['status', 'fetched,stored']],
      [['start_time', '2020-01-01T00:00:00Z', true], ['end_time', '2100-01-01T00:00:00.000+00:00']],
      [['event_type', 'order.created']],
      [['dead_lettered', 'true']],
    ];
    const logs = await Promise.all(logFilters.map(async (filters) => ({ filters, cursor: await read(logsPath([...filters, ['limit', '2']])) })));
    const logCursors = logs.filter((c): c is LogCursor => c.cursor !== undefined);
    return {
      lists: found.filter((c): c is string => c !== undefined),
      logs: logCursors,
      foreignLog: foreignLogCursor(logCursors[0]?.cursor, fx.projectIds[0]!, fx.projectIds[1]!),
    };
  }

  validRequest(operation: Operation): fc.Arbitrary<FuzzRequest> {
    return operation === this.ingest ? validIngestRequest(operation, this.fx) : validApiRequest(operation, this.spec, this.fx, this.cursors, this.leases);
  }

  invalidRequest(operation: Operation): fc.Arbitrary<FuzzRequest> {
    return operation === this.ingest ? invalidIngestRequest(operation, this.fx) : invalidApiRequest(operation, this.spec, this.fx, this.cursors, this.leases);
  }

  /**
   * One batch: the ingest URL, whose inputs are the widest, has a slot of its own; slot i of the
   * rest draws from the other operations at i, i + slots, ..., so each gets its share.
   */
  batchOf(make: (operation: Operation) => fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest[]> {
    const others = this.spec.operations.filter((o) => o !== this.ingest);
    const shared = this.batchSize - 1;
    const slots = Array.from({ length: shared }, (_, slot) => fc.oneof(...others.filter((_, i) => i % shared === slot).map(make)));
    return fc.tuple(...slots, make(this.ingest));
  }

  async sendAll(batch: FuzzRequest[]): Promise<Outcome[]> {
    this.settled = undefined;
    const outcomes = await Promise.all(batch.map((request) => send(this.server.baseUrl, request)));
    for (const outcome of outcomes) this.stats.record(outcome);
    return outcomes;
  }

  /** Checks a batch's answers, all but those showing a known bug (known-bugs.ts). */
  checkAll(outcomes: Outcome[]): void {
    for (const outcome of outcomes) {
      const bug = knownBug(outcome);
      if (bug) {
        this.stats.skip(bug);
        continue;
      }
      checkOutcome(this.spec, this.schemas, outcome);
      checkReadBack(outcome, this.fx.webhooks);
      this.views.check(outcome);
      checkLeaseAnswer(outcome, this.leases);
      checkLeaseFilters(outcome);
    }
    this.views.settle(outcomes);
    this.leases.settle(outcomes.filter((outcome) => !knownBug(outcome)));
  }

  /** Sends a batch of invalid requests; throws unless each is refused as its defect calls for, changing nothing but the rejections recorded. */
  async expectRefused(batch: FuzzRequest[]): Promise<void> {
    const { db } = this.server;
    const before = this.settled ?? (await snapshot(db, this.fx.projectIds));
    const outcomes = await this.sendAll(batch);
    const after = await snapshot(db, this.fx.projectIds);
    const changed = differences(before, after);
    const changes = changed.length > 0 ? `\nthe batch changed the database:\n${changed.join('\n')}` : '';
    try {
      this.checkAll(outcomes);
    } catch (error) {
      (error as Error).message += changes;
      throw error;
    }
    if (changes) throw new Error(`rejected requests changed the database:${changes}\nthe batch:\n${batch.map(describeRequest).join('\n')}`);
    const labels = new Map(this.fx.all.map((endpoint) => [endpoint.id, endpoint.label]));
    const rejections = rejectionProblems(before, after, outcomes.filter((outcome) => !knownBug(outcome)), labels);
    if (rejections.length > 0) throw new Error(`the rejections recorded do not match the refusals:\n${rejections.join('\n')}`);
    this.settled = after;
  }

  /** Throws unless every operation has an outcome matching `seen` (e.g. `valid 201`). */
  expectEveryOperation(what: string, seen: (outcome: string) => boolean): void {
    const missing = this.spec.operations.filter((o) => ![...(this.stats.coverage.get(o.key) ?? [])].some(seen)).map((o) => o.key);
    expect({ what, missing }).toEqual({ what, missing: [] });
  }

  summary(seed: number): string {
    const { stats } = this;
    return [
      `fuzz: ${stats.total} requests (${stats.valid} valid, ${stats.invalid} invalid), seed ${seed}`,
      `${stats.requests[this.ingest.key] ?? 0} to the ingest URL`,
      `statuses ${JSON.stringify(stats.statuses)}`,
      `known bugs skipped ${JSON.stringify(stats.skipped)}`,
    ].join(', ');
  }
}
