import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export type Database = PrismaClient;

export interface DatabaseOptions {
  poolSize?: number;
  /** Called with every SQL statement sent (tests count round trips with it). */
  onQuery?: (sql: string) => void;
}

/** The one place a Prisma client is made: Prisma 7's query compiler over node-postgres. */
export function createPrismaClient(connectionString: string, { poolSize = 10, onQuery }: DatabaseOptions = {}): Database {
  const adapter = new PrismaPg({ connectionString, max: poolSize });
  if (!onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  client.$on('query', (event) => onQuery(event.query));
  return client;
}
