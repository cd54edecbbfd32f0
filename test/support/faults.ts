import type { Database } from '../../src/db/prisma';

/**
 * Installs, for the duration of `run`, a BEFORE UPDATE trigger on pull_events that runs `body`
 * (PL/pgSQL) when the row with id `eventId` is updated, then removes it. `name` also names a
 * sequence the body may use as a counter that survives rollbacks (nextval is not transactional).
 */
export async function withUpdateTrigger<T>(db: Database, eventId: string, body: string, run: (name: string) => Promise<T>): Promise<T> {
  const name = `fault_${eventId.replaceAll('-', '')}`;
  await db.$executeRawUnsafe(`CREATE SEQUENCE ${name}`);
  await db.$executeRawUnsafe(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN ${body.replaceAll('$SEQ', name)} RETURN NEW; END $$`);
  await db.$executeRawUnsafe(`
    CREATE TRIGGER ${name} BEFORE UPDATE ON pull_events FOR EACH ROW
    WHEN (OLD.id = '${eventId}') EXECUTE FUNCTION ${name}()`);
  try {
    return await run(name);
  } finally {
    await db.$executeRawUnsafe(`DROP TRIGGER ${name} ON pull_events`);
    await db.$executeRawUnsafe(`DROP FUNCTION ${name}()`);
    await db.$executeRawUnsafe(`DROP SEQUENCE ${name}`);
  }
}
