import ipaddr from 'ipaddr.js';
import type { components } from '../../generated/openapi';
import type { SecretBox } from '../auth/encryption';
import { sha256Hex } from '../auth/secrets';
import type { PullEndpointModel } from '../db/generated/models';
import { AppError } from '../http/errors';
import {
  DEFAULT_HMAC_SCHEME,
  DEFAULT_TIMESTAMP_TTL_SECONDS,
  SCHEMES,
  standardWebhooksKey,
  type HmacScheme,
} from '../ingest/signatures';

type Input = components['schemas']['PullEndpointUpdate'];

/** The settings columns of an endpoint row, as create and update write them. */
export type SettingsFields = Partial<
  Pick<
    PullEndpointModel,
    | 'name'
    | 'description'
    | 'retentionDays'
    | 'maxDeliveries'
    | 'eventTypeSource'
    | 'eventTypePath'
    | 'verifyStaticToken'
    | 'tokenHeaderName'
    | 'tokenQueryParam'
    | 'tokenValueHash'
    | 'verifyHmac'
    | 'hmacScheme'
    | 'hmacHeaderName'
    | 'hmacSecretEncrypted'
    | 'timestampHeaderName'
    | 'timestampTtlSeconds'
    | 'verifyIpAllowlist'
    | 'allowedCidrs'
    | 'ingestResponseCode'
    | 'idempotencyHeaderNames'
  >
>;

type Settings = Required<Omit<SettingsFields, 'name'>>;

export const NO_SETTINGS: Settings = {
  description: null,
  retentionDays: null,
  maxDeliveries: null,
  eventTypeSource: null,
  eventTypePath: null,
  verifyStaticToken: false,
  tokenHeaderName: null,
  tokenQueryParam: null,
  tokenValueHash: null,
  verifyHmac: false,
  hmacScheme: null,
  hmacHeaderName: null,
  hmacSecretEncrypted: null,
  timestampHeaderName: null,
  timestampTtlSeconds: null,
  verifyIpAllowlist: false,
  allowedCidrs: [],
  ingestResponseCode: 202,
  idempotencyHeaderNames: [],
};

const BODY_PATH = /^[A-Za-z0-9_-]{1,100}(\.[A-Za-z0-9_-]{1,100}){0,19}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

/** A dot path as stored: `$.data.type` and `data.type` are the same path. */
function normalisePath(source: string | null, path: string | null): string | null {
  if (path === null) return null;
  return source === 'body' ? path.replace(/^\$\./, '') : path;
}

/** `192.0.2.7` or `2001:db8::/32`, IPv4 or IPv6; a bare address is its own /32 or /128. */
export function parseCidr(value: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | undefined {
  try {
    if (value.includes('/')) return ipaddr.parseCIDR(value);
    const address = ipaddr.parse(value);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

/** The columns an API input sets, before the whole resulting configuration is checked. */
function fieldsOf(input: Input, box: SecretBox): SettingsFields {
  const source = input.event_type_source === '' ? null : input.event_type_source;
  return {
    ...(input.name !== undefined && { name: input.name }),
    ...(input.description !== undefined && { description: input.description }),
    ...(input.retention_days !== undefined && { retentionDays: input.retention_days }),
    ...(input.max_deliveries !== undefined && { maxDeliveries: input.max_deliveries }),
    ...(source !== undefined && { eventTypeSource: source }),
    ...(input.event_type_path !== undefined && { eventTypePath: input.event_type_path }),
    ...(input.verify_static_token !== undefined && { verifyStaticToken: input.verify_static_token }),
    ...(input.token_header_name !== undefined && { tokenHeaderName: input.token_header_name }),
    ...(input.token_query_param !== undefined && { tokenQueryParam: input.token_query_param }),
    ...(input.token_value !== undefined && { tokenValueHash: sha256Hex(input.token_value) }),
    ...(input.verify_hmac !== undefined && { verifyHmac: input.verify_hmac }),
    ...(input.hmac_scheme !== undefined && { hmacScheme: input.hmac_scheme }),
    ...(input.hmac_header_name !== undefined && { hmacHeaderName: input.hmac_header_name }),
    ...(input.hmac_secret !== undefined && { hmacSecretEncrypted: box.seal(input.hmac_secret) }),
    ...(input.timestamp_header_name !== undefined && { timestampHeaderName: input.timestamp_header_name }),
    ...(input.timestamp_ttl_seconds !== undefined && { timestampTtlSeconds: input.timestamp_ttl_seconds }),
    ...(input.verify_ip_allowlist !== undefined && { verifyIpAllowlist: input.verify_ip_allowlist }),
    ...(input.allowed_cidrs !== undefined && { allowedCidrs: input.allowed_cidrs }),
    ...(input.ingest_response_code !== undefined && { ingestResponseCode: input.ingest_response_code }),
    ...(input.idempotency_header_names !== undefined && { idempotencyHeaderNames: input.idempotency_header_names }),
  };
}

/** What no single field's schema can say: checks the configuration the change would leave. */
function checkConfiguration(s: Settings, box: SecretBox): void {
  const problems: string[] = [];
  if (s.eventTypeSource !== null && s.eventTypePath === null) {
    problems.push(`event_type_path is required with event_type_source "${s.eventTypeSource}"`);
  }
  if (s.eventTypeSource === 'body' && s.eventTypePath !== null && !BODY_PATH.test(s.eventTypePath)) {
    problems.push('event_type_path must be a dot path such as data.object.type (letters, digits, _ and -)');
  }
  if (s.eventTypeSource === 'header' && s.eventTypePath !== null && !HEADER_NAME.test(s.eventTypePath)) {
    problems.push('event_type_path must be a header name with event_type_source "header"');
  }
  if (s.verifyStaticToken) {
    if (s.tokenValueHash === null) problems.push('verify_static_token needs token_value');
    if ((s.tokenHeaderName === null) === (s.tokenQueryParam === null)) {
      problems.push('verify_static_token needs exactly one of token_header_name and token_query_param');
    }
  }
  if (s.verifyHmac) {
    const scheme = (s.hmacScheme as HmacScheme | null) ?? DEFAULT_HMAC_SCHEME;
    if (s.hmacSecretEncrypted === null) problems.push('verify_hmac needs hmac_secret');
    if (s.hmacHeaderName === null && SCHEMES[scheme].header === null) {
      problems.push(`hmac_scheme "${scheme}" needs hmac_header_name`);
    }
    if (scheme === 'standard_webhooks' && s.hmacSecretEncrypted !== null && !standardWebhooksKey(box.open(s.hmacSecretEncrypted))) {
      problems.push('hmac_secret for standard_webhooks must be whsec_ followed by base64');
    }
  }
  const badCidrs = s.allowedCidrs.filter((cidr) => !parseCidr(cidr));
  if (badCidrs.length > 0) problems.push(`allowed_cidrs: not an IP address or CIDR range: ${badCidrs.join(', ')}`);
  if (s.verifyIpAllowlist && s.allowedCidrs.length === 0) problems.push('verify_ip_allowlist needs at least one entry in allowed_cidrs');
  if (problems.length > 0) throw AppError.invalidRequest(problems.join('; '));
}

/**
 * The columns to write for `input` applied over `current` (the stored row, or none on create),
 * once the resulting configuration is known to be complete and consistent.
 */
export function settingsToWrite(input: Input, current: Settings, box: SecretBox): SettingsFields {
  const fields = fieldsOf(input, box);
  const merged: Settings = { ...current, ...fields };
  if (fields.eventTypePath !== undefined || fields.eventTypeSource !== undefined) {
    fields.eventTypePath = normalisePath(merged.eventTypeSource, merged.eventTypePath);
    merged.eventTypePath = fields.eventTypePath;
  }
  checkConfiguration(merged, box);
  return fields;
}

export interface EffectiveHmac {
  scheme: HmacScheme;
  headerName: string | null;
  timestampHeaderName: string | null;
  ttlSeconds: number | null;
}

/** The HMAC settings in force: the scheme's own headers unless the endpoint overrides them. */
export function effectiveHmac(row: Pick<Settings, 'hmacScheme' | 'hmacHeaderName' | 'timestampHeaderName' | 'timestampTtlSeconds'>): EffectiveHmac {
  const scheme = (row.hmacScheme as HmacScheme | null) ?? DEFAULT_HMAC_SCHEME;
  const defaults = SCHEMES[scheme];
  const timestampHeaderName = row.timestampHeaderName ?? defaults.timestampHeader;
  const checksTime = defaults.signsTime || timestampHeaderName !== null;
  return {
    scheme,
    headerName: row.hmacHeaderName ?? defaults.header,
    timestampHeaderName,
    ttlSeconds: checksTime ? (row.timestampTtlSeconds ?? DEFAULT_TIMESTAMP_TTL_SECONDS) : null,
  };
}
