import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './processes';

const PROGRAM = '/usr/sbin/haproxy';
/** The longest `wait_seconds` a receive may ask for (openapi.yaml, ReceiveRequest). */
const LONGEST_WAIT_SECONDS = 20;
/** A request carrying this header with a server's name goes to that server while it is up. */
export const ROUTE_HEADER = 'X-Route-To';

export interface Backend {
  /** The server's name in HAProxy's stats and in the `X-Served-By` header it adds to answers. */
  name: string;
  port: number;
}

/** Active health checks: every `interMs`, `fall` failures in a row take a server out, `rise` successes bring it back. */
export interface HealthChecks {
  interMs: number;
  fall: number;
  rise: number;
}

/** What HAProxy's stats say of one server. */
export interface ServerStats {
  /** `UP`, `DOWN`, or a transition such as `UP 1/2` (one failed check of the two that take it down). */
  status: string;
  /** Requests answered by the server, by class. */
  responses: { '2xx': number; '4xx': number; '5xx': number };
  /** Connections to it that failed (refused) and were tried again, and requests moved from it to another server. */
  retries: number;
  redispatches: number;
  connectErrors: number;
  responseErrors: number;
  /** UP -> DOWN transitions. */
  wentDown: number;
}

export interface HAProxy {
  /** Where clients send requests: HAProxy's frontend. */
  baseUrl: string;
  stats(): Promise<Map<string, ServerStats>>;
  /** Waits until the health checks report `server` in `status` (`UP` or `DOWN`). */
  waitForStatus(server: string, status: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  /** Its log lines: only requests with an error, a retry or a redispatch are logged. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The load balancer a deployment would put in front of replicas, as configured here:
 * - health checks on `/readyz` (a draining replica answers 503 there);
 * - `retry-on conn-failure` (HAProxy's default, written out) with `option redispatch 1`: a request
 *   whose connection was refused goes to another server. That is the only retry safe for every
 *   method: nothing was sent. `empty-response` or status retries would replay POSTs (a webhook,
 *   a receive) that the server may have carried out, since HAProxy does not look at the method;
 * - keep-alive on both sides, with the default `http-reuse safe`: idle server connections are
 *   reused, which is why a replica must close them only after an answer saying so;
 * - `timeout server` above the longest long poll, so a waiting receive is not cut.
 */
function configText(port: number, backends: Backend[], checks: HealthChecks, socket: string): string {
  return [
    'global',
    '  maxconn 2000',
    `  stats socket ${socket} mode 600 level admin`,
    '  log stdout format raw local0',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  option dontlog-normal',
    '  timeout connect 2s',
    `  timeout server ${LONGEST_WAIT_SECONDS + 15}s`,
    `  timeout client ${LONGEST_WAIT_SECONDS + 15}s`,
    '  timeout http-request 10s',
    // Longer than a Node client's idle keep-alive (4 s), so that the client closes first.
    '  timeout http-keep-alive 30s',
    '  timeout queue 10s',
    `  timeout check ${Math.max(checks.interMs, 1000)}ms`,
    '  retries 3',
    '  retry-on conn-failure',
    '  option redispatch 1',
    'frontend api',
    `  bind 127.0.0.1:${port}`,
    '  option forwardfor',
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  http-response set-header X-Served-By %s',
    // A test's way to send one request to a given replica through the balancer; ignored while it is down.
    ...backends.map((backend) => `  use-server ${backend.name} if { req.hdr(${ROUTE_HEADER}) -m str ${backend.name} }`),
    `  default-server check inter ${checks.interMs}ms fall ${checks.fall} rise ${checks.rise}`,
    ...backends.map((backend) => `  server ${backend.name} 127.0.0.1:${backend.port}`),
    '',
  ].join('\n');
}

/** Debian's HAProxy in front of `backends` (on 127.0.0.1), in the foreground as a child process. */
export async function startHAProxy(backends: Backend[], checks: Partial<HealthChecks> = {}): Promise<HAProxy> {
  if (!fs.existsSync(PROGRAM)) throw new Error(`${PROGRAM} is missing: install haproxy (apt-get install haproxy); .ci/run does`);
  const settings: HealthChecks = { interMs: 500, fall: 2, rise: 2, ...checks };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-haproxy-'));
  const socket = path.join(dir, 'admin.sock');
  const configFile = path.join(dir, 'haproxy.cfg');
  const port = await freePort();
  fs.writeFileSync(configFile, configText(port, backends, settings, socket));
  // -db: stay in the foreground, no daemon, no master process; SIGTERM stops it.
  const child = spawn(PROGRAM, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const stats = async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${output}`);
    return parseStats(await runtimeCommand(socket, 'show stat'));
  };
  try {
    await waitFor(async () => (await stats()).size === backends.length, 15_000, `HAProxy on port ${port}`);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    stats,
    async waitForStatus(server, status, timeoutMs = 30_000) {
      await waitFor(async () => (await stats()).get(server)?.status === status, timeoutMs, `HAProxy to see ${server} ${status}`);
    },
    output: () => output,
    stop,
  };
}

/** One command on HAProxy's runtime API (the stats socket); resolves with its whole answer. */
function runtimeCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socket);
    let answer = '';
    connection.setTimeout(5000, () => connection.destroy(new Error(`no answer to "${command}" on ${socket}`)));
    connection.on('connect', () => connection.end(`${command}\n`));
    connection.on('data', (chunk) => (answer += chunk));
    connection.on('end', () => resolve(answer));
    connection.on('error', reject);
  });
}

/** `show stat` CSV -> the servers of backend `replicas`, by name. */
function parseStats(csv: string): Map<string, ServerStats> {
  const [header, ...rows] = csv.trim().split('\n');
  const columns = (header ?? '').replace(/^# /, '').split(',');
  const servers = new Map<string, ServerStats>();
  for (const row of rows) {
    const cells = row.split(',');
    const field = (name: string) => cells[columns.indexOf(name)] ?? '';
    const count = (name: string) => Number(field(name)) || 0;
    if (field('pxname') !== 'replicas' || field('svname') === 'BACKEND') continue;
    servers.set(field('svname'), {
      status: field('status'),
      responses: { '2xx': count('hrsp_2xx'), '4xx': count('hrsp_4xx'), '5xx': count('hrsp_5xx') },
      retries: count('wretr'),
      redispatches: count('wredis'),
      connectErrors: count('econ'),
      responseErrors: count('eresp'),
      wentDown: count('chkdown'),
    });
  }
  return servers;
}
