/**
 * A body refused before it was read whole (over the limit, or its endpoint paused) is read and
 * dropped, so that its sender reads the answer and the connection serves the next request. Closing
 * on unread bytes sends a TCP reset that can destroy the answer before the sender reads it: a CI
 * run once saw `fetch failed: ECONNRESET` where a 413 was due.
 */
import net from 'node:net';
import { DISCARD_LIMIT_BYTES } from '../../src/http/unread-body';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { startTestServer, type TestServer } from '../support/server';

const API_BODY_LIMIT = 64 * 1024;
const INGEST_BODY_LIMIT = 1024 * 1024;

let server: TestServer;
let owner: TestProject;
let port: number;

beforeAll(async () => {
  server = await startTestServer({ bodyLimitBytes: API_BODY_LIMIT, ingestBodyLimitBytes: INGEST_BODY_LIMIT });
  owner = await buildProject(server.db);
  port = Number(new URL(server.baseUrl).port);
});
afterAll(() => server.close());

interface Answer {
  status: number;
  headers: Record<string, string>;
}

/**
 * On one connection: a POST of `head` headers announcing `announced` bytes, of which `sent` are
 * sent (64 KiB at a time, as the socket takes them), then, if the body was sent whole,
 * `GET /healthz`. Gives the answers read before the connection closed or both came.
 */
async function exchange(path: string, headers: Record<string, string>, announced: number, sent = announced): Promise<Answer[]> {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const answers = (): Answer[] =>
    [...received.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/g)].map(([, status, lines]) => ({
      status: Number(status),
      headers: Object.fromEntries(lines!.split('\r\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()])),
    }));
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (answers().length === 2) resolve();
    });
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
  });
  const write = (data: string | Buffer) => new Promise<void>((resolve) => (socket.write(data) ? resolve() : socket.once('drain', resolve)));
  const head = Object.entries({ ...headers, host: '127.0.0.1', 'content-type': 'application/json', 'content-length': String(announced) });
  await write(`POST ${path} HTTP/1.1\r\n${head.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  for (let left = sent; left > 0 && !socket.destroyed; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
  if (sent === announced && !socket.destroyed) socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  await done;
  socket.destroy();
  return answers();
}

it('reads and drops an ingest body over the limit: the sender gets its 413, the connection the next request', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const answers = await exchange(endpoint.ingestPath, {}, INGEST_BODY_LIMIT + 1);
  expect(answers.map((a) => a.status)).toEqual([413, 200]);
  expect(answers[0]!.headers.connection).not.toBe('close');
});

it('reads and drops the body of a webhook its paused endpoint refuses unread', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  await server.db.pullEndpoint.update({ where: { id: endpoint.id }, data: { pausedAt: new Date() } });
  const answers = await exchange(endpoint.ingestPath, {}, 512 * 1024);
  expect(answers.map((a) => a.status)).toEqual([503, 200]);
});

it('reads and drops an API body over the limit, after a 413 or a 401 alike', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  const path = `/v1/pull-endpoints/${endpoint.id}/events/delete-batch`;
  expect((await exchange(path, { authorization: `Bearer ${owner.apiKey}` }, 4 * API_BODY_LIMIT)).map((a) => a.status)).toEqual([413, 200]);
  expect((await exchange(path, { authorization: 'Bearer not-a-key' }, 4 * API_BODY_LIMIT)).map((a) => a.status)).toEqual([401, 200]);
});

it('does not read a refused body announced over the discard limit: it closes the connection after the answer', async () => {
  const endpoint = await buildEndpointWithToken(server.db, owner.projectId);
  // Only the head is sent: nothing unread is left for the close to reset.
  const answers = await exchange(endpoint.ingestPath, {}, DISCARD_LIMIT_BYTES + 1, 0);
  expect(answers.map((a) => a.status)).toEqual([413]);
  expect(answers[0]!.headers.connection).toBe('close');
});
