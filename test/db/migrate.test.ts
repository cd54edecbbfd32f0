import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate';
import { adminQuery, withDatabase } from '../support/database';

const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
const created: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `pull_events_migrate_${process.pid}_${created.length}_${Date.now()}`;
  await adminQuery(adminUrl(), `CREATE DATABASE ${name}`);
  created.push(name);
  return withDatabase(adminUrl(), name);
}

async function history(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    return rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const name of created) await adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

it('applies every migration once when several replicas migrate at the same moment', async () => {
  const url = await freshDatabase();
  const runs = await Promise.all(Array.from({ length: 4 }, () => migrate(url)));

  const migrations = readMigrations();
  // Each migration was applied by exactly one of them (which one may differ per migration).
  expect(runs.flat().sort()).toEqual(migrations.map((m) => m.name));
  expect(await history(url)).toEqual(
    migrations.map((m) => ({ migration_name: m.name, checksum: m.checksum, finished: true, applied_steps_count: 1 })),
  );
  expect(await migrate(url)).toEqual([]);
});

it('refuses to go on when an applied migration was edited afterwards', async () => {
  const url = await freshDatabase();
  await migrate(url);
  const edited = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  fs.cpSync(MIGRATIONS_DIR, edited, { recursive: true });
  const [first] = readMigrations(edited);
  fs.appendFileSync(path.join(edited, first!.name, 'migration.sql'), '\n-- edited\n');
  try {
    await expect(migrate(url, edited)).rejects.toThrow(`migration ${first!.name} was edited after it was applied`);
  } finally {
    fs.rmSync(edited, { recursive: true, force: true });
  }
});

it('rolls back a failing migration and records nothing for it', async () => {
  const url = await freshDatabase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  fs.mkdirSync(path.join(dir, '20990101000000_broken'));
  fs.writeFileSync(path.join(dir, '20990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');
  try {
    await expect(migrate(url, dir)).rejects.toThrow(/migration 20990101000000_broken failed/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query("SELECT to_regclass('half_done') AS t, (SELECT count(*)::int FROM _prisma_migrations) AS n");
    await client.end();
    expect(rows).toEqual([{ t: null, n: 0 }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
