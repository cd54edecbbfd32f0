import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createApp } from '../../src/app';
import { createSecretBox, parseEncryptionKey, type SecretBox } from '../../src/auth/encryption';
import type { HttpSettings } from '../../src/config';
import { createPullEventsClient, type PullEventsClient } from '../../src/client';
import { createPrismaClient, type Database } from '../../src/db/prisma';
import { telemetryOf, type Telemetry } from '../../src/telemetry/registry';
import { contract } from './contract';
import { capturingLogger, expectNoSecretsIn } from './log-scan';

export interface TestServer {
  baseUrl: string;
  db: Database;
  /** The app's Prometheus metrics. */
  telemetry: Telemetry;
  /** A typed client whose every response is checked against openapi.yaml; it never retries (a 429 comes back). */
  client(apiKey?: string): PullEventsClient;
  close(): Promise<void>;
}

/** The box sealing HMAC secrets with the tests' key (set by global-setup.ts). */
export function testSecretBox(): SecretBox {
  return createSecretBox(parseEncryptionKey(process.env.SECRET_ENCRYPTION_KEY!));
}

export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is set by test/support/global-setup.ts');
  return url;
}

/** The real app, with response validation on, listening on a free port over the test database. */
export async function startTestServer(
  options: { db?: Database; redis?: Redis; box?: SecretBox; logger?: Logger } & Partial<HttpSettings> = {},
): Promise<TestServer> {
  const db = options.db ?? createPrismaClient(testDatabaseUrl());
  // Every test server logs at debug level into memory; closing it reads the lines for secrets.
  const captured = capturingLogger();
  const app = createApp({
    logger: captured.logger,
    validateResponses: true,
    validateRequests: true,
    ingestBaseUrl: 'http://127.0.0.1',
    trustProxy: false,
    box: testSecretBox(),
    bodyLimitBytes: 64 * 1024,
    ingestBodyLimitBytes: 1024 * 1024,
    apiRateLimitPerMinute: 0,
    ingestRateLimitPerMinute: 0,
    authFailureLimit: 0,
    authFailureWindowSeconds: 300,
    ...options,
    db,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    db,
    telemetry: telemetryOf(app),
    client: (apiKey) =>
      createPullEventsClient({ baseUrl, ...(apiKey ? { apiKey } : {}), middleware: [contract.middleware()], retries: 0 }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.db) await db.$disconnect();
      expectNoSecretsIn(captured.lines);
    },
  };
}
