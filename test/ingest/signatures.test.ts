import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import type { components } from '../../generated/openapi';
import { buildEndpointWithToken, buildProject, type TestProject } from '../support/factories';
import { endpointFor, PROVIDERS, standardWebhooks, stripe, type Provider } from '../support/providers';
import { startTestServer, type TestServer } from '../support/server';
import { postWebhook, type IngestAnswer } from '../support/webhooks';

type Accepted = components['schemas']['IngestAcceptedResponse'];
type Endpoint = Awaited<ReturnType<typeof buildEndpointWithToken>>;

let server: TestServer;
let owner: TestProject;

beforeAll(async () => {
  server = await startTestServer();
  owner = await buildProject(server.db);
});
afterAll(() => server.close());

/**
 * Bytes that JSON re-serialisation changes (`1.0` becomes `1`, the integer past 2^53 is rounded,
 * the spaces go): a check over re-parsed JSON instead of the bytes received would fail on it.
 */
const RAW = '{"id": "evt_1", "n": 1.0, "big": 9007199254740993}';

const post = (path: string, body: string, headers: Record<string, string>) => postWebhook(server.baseUrl, path, body, headers);

const build = (settings: Parameters<typeof buildEndpointWithToken>[2]) => buildEndpointWithToken(server.db, owner.projectId, settings);
const storedCount = (endpoint: Endpoint) => server.db.pullEvent.count({ where: { pullEndpointId: endpoint.id } });
const reasons = async (endpoint: Endpoint) =>
  (await server.db.pullEndpointRejection.findMany({ where: { pullEndpointId: endpoint.id }, orderBy: { id: 'asc' } })).map((r) => r.reason);

function expectAccepted(answer: IngestAnswer): Accepted['data'] {
  expect(answer.status).toBe(202);
  if (!answer.body.data) throw new Error(`refused: ${JSON.stringify(answer.body)}`);
  return answer.body.data;
}

/** The one 401 every refusal answers, the reason recorded, and nothing stored. */
async function expectRefused(endpoint: Endpoint, answer: IngestAnswer, reason: string) {
  expect({ status: answer.status, body: answer.body }).toMatchObject({
    status: 401,
    body: { error: { code: 'UNAUTHORIZED', message: 'Invalid or missing ingest credentials' } },
  });
  expect(await reasons(endpoint)).toEqual([reason]);
  expect(await storedCount(endpoint)).toBe(0);
}

function without(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => key.toLowerCase() !== name.toLowerCase()));
}

describe.each(PROVIDERS)('$name, signed by its own code', (provider: Provider) => {
  it('accepts the webhook and stores the exact bytes it signed, which JSON re-serialisation would change', async () => {
    const endpoint = await build(endpointFor(provider));
    const data = expectAccepted(await post(endpoint.ingestPath, RAW, await provider.sign(RAW)));

    expect(data.duplicate).toBe(false);
    const row = await server.db.pullEvent.findUniqueOrThrow({ where: { pullEndpointId_id: { pullEndpointId: endpoint.id, id: data.event_id } } });
    expect(Buffer.from(row.payload!).toString('utf8')).toBe(RAW);
    expect(JSON.stringify(JSON.parse(RAW))).not.toBe(RAW);
    expect(await reasons(endpoint)).toEqual([]);
  });

  it.each([
    ['a signature of other bytes', 'bad_signature', () => provider.sign('{"id": "evt_2"}')],
    ['a signature made with another secret', 'bad_signature', () => provider.sign(RAW, { secret: provider.otherSecret })],
    ['no signature header', 'missing_signature', async () => without(await provider.sign(RAW), provider.signatureHeader)],
  ])('refuses a webhook with %s, as %s, and stores nothing', async (_case, reason, headers) => {
    const endpoint = await build(endpointFor(provider));
    await expectRefused(endpoint, await post(endpoint.ingestPath, RAW, await headers()), reason);
  });
});

it.each(PROVIDERS.filter((p) => p.signsTime))('$name: refuses a signature made ten minutes ago as stale_timestamp', async (provider) => {
  const endpoint = await build(endpointFor(provider));
  const headers = await provider.sign(RAW, { at: new Date(Date.now() - 10 * 60_000) });
  await expectRefused(endpoint, await post(endpoint.ingestPath, RAW, headers), 'stale_timestamp');
});

it.each(PROVIDERS.filter((p) => p.deliveryHeader))('$name: stores a replayed delivery once and answers the replay with the original event id', async (provider) => {
  const endpoint = await build(endpointFor(provider));
  const headers = await provider.sign(RAW);
  const first = expectAccepted(await post(endpoint.ingestPath, RAW, headers));
  const replay = expectAccepted(await post(endpoint.ingestPath, RAW, headers));

  expect(replay).toEqual({ ...first, duplicate: true });
  expect(await storedCount(endpoint)).toBe(1);
});

describe('stripe, which sends no delivery id header', () => {
  it('stores a replay within the tolerance again: the event id is in the body, which idempotency does not read', async () => {
    const endpoint = await build(endpointFor(stripe));
    const headers = await stripe.sign(RAW);
    const first = expectAccepted(await post(endpoint.ingestPath, RAW, headers));
    const replay = expectAccepted(await post(endpoint.ingestPath, RAW, headers));

    expect(replay.duplicate).toBe(false);
    expect(replay.event_id).not.toBe(first.event_id);
    expect(await storedCount(endpoint)).toBe(2);
  });

  it('refuses the same signed request as stale_timestamp once the tolerance has passed', async () => {
    const ttlSeconds = 2;
    const endpoint = await build(endpointFor(stripe, { timestamp_ttl_seconds: ttlSeconds }));
    const signedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const headers = await stripe.sign(RAW, { at: signedAt });
    expectAccepted(await post(endpoint.ingestPath, RAW, headers));

    await sleep(signedAt.getTime() + ttlSeconds * 1000 + 250 - Date.now());
    const replay = await post(endpoint.ingestPath, RAW, headers);
    expect(replay.status).toBe(401);
    expect(await reasons(endpoint)).toEqual(['stale_timestamp']);
    expect(await storedCount(endpoint)).toBe(1);
  });
});

describe('standard_webhooks during a secret rotation, signing with the old and the new secret', () => {
  const oldSecret = standardWebhooks.otherSecret;
  const newSecret = standardWebhooks.secret;
  const unknownSecret = `whsec_${Buffer.from('a secret no endpoint here holds').toString('base64')}`;
  /** The headers of one message signed with each secret, space-separated in one header. */
  async function signedWith(...secrets: string[]) {
    const at = new Date();
    const headers = await standardWebhooks.sign(RAW, { at });
    const signatures = secrets.map((secret) => new Webhook(secret).sign(headers['webhook-id']!, at, RAW));
    return { ...headers, 'webhook-signature': signatures.join(' ') };
  }

  it.each([
    ['the old secret, whose signature comes second', oldSecret],
    ['the new secret, whose signature comes last', newSecret],
  ])('accepts it at an endpoint holding %s', async (_case, endpointSecret) => {
    const endpoint = await build(endpointFor(standardWebhooks, { hmac_secret: endpointSecret }));
    expectAccepted(await post(endpoint.ingestPath, RAW, await signedWith(unknownSecret, oldSecret, newSecret)));
  });

  it('refuses it as bad_signature when no signature is by the endpoint\'s secret', async () => {
    const endpoint = await build(endpointFor(standardWebhooks));
    await expectRefused(endpoint, await post(endpoint.ingestPath, RAW, await signedWith(unknownSecret, oldSecret)), 'bad_signature');
  });
});

describe.each([
  ['hex', 'hex'],
  ['base64', 'base64'],
] as const)('the generic %s scheme, in the endpoint\'s own header', (scheme, encoding) => {
  const secret = 'generic-scheme-secret';
  const signature = (body: string, key = secret) => createHmac('sha256', key).update(body, 'utf8').digest(encoding);

  it.each(['', 'sha256='])('accepts the signature of the exact bytes with prefix "%s"', async (prefix) => {
    const endpoint = await build({ verify_hmac: true, hmac_scheme: scheme, hmac_secret: secret, hmac_header_name: 'X-Signature' });
    expectAccepted(await post(endpoint.ingestPath, RAW, { 'X-Signature': `${prefix}${signature(RAW)}` }));
  });

  it.each([
    ['a signature of the re-serialised JSON', 'bad_signature', { 'X-Signature': signature(JSON.stringify(JSON.parse(RAW))) }],
    ['a signature made with another secret', 'bad_signature', { 'X-Signature': `sha256=${signature(RAW, 'another-secret')}` }],
    ['no signature header', 'missing_signature', {}],
  ])('refuses %s, as %s', async (_case, reason, headers) => {
    const endpoint = await build({ verify_hmac: true, hmac_scheme: scheme, hmac_secret: secret, hmac_header_name: 'X-Signature' });
    await expectRefused(endpoint, await post(endpoint.ingestPath, RAW, headers), reason);
  });
});
