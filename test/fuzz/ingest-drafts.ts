/** Webhooks for the ingest URL, `POST /pull/{token}`, before they are sent: where to, and what they carry. */
import fc from 'fast-check';
import type { Inbox } from './inboxes';
import { hostileHeaders, ingestBody, ingestContentType, ingestQuery } from './ingest-inputs';
import { percentEncode, withoutHeaders, withRawQuery, type Draft, type RejectionReason } from './requests';
import { signedHeaders, validSignatureVariants, type SignedParts } from './signatures';

/** Where a webhook goes: an inbox, another fixture's token, or a token no live endpoint has. */
export interface IngestTarget {
  inbox: Inbox | undefined;
  token: string;
  /** The answers known for a webhook passing every check; undefined when its endpoint's settings may change. */
  expected: number[] | undefined;
}

export interface IngestDraft {
  draft: Draft;
  target: IngestTarget;
  /** What the signature, if any, was made over. */
  parts: SignedParts;
  /** The query string before a static token parameter was put in front. */
  query: string | undefined;
}

/** A defect: what it breaks, the statuses it calls for, and the reasons a refusal may record (none: no record). */
export interface IngestBroken {
  draft: Draft;
  defect: string;
  expected: number[];
  reasons: RejectionReason[] | undefined;
}

/** Tokens no endpoint has. Not `.` or `..`: a URL's dot segments are resolved before it is sent. */
export const unknownToken = fc.oneof(
  fc.stringMatching(/^pes_[A-Za-z0-9_-]{32}$/),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((t) => t !== '.' && t !== '..'),
  fc.constantFrom('x', '0', 'null', 'undefined', '%', "' OR '1'='1", 'pes_', `pes_${'A'.repeat(200)}`),
);

/** The headers of a correct signature over `body`, in place of any there were. */
export function resigned(headers: Record<string, string>, inbox: Inbox | undefined, parts: SignedParts, variant = 0): Record<string, string> {
  if (!inbox?.signing) return headers;
  const names = Object.keys(signedHeaders(inbox.signing, parts));
  const variants = validSignatureVariants(inbox.signing, parts);
  return { ...withoutHeaders(headers, ...names), ...variants[variant % variants.length] };
}

export function ingestPath(token: string, slash: boolean): string {
  return `/pull/${percentEncode(token)}${slash ? '/' : ''}`;
}

export function withQuery(inbox: Inbox | undefined, query: string | undefined): string | undefined {
  const staticToken = inbox?.staticToken;
  if (!staticToken || !('query' in staticToken)) return query;
  // The inbox reads the first value of its parameter: it goes in front of whatever else there is.
  return `${staticToken.query}=${percentEncode(staticToken.value)}${query === undefined ? '' : `&${query}`}`;
}

export function ingestDraft(targets: fc.Arbitrary<IngestTarget>): fc.Arbitrary<IngestDraft> {
  return fc
    .record({
      target: targets,
      slash: fc.constantFrom(false, false, false, true),
      query: ingestQuery,
      contentType: ingestContentType,
      body: ingestBody,
      hostile: hostileHeaders,
      encoding: fc.constantFrom(undefined, undefined, undefined, 'identity', 'Identity'),
      variant: fc.nat(),
      skew: fc.integer({ min: -60, max: 60 }),
      messageId: fc.uuid(),
    })
    .map(({ target, slash, query, contentType, body, hostile, encoding, variant, skew, messageId }) => {
      const { inbox } = target;
      const parts: SignedParts = { body: body ?? Buffer.alloc(0), time: Math.floor(Date.now() / 1000) + skew, id: `msg_${messageId}` };
      const tokenHeader = inbox?.staticToken && 'header' in inbox.staticToken ? inbox.staticToken : undefined;
      // Hostile headers never stand in for the ones the request is about.
      const own = [
        'content-type',
        'content-encoding',
        ...(tokenHeader ? [tokenHeader.header] : []),
        ...(inbox?.signing ? Object.keys(signedHeaders(inbox.signing, parts)) : []),
      ];
      const headers = {
        ...withoutHeaders(hostile, ...own),
        ...(contentType !== undefined && { 'content-type': contentType }),
        ...(encoding !== undefined && { 'content-encoding': encoding }),
        ...(tokenHeader && { [tokenHeader.header]: tokenHeader.value }),
      };
      const draft: Draft = {
        method: 'POST',
        pathValues: {},
        rawPath: ingestPath(target.token, slash),
        query: [],
        headers: resigned(headers, inbox, parts, variant),
        body: body && { bytes: body },
      };
      return { draft: withRawQuery(draft, withQuery(inbox, query)), target, parts, query };
    });
}
