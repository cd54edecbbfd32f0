import type { IncomingHttpHeaders } from 'node:http';

/** Headers that carry credentials (ours or the sender's) or describe only this hop. */
const DROPPED = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
]);

/**
 * The webhook's headers worth keeping, lowercased, multi-valued ones joined as HTTP would; without
 * credentials, the endpoint's static token header (`secretHeader`) included. Signature headers are
 * kept: a consumer needs them to check the signature itself.
 */
export function storedHeaders(headers: IncomingHttpHeaders, secretHeader: string | null = null): Record<string, string> {
  const secret = secretHeader?.toLowerCase();
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name) || name === secret) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

/** The query string as sent, without `secretParam`'s pairs; null when nothing is left. */
export function storedQuery(query: string | null, secretParam: string | null = null): string | null {
  if (!query) return null;
  if (secretParam === null) return query;
  const kept = query.split('&').filter((pair) => decodeName(pair.split('=', 1)[0] ?? '') !== secretParam);
  return kept.length > 0 ? kept.join('&') : null;
}

/** The values of `name` in a raw query string, decoded. */
export function queryValues(query: string | null, name: string): string[] {
  if (!query) return [];
  return query
    .split('&')
    .map((pair) => pair.split(/=(.*)/s))
    .filter(([key]) => decodeName(key ?? '') === name)
    .map(([, value]) => decodeName(value ?? ''));
}
