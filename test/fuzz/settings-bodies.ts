import fc from 'fast-check';

/**
 * An endpoint's settings are checked as a whole (src/pull-endpoints/settings.ts): a body every
 * field of which the schema accepts may still be refused with 400, e.g. `verify_hmac` without
 * `hmac_secret`. These are the messages of those refusals; a valid create or update may get them.
 */
export const SETTINGS_400S = [
  /event_type_path is required with event_type_source/,
  /event_type_path must be/,
  /verify_static_token needs/,
  /verify_hmac needs hmac_secret/,
  /needs hmac_header_name/,
  /hmac_secret for standard_webhooks/,
  /allowed_cidrs: not an IP address/,
  /verify_ip_allowlist needs/,
];

const CIDRS = ['192.0.2.0/24', '198.51.100.7', '2001:db8::/32', '::1', '10.0.0.0/8', '0.0.0.0/0', '::/0', '203.0.113.255/32', '::ffff:192.0.2.1'];
/** Paths that read as a body dot path and as a header name alike. */
const PLAIN_PATHS = ['type', 'event_type', 'X-Event-Type', 'data-type'];
const BODY_PATHS = [...PLAIN_PATHS, 'data.object.type', '$.type', '$.data.type', 'a.b.c.d.e.f.g.h.i.j'];
const HEADER_NAMES = [...PLAIN_PATHS, 'X-GitHub-Event', "x-!#$%&'*+.^_`|~"];
const SECRETS = ['fuzz-secret-1234', "secret with ' and \" and \\", 'x'.repeat(500)];
const WHSEC = ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_AAAA', 'whsec_+/+/'];
const TOKEN_VALUES = ['static-token-0123456789', `tok'; DROP TABLE pull_endpoints; --`, 't'.repeat(500)];

type Body = Record<string, unknown>;

/**
 * `body` (a create or update body valid by the schema) made consistent as a whole configuration,
 * where the fields it sets call for others: a path for an event type source, a secret and a header
 * for HMAC, a token and one place for it, real CIDRs. An update can still be refused, as the
 * stored settings it lands on are unknown.
 */
export function consistentSettings(body: Body): fc.Arbitrary<Body> {
  return fc
    .record({
      cidrs: fc.uniqueArray(fc.constantFrom(...CIDRS), { minLength: 1, maxLength: 4 }),
      bodyPath: fc.constantFrom(...BODY_PATHS),
      header: fc.constantFrom(...HEADER_NAMES),
      plainPath: fc.constantFrom(...PLAIN_PATHS),
      secret: fc.constantFrom(...SECRETS),
      whsec: fc.constantFrom(...WHSEC),
      token: fc.constantFrom(...TOKEN_VALUES),
      tokenInHeader: fc.boolean(),
    })
    .map((c) => {
      const fixed: Body = { ...body };
      if (Array.isArray(fixed.allowed_cidrs)) fixed.allowed_cidrs = c.cidrs.slice(0, Math.max(fixed.allowed_cidrs.length, 1));
      if (fixed.verify_ip_allowlist === true && !Array.isArray(fixed.allowed_cidrs)) fixed.allowed_cidrs = c.cidrs;
      if (fixed.event_type_source === 'body') fixed.event_type_path = c.bodyPath;
      else if (fixed.event_type_source === 'header') fixed.event_type_path = c.header;
      else if (typeof fixed.event_type_path === 'string') fixed.event_type_path = c.plainPath;
      const scheme = fixed.hmac_scheme;
      if (fixed.verify_hmac === true || 'hmac_secret' in fixed) fixed.hmac_secret = scheme === 'standard_webhooks' ? c.whsec : c.secret;
      if (fixed.verify_hmac === true && (scheme === undefined || scheme === null || scheme === 'hex' || scheme === 'base64')) {
        fixed.hmac_header_name ??= c.header;
      }
      if (fixed.verify_static_token === true) {
        fixed.token_value = c.token;
        fixed.token_header_name = c.tokenInHeader ? c.header : null;
        fixed.token_query_param = c.tokenInHeader ? null : 'key';
      }
      return fixed;
    });
}
