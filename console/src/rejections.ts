import { api, bodyOf, describeError, type components } from './api';
import { actionButton, fill, formatBytes, formatTime, h } from './dom';

type Rejection = components['schemas']['Rejection'];

const REASONS: Record<Rejection['reason'], string> = {
  missing_token: 'Static token missing',
  bad_token: 'Wrong token (the ingest URL’s or the static one)',
  missing_signature: 'Signature missing',
  bad_signature: 'Signature does not match',
  stale_timestamp: 'Signed time too old or in the future',
  ip_not_allowed: 'Sender’s address not allowed',
  paused: 'Endpoint paused',
  too_large: 'Body over the size limit',
  unsupported_encoding: 'Content-Encoding not accepted',
};

/** Webhooks the ingest URL refused, newest first: why, when, from where, with which headers. */
export async function rejectionsPanel(body: HTMLElement, endpointId: string, signal: AbortSignal): Promise<void> {
  const tbody = h('tbody');
  const more = h('div', { class: 'pager' });
  const load = async (cursor?: string) => {
    const page = await bodyOf(api().GET('/v1/pull-endpoints/{id}/rejections', { params: { path: { id: endpointId }, query: { limit: 50, ...(cursor && { cursor }) } }, signal }));
    tbody.append(...page.data.map(row));
    const next = page.meta.has_more ? page.meta.next_cursor : null;
    fill(more, next && olderButton(next));
    return page.data.length;
  };
  // Disabled while its page is on the way (a double click would append the page twice); a failure
  // shows beside it, and it stays for another try.
  const olderButton = (cursor: string): HTMLButtonElement =>
    actionButton('Load older', () => load(cursor), (error) => fill(more, olderButton(cursor), h('p', { class: 'error', role: 'alert' }, describeError(error))));
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'rejections' },
      h('caption', { class: 'visually-hidden' }, 'Refused webhooks, newest first'),
      h('thead', {}, h('tr', {}, ['Received', 'Reason', 'Source IP', 'Request', 'Headers'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody,
    ),
  );
  fill(body, h('p', { 'aria-busy': 'true' }, 'Loading…'));
  const count = await load();
  if (signal.aborted) return;
  fill(body, count === 0 ? h('p', { class: 'empty' }, 'No webhook was refused. Refusals (wrong token, bad signature, paused…) show up here with their headers.') : [table, more]);
}

function row(r: Rejection): HTMLElement {
  const headers = Object.entries(r.headers).sort(([a], [b]) => a.localeCompare(b));
  return h(
    'tr',
    { 'data-reason': r.reason },
    h('td', {}, formatTime(r.received_at)),
    h('td', {}, h('span', { class: 'badge rejected' }, r.reason), h('div', { class: 'hint' }, REASONS[r.reason])),
    h('td', {}, h('code', {}, r.source_ip)),
    h('td', {}, `${r.method} `, r.content_type ?? 'no content type', ` · ${formatBytes(r.size_bytes)}`, r.query_string && h('div', {}, h('code', {}, `?${r.query_string}`))),
    h(
      'td',
      {},
      h(
        'details',
        {},
        h('summary', {}, `${headers.length} header${headers.length === 1 ? '' : 's'}`),
        h('dl', { class: 'header-list' }, headers.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, h('code', {}, String(value)))])),
      ),
    ),
  );
}
