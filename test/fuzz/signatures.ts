/**
 * HMAC signatures as each provider makes them (openapi.yaml, HmacScheme), written here from the
 * providers' documentation rather than taken from src/, and signatures of every wrong shape.
 */
import { createHmac } from 'node:crypto';
import type { components } from '../../generated/openapi';
import type { RejectionReason } from './requests';

export type HmacScheme = components['schemas']['HmacScheme'];

export interface Signing {
  scheme: HmacScheme;
  secret: string;
  /** The header the signature goes in, lower-case. */
  header: string;
  /** The header with the signing time, when the endpoint names one besides the scheme's own. */
  timestampHeader?: string;
}

/** One signed endpoint per scheme; `hex` and `base64` name their header, `base64` a time header too. */
export const SIGNINGS: Signing[] = [
  { scheme: 'standard_webhooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', header: 'webhook-signature' },
  { scheme: 'stripe', secret: 'whsec_fuzz_stripe_0123456789', header: 'stripe-signature' },
  { scheme: 'github', secret: 'fuzz github secret', header: 'x-hub-signature-256' },
  { scheme: 'shopify', secret: 'fuzz-shopify-secret', header: 'x-shopify-hmac-sha256' },
  { scheme: 'hex', secret: 'fuzz-hex-secret', header: 'x-signature' },
  { scheme: 'base64', secret: 'fuzz-base64-secret', header: 'x-signature-b64', timestampHeader: 'x-timestamp' },
];

/** The endpoint settings (PullEndpointCreate) that make it check `signing`. */
export function hmacSettings(signing: Signing) {
  const custom = signing.scheme === 'hex' || signing.scheme === 'base64';
  return {
    verify_hmac: true,
    hmac_scheme: signing.scheme,
    hmac_secret: signing.secret,
    ...(custom && { hmac_header_name: signing.header }),
    ...(signing.timestampHeader !== undefined && { timestamp_header_name: signing.timestampHeader }),
  };
}

function mac(key: Buffer | string, ...parts: (Buffer | string)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

function standardWebhooksKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

export interface SignedParts {
  body: Buffer;
  /** Unix seconds. */
  time: number;
  /** standard_webhooks' `webhook-id`. */
  id: string;
  /** Signs with this secret instead of the endpoint's. */
  secret?: string;
}

/** The digest the scheme signs for `parts`. */
function digest(signing: Signing, parts: SignedParts): Buffer {
  const secret = parts.secret ?? signing.secret;
  switch (signing.scheme) {
    case 'standard_webhooks':
      return mac(standardWebhooksKey(secret), `${parts.id}.${parts.time}.`, parts.body);
    case 'stripe':
      return mac(secret, `${parts.time}.`, parts.body);
    default:
      return mac(secret, parts.body);
  }
}

/** The headers of a correct signature, in the scheme's canonical form. */
export function signedHeaders(signing: Signing, parts: SignedParts): Record<string, string> {
  const d = digest(signing, parts);
  switch (signing.scheme) {
    case 'standard_webhooks':
      return { 'webhook-id': parts.id, 'webhook-timestamp': String(parts.time), [signing.header]: `v1,${d.toString('base64')}` };
    case 'stripe':
      return { [signing.header]: `t=${parts.time},v1=${d.toString('hex')}` };
    case 'github':
      return { [signing.header]: `sha256=${d.toString('hex')}` };
    case 'shopify':
      return { [signing.header]: d.toString('base64') };
    case 'hex':
      return { [signing.header]: d.toString('hex') };
    case 'base64':
      return { [signing.header]: d.toString('base64'), ...(signing.timestampHeader && { [signing.timestampHeader]: String(parts.time) }) };
  }
}

const randomHex = (seed: number) => mac('wrong', String(seed)).toString('hex');
const randomBase64 = (seed: number) => mac('wrong', String(seed)).toString('base64');

/** Other correct forms the spec documents: rotation lists, the optional `sha256=` prefix. */
export function validSignatureVariants(signing: Signing, parts: SignedParts): Record<string, string>[] {
  const canonical = signedHeaders(signing, parts);
  const value = canonical[signing.header]!;
  switch (signing.scheme) {
    case 'standard_webhooks':
      return [canonical, { ...canonical, [signing.header]: `v1,${randomBase64(1)} ${value} v1,${randomBase64(2)}` }];
    case 'stripe':
      return [canonical, { ...canonical, [signing.header]: `${value},v1=${randomHex(1)},v0=${randomHex(2)}` }];
    case 'hex':
    case 'base64':
      return [canonical, { ...canonical, [signing.header]: `sha256=${value}` }];
    default:
      return [canonical];
  }
}

export interface WrongSignature {
  shape: string;
  /** Replaces the correct signature's headers (absent names are left out). */
  headers: Record<string, string>;
  reasons: RejectionReason[];
}

function without(headers: Record<string, string>, name: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
}

const MISSING: RejectionReason[] = ['missing_signature', 'bad_signature'];
const BAD: RejectionReason[] = ['bad_signature'];
const STALE: RejectionReason[] = ['stale_timestamp'];

/**
 * Signatures of every wrong shape for `parts`: none, empty, garbage, a wrong prefix, hex of a
 * wrong length, not base64, many separated parts, huge, for other bytes, another secret, stale.
 * Each must be answered 401 and store nothing but a rejection.
 */
export function wrongSignatures(signing: Signing, parts: SignedParts): WrongSignature[] {
  const canonical = signedHeaders(signing, parts);
  const value = canonical[signing.header]!;
  const withValue = (shape: string, v: string, reasons = BAD): WrongSignature => ({ shape, headers: { ...canonical, [signing.header]: v }, reasons });
  const hex = digest(signing, parts).toString('hex');
  const base64 = digest(signing, parts).toString('base64');
  const other = (shape: string, changed: Partial<SignedParts>, reasons = BAD): WrongSignature => ({
    shape,
    headers: { ...canonical, ...signedHeaders(signing, { ...parts, ...changed }) },
    reasons,
  });
  /** The digest's hex of a wrong length or with a wrong digit, as the scheme wraps it. */
  const hexShapes = (wrap: (hex: string) => string): WrongSignature[] => [
    withValue('hex a byte short', wrap(hex.slice(0, -2))),
    withValue('hex a byte too long', wrap(`${hex}00`)),
    withValue('hex a digit short', wrap(hex.slice(0, -1))),
    withValue('hex a digit too long', wrap(`${hex}0`)),
    withValue('not hex', wrap(`${hex.slice(0, -1)}g`)),
  ];
  const shapes: WrongSignature[] = [
    { shape: 'no signature header', headers: without(canonical, signing.header), reasons: MISSING },
    withValue('an empty signature', '', MISSING),
    withValue('garbage', 'garbage'),
    withValue('Latin-1 garbage', 'sig\u00e9\u00ff\u00a0\u00fe'),
    withValue('SQL', "' OR '1'='1' --"),
    withValue('a huge value', `${value}${'A'.repeat(2500)}`),
    withValue('many comma-separated wrong parts', Array.from({ length: 40 }, (_, i) => (signing.scheme === 'stripe' ? `v1=${randomHex(i)}` : randomHex(i))).join(',')),
    withValue('many space-separated wrong parts', Array.from({ length: 40 }, (_, i) => `v1,${randomBase64(i)}`).join(' ')),
    other('a valid signature of other bytes', { body: Buffer.concat([parts.body, Buffer.from('x')]) }),
    other('a valid signature of an empty body', { body: parts.body.length > 0 ? Buffer.alloc(0) : Buffer.from('{}') }),
    other('a signature made with another secret', { secret: signing.scheme === 'standard_webhooks' ? 'whsec_b3RoZXIgc2VjcmV0IGtleQ==' : 'another secret' }),
  ];
  switch (signing.scheme) {
    case 'standard_webhooks':
      shapes.push(
        { shape: 'no webhook-id', headers: without(canonical, 'webhook-id'), reasons: MISSING },
        { shape: 'an empty webhook-id', headers: { ...canonical, 'webhook-id': '' }, reasons: MISSING },
        { shape: 'no webhook-timestamp', headers: without(canonical, 'webhook-timestamp'), reasons: MISSING },
        withValue('version v2', `v2,${base64}`),
        withValue('no version', base64),
        withValue('a space for the comma', `v1 ${base64}`),
        withValue('a hex signature', `v1,${hex}`),
        withValue('a base64 signature cut short', `v1,${base64.slice(0, -5)}`),
        withValue('not base64', `v1,${base64.slice(0, -4)}!!!=`),
        { shape: 'a signature for another webhook-id', headers: { ...canonical, 'webhook-id': `${parts.id}x` }, reasons: BAD },
        other('a correct signature an hour old', { time: parts.time - 3600 }, STALE),
        other('a correct signature an hour ahead', { time: parts.time + 3600 }, STALE),
      );
      break;
    case 'stripe':
      shapes.push(
        withValue('no t=', `v1=${hex}`),
        withValue('no v1=', `t=${parts.time}`),
        withValue('v0= for v1=', `t=${parts.time},v0=${hex}`),
        withValue('upper-case keys', `T=${parts.time},V1=${hex}`),
        withValue('a semicolon for the comma', `t=${parts.time};v1=${hex}`),
        ...hexShapes((h) => `t=${parts.time},v1=${h}`),
        withValue('a base64 signature', `t=${parts.time},v1=${base64}`),
        withValue('a signature of another time', `t=${parts.time + 1},v1=${hex}`),
        other('a correct signature an hour old', { time: parts.time - 3600 }, STALE),
        other('a correct signature an hour ahead', { time: parts.time + 3600 }, STALE),
      );
      break;
    case 'github':
      shapes.push(
        withValue('no sha256= prefix', hex),
        withValue('sha1= for sha256=', `sha1=${hex}`),
        withValue('sha512= for sha256=', `sha512=${hex}`),
        withValue('a colon for the =', `sha256:${hex}`),
        withValue('an empty sha256=', 'sha256='),
        ...hexShapes((h) => `sha256=${h}`),
        withValue('a base64 signature', `sha256=${base64}`),
      );
      break;
    case 'hex':
      shapes.push(
        withValue('sha1= for sha256=', `sha1=${hex}`),
        withValue('an empty sha256=', 'sha256='),
        ...hexShapes((h) => h),
        withValue('a base64 signature', base64),
        withValue('two signatures', `${hex},${hex}`),
      );
      break;
    case 'shopify':
    case 'base64':
      shapes.push(
        withValue('a hex signature', hex),
        withValue('not base64', `${base64.slice(0, -4)}!@#$`),
        withValue('base64 cut short', base64.slice(0, -8)),
        withValue('a space inside', `${base64.slice(0, 10)} ${base64.slice(10)}`),
        withValue('two signatures', `${base64} ${base64}`),
        withValue('sha1= for sha256=', `sha1=${base64}`),
      );
      if (signing.timestampHeader) {
        shapes.push(
          { shape: 'no timestamp', headers: without(canonical, signing.timestampHeader), reasons: STALE },
          { shape: 'a timestamp an hour old', headers: { ...canonical, [signing.timestampHeader]: String(parts.time - 3600) }, reasons: STALE },
          { shape: 'a timestamp that is not a number', headers: { ...canonical, [signing.timestampHeader]: 'yesterday' }, reasons: STALE },
        );
      }
      break;
  }
  return shapes;
}
