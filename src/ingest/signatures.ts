import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { components } from '../../generated/openapi';

export type HmacScheme = components['schemas']['HmacScheme'];
export type SignatureVerdict = 'ok' | 'missing_signature' | 'bad_signature' | 'stale_timestamp';

interface SchemeDefaults {
  header: string | null;
  timestampHeader: string | null;
  /** Whether the signed content includes a time, which is then checked for freshness. */
  signsTime: boolean;
}

/** Each preset's own headers; `hex` and `base64` have none: the endpoint names its header. */
export const SCHEMES: Record<HmacScheme, SchemeDefaults> = {
  standard_webhooks: { header: 'webhook-signature', timestampHeader: 'webhook-timestamp', signsTime: true },
  stripe: { header: 'Stripe-Signature', timestampHeader: null, signsTime: true },
  github: { header: 'X-Hub-Signature-256', timestampHeader: null, signsTime: false },
  shopify: { header: 'X-Shopify-Hmac-Sha256', timestampHeader: null, signsTime: false },
  hex: { header: null, timestampHeader: null, signsTime: false },
  base64: { header: null, timestampHeader: null, signsTime: false },
};

export const DEFAULT_HMAC_SCHEME: HmacScheme = 'hex';
export const DEFAULT_TIMESTAMP_TTL_SECONDS = 300;

export interface HmacSettings {
  scheme: HmacScheme;
  headerName: string;
  timestampHeaderName: string | null;
  /** Null: no freshness check. */
  ttlSeconds: number | null;
  secret: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function hmac(key: Buffer | string, ...parts: (Buffer | string)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Constant-time comparison of a computed digest with a signature as the sender encoded it. */
function matches(expected: Buffer, candidate: string, encoding: 'hex' | 'base64'): boolean {
  const valid = encoding === 'hex' ? /^([0-9a-fA-F]{2})+$/.test(candidate) : /^[A-Za-z0-9+/]+={0,2}$/.test(candidate);
  if (!valid) return false;
  const given = Buffer.from(candidate, encoding);
  // Buffer.from skips what it cannot decode (a stray last base64 character): only the exact
  // encoding of the bytes it read counts.
  const canonical = encoding === 'hex' || given.toString('base64').replace(/=+$/, '') === candidate.replace(/=+$/, '');
  return canonical && given.length === expected.length && timingSafeEqual(given, expected);
}

/** Unix seconds from a header value, if it is an integer. */
function unixSeconds(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,12}$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

function fresh(seconds: number | undefined, ttlSeconds: number | null, nowMs: number): boolean {
  if (ttlSeconds === null) return true;
  return seconds !== undefined && Math.abs(nowMs / 1000 - seconds) <= ttlSeconds;
}

/** `whsec_<base64>`: the key is the base64 part's bytes. */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  const material = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(material)) return undefined;
  const key = Buffer.from(material, 'base64');
  return key.length > 0 ? key : undefined;
}

/** A Standard Webhooks header, or Svix's name for it (`svix-id`, ...) when the default is absent. */
function standardHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  return header(headers, name) ?? (name.startsWith('webhook-') ? header(headers, `svix-${name.slice('webhook-'.length)}`) : undefined);
}

function verifyStandardWebhooks(settings: HmacSettings, headers: IncomingHttpHeaders, body: Buffer, nowMs: number): SignatureVerdict {
  const signatures = standardHeader(headers, settings.headerName);
  const id = standardHeader(headers, 'webhook-id');
  const timestamp = standardHeader(headers, settings.timestampHeaderName ?? 'webhook-timestamp');
  if (!signatures || !id || !timestamp) return 'missing_signature';
  const key = standardWebhooksKey(settings.secret);
  if (!key) return 'bad_signature';
  const expected = hmac(key, `${id}.${timestamp}.`, body);
  const ok = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    return version === 'v1' && signature !== undefined && matches(expected, signature, 'base64');
  });
  if (!ok) return 'bad_signature';
  return fresh(unixSeconds(timestamp), settings.ttlSeconds, nowMs) ? 'ok' : 'stale_timestamp';
}

function verifyStripe(settings: HmacSettings, headers: IncomingHttpHeaders, body: Buffer, nowMs: number): SignatureVerdict {
  const value = header(headers, settings.headerName);
  if (!value) return 'missing_signature';
  const pairs = value.split(',').map((pair) => pair.trim().split('='));
  const timestamp = pairs.find(([key]) => key === 't')?.[1];
  const candidates = pairs.filter(([key]) => key === 'v1').map(([, signature]) => signature ?? '');
  if (!timestamp || candidates.length === 0) return 'bad_signature';
  const expected = hmac(settings.secret, `${timestamp}.`, body);
  if (!candidates.some((candidate) => matches(expected, candidate, 'hex'))) return 'bad_signature';
  return fresh(unixSeconds(timestamp), settings.ttlSeconds, nowMs) ? 'ok' : 'stale_timestamp';
}

/** github, shopify, hex, base64: an HMAC-SHA256 of the body alone, in one header. */
function verifyBodySignature(settings: HmacSettings, headers: IncomingHttpHeaders, body: Buffer, nowMs: number): SignatureVerdict {
  const value = header(headers, settings.headerName)?.trim();
  if (!value) return 'missing_signature';
  const encoding = settings.scheme === 'shopify' || settings.scheme === 'base64' ? 'base64' : 'hex';
  const prefixed = /^sha256=/i.test(value);
  if (settings.scheme === 'github' && !prefixed) return 'bad_signature';
  const signature = prefixed ? value.slice('sha256='.length) : value;
  if (!matches(hmac(settings.secret, body), signature, encoding)) return 'bad_signature';
  if (settings.timestampHeaderName === null) return 'ok';
  return fresh(unixSeconds(header(headers, settings.timestampHeaderName)), settings.ttlSeconds, nowMs) ? 'ok' : 'stale_timestamp';
}

/** Checks the webhook's signature over the exact bytes received. */
export function verifySignature(settings: HmacSettings, headers: IncomingHttpHeaders, body: Buffer, nowMs = Date.now()): SignatureVerdict {
  switch (settings.scheme) {
    case 'standard_webhooks':
      return verifyStandardWebhooks(settings, headers, body, nowMs);
    case 'stripe':
      return verifyStripe(settings, headers, body, nowMs);
    default:
      return verifyBodySignature(settings, headers, body, nowMs);
  }
}
