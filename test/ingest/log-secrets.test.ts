import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/logger';
import { buildEndpointWithToken, buildProject } from '../support/factories';
import { endpointFor, PROVIDERS } from '../support/providers';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook } from '../support/webhooks';

const lines: string[] = [];
let server: TestServer;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  server = await startTestServer({ logger: createLogger('debug', sink) });
});
afterAll(() => server.close());

it('logs no ingest token, HMAC secret or static token at debug level, whatever the webhook did', async () => {
  const owner = await buildProject(server.db);
  const secrets: string[] = [owner.apiKey];
  const api = server.client(owner.apiKey);
  const body = '{"type":"order.created"}';

  for (const provider of PROVIDERS) {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, endpointFor(provider));
    secrets.push(endpoint.token, provider.secret);
    const headers = await provider.sign(body);
    await postWebhook(server.baseUrl, endpoint.ingestPath, body, headers);
    await postWebhook(server.baseUrl, endpoint.ingestPath, body, headers);
    await postWebhook(server.baseUrl, `${endpoint.ingestPath}/?x=1`, `${body} `, headers);
    await postWebhook(server.baseUrl, endpoint.ingestPath, body, await provider.sign(body, { secret: provider.otherSecret }));
  }

  const tokenValue = 'static-token-for-the-log-test';
  for (const where of [{ token_header_name: 'X-Token' }, { token_query_param: 'token' }]) {
    const endpoint = await buildEndpointWithToken(server.db, owner.projectId, { verify_static_token: true, token_value: tokenValue, ...where });
    secrets.push(endpoint.token);
    await postWebhook(server.baseUrl, `${endpoint.ingestPath}?token=${tokenValue}`, body, { 'X-Token': tokenValue });
    await postWebhook(server.baseUrl, `${endpoint.ingestPath}?token=${tokenValue}x`, body, { 'X-Token': `${tokenValue}x` });
    const rotated = await api.POST('/v1/pull-endpoints/{id}/rotate-token', { params: { path: { id: endpoint.id } } });
    secrets.push(rotated.data!.data.secret_token);
    await postWebhook(server.baseUrl, endpoint.ingestPath, body);
    await fetch(`${server.baseUrl}${endpoint.ingestPath}`);
    await fetch(`${server.baseUrl}${endpoint.ingestPath}/more`, { method: 'POST' });
  }
  secrets.push(tokenValue);

  const log = lines.join('');
  expect(log).toContain('"route":"/pull/{token}"');
  expect(log).not.toContain('"url"');
  expect(lines.length).toBeGreaterThanOrEqual(30);
  for (const secret of secrets) expect(log).not.toContain(secret);
});
