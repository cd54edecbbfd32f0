/** The ways a webhook is broken, each with the statuses it calls for and the rejection reasons it may record. */
import fc from 'fast-check';
import type { Fixtures } from './fixtures';
import type { Inbox } from './inboxes';
import { ingestPath, resigned, unknownToken, type IngestBroken, type IngestDraft } from './ingest-drafts';
import { INGEST_BODY_LIMIT_BYTES, withoutHeaders, withRawQuery, type Draft, type RejectionReason } from './requests';
import { signedHeaders, wrongSignatures, type SignedParts, type Signing } from './signatures';

const ENCODINGS = ['gzip', 'deflate', 'br', 'zstd', 'x-gzip', 'compress', 'aes128gcm', 'GZIP', 'identity, gzip', 'gzip, identity', 'chunked'];

export function encodingDefects(draft: Draft): fc.Arbitrary<IngestBroken> {
  return fc.constantFrom(...ENCODINGS).map((encoding) => ({
    draft: { ...draft, headers: { ...draft.headers, 'content-encoding': encoding } },
    defect: `Content-Encoding ${encoding}`,
    expected: [415],
    reasons: ['unsupported_encoding'],
  }));
}

export function oversizedDefects({ draft, target, parts }: IngestDraft): fc.Arbitrary<IngestBroken> {
  return fc.tuple(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(0x20, 0x7b, 0xff)).map(([extra, fill]) => {
    const body = Buffer.alloc(INGEST_BODY_LIMIT_BYTES + extra, fill);
    return {
      // Signed correctly: only the size is wrong.
      draft: { ...draft, body: { bytes: body }, headers: resigned(draft.headers, target.inbox, { ...parts, body }) },
      defect: `a body ${extra} bytes over the ${INGEST_BODY_LIMIT_BYTES}-byte limit`,
      expected: [413],
      reasons: ['too_large'],
    };
  });
}

export function tokenDefects({ draft, target }: IngestDraft, fx: Fixtures): fc.Arbitrary<IngestBroken> {
  const token = target.token;
  const path = (t: string) => ingestPath(t, false);
  const variants: [string, Partial<Draft>][] = [
    ['the token and a suffix', { rawPath: path(`${token}x`) }],
    ['the token cut short', { rawPath: path(token.slice(0, -1)) }],
    ['the token twice', { rawPath: path(`${token}${token}`) }],
    ['the token in upper case', { rawPath: path(token.toUpperCase() === token ? `${token}X` : token.toUpperCase()) }],
    ['the token after a space', { rawPath: path(` ${token}`) }],
    ['the token and a NUL', { rawPath: path(`${token}\u0000`) }],
    ['the token and an encoded slash', { rawPath: `/pull/${token}%2F` }],
    ['a deleted endpoint\'s token', { rawPath: path(fx.deleted.token) }],
    ['an API key for the token', { rawPath: path(fx.apiKey) }],
    ['a 1000-character token', { rawPath: path(`pes_${'a'.repeat(996)}`) }],
    ['the token only in Authorization', { rawPath: path('pes_none'), headers: { ...draft.headers, authorization: `Bearer ${token}` } }],
    ['the token only in X-Ingest-Token', { rawPath: path('pes_none'), headers: { ...draft.headers, 'x-ingest-token': token } }],
    ['malformed percent-encoding in the token', { rawPath: `/pull/${token}%zz` }],
    ['a truncated percent-encoding for the token', { rawPath: '/pull/%E0%A4%A' }],
  ];
  return fc.oneof(
    fc.constantFrom(...variants).map(([defect, change]) => ({ draft: { ...draft, ...change }, defect, expected: [401], reasons: undefined })),
    unknownToken.map((t) => ({
      draft: { ...draft, rawPath: path(t) },
      defect: `an unknown token ${JSON.stringify(t.slice(0, 40))}`,
      expected: [401],
      reasons: undefined,
    })),
  );
}

export function routeDefects({ draft, target }: IngestDraft): fc.Arbitrary<IngestBroken> {
  const path = ingestPath(target.token, false);
  const variants: [string, Partial<Draft>][] = [
    ['method GET', { method: 'GET', body: undefined }],
    ['method PUT', { method: 'PUT' }],
    ['method PATCH', { method: 'PATCH' }],
    ['method DELETE', { method: 'DELETE' }],
    ['an unknown prefix', { rawPath: `/nope${path}` }],
    ['a /v1 prefix', { rawPath: `/v1${path}` }],
    ['no token', { rawPath: '/pull' }],
    ['an empty token', { rawPath: '/pull/' }],
    ['a segment after the token', { rawPath: `${path}/extra` }],
  ];
  return fc.constantFrom(...variants).map(([defect, change]) => ({ draft: { ...draft, ...change }, defect, expected: [404], reasons: undefined }));
}

/** `draft` (correctly signed over `parts`) with a signature of every wrong shape (signatures.ts) instead. */
export function wronglySigned(draft: Draft, signing: Signing, parts: SignedParts): IngestBroken[] {
  const names = Object.keys(signedHeaders(signing, parts));
  return wrongSignatures(signing, parts).map((wrong) => ({
    draft: { ...draft, headers: { ...withoutHeaders(draft.headers, ...names), ...wrong.headers } },
    defect: `${signing.scheme} signature: ${wrong.shape}`,
    expected: [401],
    reasons: wrong.reasons,
  }));
}

export function signatureDefects(draft: Draft, signing: Signing, parts: SignedParts): fc.Arbitrary<IngestBroken> {
  return fc.constantFrom(...wronglySigned(draft, signing, parts));
}

/** A static token missing, empty, wrong or in the wrong place. */
export function staticTokenDefects({ draft, query }: IngestDraft, staticToken: NonNullable<Inbox['staticToken']>): fc.Arbitrary<IngestBroken> {
  const { value } = staticToken;
  const missing: RejectionReason[] = ['missing_token'];
  const bad: RejectionReason[] = ['bad_token'];
  const either: RejectionReason[] = ['missing_token', 'bad_token'];
  let variants: [string, Draft, RejectionReason[]][];
  if ('header' in staticToken) {
    const header = staticToken.header;
    const others = withoutHeaders(draft.headers, header);
    const set = (v: string): Draft => ({ ...draft, headers: { ...others, [header]: v } });
    variants = [
      ['no token header', { ...draft, headers: others }, missing],
      ['an empty token header', set(''), either],
      ['a wrong token', set('fuzz-static-token-9876543210'), bad],
      ['the token and a suffix', set(`${value}x`), bad],
      ['the token cut short', set(value.slice(0, -1)), bad],
      ['the token in upper case', set(value.toUpperCase()), bad],
      ['Latin-1 garbage for the token', set('\u00ff\u00fe\u00e9t\u00e9'), bad],
      ['a huge token', set('t'.repeat(3000)), bad],
      ['the token in Authorization', { ...draft, headers: { ...others, authorization: `Bearer ${value}` } }, missing],
      ['the token as a query parameter', withRawQuery({ ...draft, headers: others }, `${header}=${value}`), missing],
    ];
  } else {
    const name = staticToken.query;
    const rest = query === undefined ? '' : `&${query}`;
    const set = (q: string): Draft => withRawQuery(draft, `${q}${rest}`);
    variants = [
      ['no token parameter', withRawQuery(draft, query), missing],
      ['an empty token parameter', set(`${name}=`), either],
      ['a wrong token', set(`${name}=fuzz-static-token-9876543210`), bad],
      ['the token and a suffix', set(`${name}=${value}x`), bad],
      ['a wrong token before the right one', set(`${name}=wrong&${name}=${value}`), bad],
      ['malformed percent-encoding for the token', set(`${name}=%zz`), bad],
      ['the parameter name in upper case', set(`${name.toUpperCase()}=${value}`), missing],
      ['the parameter name with []', set(`${name}[]=${value}`), missing],
      ['the token in a header', { ...withRawQuery(draft, query), headers: { ...draft.headers, [name]: value } }, missing],
    ];
  }
  return fc.constantFrom(...variants).map(([defect, broken, reasons]) => ({ draft: broken, defect: `static token: ${defect}`, expected: [401], reasons }));
}
