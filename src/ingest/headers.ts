import type { IncomingHttpHeaders } from 'node:http';

/** Headers that carry credentials (ours or the sender's) or describe only this hop. */
const DROPPED = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-ingest-token',
  'x-api-key',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
]);

/** The webhook's headers worth keeping, lowercased, multi-valued ones joined as HTTP would. */
export function storedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name)) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}
