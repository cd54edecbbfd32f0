import type { components } from '../../generated/openapi';
import type { Database } from '../../src/db/prisma';
import { buildEndpointWithToken, buildEvents } from '../support/factories';
import type { EndpointFixture } from './fixtures';
import { hmacSettings, SIGNINGS, type Signing } from './signatures';

/**
 * Endpoints for the ingest URL: one per configuration worth sending webhooks to. Only the ingest
 * URL and read-only operations reach them, so their settings and tokens hold for the whole run
 * and each answers exactly what it is set to.
 */
export interface Inbox extends EndpointFixture {
  /** The answer to a webhook that passes its checks: its 2xx, 503 paused, 403 outside its allowlist. */
  answers: number;
  signing: Signing | undefined;
  /** The static token it requires, and where. */
  staticToken: { header: string; value: string } | { query: string; value: string } | undefined;
}

type Settings = Omit<components['schemas']['PullEndpointCreate'], 'name'>;

interface InboxSpec {
  label: string;
  settings: Settings;
  answers: number;
  paused?: boolean;
  signing?: Signing;
  staticToken?: Inbox['staticToken'];
}

const STATIC_TOKEN = 'fuzz-static-token-0123456789';

const SPECS: InboxSpec[] = [
  { label: 'inbox', settings: { event_type_source: 'header', event_type_path: 'X-Event-Type' }, answers: 202 },
  {
    label: 'idempotent inbox answering 200',
    settings: { ingest_response_code: 200, event_type_source: 'body', event_type_path: 'data.type', idempotency_header_names: ['X-Delivery-Id'] },
    answers: 200,
  },
  { label: 'inbox answering 204', settings: { ingest_response_code: 204 }, answers: 204 },
  { label: 'inbox answering 205', settings: { ingest_response_code: 205 }, answers: 205 },
  { label: 'paused inbox', settings: {}, answers: 503, paused: true },
  { label: 'inbox allowing 127.0.0.0/8', settings: { verify_ip_allowlist: true, allowed_cidrs: ['127.0.0.0/8', '::1'] }, answers: 202 },
  { label: 'inbox allowing only 192.0.2.0/24', settings: { verify_ip_allowlist: true, allowed_cidrs: ['192.0.2.0/24', '2001:db8::/32'] }, answers: 403 },
  {
    label: 'inbox with a static token header',
    settings: { verify_static_token: true, token_header_name: 'X-Webhook-Token', token_value: STATIC_TOKEN },
    answers: 202,
    staticToken: { header: 'x-webhook-token', value: STATIC_TOKEN },
  },
  {
    label: 'inbox with a static token parameter',
    settings: { verify_static_token: true, token_query_param: 'key', token_value: STATIC_TOKEN },
    answers: 202,
    staticToken: { query: 'key', value: STATIC_TOKEN },
  },
  ...SIGNINGS.map((signing) => ({ label: `inbox signed ${signing.scheme}`, settings: hmacSettings(signing), answers: 202, signing })),
];

async function buildInbox(db: Database, projectId: string, spec: InboxSpec): Promise<Inbox> {
  const { id, token } = await buildEndpointWithToken(db, projectId, spec.settings);
  const events = await buildEvents(db, id, 3);
  if (spec.paused) await db.pullEndpoint.update({ where: { id }, data: { pausedAt: new Date() } });
  return { label: spec.label, id, token, events, answers: spec.answers, signing: spec.signing, staticToken: spec.staticToken };
}

export async function buildInboxes(db: Database, projectId: string): Promise<Inbox[]> {
  return Promise.all(SPECS.map((spec) => buildInbox(db, projectId, spec)));
}
