import { adminQuery } from './database';

export default async function globalTeardown(): Promise<void> {
  await globalThis.stopTestPgBouncer?.();
  const state = globalThis.testDatabaseState;
  if (state) {
    await adminQuery(state.adminUrl, `DROP DATABASE IF EXISTS ${state.database} WITH (FORCE)`);
  }
  await globalThis.stopEmbeddedTestDatabase?.();
}
