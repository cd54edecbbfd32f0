/**
 * Property-based contract fuzzing: requests for every operation of openapi.yaml, valid ones drawn
 * from the schemas and invalid ones made by breaking a valid one in one place, sent with plain
 * fetch to the app running in-process (response validation on, rate limits off).
 *
 *   FUZZ_SEED=<n>      replays a run (a random seed is drawn and printed otherwise)
 *   FUZZ_RUNS=<n>      how many requests to send (default 2400: a third valid, two thirds invalid)
 *
 * A failure report names the seed and the counterexample (the request, the answer and what is
 * wrong with it).
 */
import fc from 'fast-check';
import { buildFixtures, differences, snapshot, type Fixtures } from './fixtures';
import { checkOutcome, FuzzStats, SchemaValidator, send } from './harness';
import { BODY_LIMIT_BYTES, INGEST_BODY_LIMIT_BYTES, describeRequest, invalidRequest, validRequest, type FuzzRequest } from './requests';
import { invalidValue, validValue, type SchemaContext } from './schema-arbitraries';
import { Spec, type Operation } from './openapi';
import { startTestServer, type TestServer } from '../support/server';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const REQUESTS = Number(process.env.FUZZ_RUNS ?? 2400);
/** Requests sent at once: one fast-check run is one batch. */
const BATCH = 8;
const VALID_RUNS = Math.max(1, Math.ceil(REQUESTS / 3 / BATCH));
const INVALID_RUNS = Math.max(1, Math.ceil(((REQUESTS * 2) / 3) / BATCH));
/** Generous: a default run takes a fraction of this; long runs scale it. */
const TIMEOUT_MS = 60_000 + REQUESTS * 40;
/**
 * How long fast-check may spend shrinking a failure (each try sends a batch). Past it, further
 * candidates are let pass, so the smallest failing batch found so far is the one reported.
 */
const SHRINK_BUDGET_MS = 15_000;

function withShrinkBudget<T>(predicate: (value: T) => Promise<void>): (value: T) => Promise<void> {
  let failedAt: number | undefined;
  return async (value) => {
    if (failedAt !== undefined && Date.now() - failedAt > SHRINK_BUDGET_MS) return;
    try {
      await predicate(value);
    } catch (error) {
      failedAt ??= Date.now();
      throw error;
    }
  };
}

const spec = new Spec();
const schemas = new SchemaValidator(spec);
const stats = new FuzzStats();
let server: TestServer;
let fx: Fixtures;
let cursors: string[];

/** Real `next_cursor`s of the fuzz project's lists, for valid requests to send back. */
async function collectCursors(): Promise<string[]> {
  const read = async (path: string) => {
    const response = await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${fx.apiKey}` } });
    const body = (await response.json()) as { meta?: { next_cursor?: string | null } };
    return body.meta?.next_cursor ?? undefined;
  };
  const found = await Promise.all([
    read('/v1/pull-endpoints?limit=1'),
    read(`/v1/pull-endpoints/${fx.main.id}/events?limit=2`),
    read(`/v1/pull-endpoints/${fx.main.id}/events?limit=5&status=any&include_deleted=true`),
  ]);
  return found.filter((c): c is string => c !== undefined);
}

/** One batch: slot i draws from the operations at i, i + BATCH, ..., so each gets its share. */
function batchOf(make: (operation: Operation) => fc.Arbitrary<FuzzRequest>): fc.Arbitrary<FuzzRequest[]> {
  const slots = Array.from({ length: BATCH }, (_, slot) => {
    const operations = spec.operations.filter((_, i) => i % BATCH === slot);
    return fc.oneof(...operations.map(make));
  });
  return fc.tuple(...slots);
}

async function sendAll(batch: FuzzRequest[]) {
  const outcomes = await Promise.all(batch.map((request) => send(server.baseUrl, request)));
  for (const outcome of outcomes) stats.record(outcome);
  return outcomes;
}

beforeAll(async () => {
  console.log(`fuzz: seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${REQUESTS} requests`);
  server = await startTestServer({ bodyLimitBytes: BODY_LIMIT_BYTES, ingestBodyLimitBytes: INGEST_BODY_LIMIT_BYTES });
  fx = await buildFixtures(server.db);
  cursors = await collectCursors();
});

afterAll(async () => {
  console.log(
    `fuzz: ${stats.total} requests (${stats.valid} valid, ${stats.invalid} invalid), seed ${SEED}, statuses ${JSON.stringify(stats.statuses)}`,
  );
  await server?.close();
});

it('derives requests for all 16 operations of openapi.yaml, health probes and the ingest URL included', () => {
  expect(spec.operations.map((o) => o.key)).toHaveLength(16);
  expect(spec.operations.map((o) => o.key)).toEqual(expect.arrayContaining(['GET /healthz', 'GET /readyz', 'POST /ingest/{id}']));
});

it('generates bodies the request schemas accept, and breakages they refuse', () => {
  const ctx: SchemaContext = { spec, uuid: fc.uuid() };
  for (const operation of spec.operations.filter((o) => o.body)) {
    const schema = operation.body!.schema;
    const arbitrary = validValue(schema, ctx).chain((value) => invalidValue(schema, value, ctx).map((mutation) => ({ value, mutation })));
    fc.assert(
      fc.property(arbitrary, ({ value, mutation }) => {
        if (!schemas.valid(schema, value)) throw new Error(`${operation.key}: generated an invalid body: ${schemas.errors()}`);
        if (mutation.breaksSchema && schemas.valid(schema, mutation.value)) {
          throw new Error(`${operation.key}: "${mutation.defect}" still satisfies the schema`);
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  }
});

/** Throws unless every operation has an outcome matching `seen` (e.g. a 2xx to a valid request). */
function expectEveryOperation(what: string, seen: (outcome: string) => boolean): void {
  const missing = spec.operations.filter((o) => ![...(stats.coverage.get(o.key) ?? [])].some(seen)).map((o) => o.key);
  expect({ what, missing }).toEqual({ what, missing: [] });
}

it(
  'answers every valid request with a status openapi.yaml declares, a body matching it and never a 5xx',
  async () => {
    const property = fc.asyncProperty(
      batchOf((operation) => validRequest(operation, spec, fx, cursors)),
      withShrinkBudget(async (batch) => {
        for (const outcome of await sendAll(batch)) checkOutcome(spec, schemas, outcome);
      }),
    );
    await fc.assert(property, { seed: SEED, numRuns: VALID_RUNS });
    // The generators reach the handlers: every operation accepted some valid request.
    expectEveryOperation('operations that answered no valid request with 2xx', (s) => /^valid 2\d\d$/.test(s));
  },
  TIMEOUT_MS,
);

it(
  'refuses every invalid request with the declared 4xx for its defect, and changes nothing',
  async () => {
    const property = fc.asyncProperty(
      batchOf((operation) => invalidRequest(operation, spec, fx, cursors)),
      withShrinkBudget(async (batch) => {
        const before = await snapshot(server.db, fx.projectIds);
        const outcomes = await sendAll(batch);
        const after = await snapshot(server.db, fx.projectIds);
        const changed = differences(before, after);
        const changes = changed.length > 0 ? `\nthe batch changed the database:\n${changed.join('\n')}` : '';
        try {
          for (const outcome of outcomes) checkOutcome(spec, schemas, outcome);
        } catch (error) {
          (error as Error).message += changes;
          throw error;
        }
        if (changes) throw new Error(`rejected requests changed the database:${changes}\nthe batch:\n${batch.map(describeRequest).join('\n')}`);
      }),
    );
    await fc.assert(property, { seed: SEED, numRuns: INVALID_RUNS });
    expectEveryOperation('operations no invalid request was sent to', (s) => s.startsWith('invalid'));
  },
  TIMEOUT_MS,
);
