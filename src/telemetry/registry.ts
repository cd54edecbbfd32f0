import type { Express } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { registerDatabaseGauges, type SweeperLagSettings } from './database-gauges';

/** Why the ingest URL refused a webhook: the spec's rejection reasons, and the refusals it records nowhere. */
export type WebhookRefusal = components['schemas']['RejectionReason'] | 'unknown_token' | 'rate_limited';

// A Record, so that a reason added to the spec and not here (or the reverse) fails to compile.
const REFUSALS: Record<WebhookRefusal, true> = {
  missing_token: true,
  bad_token: true,
  missing_signature: true,
  bad_signature: true,
  stale_timestamp: true,
  ip_not_allowed: true,
  paused: true,
  too_large: true,
  unsupported_encoding: true,
  unknown_token: true,
  rate_limited: true,
};

const LEASE_OUTCOMES = {
  ack: ['acked', 'already_acked', 'lease_expired', 'not_found'],
  extend: ['extended', 'lease_expired', 'not_found'],
  release: ['released', 'lease_expired', 'not_found'],
} as const;

export type LeaseOperationKind = keyof typeof LEASE_OUTCOMES;

/** Long polling holds a receive up to 20 s: the buckets reach past it. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

/**
 * One app's Prometheus metrics. Labels take bounded values only (operationIds, status codes, the
 * enums above): never an endpoint id, event type, project or key, so that the number of series
 * does not grow with the data.
 */
export interface Telemetry {
  registry: Registry;
  http: {
    requests: Counter<'operation' | 'status'>;
    duration: Histogram<'operation' | 'status'>;
  };
  events: {
    ingested: Counter;
    fetched: Counter;
    acked: Counter;
    deleted: Counter;
    deadLettered: Counter;
    redelivered: Counter;
  };
  webhooksRejected: Counter<'reason'>;
  leaseOutcomes: Counter<'operation' | 'outcome'>;
  sweeper: { runs: Counter<'outcome'>; erased: Counter; expired: Counter };
  collectErrors: Counter;
}

let processMetrics: Registry | undefined;

/**
 * Node's process metrics are the process's, whatever the number of apps in it: they are collected
 * once (each collectDefaultMetrics call leaves a GC observer and an event-loop monitor running for
 * good, and the tests build dozens of apps) and the same metric objects join every app's registry.
 */
function addProcessMetrics(registry: Registry): void {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  for (const { name } of processMetrics.getMetricsAsArray()) {
    const metric = processMetrics.getSingleMetric(name);
    if (metric) registry.registerMetric(metric);
  }
}

/** `sweeperLag` tunes how often a scrape reads the sweeper's lag from the database, and how long it waits. */
export function createTelemetry(db: Database, { sweeperLag }: { sweeperLag?: Partial<SweeperLagSettings> } = {}): Telemetry {
  const registry = new Registry();
  const registers = [registry];
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });

  const telemetry: Telemetry = {
    registry,
    http: {
      requests: counter('http_requests_total', 'HTTP requests answered, by operationId and status code.', ['operation', 'status']),
      duration: new Histogram({
        name: 'http_request_duration_seconds',
        help: 'Time from a request arriving to its answer being sent, by operationId and status code.',
        labelNames: ['operation', 'status'],
        buckets: DURATION_BUCKETS,
        registers,
      }),
    },
    events: {
      ingested: counter('pull_events_ingested_total', 'Webhooks stored as new events (duplicates not counted).'),
      fetched: counter('pull_events_fetched_total', 'Events handed out: leased by receive, or read one by one (not a preview).'),
      acked: counter('pull_events_acked_total', 'Events acknowledged, by event id or by lease; only those that changed state.'),
      deleted: counter('pull_events_deleted_total', 'Events deleted by a request (delete, delete-batch, delete-all); only those deleted now.'),
      deadLettered: counter('pull_events_dead_lettered_total', 'Events dead-lettered by receive on reaching max_deliveries.'),
      redelivered: counter('pull_events_redelivered_total', 'Events leased again after an earlier lease expired or was released.'),
    },
    webhooksRejected: counter('pull_events_webhooks_rejected_total', 'Webhooks the ingest URL refused, by reason.', ['reason']),
    leaseOutcomes: counter('pull_events_lease_outcomes_total', 'Per-lease outcomes of ack, extend and release.', ['operation', 'outcome']),
    sweeper: {
      runs: counter('pull_events_sweeper_runs_total', 'Sweeper passes, by outcome (ok or failed).', ['outcome']),
      erased: counter('pull_events_sweeper_payloads_erased_total', 'Payloads the sweeper erased.'),
      expired: counter('pull_events_sweeper_events_expired_total', 'Events the sweeper deleted for outliving their retention.'),
    },
    collectErrors: counter('pull_events_metrics_collect_errors_total', 'Scrapes that could not read a metric from the database.'),
  };

  // Every series exists from the start at 0, so that rate() and alerts see the first increase.
  for (const reason of Object.keys(REFUSALS)) telemetry.webhooksRejected.inc({ reason }, 0);
  for (const [operation, outcomes] of Object.entries(LEASE_OUTCOMES)) {
    for (const outcome of outcomes) telemetry.leaseOutcomes.inc({ operation, outcome }, 0);
  }
  for (const outcome of ['ok', 'failed']) telemetry.sweeper.runs.inc({ outcome }, 0);

  registerDatabaseGauges(registry, db, telemetry.collectErrors, sweeperLag);
  addProcessMetrics(registry);
  return telemetry;
}

/** Counts per-lease outcomes as applyToLeases answers them. */
export function countLeaseOutcomes(telemetry: Telemetry, operation: LeaseOperationKind, counts: Record<string, number>): void {
  for (const outcome of LEASE_OUTCOMES[operation]) {
    const count = counts[outcome] ?? 0;
    if (count > 0) telemetry.leaseOutcomes.inc({ operation, outcome }, count);
  }
}

/** The telemetry createApp made or was given. */
export function telemetryOf(app: Express): Telemetry {
  const telemetry = app.locals.telemetry as Telemetry | undefined;
  if (!telemetry) throw new Error('this app was not made by createApp');
  return telemetry;
}
