import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createApp } from './app';
import { loadConfig, StartupError, type Config } from './config';
import { openDatabase } from './db/database';
import { listenUrlFor } from './db/pooler';
import { bootstrapDevProject, loadSecretBox } from './dev-bootstrap';
import { createLogger, type Logger } from './http/logger';
import { connectRedis } from './http/redis';
import { newRequestId } from './http/request-id';
import { Wakeups } from './pull-events/wakeups';
import { startSweeper } from './sweeper/sweeper';
import { telemetryOf } from './telemetry/registry';
import { startMetricsServer } from './telemetry/server';

const NO_LISTEN =
  'DATABASE_URL leads to a transaction pooler (pgbouncer=true) and DATABASE_DIRECT_URL is unset: long polls are ' +
  'woken only by webhooks stored through this process, others answer at the end of their wait. Set ' +
  'DATABASE_DIRECT_URL to a direct connection for LISTEN.';

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * What the service opened, closed in reverse order. An embedded PostgreSQL is a child process that
 * outlives an exit that did not stop it, so every way out (a failed start, a signal, a shutdown
 * that ran out of time) goes through here.
 */
class Resources {
  private readonly closers: (() => unknown)[] = [];

  add(close: () => unknown): void {
    this.closers.push(close);
  }

  async closeAll(logger: Logger): Promise<boolean> {
    let clean = true;
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        clean = false;
        logger.error({ err: error }, 'closing a resource failed');
      }
    }
    return clean;
  }
}

async function startMetrics(config: Config, app: ReturnType<typeof createApp>, logger: Logger) {
  const { port, host } = config.metrics;
  // Off unless METRICS_PORT is set, and on loopback unless METRICS_HOST says otherwise.
  if (port === undefined) return undefined;
  return startMetricsServer(telemetryOf(app).registry, { port, host }, logger).catch((error: unknown) => {
    throw new StartupError(`cannot serve metrics on ${host}:${port} (METRICS_PORT, METRICS_HOST): ${error instanceof Error ? error.message : String(error)}`);
  });
}

/**
 * What a stopping replica owes its load balancer. While draining (SHUTDOWN_DRAIN_MS after the
 * signal), `/readyz` answers 503 so that the balancer's checks take the replica out of rotation,
 * and everything else is still served, long polls included. Every response sent from then on,
 * including those of requests already running, carries `Connection: close`: the replica closes
 * each connection right after an answer that announced it, so the balancer never sends a request
 * down a connection the replica is closing. Only then does the listener close.
 */
class Drain {
  private draining = false;
  /** Answers not yet sent, so that `start` can still add the header to them. */
  private readonly unanswered = new Set<ServerResponse>();

  constructor(private readonly app: ReturnType<typeof createApp>) {}

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (this.draining) {
      res.setHeader('Connection', 'close');
      if ((req.method === 'GET' || req.method === 'HEAD') && req.url?.split('?')[0] === '/readyz') return notReady(res);
    } else {
      this.unanswered.add(res);
      res.once('close', () => this.unanswered.delete(res));
    }
    this.app(req, res);
  };

  start(): void {
    this.draining = true;
    for (const res of this.unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
    this.unanswered.clear();
  }
}

/** `/readyz` of a draining process: the envelope the contract declares for 503, apart from the app. */
function notReady(res: ServerResponse): void {
  const requestId = newRequestId();
  const body = JSON.stringify({ error: { code: 'SERVICE_UNAVAILABLE', message: 'shutting down' }, meta: { request_id: requestId } });
  res.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Request-Id': requestId,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

function listen(listener: http.RequestListener, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(listener);
    server.once('error', (error) => reject(new StartupError(`cannot listen on port ${port} (PORT): ${error.message}`)));
    server.listen(port, () => resolve(server));
  });
}

/**
 * Starts the service as configured by the environment; it stops on SIGTERM or SIGINT, after
 * SHUTDOWN_DRAIN_MS of draining (see `Drain`).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const box = loadSecretBox(config);
  const resources = new Resources();
  const exit = async (code: number) => {
    const clean = await resources.closeAll(logger);
    process.exit(clean ? code : 1);
  };

  let server: Server;
  let wakeups: Wakeups;
  let drain: Drain;
  try {
    const database = await openDatabase(config, (message) => logger.debug(message), (message) => logger.warn(message));
    resources.add(() => database.close());
    logger.info({ embedded: database.embedded }, 'database ready');
    if (database.embedded) {
      const banner = await bootstrapDevProject(database.db, config.dataDir);
      if (banner) console.log(`${banner}\n  console:    http://localhost:${config.port}/console (sign in with the key)`);
    }

    const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
    if (redis) resources.add(() => redis.quit());
    const listenUrl = listenUrlFor(database.url, config.databaseDirectUrl);
    if (!listenUrl) logger.warn(NO_LISTEN);
    wakeups = new Wakeups({ ...(listenUrl && { listenUrl }), maxWaiting: config.maxWaitingReceives, logger });
    resources.add(() => wakeups.close());
    await wakeups.start();
    const app = createApp({ db: database.db, logger, box, wakeups, ...config.http, ...(redis && { redis }) });
    const metrics = await startMetrics(config, app, logger);
    if (metrics) resources.add(() => metrics.close());
    const sweeper = config.sweeper.intervalMs > 0 ? startSweeper(database.db, config.sweeper, logger, telemetryOf(app)) : undefined;
    if (sweeper) resources.add(() => sweeper.stop());
    drain = new Drain(app);
    server = await listen(drain.listener, config.port);
  } catch (error) {
    await resources.closeAll(logger);
    throw error;
  }
  logger.info({ port: config.port }, `listening on http://localhost:${config.port}`);

  let stopping = false;
  let endDrain: (() => void) | undefined;
  const shutdown = async (signal: string) => {
    if (stopping) {
      // A second signal (Ctrl-C again) stops waiting for the balancer.
      endDrain?.();
      return;
    }
    stopping = true;
    const drainMs = config.shutdownDrainMs;
    logger.info({ signal, drain_ms: drainMs }, drainMs > 0 ? `shutting down: draining for ${drainMs} ms (signal again to skip)` : 'shutting down');
    drain.start();
    if (drainMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        endDrain = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Long polls wait through the drain (they still get events, and wake-ups still reach the
    // other replicas); now they answer empty at once, and their clients' next polls go to replicas
    // the balancer still sends to.
    void wakeups.close();
    const force = setTimeout(() => {
      logger.error('in-flight requests did not finish in time; exiting');
      void exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => void exit(0));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** The service's entry point, for `node build/src/server.js` and the CLI's `serve`. */
export function serve(): void {
  main().catch((error: unknown) => {
    console.error(error instanceof StartupError ? error.message : error);
    process.exit(1);
  });
}

if (require.main === module) serve();
