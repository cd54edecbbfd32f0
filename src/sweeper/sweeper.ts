import { DEFAULT_REJECTIONS_KEPT, type SweeperSettings } from '../config';
import type { Database } from '../db/prisma';
import type { Logger } from '../http/logger';
import { pruneFacts } from '../metrics/repository';
import { lowestEventIdAt } from '../pull-events/ids';
import { trimRejections } from '../rejections/repository';
import type { Telemetry } from '../telemetry/registry';
import { endpointsPage, eraseDeletedPayloads, eraseEndpointPayloads, expireEvents } from './repository';

const DAY_MS = 86_400_000;
const ENDPOINT_PAGE = 500;

export interface SweepResult {
  /** Payloads erased of events that were deleted (by a request or with their endpoint). */
  erased: number;
  /** Events deleted and erased because they outlived their endpoint's retention_days. */
  expired: number;
  /** Rejection records beyond the newest `rejectionsKept` of an endpoint (all of a deleted one's). */
  rejectionsTrimmed: number;
  /** Metrics rollup rows (minute, hour) past the horizon any window reads. */
  metricsPruned: number;
}

async function drain(batch: () => Promise<number>, limit: number): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await batch();
    total += done;
    if (done < limit) return total;
  }
}

/**
 * One pass over every endpoint, each query scoped to one endpoint and bounded by `batchSize`.
 * Safe to run from several replicas at once: batches skip rows another sweeper has locked.
 */
export async function sweep(
  db: Database,
  settings: Pick<SweeperSettings, 'graceSeconds' | 'batchSize'> & Partial<Pick<SweeperSettings, 'rejectionsKept' | 'defaultRetentionDays'>>,
  now = new Date(),
): Promise<SweepResult> {
  const limit = settings.batchSize;
  const cutoff = new Date(now.getTime() - settings.graceSeconds * 1000);
  const result: SweepResult = { erased: 0, expired: 0, rejectionsTrimmed: 0, metricsPruned: 0 };
  const projects = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const endpoints = await endpointsPage(db, after, ENDPOINT_PAGE);
    for (const endpoint of endpoints) {
      result.rejectionsTrimmed += await trimRejections(db, endpoint.id, endpoint.deletedAt ? 0 : (settings.rejectionsKept ?? DEFAULT_REJECTIONS_KEPT));
      result.metricsPruned += await pruneFacts(db, endpoint.id);
      if (!projects.has(endpoint.projectId)) {
        projects.add(endpoint.projectId);
        result.metricsPruned += await pruneFacts(db, endpoint.projectId);
      }
      if (endpoint.deletedAt) {
        if (endpoint.deletedAt <= cutoff) {
          result.erased += await drain(() => eraseEndpointPayloads(db, endpoint.id, limit), limit);
        }
        continue;
      }
      const retentionDays = endpoint.retentionDays ?? settings.defaultRetentionDays;
      if (retentionDays !== undefined) {
        const bound = lowestEventIdAt(now.getTime() - retentionDays * DAY_MS);
        result.expired += await drain(() => expireEvents(db, endpoint, bound, limit), limit);
      }
      result.erased += await drain(() => eraseDeletedPayloads(db, endpoint.id, cutoff, limit), limit);
    }
    if (endpoints.length < ENDPOINT_PAGE) return result;
    after = endpoints.at(-1)!.id;
  }
}

/** Sweeps every `intervalMs` inside the service; a pass never overlaps the previous one. Counted in `telemetry` when given. */
export function startSweeper(db: Database, settings: SweeperSettings, logger: Logger, telemetry?: Pick<Telemetry, 'sweeper'>) {
  let running: Promise<void> | undefined;
  const run = () => {
    if (running) return;
    running = sweep(db, settings)
      .then((result) => {
        telemetry?.sweeper.runs.inc({ outcome: 'ok' });
        telemetry?.sweeper.erased.inc(result.erased);
        telemetry?.sweeper.expired.inc(result.expired);
        if (result.erased || result.expired || result.rejectionsTrimmed || result.metricsPruned) logger.info({ sweep: result }, 'sweeper erased payloads');
      })
      .catch((error: unknown) => {
        telemetry?.sweeper.runs.inc({ outcome: 'failed' });
        logger.error({ err: error }, 'sweep failed');
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(run, settings.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
