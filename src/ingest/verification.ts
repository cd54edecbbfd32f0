import type { IncomingHttpHeaders } from 'node:http';
import ipaddr from 'ipaddr.js';
import type { SecretBox } from '../auth/encryption';
import { sameDigest, sha256Hex } from '../auth/secrets';
import { effectiveHmac, parseCidr } from '../pull-endpoints/settings';
import { queryValues } from './headers';
import type { IngestEndpointRow } from './repository';
import { verifySignature, type SignatureVerdict } from './signatures';

export type RefusalReason = 'missing_token' | 'bad_token' | 'ip_not_allowed' | Exclude<SignatureVerdict, 'ok'>;

/** The sender's address as ipaddr.js reads it; an IPv4-mapped IPv6 address counts as IPv4. */
function senderAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return ipaddr.process(ip);
  } catch {
    return undefined;
  }
}

/** The sender's address as people write it: `::ffff:127.0.0.1` is 127.0.0.1. */
export function displayAddress(ip: string): string {
  return senderAddress(ip)?.toString() ?? ip;
}

type Range = NonNullable<ReturnType<typeof parseCidr>>;

/**
 * An allowlist parsed once per endpoint row: a looked-up endpoint is kept for a few seconds
 * (EndpointCache), and its `allowed_cidrs` array with it, so every webhook after the first reuses it.
 */
const parsedAllowlists = new WeakMap<string[], Range[]>();

function rangesOf(cidrs: string[]): Range[] {
  let ranges = parsedAllowlists.get(cidrs);
  if (!ranges) {
    ranges = cidrs.map(parseCidr).filter((range): range is Range => range !== undefined);
    parsedAllowlists.set(cidrs, ranges);
  }
  return ranges;
}

export function ipAllowed(endpoint: Pick<IngestEndpointRow, 'verify_ip_allowlist' | 'allowed_cidrs'>, ip: string): boolean {
  if (!endpoint.verify_ip_allowlist) return true;
  const address = senderAddress(ip);
  if (!address) return false;
  return rangesOf(endpoint.allowed_cidrs).some((range) => range[0].kind() === address.kind() && address.match(range));
}

/** The static token check, before the body is read: missing or wrong is a refusal. */
export function staticTokenRefusal(endpoint: IngestEndpointRow, headers: IncomingHttpHeaders, query: string | null): RefusalReason | undefined {
  if (!endpoint.verify_static_token) return undefined;
  let presented: string | undefined;
  if (endpoint.token_header_name !== null) {
    const value = headers[endpoint.token_header_name.toLowerCase()];
    presented = Array.isArray(value) ? value[0] : value;
  } else if (endpoint.token_query_param !== null) {
    presented = queryValues(query, endpoint.token_query_param)[0];
  }
  if (!presented) return 'missing_token';
  // A configuration without a stored value refuses everything rather than accepting anything.
  return endpoint.token_value_hash !== null && sameDigest(sha256Hex(presented), endpoint.token_value_hash) ? undefined : 'bad_token';
}

/** The HMAC check over the exact bytes received. */
export function signatureRefusal(endpoint: IngestEndpointRow, box: SecretBox, headers: IncomingHttpHeaders, body: Buffer): RefusalReason | undefined {
  if (!endpoint.verify_hmac) return undefined;
  const settings = effectiveHmac({
    hmacScheme: endpoint.hmac_scheme,
    hmacHeaderName: endpoint.hmac_header_name,
    timestampHeaderName: endpoint.timestamp_header_name,
    timestampTtlSeconds: endpoint.timestamp_ttl_seconds,
  });
  if (endpoint.hmac_secret_encrypted === null || settings.headerName === null) return 'bad_signature';
  const verdict = verifySignature(
    { ...settings, headerName: settings.headerName, secret: box.open(endpoint.hmac_secret_encrypted) },
    headers,
    body,
  );
  return verdict === 'ok' ? undefined : verdict;
}

/** The key of the endpoint's idempotency headers that are present, in order; null when none is. */
export function idempotencyKey(names: string[], headers: IncomingHttpHeaders): string | null {
  const parts: string[] = [];
  for (const name of names) {
    const value = headers[name.toLowerCase()];
    if (value !== undefined) parts.push(`${name.toLowerCase()}=${Array.isArray(value) ? value.join(', ') : value}`);
  }
  // Hashed: header values can be long, and a key is only ever compared.
  return parts.length > 0 ? sha256Hex(JSON.stringify(parts)) : null;
}
