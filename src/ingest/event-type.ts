import type { IncomingHttpHeaders } from 'node:http';
import type { components } from '../../generated/openapi';

type EventTypeSource = components['schemas']['EventTypeSource'];

export const UNKNOWN_EVENT_TYPE = 'unknown';
const MAX_LENGTH = 200;

function readPath(body: unknown, jsonPath: string): unknown {
  let value = body;
  for (const key of jsonPath.split('.').slice(1)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The event type the endpoint's source names, or `unknown` when the webhook does not carry one. */
export function eventTypeOf(source: EventTypeSource, headers: IncomingHttpHeaders, body: unknown): string {
  const raw = 'header' in source ? headers[source.header.toLowerCase()] : readPath(body, source.json_path);
  const value = Array.isArray(raw) ? raw[0] : raw;
  if ((typeof value !== 'string' && typeof value !== 'number') || String(value).trim() === '') return UNKNOWN_EVENT_TYPE;
  return String(value).trim().slice(0, MAX_LENGTH);
}
