import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client';

export type Database = PrismaClient;

/** The one place a Prisma client is made: Prisma 7's query compiler over node-postgres. */
export function createPrismaClient(connectionString: string, poolSize = 10): Database {
  const adapter = new PrismaPg({ connectionString, max: poolSize });
  return new PrismaClient({ adapter });
}
