/**
 * `pgbouncer=true` in a connection URL says the URL leads to a pooler in transaction mode (Prisma's
 * own convention for PgBouncer). Each transaction may then run on a different server connection,
 * and PgBouncer refuses startup parameters it does not know (`options`, `statement_timeout`), so
 * such a URL gets none: no session state is set or relied on.
 */
const POOLER_PARAMETER = 'pgbouncer';

export interface DatabaseUrl {
  /** The URL without the pooler flag, for node-postgres. */
  connectionString: string;
  /** Whether it leads to a transaction pooler. */
  transactionPooler: boolean;
}

export function parseDatabaseUrl(url: string): DatabaseUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, transactionPooler: false };
  }
  const flag = parsed.searchParams.get(POOLER_PARAMETER);
  if (flag === null) return { connectionString: url, transactionPooler: false };
  parsed.searchParams.delete(POOLER_PARAMETER);
  return { connectionString: parsed.toString(), transactionPooler: flag === 'true' };
}

/**
 * The connection that LISTENs for long polling's wake-ups: the direct URL when given, else the
 * database URL unless it leads to a transaction pooler, where LISTEN does not work (the session
 * that listened goes back to the pool): then none, and wake-ups stay within each process.
 */
export function listenUrlFor(databaseUrl: string, directUrl: string | undefined): string | undefined {
  if (directUrl) return parseDatabaseUrl(directUrl).connectionString;
  const { connectionString, transactionPooler } = parseDatabaseUrl(databaseUrl);
  return transactionPooler ? undefined : connectionString;
}
