import type { Server } from 'node:http';
import { createApp } from './app';
import { loadConfig, StartupError } from './config';
import { openDatabase } from './db/database';
import { bootstrapDevProject, loadSecretBox } from './dev-bootstrap';
import { createLogger } from './http/logger';
import { connectRedis } from './http/redis';
import { Wakeups } from './pull-events/wakeups';
import { startSweeper } from './sweeper/sweeper';

const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the service as configured by the environment; it stops on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const box = loadSecretBox(config);
  const database = await openDatabase(config, (message) => logger.debug(message));
  logger.info({ embedded: database.embedded }, 'database ready');

  if (database.embedded) {
    const banner = await bootstrapDevProject(database.db, config.dataDir);
    if (banner) console.log(banner);
  }

  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : undefined;
  const wakeups = new Wakeups({
    listenUrl: config.databaseDirectUrl ?? database.url,
    maxWaiting: config.maxWaitingReceives,
    logger,
  });
  await wakeups.start();
  const app = createApp({ db: database.db, logger, box, wakeups, ...config.http, ...(redis && { redis }) });
  const sweeper = config.sweeper.intervalMs > 0 ? startSweeper(database.db, config.sweeper, logger) : undefined;
  const server: Server = app.listen(config.port, (error?: Error) => {
    // Express 5 hands a listen failure (the port is taken) to this callback; without a server the
    // process would otherwise drift to a silent exit 0.
    if (error) {
      logger.error({ err: error, port: config.port }, `cannot listen on port ${config.port}`);
      void Promise.resolve(sweeper?.stop())
        .then(() => wakeups.close())
        .then(() => redis?.quit())
        .then(() => database.close())
        .finally(() => process.exit(1));
      return;
    }
    logger.info({ port: config.port }, `listening on http://localhost:${config.port}`);
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Waiting receives answer empty at once; their clients poll again elsewhere.
    const listening = wakeups.close();
    server.close(() => {
      Promise.resolve(sweeper?.stop())
        .then(() => listening)
        .then(() => redis?.quit())
        .then(() => database.close())
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          logger.error({ err: error }, 'closing the database failed');
          process.exit(1);
        });
    });
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
