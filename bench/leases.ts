/**
 * Section 9, leases: competing consumers on one endpoint. Each worker receives 100 events under a
 * lease (`POST .../events/receive`) and acks their 100 lease ids (`POST .../events/leases/ack`),
 * again and again, against its database floor: per pair the service's four statements (API-key
 * lookup, `receiveSql`, API-key lookup, `leaseOperationSql` ack) through pg. Then long polling's
 * wake-up: how soon a receive waiting on an empty endpoint answers once a webhook is stored, with
 * the webhook and the receive on the same service process and on two.
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import type { components } from '../generated/openapi';
import { noSecretBox } from '../src/auth/encryption';
import type { Database } from '../src/db/prisma';
import { liveApiKeySql } from '../src/projects/repository';
import { createEndpoint } from '../src/pull-endpoints/endpoints';
import { leaseOperationSql, receiveSql, type LeaseKey } from '../src/pull-events/leases-repository';
import { workerLoad, type Measurement, type Window } from './load';
import type { LeaseRun, LeasesResults, WakeupLatency } from './report';
import type { ChildServer, Log } from './setup';

type ReceiveResponse = components['schemas']['ReceiveResponse'];
type LeaseAckResponse = components['schemas']['LeaseAckResponse'];
type IngestAnswer = { data: { event_id: string } };

const EVENTS = 100;
const LEASE_SECONDS = 30;
const WAIT_SECONDS = 20;
/** How long a waiting receive is given to reach its wait before the webhook is sent. */
const SETTLE_MS = 50;
/** Unmeasured wake-up rounds on each path first. */
const WAKEUP_WARMUP = 5;
/** Events per second assumed before the first run says better: the first queue's size. */
const FIRST_RATE_GUESS = 2000;

export interface LeasesSettings {
  concurrencies: number[];
  durationSec: number;
  warmupSec: number;
  /** Unmeasured receive + ack pairs at 4 workers before the first run. */
  jitWarmupPairs: number;
  /** Measured wake-ups on each path. */
  wakeupRounds: number;
}

export interface LeasesContext {
  /** For bookkeeping queries, outside the measured pools. */
  control: Pool;
  /** The floor's pool: as many connections as the service's. */
  floorPool: Pool;
  db: Database;
  projectId: string;
  /** The API key's bearer header and a JSON content type. */
  headers: Record<string, string>;
  keyHash: string;
  service: ChildServer;
  /** Another service process on the same database, for the wake-up across processes. */
  startPeer: () => Promise<ChildServer>;
  /** Seeds `count` more stored events into the endpoint. */
  seed: (endpointId: string, count: number) => Promise<void>;
  log: Log;
  /** Registers a step the bench runs when it ends, also after a failure. */
  cleanUp: (step: () => Promise<unknown>) => void;
  settings: LeasesSettings;
}

/** What a run's pairs did: events acked, and receives that answered fewer than EVENTS. */
interface Tally {
  pairs: number;
  acked: number;
  short: number;
}

async function postJson<T>(baseUrl: string, path: string, headers: Record<string, string>, body: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** One receive + ack, over HTTP or through pg; returns the events received and acked. */
type Pair = (endpointId: string) => Promise<{ received: number; acked: number }>;

function overHttp(ctx: LeasesContext, target: ChildServer): Pair {
  return async (endpointId) => {
    const path = `/v1/pull-endpoints/${endpointId}/events`;
    const { data } = await postJson<ReceiveResponse>(target.baseUrl, `${path}/receive`, ctx.headers, { max_events: EVENTS, lease_seconds: LEASE_SECONDS });
    const leaseIds = data.events.map((event) => event.lease_id);
    if (leaseIds.length === 0) return { received: 0, acked: 0 };
    const ack = await postJson<LeaseAckResponse>(target.baseUrl, `${path}/leases/ack`, ctx.headers, { lease_ids: leaseIds });
    return { received: leaseIds.length, acked: ack.data.acked_count };
  };
}

function overPg(ctx: LeasesContext): Pair {
  const pool = ctx.floorPool;
  // Per request, as the service authenticates each one.
  const projectOfKey = async () => {
    const sql = liveApiKeySql(ctx.keyHash);
    const row = (await pool.query<{ project_id: string }>(sql.text, sql.values)).rows[0];
    if (!row) throw new Error('the API key was not found');
    return row.project_id;
  };
  return async (endpointId) => {
    const receive = receiveSql({ endpointId, projectId: await projectOfKey(), maxEvents: EVENTS, leaseSeconds: LEASE_SECONDS });
    const { rows } = await pool.query<{ endpoint_found: boolean; id: string | null; lease_id: string | null }>(receive.text, receive.values);
    if (!rows[0]?.endpoint_found) throw new Error('leases floor: the endpoint was not found');
    const keys = rows.flatMap((row): LeaseKey[] => (row.id && row.lease_id ? [{ eventId: row.id, leaseId: row.lease_id }] : []));
    if (keys.length === 0) return { received: 0, acked: 0 };
    const ack = leaseOperationSql(endpointId, await projectOfKey(), keys, { kind: 'ack' });
    const states = (await pool.query<{ state: string | null }>(ack.text, ack.values)).rows;
    return { received: keys.length, acked: states.filter((row) => row.state === 'current').length };
  };
}

/**
 * A queue of seeded events, handed out EVENTS at a time: a pair starts only while EVENTS of them
 * are left for it, so no run measures an empty queue (it ends early, capped, instead).
 */
class Queue {
  left = 0;

  constructor(
    private readonly ctx: LeasesContext,
    readonly endpointId: string,
  ) {}

  /** Tops the queue up to at least `events`. */
  async fill(events: number): Promise<void> {
    if (this.left >= events) return;
    const more = Math.ceil((events - this.left) / 1000) * 1000;
    await this.ctx.seed(this.endpointId, more);
    this.left += more;
  }

  drive(pair: Pair, label: string, window: Window, tally: Tally): Promise<Measurement> {
    return workerLoad(label, EVENTS, window, () => {
      if (this.left < EVENTS) return undefined;
      this.left -= EVENTS;
      return async () => {
        const { received, acked } = await pair(this.endpointId);
        if (acked !== received) throw new Error(`${label}: ${received} events received, ${acked} acked`);
        tally.pairs += 1;
        tally.acked += acked;
        if (received < EVENTS) tally.short += 1;
      };
    });
  }
}

async function newQueue(ctx: LeasesContext, name: string): Promise<Queue> {
  const { row } = await createEndpoint({ db: ctx.db, box: noSecretBox }, ctx.projectId, { name: `bench leases, ${name}` });
  return new Queue(ctx, row.id);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? Number.NaN;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

function latency(values: number[]): WakeupLatency {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50Ms: round3(percentile(sorted, 0.5)), p99Ms: round3(percentile(sorted, 0.99)), maxMs: round3(sorted.at(-1) ?? Number.NaN) };
}

export async function leasesSection(ctx: LeasesContext): Promise<LeasesResults> {
  const { settings, service, log } = ctx;
  const variants = [
    { key: 'service', label: 'leases, service (HTTP)', pair: overHttp(ctx, service), cpuOf: service.baseUrl },
    { key: 'floor', label: 'leases, database floor (pg)', pair: overPg(ctx), cpuOf: undefined },
  ] as const;
  const rates = { service: FIRST_RATE_GUESS, floor: FIRST_RATE_GUESS };
  // Events for `seconds` at `rate`, with room to spare, and a few pairs per worker.
  const budget = (rate: number, seconds: number, workers: number) => Math.ceil(rate * seconds * 1.5) + workers * EVENTS * 4;

  const jit = await newQueue(ctx, 'JIT warm-up');
  await jit.fill(settings.jitWarmupPairs * EVENTS);
  await jit.drive(variants[0].pair, 'leases JIT warm-up', { connections: 4, amount: settings.jitWarmupPairs }, { pairs: 0, acked: 0, short: 0 });

  /** On a queue of its own: a warm-up, a top-up sized from it, then the measured run, checked against the table. */
  async function measured(variant: (typeof variants)[number], connections: number): Promise<LeaseRun> {
    const queue = await newQueue(ctx, `${variant.key}, ${connections} workers`);
    await queue.fill(budget(rates[variant.key], settings.warmupSec + settings.durationSec, connections));
    const warmTally: Tally = { pairs: 0, acked: 0, short: 0 };
    const warm = await queue.drive(variant.pair, `${variant.label} (warm-up)`, { connections, durationSec: settings.warmupSec }, warmTally);
    await queue.fill(budget(Math.max(warm.rps * EVENTS, rates[variant.key]), settings.durationSec, connections));
    const tally: Tally = { pairs: 0, acked: 0, short: 0 };
    // CPU per pair (a receive and an ack).
    const run = await queue.drive(variant.pair, variant.label, { connections, durationSec: settings.durationSec, ...(variant.cpuOf && { cpuOf: variant.cpuOf }) }, tally);
    const { rows: [counted] } = await ctx.control.query<{ delivered: number }>(
      "SELECT count(*)::int AS delivered FROM pull_events WHERE pull_endpoint_id = $1 AND status = 'delivered'",
      [queue.endpointId],
    );
    if (counted?.delivered !== warmTally.acked + tally.acked) {
      throw new Error(`${variant.label}, ${connections} workers: ${warmTally.acked + tally.acked} events acked, ${counted?.delivered} delivered in the table`);
    }
    // Pairs ending past the window are not in `run`: events/s counts the window's pairs at the run's mean per pair.
    const eventsPerPair = tally.pairs > 0 ? tally.acked / tally.pairs : 0;
    const result: LeaseRun = {
      ...run,
      eventsPerSec: Math.round(run.rps * eventsPerPair),
      requestsPerSec: Math.round(run.rps * 2 * 10) / 10,
      shortReceives: tally.short,
    };
    rates[variant.key] = Math.max(rates[variant.key], result.eventsPerSec);
    log(
      `${variant.label.padEnd(34)} ${String(connections).padStart(2)} workers: ${String(result.eventsPerSec).padStart(6)} events/s  ` +
        `${result.requestsPerSec.toFixed(0).padStart(5)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms` +
        `${tally.short ? `  (${tally.short} short receives)` : ''}${run.capped ? '  (the queue ran short)' : ''}`,
    );
    return result;
  }

  // Interleaved per concurrency, so that a drift of the machine weighs on both alike.
  const serviceRuns: LeaseRun[] = [];
  const floorRuns: LeaseRun[] = [];
  for (const c of settings.concurrencies) {
    serviceRuns.push(await measured(variants[0], c));
    floorRuns.push(await measured(variants[1], c));
  }
  const bestEvents = (runs: LeaseRun[]) => Math.max(...runs.map((run) => run.eventsPerSec));

  // ---- long polling's wake-up ---------------------------------------------------------------
  const { row: endpoint, secretToken } = await createEndpoint({ db: ctx.db, box: noSecretBox }, ctx.projectId, { name: 'bench leases, wake-up' });
  const eventsPath = `/v1/pull-endpoints/${endpoint.id}/events`;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** A receive waits on `receiver`; SETTLE_MS later a webhook goes to `ingest`; the receive must answer with it. */
  async function wakeup(receiver: ChildServer, ingest: ChildServer, round: number) {
    const receiving = fetch(`${receiver.baseUrl}${eventsPath}/receive`, {
      method: 'POST',
      headers: ctx.headers,
      body: JSON.stringify({ max_events: EVENTS, lease_seconds: LEASE_SECONDS, wait_seconds: WAIT_SECONDS }),
    }).then(async (response) => ({ at: performance.now(), status: response.status, text: await response.text() }));
    await sleep(SETTLE_MS);
    const sent = performance.now();
    // The ingest URL holds the endpoint's token: it is never printed.
    const webhook = await fetch(`${ingest.baseUrl}/pull/${secretToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ round }) });
    const answered = performance.now();
    const stored = JSON.parse(await webhook.text()) as IngestAnswer;
    if (webhook.status !== 202) throw new Error(`wake-up: the webhook answered ${webhook.status}`);
    const received = await receiving;
    if (received.status !== 200) throw new Error(`wake-up: the receive answered ${received.status}: ${received.text.slice(0, 300)}`);
    const events = (JSON.parse(received.text) as ReceiveResponse).data.events;
    if (events.length !== 1 || events[0]!.id !== stored.data.event_id) throw new Error(`wake-up: the receive answered ${events.length} events, not the webhook's`);
    const ack = await postJson<LeaseAckResponse>(service.baseUrl, `${eventsPath}/leases/ack`, ctx.headers, { lease_ids: [events[0]!.lease_id] });
    if (ack.data.acked_count !== 1) throw new Error('wake-up: the event received could not be acked');
    return { fromAnswer: received.at - answered, fromSend: received.at - sent };
  }

  async function wakeups(receiver: ChildServer, what: string) {
    for (let round = 0; round < WAKEUP_WARMUP; round++) await wakeup(receiver, service, round);
    const fromAnswer: number[] = [];
    const fromSend: number[] = [];
    for (let round = 0; round < settings.wakeupRounds; round++) {
      const figures = await wakeup(receiver, service, round);
      fromAnswer.push(figures.fromAnswer);
      fromSend.push(figures.fromSend);
    }
    const result = { fromAnswer: latency(fromAnswer), fromSend: latency(fromSend) };
    log(
      `leases wake-up, ${what.padEnd(17)}: from the webhook's 202 p50 ${result.fromAnswer.p50Ms.toFixed(2)} ms  p99 ${result.fromAnswer.p99Ms.toFixed(2)} ms; ` +
        `from its send p50 ${result.fromSend.p50Ms.toFixed(2)} ms  p99 ${result.fromSend.p99Ms.toFixed(2)} ms`,
    );
    return result;
  }

  const sameProcess = await wakeups(service, 'same process');
  const peer = await ctx.startPeer();
  ctx.cleanUp(() => peer.stop());
  log(`leases: a second service process, pid ${peer.pid}, for the wake-up across processes`);
  const acrossProcesses = await wakeups(peer, 'across processes');
  await peer.stop();

  return {
    eventsPerReceive: EVENTS,
    leaseSeconds: LEASE_SECONDS,
    concurrencies: settings.concurrencies,
    durationSec: settings.durationSec,
    warmupSec: settings.warmupSec,
    service: serviceRuns,
    floor: floorRuns,
    serviceBestEventsPerSec: bestEvents(serviceRuns),
    floorBestEventsPerSec: bestEvents(floorRuns),
    floorRatio: bestEvents(serviceRuns) / bestEvents(floorRuns),
    targetFloorRatio: 0.7,
    wakeup: { rounds: settings.wakeupRounds, settleMs: SETTLE_MS, waitSeconds: WAIT_SECONDS, sameProcess, acrossProcesses },
  };
}
