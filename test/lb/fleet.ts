import { startHAProxy, type HAProxy, type HealthChecks } from '../support/haproxy';
import { freePort, startService, type ServiceProcess } from '../support/processes';
import { testDatabaseUrl } from '../support/server';

/** A service process `npm start` would run, on a port of its own that it keeps across restarts. */
interface Replica extends ServiceProcess {
  name: string;
}

/** Replicas behind HAProxy, as a deployment runs them. */
export interface Fleet {
  haproxy: HAProxy;
  names: string[];
  /** SIGTERM to one replica; resolves with its exit code and HAProxy's view of it when it exited. */
  stopReplica(index: number): Promise<{ code: number | null; statusAtExit: string }>;
  /** Starts it again on the same port, and waits until HAProxy's checks bring it back. */
  restartReplica(index: number): Promise<void>;
  /** Stops every replica still running and HAProxy; the replicas' exit codes. */
  stop(): Promise<(number | null)[]>;
}

export interface FleetOptions {
  size: number;
  /** The replicas' environment on top of the test's own (DATABASE_URL, REDIS_URL, ...). */
  env: NodeJS.ProcessEnv;
  checks?: Partial<HealthChecks>;
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function startReplica(name: string, port: number, env: NodeJS.ProcessEnv): Promise<Replica> {
  // Three replicas and a restarting one share the test database with other suites.
  const service = await startService(testDatabaseUrl(), { REDIS_URL, DATABASE_POOL_SIZE: '5', ...env }, port).catch((error: unknown) => {
    throw new Error(`replica ${name}: ${error instanceof Error ? error.message : String(error)}`);
  });
  return { ...service, name };
}

/** Stops a replica (SIGTERM) and waits for its exit, for at most `ms`; SIGKILL after that, so that nothing outlives a test. */
async function stopWithin(replica: Replica, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([replica.stop(), late]);
  clearTimeout(timer);
  if (outcome !== 'late') return outcome;
  replica.child.kill('SIGKILL');
  await replica.exited;
  throw new Error(`replica ${replica.name} did not exit within ${ms} ms of SIGTERM:\n${replica.child.output()}`);
}

export async function startFleet({ size, env, checks }: FleetOptions): Promise<Fleet> {
  const names = Array.from({ length: size }, (_, i) => `r${i}`);
  const ports = await Promise.all(names.map(() => freePort()));
  const started = await Promise.allSettled(names.map((name, i) => startReplica(name, ports[i]!, env)));
  const replicas = started.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  let haproxy: HAProxy | undefined;
  const stop = async () => {
    await haproxy?.stop();
    const running = replicas.filter((replica): replica is Replica => replica !== undefined);
    return Promise.all(running.map((replica) => stopWithin(replica, Number(env.SHUTDOWN_DRAIN_MS ?? 0) + 30_000)));
  };
  try {
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    haproxy = await startHAProxy(names.map((name, i) => ({ name, port: ports[i]! })), checks);
    for (const name of names) await haproxy.waitForStatus(name, 'UP');
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const balancer = haproxy;
  return {
    haproxy: balancer,
    names,
    async stopReplica(index) {
      const replica = replicas[index]!;
      const code = await stopWithin(replica, Number(env.SHUTDOWN_DRAIN_MS ?? 0) + 30_000);
      return { code, statusAtExit: (await balancer.stats()).get(replica.name)?.status ?? 'unknown' };
    },
    async restartReplica(index) {
      const name = names[index]!;
      replicas[index] = undefined;
      replicas[index] = await startReplica(name, ports[index]!, env);
      await balancer.waitForStatus(name, 'UP');
    },
    stop,
  };
}
