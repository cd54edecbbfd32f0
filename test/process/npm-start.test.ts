import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, ROOT, waitFor } from '../support/processes';

// What a supervisor does: start `npm start` (on the embedded database, as a newcomer would), then
// signal exactly that process, and expect nothing of it left running or listening.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-npm-start-'));
fs.chmodSync(dataDir, 0o755);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  port: number;
  postgresPort: number;
  metricsPort: number;
}

async function npmStart(): Promise<Started> {
  const [port, postgresPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    EMBEDDED_PG_PORT: String(postgresPort),
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.SECRET_ENCRYPTION_KEY;
  const child = spawn('npm', ['start'], { cwd: ROOT, env });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`))));
  await Promise.race([waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 60_000, 'npm start to answer /healthz'), exited]);
  return { child, output: () => output, port, postgresPort, metricsPort };
}

/** Every process below `pid`, read from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so read after the last ')'.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone while listing.
    }
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopWith(signal: NodeJS.Signals, started: Started): Promise<{ code: number | null; left: number[] }> {
  const tree = descendants(started.child.pid!);
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill(signal);
  const code = await exited;
  // npm waits for the service; the service stops its PostgreSQL before it exits.
  return { code, left: tree.filter(alive) };
}

it.each(['SIGTERM', 'SIGINT'] as const)('on %s to the npm process, the service and its embedded PostgreSQL stop and free their ports', async (signal) => {
  const started = await npmStart();
  const tree = descendants(started.child.pid!);
  // npm -> the service (exec'd by the script's shell) -> postgres and its workers.
  expect(tree.length).toBeGreaterThanOrEqual(3);
  expect(await accepts(started.postgresPort)).toBe(true);
  // A supervisor's scrape: the probe it just made is counted, on the loopback-only metrics port.
  const scrape = await (await fetch(`http://127.0.0.1:${started.metricsPort}/metrics`)).text();
  expect(scrape).toMatch(/^http_requests_total\{operation="getHealth",status="200"\} [1-9]/m);

  const { code, left } = await stopWith(signal, started);

  expect(code).toBe(0);
  expect(left).toEqual([]);
  expect(await accepts(started.port)).toBe(false);
  expect(await accepts(started.postgresPort)).toBe(false);
  expect(await accepts(started.metricsPort)).toBe(false);
  expect(started.output()).toContain(`"signal":"${signal}"`);
});

it('starts without compiling when nothing changed since the last build', async () => {
  // `npm test` built before the suites ran; a start after it has nothing to compile.
  const started = await npmStart();
  const { code } = await stopWith('SIGTERM', started);
  expect(code).toBe(0);
  expect(started.output()).not.toContain('building build/');
  expect(started.output()).not.toMatch(/prisma|tsc/i);
});

(os.userInfo().uid === 0 ? it : it.skip)(
  'as root in a directory other users cannot enter, refuses to start with what to do instead of a bare EACCES',
  async () => {
    const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-private-'));
    try {
      expect(fs.statSync(privateDir).mode & 0o007).toBe(0);
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()) };
      delete env.DATABASE_URL;
      delete env.DATA_DIR;
      delete env.SECRET_ENCRYPTION_KEY;
      const child = spawn(process.execPath, [path.join(ROOT, 'build/src/server.js')], { cwd: privateDir, env });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

      expect(code).toBe(1);
      expect(stderr).toContain(`cannot enter ${privateDir}`);
      expect(stderr).toContain(`chmod o+x ${privateDir}`);
      expect(stderr).toContain('DATABASE_URL');
      expect(stderr).not.toContain('EACCES');
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      fs.rmSync(privateDir, { recursive: true, force: true });
    }
  },
);
