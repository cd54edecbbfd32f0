const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/** The PostgreSQL SQLSTATE behind a Prisma error raised through the pg driver adapter, if any. */
export function postgresCode(error: unknown): string | undefined {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } })?.meta;
  return meta?.driverAdapterError?.cause?.originalCode;
}

/**
 * Runs a statement or transaction again when PostgreSQL aborted it as a deadlock victim or for a
 * serialization failure: both roll back whole, so a retry cannot apply anything twice.
 */
export async function retryTransient<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = postgresCode(error);
      if (attempt >= attempts || code === undefined || !TRANSIENT_CODES.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}
