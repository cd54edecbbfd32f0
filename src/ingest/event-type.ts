import type { IncomingHttpHeaders } from 'node:http';

const MAX_LENGTH = 200;

export interface EventTypeSource {
  source: string | null;
  path: string | null;
}

function readPath(body: unknown, path: string): unknown {
  let value = body;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The event type the endpoint's source names: a header's value, or the string (or number) at a
 * dot path of the parsed JSON body (`json` is undefined when the body is not JSON). Null when the
 * endpoint extracts none or the webhook does not carry one: a webhook is never refused for it.
 */
export function eventTypeOf({ source, path }: EventTypeSource, headers: IncomingHttpHeaders, json: unknown): string | null {
  if (source === null || path === null) return null;
  const raw = source === 'header' ? headers[path.toLowerCase()] : json === undefined ? undefined : readPath(json, path);
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const type = String(value).trim().slice(0, MAX_LENGTH);
  // PostgreSQL's text cannot hold NUL; such a type is as good as none.
  return type === '' || type.includes('\u0000') ? null : type;
}
