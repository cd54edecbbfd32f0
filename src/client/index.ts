import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from '../../generated/openapi';

export type { paths } from '../../generated/openapi';
export type PullEventsClient = Client<paths>;

export interface PullEventsClientOptions {
  baseUrl: string;
  /** A project API key; omit it only for the unauthenticated health probes. */
  apiKey?: string;
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  middleware?: Middleware[];
}

/** A typed client for the Pull Events API: paths, bodies and responses come from openapi.yaml. */
export function createPullEventsClient({ baseUrl, apiKey, fetch, middleware = [] }: PullEventsClientOptions): PullEventsClient {
  const client = createClient<paths>({
    baseUrl,
    ...(apiKey ? { headers: { Authorization: `Bearer ${apiKey}` } } : {}),
    ...(fetch ? { fetch } : {}),
  });
  for (const m of middleware) client.use(m);
  return client;
}
