import type { Database } from '../../src/db/prisma';
import { retryTransient } from '../../src/db/retry';

/**
 * Installs, for the duration of `run`, a BEFORE UPDATE trigger on pull_events that runs `body`
 * (PL/pgSQL) when the row with id `eventId` is updated, then removes it. `name` also names a
 * sequence the body may use as a counter that survives rollbacks (nextval is not transactional).
 * The trigger's DDL locks pull_events (each partition of it, when partitioned) while other suites
 * update it: PostgreSQL may pick the DDL as a deadlock victim, so it is run again when it does.
 */
export async function withUpdateTrigger<T>(db: Database, eventId: string, body: string, run: (name: string) => Promise<T>): Promise<T> {
  const name = `fault_${eventId.replaceAll('-', '')}`;
  const ddl = (sql: string) => retryTransient(() => db.$executeRawUnsafe(sql), 5);
  await ddl(`CREATE SEQUENCE ${name}`);
  await ddl(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN ${body.replaceAll('$SEQ', name)} RETURN NEW; END $$`);
  await ddl(`
    CREATE TRIGGER ${name} BEFORE UPDATE ON pull_events FOR EACH ROW
    WHEN (OLD.id = '${eventId}') EXECUTE FUNCTION ${name}()`);
  try {
    return await run(name);
  } finally {
    await ddl(`DROP TRIGGER ${name} ON pull_events`);
    await ddl(`DROP FUNCTION ${name}()`);
    await ddl(`DROP SEQUENCE ${name}`);
  }
}
