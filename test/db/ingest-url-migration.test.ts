import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { sha256Hex } from '../../src/auth/secrets';
import { MIGRATIONS_DIR, migrate, readMigrations } from '../../src/db/migrate';
import { createPrismaClient } from '../../src/db/prisma';
import { adminQuery, withDatabase } from '../support/database';
import { startTestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

const INGEST_URL_MIGRATION = '20261201100000_ingest_url_verification';
const adminUrl = () => process.env.TEST_ADMIN_DATABASE_URL!;
let database: string;
let url: string;

beforeAll(async () => {
  database = `pull_events_ingest_migration_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl(), `CREATE DATABASE ${database}`);
  url = withDatabase(adminUrl(), database);
});
afterAll(() => adminQuery(adminUrl(), `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));

/** Migrates to just before the ingest URL migration: the schema earlier releases ran on. */
async function migrateBeforeIngestUrl() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  try {
    for (const migration of readMigrations().filter((m) => m.name < INGEST_URL_MIGRATION)) {
      fs.cpSync(path.join(MIGRATIONS_DIR, migration.name), path.join(dir, migration.name), { recursive: true });
    }
    await migrate(url, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

it('keeps existing endpoints and events working under the ingest URL form', async () => {
  await migrateBeforeIngestUrl();
  const token = 'pes_an-endpoint-token-of-an-earlier-release';
  const [project, byHeader, byPath, older, newer] = [uuidv7(), uuidv7(), uuidv7(), uuidv7(), uuidv7()];
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO projects (id, name) VALUES ($1, 'p')`, [project]);
    await client.query(
      `INSERT INTO pull_endpoints (id, project_id, name, event_type_source, secret_token_hash) VALUES
         ($1, $3, 'by header', '{"header": "X-Kind"}', $4), ($2, $3, 'by path', '{"json_path": "$.data.type"}', $5)`,
      [byHeader, byPath, project, sha256Hex(token), sha256Hex('pes_other')],
    );
    await client.query(
      `INSERT INTO pull_events (pull_endpoint_id, id, event_type, payload) VALUES
         ($1, $2, 'order.created', '{"a": 1}'), ($1, $3, 'unknown', '[1, 2]')`,
      [byHeader, older, newer],
    );
  } finally {
    await client.end();
  }

  expect(await migrate(url)).toEqual(readMigrations().filter((m) => m.name >= INGEST_URL_MIGRATION).map((m) => m.name));

  const db = createPrismaClient(url);
  const server = await startTestServer({ db });
  try {
    const endpoints = await db.pullEndpoint.findMany({ orderBy: { id: 'asc' } });
    expect(endpoints.map((e) => [e.eventTypeSource, e.eventTypePath, e.lastEventId])).toEqual([
      ['header', 'X-Kind', newer],
      ['body', 'data.type', null],
    ]);
    const events = await db.pullEvent.findMany({ orderBy: { id: 'asc' } });
    expect(events.map((e) => [e.eventType, Buffer.from(e.payload!).toString(), e.contentType, e.payloadIsJson, e.sizeBytes])).toEqual([
      ['order.created', '{"a": 1}', 'application/json', true, 8],
      [null, '[1, 2]', 'application/json', true, 6],
    ]);

    // The token an earlier release handed out opens the new URL form, and ids keep growing.
    const { status, body } = await postWebhook(server.baseUrl, `/pull/${token}`, '{"b": 2}', { 'X-Kind': 'order.paid' });
    expect(status).toBe(202);
    expect(body.data.event_id > newer).toBe(true);
    const stored = await db.pullEvent.findUniqueOrThrow({ where: { pullEndpointId_id: { pullEndpointId: byHeader, id: body.data.event_id } } });
    expect(stored.eventType).toBe('order.paid');
  } finally {
    await server.close();
    await db.$disconnect();
  }
});
