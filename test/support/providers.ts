import { execFile } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import type { components } from '../../generated/openapi';
import { rememberSecret } from './log-scan';

type PullEndpointCreate = components['schemas']['PullEndpointCreate'];

export interface SignOptions {
  /** Sign with this secret instead of the provider's. */
  secret?: string;
  /** The time the provider signs, for the schemes that sign one; now unless given. */
  at?: Date;
}

/** A webhook provider, signing as its own published code (or documented recipe) does. */
export interface Provider {
  name: 'standard_webhooks' | 'stripe' | 'github' | 'shopify';
  secret: string;
  /** Another secret of the same form, which the endpoint does not know. */
  otherSecret: string;
  signatureHeader: string;
  /** The header naming a delivery, which a retry repeats; Stripe sends none. */
  deliveryHeader: string | null;
  signsTime: boolean;
  /** The headers the provider sends with `body`. */
  sign(body: string, options?: SignOptions): Promise<Record<string, string>>;
}

const unixSeconds = (at: Date) => Math.floor(at.getTime() / 1000);
const repoRoot = path.resolve(__dirname, '../..');
const run = promisify(execFile);

/**
 * @octokit/webhooks-methods is ESM-only (its exports have only an `import` condition), and jest
 * runs these tests as CommonJS: `require` cannot resolve it and `import()` needs
 * --experimental-vm-modules. So a child node imports it and prints the signature.
 */
async function octokitSign(secret: string, payload: string): Promise<string> {
  const script = "const { sign } = await import('@octokit/webhooks-methods'); process.stdout.write(await sign(process.env.SECRET, process.env.PAYLOAD));";
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, SECRET: secret, PAYLOAD: payload },
  });
  return stdout;
}

const whsec = () => `whsec_${randomBytes(24).toString('base64')}`;
const plain = () => randomBytes(16).toString('hex');

const secrets = { standardWebhooks: whsec(), stripe: `whsec_${plain()}`, github: plain(), shopify: plain() };

export const standardWebhooks: Provider = {
  name: 'standard_webhooks',
  secret: secrets.standardWebhooks,
  otherSecret: whsec(),
  signatureHeader: 'webhook-signature',
  deliveryHeader: 'webhook-id',
  signsTime: true,
  async sign(body, { secret = secrets.standardWebhooks, at = new Date() } = {}) {
    const id = `msg_${randomUUID()}`;
    return { 'webhook-id': id, 'webhook-timestamp': String(unixSeconds(at)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
  },
};

export const stripe: Provider = {
  name: 'stripe',
  secret: secrets.stripe,
  otherSecret: `whsec_${plain()}`,
  signatureHeader: 'Stripe-Signature',
  deliveryHeader: null,
  signsTime: true,
  async sign(body, { secret = secrets.stripe, at = new Date() } = {}) {
    return { 'Stripe-Signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: unixSeconds(at) }) };
  },
};

export const github: Provider = {
  name: 'github',
  secret: secrets.github,
  otherSecret: plain(),
  signatureHeader: 'X-Hub-Signature-256',
  deliveryHeader: 'X-GitHub-Delivery',
  signsTime: false,
  async sign(body, { secret = secrets.github } = {}) {
    return { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': randomUUID(), 'X-Hub-Signature-256': await octokitSign(secret, body) };
  },
};

/** Shopify publishes no signing library; its docs: base64 HMAC-SHA256 of the raw body, keyed by the app's secret. */
export const shopify: Provider = {
  name: 'shopify',
  secret: secrets.shopify,
  otherSecret: plain(),
  signatureHeader: 'X-Shopify-Hmac-Sha256',
  deliveryHeader: 'X-Shopify-Webhook-Id',
  signsTime: false,
  async sign(body, { secret = secrets.shopify } = {}) {
    return {
      'X-Shopify-Topic': 'orders/create',
      'X-Shopify-Webhook-Id': randomUUID(),
      'X-Shopify-Hmac-Sha256': createHmac('sha256', secret).update(body, 'utf8').digest('base64'),
    };
  },
};

export const PROVIDERS = [standardWebhooks, stripe, github, shopify];
for (const provider of PROVIDERS) rememberSecret(provider.secret, provider.otherSecret);

/** The endpoint settings that verify `provider`'s signatures and drop its redeliveries. */
export function endpointFor(provider: Provider, overrides: Omit<PullEndpointCreate, 'name'> = {}): Omit<PullEndpointCreate, 'name'> {
  return {
    verify_hmac: true,
    hmac_scheme: provider.name,
    hmac_secret: provider.secret,
    idempotency_header_names: provider.deliveryHeader ? [provider.deliveryHeader] : [],
    ...overrides,
  };
}
