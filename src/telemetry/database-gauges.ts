import { Gauge, type Counter, type Registry } from 'prom-client';
import { poolOf, type Database } from '../db/prisma';
import { oldestUnerasedPayloadAge } from '../sweeper/repository';

export interface SweeperLagSettings {
  /** A scrape storm reaches the database at most once per this long. */
  cacheMs: number;
  /** A scrape waits this long for the database before answering the last value. */
  timeoutMs: number;
}

const SWEEPER_LAG: SweeperLagSettings = { cacheMs: 5000, timeoutMs: 1000 };

/** The pool's state, read at each scrape. */
function registerPoolGauges(registers: Registry[], db: Database): void {
  const pool = () => poolOf(db);
  new Gauge({
    name: 'pull_events_db_pool_connections',
    help: 'Database connections held by the pool, by state (in_use or idle).',
    labelNames: ['state'],
    registers,
    collect() {
      const current = pool();
      this.set({ state: 'in_use' }, current ? current.totalCount - current.idleCount : 0);
      this.set({ state: 'idle' }, current?.idleCount ?? 0);
    },
  });
  new Gauge({
    name: 'pull_events_db_pool_waiting_requests',
    help: 'Queries waiting for a free connection of the pool.',
    registers,
    collect() {
      this.set(pool()?.waitingCount ?? 0);
    },
  });
  new Gauge({
    name: 'pull_events_db_pool_max_connections',
    help: 'The most connections the pool opens (DATABASE_POOL_SIZE).',
    registers,
    collect() {
      this.set(pool()?.options.max ?? 0);
    },
  });
}

/**
 * The sweeper's lag, read from the database at most once per `cacheMs` by one query at a time.
 * A scrape never fails for it: when the read fails or outlasts `timeoutMs`, the gauge keeps its
 * last value and pull_events_metrics_collect_errors_total counts the miss.
 */
function registerSweeperLag(registers: Registry[], db: Database, collectErrors: Counter, { cacheMs, timeoutMs }: SweeperLagSettings): void {
  let value = 0;
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;

  const refresh = () =>
    (reading ??= oldestUnerasedPayloadAge(db, timeoutMs)
      .then((age) => {
        value = age;
      })
      .catch(() => collectErrors.inc())
      .finally(() => {
        readAt = performance.now();
        reading = undefined;
      }));

  new Gauge({
    name: 'pull_events_sweeper_oldest_unerased_payload_age_seconds',
    help: 'Age of the oldest deleted payload not yet erased (0 when none); compare with DELETED_PAYLOAD_GRACE_SECONDS.',
    registers,
    async collect() {
      if (performance.now() - readAt >= cacheMs) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
        if ((await Promise.race([refresh(), late])) === 'late') collectErrors.inc();
        clearTimeout(timer);
      }
      this.set(value);
    },
  });
}

export function registerDatabaseGauges(
  registry: Registry,
  db: Database,
  collectErrors: Counter,
  sweeperLag: Partial<SweeperLagSettings> = {},
): void {
  registerPoolGauges([registry], db);
  registerSweeperLag([registry], db, collectErrors, { ...SWEEPER_LAG, ...sweeperLag });
}
