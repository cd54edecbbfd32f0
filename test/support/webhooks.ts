import { contract } from './contract';

export interface IngestAnswer {
  status: number;
  headers: Headers;
  /** The JSON answer (none for a 204), checked against openapi.yaml. */
  body: {
    data: { event_id: string; received_at: string; duplicate: boolean };
    error: { code: string; message: string };
  };
}

/**
 * A webhook as a provider sends it: a POST of raw bytes to the bare ingest URL, nothing else
 * configured. Every JSON answer is checked against the contract of `POST /pull/{token}`.
 */
export async function postWebhook(
  baseUrl: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<IngestAnswer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (response.status !== 204) contract.check('/pull/{token}', 'POST', response.status, response.headers, json);
  return { status: response.status, headers: response.headers, body: json as IngestAnswer['body'] };
}
