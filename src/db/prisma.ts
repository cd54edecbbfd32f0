import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/client';
import { parseDatabaseUrl } from './pooler';

export type Database = PrismaClient;

const CONNECT_TIMEOUT_MS = 5000;
const STATEMENT_TIMEOUT_MS = 15_000;

export interface DatabaseOptions {
  poolSize?: number;
  /** Per statement, server- and client-side; 0 for none (bulk work such as rebuilding the metrics rollup). */
  statementTimeoutMs?: number;
  /** Called with every SQL statement sent (tests count round trips with it). */
  onQuery?: (sql: string) => void;
}

/**
 * The one place a Prisma client is made: Prisma 7's query compiler over node-postgres. Prisma's
 * pg adapter sends every statement unnamed (parse, bind and execute in one round trip), so a
 * transaction pooler needs no prepared-statement support; test/db/pgbouncer.test.ts checks it.
 */
export function createPrismaClient(
  url: string,
  { poolSize = 10, statementTimeoutMs = STATEMENT_TIMEOUT_MS, onQuery }: DatabaseOptions = {},
): Database {
  const { connectionString, transactionPooler } = parseDatabaseUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // Bounded waits: while the database is unreachable or stuck, requests fail in seconds
    // (500 INTERNAL_ERROR) instead of hanging; the pool reconnects once it is back.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(statementTimeoutMs > 0 && { query_timeout: statementTimeoutMs + 1000 }),
    // Session settings go in the startup packet, which PgBouncer refuses; behind it, the server's
    // own settings apply (README: Running several replicas).
    ...(!transactionPooler && {
      ...(statementTimeoutMs > 0 && { statement_timeout: statementTimeoutMs }),
      // Every statement here is short and planned to use an index: JIT compiling one costs more
      // (tens of ms) than it could save.
      options: '-c jit=off',
    }),
  });
  // Made here rather than by the adapter so that the pool's gauges can read it; the adapter still
  // ends it on $disconnect, as it ends a pool it made.
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  if (!onQuery) return withPool(new PrismaClient({ adapter }), pool);
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event.query));
  return withPool(client, pool);
}

const pools = new WeakMap<Database, pg.Pool>();

function withPool(db: Database, pool: pg.Pool): Database {
  pools.set(db, pool);
  return db;
}

/** The connection pool under a client made by createPrismaClient. */
export function poolOf(db: Database): pg.Pool | undefined {
  return pools.get(db);
}
