import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createPullEventsClient } from '../src/client';
import { contract } from './support/contract';
import { freePort, runTs, startTs, waitFor } from './support/processes';
import { testDatabaseUrl } from './support/server';

// `npm start` on a fresh machine: no DATABASE_URL, so the service runs its embedded PostgreSQL.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-start-'));
fs.chmodSync(dataDir, 0o755);
const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, VALIDATE_RESPONSES: '1', LOG_LEVEL: 'info' };
delete env.DATABASE_URL;
delete env.SECRET_ENCRYPTION_KEY;
let baseUrl: string;

beforeAll(async () => {
  const [port, postgresPort] = [await freePort(), await freePort()];
  Object.assign(env, { PORT: String(port), EMBEDDED_PG_PORT: String(postgresPort) });
  baseUrl = `http://127.0.0.1:${port}`;
});

async function startService() {
  const service = startTs('src/server.ts', env);
  await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).ok, 60_000, 'the service to become ready');
  return service;
}

async function stop(service: ReturnType<typeof startTs>) {
  const exited = new Promise<number | null>((resolve) => service.once('exit', resolve));
  service.kill('SIGTERM');
  return exited;
}

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

it('starts on an embedded database, hands out a dev key once, and answers a batch delete', async () => {
  const service = await startService();
  try {
    const keyFile = path.join(dataDir, 'dev-api-key');
    const apiKey = fs.readFileSync(keyFile, 'utf8').trim();
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(service.output()).toContain(apiKey);
    // The banner names the console, which the service serves from the build.
    const port = new URL(baseUrl).port;
    expect(service.output()).toContain(`console:    http://localhost:${port}/console`);
    expect((await fetch(`${baseUrl}/console`)).status).toBe(200);
    const projectId = fs.readFileSync(path.join(dataDir, 'dev-project-id'), 'utf8').trim();

    // The CLI joins the embedded database the running service uses.
    const created = await runTs('src/cli/index.ts', ['endpoint', 'create', '--project', projectId, '--name', 'demo', '--json'], env);
    expect(created.code).toBe(0);
    const endpointId = JSON.parse(created.stdout).id as string;
    const seeded = await runTs('src/cli/index.ts', ['events', 'seed', '--endpoint', endpointId, '--count', '3', '--json'], env);
    const ids = JSON.parse(seeded.stdout).event_ids as string[];

    const client = createPullEventsClient({ baseUrl, apiKey, middleware: [contract.middleware()] });
    const { data, response } = await client.POST('/v1/pull-endpoints/{id}/events/delete-batch', {
      params: { path: { id: endpointId } },
      body: { message_ids: [ids[0]!, ids[1]!] },
    });
    expect(response.status).toBe(200);
    expect(data!.data.results.map((r) => r.outcome)).toEqual(['deleted', 'deleted']);
    expect(service.output()).not.toContain('authorization":"Bearer');

    // The key sealing HMAC secrets was generated into the data directory, like the dev key.
    const secretKeyFile = path.join(dataDir, 'secret-encryption-key');
    expect(fs.statSync(secretKeyFile).mode & 0o777).toBe(0o600);
    const signed = await client.POST('/v1/pull-endpoints', {
      body: { name: 'signed', verify_hmac: true, hmac_scheme: 'github', hmac_secret: 'a-secret-across-restarts' },
    });
    fs.writeFileSync(path.join(dataDir, 'test-signed-url'), signed.data!.data.ingest_url);
  } finally {
    expect(await stop(service)).toBe(0);
  }
  await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();
});

it('keeps its data across restarts and does not create a second dev key', async () => {
  const keyBefore = fs.readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8');
  const service = await startService();
  try {
    expect(service.output()).not.toContain('Created a local project');
    const client = createPullEventsClient({ baseUrl, apiKey: keyBefore.trim(), middleware: [contract.middleware()] });
    const { response } = await client.POST('/v1/pull-endpoints/{id}/events/delete-batch', {
      params: { path: { id: '01935abc-def0-7123-4567-890abcdef012' } },
      body: { message_ids: ['01935abc-def0-7123-4567-890abcdef012'] },
    });
    expect(response.status).toBe(404);

    // The HMAC secret sealed before the restart still opens: the generated key was kept.
    const url = new URL(fs.readFileSync(path.join(dataDir, 'test-signed-url'), 'utf8'));
    const body = '{"zen":"Keep it logically awesome."}';
    const signature = `sha256=${createHmac('sha256', 'a-secret-across-restarts').update(body).digest('hex')}`;
    const webhook = await fetch(`${baseUrl}${url.pathname}`, { method: 'POST', body, headers: { 'X-Hub-Signature-256': signature } });
    expect(webhook.status).toBe(202);
  } finally {
    expect(await stop(service)).toBe(0);
  }
  expect(fs.readFileSync(path.join(dataDir, 'dev-api-key'), 'utf8')).toBe(keyBefore);
});

it('exits 1 saying so when its port is taken, instead of exiting 0 unheard', async () => {
  const taken = http.createServer();
  await new Promise<void>((resolve) => taken.listen(0, resolve));
  try {
    const { port: takenPort } = taken.address() as AddressInfo;
    const result = await runTs('src/server.ts', [], {
      ...env,
      DATABASE_URL: testDatabaseUrl(),
      SECRET_ENCRYPTION_KEY: process.env.SECRET_ENCRYPTION_KEY,
      PORT: String(takenPort),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot listen on port ${takenPort} (PORT)`);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  } finally {
    taken.close();
  }
});

it('refuses to start on a real database without SECRET_ENCRYPTION_KEY, saying what to set', async () => {
  const result = await runTs('src/server.ts', [], { ...env, DATABASE_URL: testDatabaseUrl() });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/SECRET_ENCRYPTION_KEY is not set.*openssl rand -base64 32/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
});
