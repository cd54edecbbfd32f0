import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './processes';

const PROGRAM = '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** Where clients connect: `server`'s user and password, the bouncer's port, `?pgbouncer=true`. */
  urlFor(database: string): string;
  port: number;
  /** What it printed (its log goes to stderr). */
  output(): string;
  /**
   * Closes the bouncer's server connections to `database` (its admin console's RECONNECT): the
   * next ones log in anew and read the server's settings again.
   */
  reconnect(database: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per database and user (the pool clients share). */
  poolSize?: number;
  poolMode?: 'transaction' | 'session';
}

/** Debian's PgBouncer, in `poolMode` (transaction by default) in front of `serverUrl`'s server, in a process of its own. */
export async function startPgBouncer(serverUrl: string, { poolSize = 20, poolMode = 'transaction' }: PgBouncerOptions = {}): Promise<PgBouncer> {
  if (!fs.existsSync(PROGRAM)) {
    throw new Error(`${PROGRAM} is missing: install PgBouncer (apt-get install pgbouncer); .ci/run does`);
  }
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username) || 'postgres';
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-pgbouncer-'));
  fs.chmodSync(dir, 0o755);
  const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;
  // Clients are trusted on loopback; the bouncer logs in to the server as the URL's user.
  fs.writeFileSync(path.join(dir, 'users.txt'), `${quote(user)} ${quote(password)}\n`);
  const serverLogin = `user=${user}${password ? ` password=${password}` : ''}`;
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${server.hostname} port=${server.port || 5432} ${serverLogin}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      // The admin console (database `pgbouncer`), for RECONNECT.
      `admin_users = ${user}`,
      `auth_file = ${path.join(dir, 'users.txt')}`,
      `pool_mode = ${poolMode}`,
      `default_pool_size = ${poolSize}`,
      'max_client_conn = 2000',
      // Waiting for a server connection fails after 20 s rather than hanging a test.
      'query_wait_timeout = 20',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root.
  const asRoot = os.userInfo().uid === 0;
  const ids = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'])), gid: Number(execFileSync('id', ['-g', 'postgres'])) } : {};
  const child: ChildProcess = spawn(PROGRAM, [path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pg = await import('pg');
  const probeUrl = new URL(serverUrl);
  probeUrl.port = String(port);
  probeUrl.hostname = '127.0.0.1';
  const probe = async () => {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}:\n${output}`);
    const client = new pg.default.Client({ connectionString: probeUrl.toString(), connectionTimeoutMillis: 2000 });
    await client.connect();
    await client.end();
    return true;
  };
  try {
    await waitFor(probe, 15_000, `PgBouncer on port ${port}`);
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
  }
  return {
    port,
    urlFor(database) {
      const url = new URL(serverUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      url.pathname = `/${database}`;
      url.searchParams.set('pgbouncer', 'true');
      return url.toString();
    },
    output: () => output,
    async reconnect(database) {
      const admin = new URL(probeUrl);
      admin.pathname = '/pgbouncer';
      const client = new pg.default.Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        // The admin console speaks the simple query protocol only: no parameters.
        if (!/^\w+$/.test(database)) throw new Error(`not a plain database name: ${database}`);
        await client.query(`RECONNECT ${database}`);
      } finally {
        await client.end();
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
