import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
// Node loads tsx as a module hook in the process itself. The tsx CLI would add a parent process
// that relays signals, and an exit code of its own (143) when SIGTERM reaches it before the child
// has told it that it handles the signal: seen as a flaky exit code under load.
const TSX = ['--import', 'tsx'];

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry point of the project through tsx, as `npm run cli` and `npm start` do. */
export function runTs(entry: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runProcess(process.execPath, [...TSX, path.join(ROOT, entry), ...args], { cwd: ROOT, env });
}

/** Runs a program to its end, collecting what it printed. */
export function runProcess(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function startTs(entry: string, env: NodeJS.ProcessEnv): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [...TSX, path.join(ROOT, entry)], { cwd: ROOT, env });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return Object.assign(child, { output: () => output });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface ServiceProcess {
  baseUrl: string;
  child: ChildProcess & { output: () => string };
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A port nothing listens on now (the system picks it), for a service about to start. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * `npm start`'s entry point in its own process, on `databaseUrl`, ready when /readyz answers 200;
 * on `port` when given (a replica restarting where its load balancer expects it), else a free one.
 */
export async function startService(databaseUrl: string, env: NodeJS.ProcessEnv = {}, port?: number): Promise<ServiceProcess> {
  port ??= await freePort();
  const child = startTs('src/server.ts', {
    ...process.env,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    SWEEP_INTERVAL_MS: '0',
    API_RATE_LIMIT_PER_MINUTE: '0',
    INGEST_RATE_LIMIT_PER_MINUTE: '0',
    VALIDATE_RESPONSES: '1',
    ...env,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await Promise.race([
    waitFor(async () => (await fetch(`${baseUrl}/readyz`)).ok, 60_000, `the service on port ${port}`),
    exited.then((code) => {
      throw new Error(`service exited with ${code} before it was ready:\n${child.output()}`);
    }),
  ]);
  return {
    baseUrl,
    child,
    exited,
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface ClusterProcess {
  url: string;
  stop(): Promise<void>;
  /** Stops PostgreSQL as a crash would (`pg_ctl stop -m immediate`): the next start recovers from the WAL. */
  stopImmediately(): Promise<void>;
}

/** An embedded PostgreSQL cluster under `dir`, owned by a child process (see embedded-cluster.ts). */
export async function startClusterProcess(dir: string, port: number): Promise<ClusterProcess> {
  const child = spawn(process.execPath, [...TSX, path.join(ROOT, 'test/support/embedded-cluster.ts'), dir, String(port)], { cwd: ROOT });
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /ready (\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`cluster process exited with ${code}: ${output}`)));
  });
  return {
    url,
    async stop() {
      child.stdin.end('stop\n');
      await exited;
    },
    async stopImmediately() {
      child.stdin.end('stop-immediate\n');
      const code = await exited;
      if (code !== 0) throw new Error(`immediate stop failed (${code}): ${output}`);
    },
  };
}
