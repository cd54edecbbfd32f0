import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ts from 'typescript';
import { createPullEventsClient, type LeasedEvent, type PullEventsClient } from '../../src/client';
import { contract } from '../support/contract';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { ROOT, startTs, waitFor } from '../support/processes';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

// The README's worker as these tests call it: an option renamed there fails them.
interface WorkerModule {
  runWorker(options: {
    client: PullEventsClient;
    endpointId: string;
    handler: (event: LeasedEvent, signal: AbortSignal) => Promise<void>;
    signal: AbortSignal;
    concurrency?: number;
    leaseSeconds?: number;
    onError?: (error: unknown, event?: LeasedEvent) => void;
  }): Promise<void>;
}

/** The TypeScript block of README.md's "## Running workers" whose first line is `// <marker>`. */
function readmeBlock(marker: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Running workers\n'));
  if (!section) throw new Error('README.md has no "## Running workers" section');
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const found = blocks.filter((code) => new RegExp(`^// ${marker}\\b(?!-)`).test(code));
  if (found.length !== 1) throw new Error(`"## Running workers" has ${found.length} blocks marked // ${marker}`);
  return found[0]!;
}

/** The README imports as a file at the repository's root would; the copies live in test/leases/. */
function importFrom(code: string, specifier: string, replacement: string): string {
  const quoted = `from '${specifier}';`;
  if (!code.includes(quoted)) throw new Error(`the README's worker no longer imports ${specifier}`);
  return code.replaceAll(quoted, `from '${replacement}';`);
}

const workerName = `readme-worker.tmp-${process.pid}`;
const workerFile = path.join(__dirname, `${workerName}.ts`);
const mainFile = path.join(__dirname, `readme-worker-main.tmp-${process.pid}.ts`);

let server: TestServer;
let owner: TestProject;
let runWorker: WorkerModule['runWorker'];

beforeAll(async () => {
  fs.writeFileSync(workerFile, importFrom(readmeBlock('readme-worker'), './src/client', '../../src/client'));
  fs.writeFileSync(
    mainFile,
    importFrom(importFrom(readmeBlock('readme-worker-main'), './src/client', '../../src/client'), './worker', `./${workerName}`),
  );
  ({ runWorker } = (await import(workerFile)) as WorkerModule);
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(async () => {
  fs.rmSync(workerFile, { force: true });
  fs.rmSync(mainFile, { force: true });
  await server?.close();
});

interface Sent {
  path: string;
  body: string;
  outcome: 'pending' | 'answered' | 'aborted' | 'failed';
}

/** A client whose every request is recorded (and every answer checked against the contract). */
function recordingClient() {
  const sent: Sent[] = [];
  const client = createPullEventsClient({
    baseUrl: server.baseUrl,
    apiKey: owner.apiKey,
    middleware: [contract.middleware()],
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const entry: Sent = { path: new URL(request.url).pathname, body: await request.clone().text(), outcome: 'pending' };
      sent.push(entry);
      try {
        const response = await fetch(request);
        entry.outcome = 'answered';
        return response;
      } catch (error) {
        entry.outcome = request.signal.aborted ? 'aborted' : 'failed';
        throw error;
      }
    },
  });
  const to = (operation: string) => sent.filter((s) => s.path.endsWith(`/events/${operation}`));
  return { client, to };
}

async function endpointWithWebhooks(count: number) {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const ids: string[] = [];
  for (let n = 0; n < count; n++) {
    const answer = await postWebhook(server.baseUrl, endpoint.ingestPath, JSON.stringify({ type: 'order.created', n }));
    expect(answer.status).toBe(202);
    ids.push(answer.body.data.event_id);
  }
  return { endpointId: endpoint.id, ids };
}

function eventRows(endpointId: string) {
  return server.db.pullEvent.findMany({
    where: { pullEndpointId: endpointId },
    orderBy: { id: 'asc' },
    select: { id: true, status: true, deliveryCount: true, leaseId: true },
  });
}

/** What a handler throws on purpose. */
class HandlerFailure extends Error {}

/**
 * The worker's `onError`, recording what it reports. Anything but a handler's own failure also
 * stops the worker, so that a test fails on that error rather than on its timeout.
 */
function watchErrors(stop: AbortController) {
  const errors: Array<{ message: string; eventId: string | undefined }> = [];
  const onError = (error: unknown, event?: LeasedEvent) => {
    errors.push({ message: error instanceof Error ? error.message : String(error), eventId: event?.id });
    if (!(error instanceof HandlerFailure)) stop.abort();
  };
  return { errors, onError };
}

const abortOf = (signal: AbortSignal) => (signal.aborted ? Promise.resolve() : once(signal, 'abort'));

it("type-checks against the repository's tsconfig", () => {
  const configFile = path.join(ROOT, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
  const program = ts.createProgram({ rootNames: [workerFile, mainFile], options });
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  };
  expect(ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), host)).toBe('');
});

it('acks every event it handled, and receives the one whose handler failed again once its release delay is over', async () => {
  const { endpointId, ids } = await endpointWithWebhooks(5);
  const failing = ids[1]!;
  const { client, to } = recordingClient();
  const calls: Array<{ id: string; delivery: number; at: number }> = [];
  let running = 0;
  let mostRunning = 0;
  let handled = 0;
  const stop = new AbortController();
  const { errors, onError } = watchErrors(stop);

  await runWorker({
    client,
    endpointId,
    signal: stop.signal,
    concurrency: 2,
    // Longer than the test: only the release can hand the failed event out again.
    leaseSeconds: 600,
    onError,
    handler: async (event) => {
      calls.push({ id: event.id, delivery: event.delivery_count, at: Date.now() });
      running++;
      mostRunning = Math.max(mostRunning, running);
      await sleep(10);
      running--;
      if (event.id === failing && event.delivery_count === 1) throw new HandlerFailure('handler failed');
      if (++handled === ids.length) stop.abort();
    },
  });

  expect(mostRunning).toBe(2);
  expect(calls.filter((c) => c.id !== failing).map((c) => [c.id, c.delivery])).toEqual(
    ids.filter((id) => id !== failing).map((id) => [id, 1]),
  );
  const tries = calls.filter((c) => c.id === failing);
  expect(tries.map((c) => c.delivery)).toEqual([1, 2]);
  // The first failure waits 2 ** delivery_count = 2 s; load can only make the retry later.
  expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(1900);
  expect(errors).toEqual([{ message: 'handler failed', eventId: failing }]);
  expect(to('leases/release').map((s) => [JSON.parse(s.body), s.outcome])).toEqual([
    [{ lease_ids: [expect.any(String)], delay_seconds: 2 }, 'answered'],
  ]);
  expect(to('leases/ack')).toHaveLength(5);

  const rows = await eventRows(endpointId);
  expect(rows.map((r) => [r.id, r.status, r.deliveryCount])).toEqual(
    ids.map((id) => [id, 'delivered', id === failing ? 2 : 1]),
  );
});

it('keeps the lease of a handler that runs past it', async () => {
  const { endpointId, ids } = await endpointWithWebhooks(1);
  const { client, to } = recordingClient();
  const calls: LeasedEvent[] = [];
  const stop = new AbortController();
  const { errors, onError } = watchErrors(stop);

  await runWorker({
    client,
    endpointId,
    signal: stop.signal,
    concurrency: 2,
    // Extended every 2 s; the handler outlives the first lease by a second.
    leaseSeconds: 4,
    onError,
    handler: async (event) => {
      calls.push(event);
      await sleep(Date.parse(event.lease_expires_at) + 1000 - Date.now());
      stop.abort();
    },
  });

  // Had the lease run out, the free slot's receive would have been handed the event again, and
  // the ack would have answered lease_expired.
  expect(calls.map((e) => e.id)).toEqual(ids);
  expect(errors).toEqual([]);
  expect(to('leases/extend').filter((s) => s.outcome === 'answered').length).toBeGreaterThanOrEqual(1);
  const [row] = await eventRows(endpointId);
  expect(row!.status).toBe('delivered');
  expect(row!.deliveryCount).toBe(1);
});

it('on abort, stops its waiting receive, acks the handler that finishes and releases at once the one that gives up', async () => {
  const { endpointId, ids } = await endpointWithWebhooks(2);
  const [givesUp, finishes] = ids as [string, string];
  const { client, to } = recordingClient();
  const started: string[] = [];
  const stop = new AbortController();
  const { errors, onError } = watchErrors(stop);

  const worker = runWorker({
    client,
    endpointId,
    signal: stop.signal,
    // One slot more than there are events: the worker is long-polling for it when stopped.
    concurrency: 3,
    leaseSeconds: 600,
    onError,
    handler: async (event, signal) => {
      started.push(event.id);
      await abortOf(signal);
      if (event.id === givesUp) throw new HandlerFailure('gave up');
    },
  });
  await waitFor(async () => (started.length === 2 && to('receive').length === 2) || stop.signal.aborted, 20_000, 'both handlers and a waiting receive');
  stop.abort();
  await worker;

  expect(to('receive').map((s) => s.outcome)).toEqual(['answered', 'aborted']);
  expect(errors).toEqual([{ message: 'gave up', eventId: givesUp }]);
  expect(to('leases/release').map((s) => JSON.parse(s.body).delay_seconds)).toEqual([0]);
  const rows = await eventRows(endpointId);
  expect(rows.map((r) => [r.id, r.status, r.leaseId])).toEqual([
    [givesUp, 'fetched', null],
    [finishes, 'delivered', expect.any(String)],
  ]);

  // Released with no delay: the next receive has it (the aborted long poll must not have taken it).
  const { events } = await client.receive(endpointId, { max_events: 10 });
  expect(events.map((e) => [e.id, e.delivery_count])).toEqual([[givesUp, 2]]);
});

it('runs as a process that handles events and exits 0 on SIGTERM', async () => {
  const { endpointId, ids } = await endpointWithWebhooks(1);
  const child = startTs(path.relative(ROOT, mainFile), {
    ...process.env,
    PULL_EVENTS_URL: server.baseUrl,
    PULL_EVENTS_API_KEY: owner.apiKey,
    PULL_ENDPOINT_ID: endpointId,
  });
  const exited = once(child, 'exit');
  try {
    await waitFor(async () => (await eventRows(endpointId))[0]?.status === 'delivered', 30_000, 'the event acked');
  } finally {
    child.kill('SIGTERM');
  }
  const [code] = await exited;
  expect({ code, output: child.output() }).toEqual({
    code: 0,
    output: `handled ${ids[0]} (no type, delivery 1)\n`,
  });
});
