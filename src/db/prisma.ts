import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

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

/** The one place a Prisma client is made: Prisma 7's query compiler over node-postgres. */
export function createPrismaClient(
  connectionString: string,
  { poolSize = 10, statementTimeoutMs = STATEMENT_TIMEOUT_MS, onQuery }: DatabaseOptions = {},
): Database {
  const adapter = new PrismaPg({
    connectionString,
    max: poolSize,
    // Bounded waits: while the database is unreachable or stuck, requests fail in seconds
    // (500 INTERNAL_ERROR) instead of hanging; the pool reconnects once it is back.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(statementTimeoutMs > 0 && { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + 1000 }),
    // Every statement here is short and planned to use an index: JIT compiling one costs more
    // (tens of ms) than it could save.
    options: '-c jit=off',
  });
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event.query));
  return client;
}
