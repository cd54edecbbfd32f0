import type { Server } from 'node:http';
import { createApp } from './app';
import { loadConfig, StartupError, type Config } from './config';
import { openDatabase } from './db/database';
import { bootstrapDevProject, loadSecretBox } from './dev-bootstrap';
import { createLogger, type Logger } from './http/logger';
import { connectRedis } from './http/redis';
import { Wakeups } from './pull-events/wakeups';
import { startSweeper } from './sweeper/sweeper';
import { telemetryOf } from './telemetry/registry';
import { startMetricsServer } from './telemetry/server';

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

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Express 5 hands a listen failure (the port is taken) to this callback.
    const server = app.listen(port, (error?: Error) => (error ? reject(new StartupError(`cannot listen on port ${port} (PORT): ${error.message}`)) : resolve(server)));
  });
}

/** Starts the service as configured by the environment; it stops on SIGTERM or SIGINT. */
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
  try {
    const database = await openDatabase(config, (message) => logger.debug(message));
    resources.add(() => database.close());
    logger.info({ embedded: database.embedded }, 'database ready');
    if (database.embedded) {
      const banner = await bootstrapDevProject(database.db, config.dataDir);
      if (banner) console.log(banner);
    }

    const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
    if (redis) resources.add(() => redis.quit());
    wakeups = new Wakeups({ listenUrl: config.databaseDirectUrl ?? database.url, maxWaiting: config.maxWaitingReceives, logger });
    resources.add(() => wakeups.close());
    await wakeups.start();
    const app = createApp({ db: database.db, logger, box, wakeups, ...config.http, ...(redis && { redis }) });
    const metrics = await startMetrics(config, app, logger);
    if (metrics) resources.add(() => metrics.close());
    const sweeper = config.sweeper.intervalMs > 0 ? startSweeper(database.db, config.sweeper, logger, telemetryOf(app)) : undefined;
    if (sweeper) resources.add(() => sweeper.stop());
    server = await listen(app, config.port);
  } catch (error) {
    await resources.closeAll(logger);
    throw error;
  }
  logger.info({ port: config.port }, `listening on http://localhost:${config.port}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('in-flight requests did not finish in time; exiting');
      void exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Waiting receives answer empty at once; their clients poll again elsewhere.
    void wakeups.close();
    server.close(() => void exit(0));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The service's entry point, for `node build/src/server.js` and the CLI's `serve`. */
export function serve(): void {
  main().catch((error: unknown) => {
    console.error(error instanceof StartupError ? error.message : error);
    process.exit(1);
  });
}

if (require.main === module) serve();
