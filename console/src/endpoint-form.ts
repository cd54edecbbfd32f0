import type { components } from './api';
import { h } from './dom';

type Endpoint = components['schemas']['PullEndpoint'];
export type EndpointSettings = components['schemas']['PullEndpointUpdate'];
type Scheme = components['schemas']['HmacScheme'];

const SCHEMES: Scheme[] = ['standard_webhooks', 'stripe', 'github', 'shopify', 'hex', 'base64'];

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint && h('p', { class: 'hint', id: `${id}-hint` }, hint));
}

function text(id: string, value: string | null | undefined, attrs: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h('input', { id, name: id, type: 'text', value: value ?? '', autocomplete: 'off', ...attrs });
}

function checkbox(id: string, label: string, checked: boolean): HTMLElement {
  return h('div', { class: 'check' }, h('input', { id, name: id, type: 'checkbox', checked }), h('label', { for: id }, label));
}

function select(id: string, options: [string, string][], value: string): HTMLSelectElement {
  return h('select', { id, name: id }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/**
 * The endpoint's settings as a form: empty for a new endpoint, filled from `endpoint` to edit
 * one. Secrets (HMAC secret, static token) are write-only: left empty, they stay as they are.
 */
export function endpointForm(endpoint: Endpoint | undefined, submitLabel: string, onSubmit: (settings: EndpointSettings, form: HTMLFormElement) => Promise<void>): HTMLFormElement {
  const e = endpoint;
  const keep = (set: boolean | undefined) => (set ? 'Set; leave empty to keep it.' : undefined);
  const form = h(
    'form',
    { class: 'settings', method: 'post', action: '#' },
    field('Name', text('name', e?.name, { required: true, maxlength: 255 })),
    field('Description', h('textarea', { id: 'description', name: 'description', maxlength: 1000, rows: 2 }, e?.description ?? '')),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Event type'),
      field('Read from', select('event_type_source', [['', 'Nowhere (no event type)'], ['body', 'The JSON body'], ['header', 'A header']], e?.event_type_source ?? '')),
      field('Path or header', text('event_type_path', e?.event_type_path, { maxlength: 200 }), 'A dot path into the body (type, data.object.type) or a header name (X-GitHub-Event).'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Delivery and retention'),
      field('Retention (days)', text('retention_days', e?.retention_days?.toString(), { type: 'number', min: 1, max: 3650 }), 'Empty: the service default.'),
      field('Dead-letter after deliveries', text('max_deliveries', e?.max_deliveries?.toString(), { type: 'number', min: 1, max: 1000 }), 'Empty: no limit.'),
      field('Ingest answers with status', text('ingest_response_code', String(e?.ingest_response_code ?? 202), { type: 'number', min: 200, max: 299 })),
      field('Idempotency headers', text('idempotency_header_names', e?.idempotency_header_names.join(', ')), 'Comma-separated, e.g. webhook-id, X-GitHub-Delivery.'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Verification'),
      checkbox('verify_hmac', 'Require an HMAC signature', e?.verify_hmac ?? false),
      field('Signature scheme', select('hmac_scheme', SCHEMES.map((s) => [s, s]), e?.hmac_scheme ?? 'hex')),
      field('Signature header', text('hmac_header_name', e?.hmac_header_name), 'Empty: the scheme’s own header.'),
      field('Signing secret', text('hmac_secret', '', { type: 'password', minlength: 8, maxlength: 500 }), keep(e?.hmac_secret_set)),
      field('Signed-time header', text('timestamp_header_name', e?.timestamp_header_name), 'Empty: the scheme’s own (hex and base64 sign no time unless one is named).'),
      field('Signed time tolerance (seconds)', text('timestamp_ttl_seconds', e?.timestamp_ttl_seconds?.toString(), { type: 'number', min: 1, max: 86400 }), 'Empty: 300.'),
      checkbox('verify_static_token', 'Require a static token', e?.verify_static_token ?? false),
      field('Token header', text('token_header_name', e?.token_header_name)),
      field('Token query parameter', text('token_query_param', e?.token_query_param)),
      field('Token value', text('token_value', '', { type: 'password', minlength: 16, maxlength: 500 }), keep(e?.token_value_set)),
      checkbox('verify_ip_allowlist', 'Accept only these addresses', e?.verify_ip_allowlist ?? false),
      field('Allowed addresses', h('textarea', { id: 'allowed_cidrs', name: 'allowed_cidrs', rows: 2 }, e?.allowed_cidrs.join('\n') ?? ''), 'One address or CIDR range per line.'),
    ),
    h('p', { class: 'error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel)),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement;
    button.disabled = true;
    void onSubmit(settingsOf(form, endpoint), form).finally(() => (button.disabled = false));
  });
  return form;
}

function settingsOf(form: HTMLFormElement, endpoint: Endpoint | undefined): EndpointSettings {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).checked;
  const orNull = (name: string) => value(name) || null;
  const number = (name: string) => (value(name) ? Number(value(name)) : null);
  const list = (name: string, separator: RegExp) => value(name).split(separator).map((s) => s.trim()).filter(Boolean);
  const source = value('event_type_source');
  const settings: EndpointSettings = {
    name: value('name'),
    description: orNull('description'),
    event_type_source: source === 'body' || source === 'header' ? source : null,
    event_type_path: orNull('event_type_path'),
    retention_days: number('retention_days'),
    max_deliveries: number('max_deliveries'),
    ingest_response_code: number('ingest_response_code') ?? 202,
    idempotency_header_names: list('idempotency_header_names', /,/),
    verify_hmac: checked('verify_hmac'),
    hmac_scheme: checked('verify_hmac') ? (value('hmac_scheme') as Scheme) : (endpoint?.hmac_scheme ?? null),
    hmac_header_name: orNull('hmac_header_name'),
    timestamp_header_name: orNull('timestamp_header_name'),
    timestamp_ttl_seconds: number('timestamp_ttl_seconds'),
    verify_static_token: checked('verify_static_token'),
    token_header_name: orNull('token_header_name'),
    token_query_param: orNull('token_query_param'),
    verify_ip_allowlist: checked('verify_ip_allowlist'),
    allowed_cidrs: list('allowed_cidrs', /\s+/),
  };
  // Write-only: sent only when typed, so saving other settings keeps the secret as it was.
  if (value('hmac_secret')) settings.hmac_secret = value('hmac_secret');
  if (value('token_value')) settings.token_value = value('token_value');
  return settings;
}

/** Shows a refusal under the form (the service's message names the field). */
export function formError(form: HTMLFormElement, message: string): void {
  const slot = form.querySelector('.error');
  if (slot) slot.textContent = message;
}
