import { api, dataOf, describeError, expectOk } from './api';
import { actionButton, confirmDialog, copyText, fill, formatBytes, formatMs, formatTime, h, rerender, term, toast } from './dom';
import { statusLabel } from './events-table';
import { prettyJson } from './json';
import { curlForApi, curlForReplay } from './curl';

/**
 * One event: its payload (pretty JSON, or the text as it came, or a note for binary bytes), the
 * headers it was posted with, its timing, the raw bytes to download and curl commands to copy.
 * Read with `preview=true`: looking at an event in the console does not move it to `fetched`.
 */
export async function eventView(main: HTMLElement, endpointId: string, eventId: string, signal: AbortSignal): Promise<void> {
  const path = { path: { id: endpointId, event_id: eventId } };
  const event = await dataOf(api().GET('/v1/pull-endpoints/{id}/events/{event_id}', { params: { ...path, query: { preview: true } }, signal }));
  // A deleted event's payload is erased (410): not asked for, so the browser logs no failed load.
  const raw = event.deleted_at
    ? null
    : await api()
        .GET('/v1/pull-endpoints/{id}/events/{event_id}/payload', { params: { ...path, query: { preview: true } }, parseAs: 'arrayBuffer', signal })
        .then(async (answer) => {
          if (answer.response.status === 410) return null;
          await expectOk(Promise.resolve(answer));
          return { bytes: answer.data as ArrayBuffer, contentType: answer.response.headers.get('content-type') ?? 'application/octet-stream' };
        });
  if (signal.aborted) return;

  const text = raw && decodeText(raw.bytes);
  const pretty = text !== null && event.payload_encoding === 'json' ? prettyJson(text) : null;
  const payloadBlock = h('pre', { class: 'payload', tabindex: 0, 'aria-label': 'Payload' }, h('code', {}, pretty ?? text ?? ''));
  const rawToggle = pretty !== null && text !== null && h('button', { type: 'button', 'aria-pressed': 'false' }, 'Show raw');
  if (rawToggle) {
    rawToggle.addEventListener('click', () => {
      const showRaw = rawToggle.getAttribute('aria-pressed') !== 'true';
      rawToggle.setAttribute('aria-pressed', String(showRaw));
      fill(payloadBlock, h('code', {}, showRaw ? text : pretty));
    });
  }
  const download = () => {
    if (!raw) return;
    const url = URL.createObjectURL(new Blob([raw.bytes], { type: raw.contentType }));
    const link = h('a', { href: url, download: `${eventId}${extensionOf(raw.contentType)}` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  const headers = Object.entries(event.headers ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const t = event.timing;

  fill(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Endpoints'), ' / ', h('a', { href: `#/endpoints/${endpointId}/events` }, 'Events'), ' / '),
    h('div', { class: 'heading' }, h('h1', {}, event.event_type ?? 'Event without a type', ' ', statusLabel(event)), !event.deleted_at && eventActions(endpointId, eventId, event.status)),
    h(
      'dl',
      { class: 'facts' },
      term('Event id', h('code', {}, event.id)),
      term('Received', formatTime(event.received_at)),
      term('Content type', event.content_type),
      term('Size', formatBytes(event.size_bytes)),
      term('Deliveries', event.delivery_count),
      event.query_string && term('Query string', h('code', {}, event.query_string)),
    ),
    h(
      'section',
      { 'aria-labelledby': 'payload-title' },
      h(
        'div',
        { class: 'heading' },
        h('h2', { id: 'payload-title' }, 'Payload'),
        h(
          'div',
          { class: 'actions' },
          rawToggle,
          raw && h('button', { type: 'button', onclick: download }, 'Download raw'),
          raw && text !== null && h('button', { type: 'button', onclick: () => void copyText(curlForReplay(event, text), 'a curl command that replays this webhook') }, 'Copy as curl'),
          h('button', { type: 'button', onclick: () => void copyText(curlForApi(location.origin, endpointId, eventId), 'a curl command that reads this event') }, 'Copy API curl'),
        ),
      ),
      raw === null
        ? h('p', { class: 'empty' }, 'The payload was erased (the event was deleted).')
        : text === null
          ? h('p', { class: 'empty' }, `Binary payload (${formatBytes(raw.bytes.byteLength)}, ${raw.contentType}): download it to look inside.`)
          : payloadBlock,
    ),
    h(
      'section',
      { 'aria-labelledby': 'headers-title' },
      h('h2', { id: 'headers-title' }, 'Headers'),
      headers.length === 0
        ? h('p', { class: 'empty' }, event.headers === null ? 'Erased with the payload.' : 'None.')
        : h('div', { class: 'table-wrap' }, h('table', { class: 'headers' }, h('caption', { class: 'visually-hidden' }, 'Request headers as received'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Header'), h('th', { scope: 'col' }, 'Value'))), h('tbody', {}, headers.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, h('code', {}, value))))))),
      h('p', { class: 'hint' }, 'Credentials (Authorization, cookies, static tokens) are not stored.'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'timing-title' },
      h('h2', { id: 'timing-title' }, 'Timing'),
      h(
        'dl',
        { class: 'facts' },
        term('Fetched', formatTime(event.fetched_at)),
        term('Delivered', formatTime(event.delivered_at)),
        event.dead_lettered_at && term('Dead-lettered', formatTime(event.dead_lettered_at)),
        event.deleted_at && term('Deleted', formatTime(event.deleted_at)),
        term('Ingest processing', formatMs(t.ingest_processing_ms)),
        term('Time to fetch', formatMs(t.time_to_fetch_ms)),
        term('Time to acknowledge', formatMs(t.time_to_ack_ms)),
        term('Total lifecycle', formatMs(t.total_lifecycle_ms)),
      ),
    ),
  );
}

/** Acknowledge or delete this one event, then show it again as it now is. */
function eventActions(endpointId: string, eventId: string, status: string): HTMLElement {
  const act = (label: string, className: string, run: () => Promise<unknown>) =>
    actionButton(
      label,
      async () => {
        await run();
        rerender();
      },
      (error) => toast(describeError(error)),
      className,
    );
  const path = { params: { path: { id: endpointId } } };
  return h(
    'div',
    { class: 'actions' },
    status !== 'delivered' && act('Acknowledge', '', () => dataOf(api().POST('/v1/pull-endpoints/{id}/events/ack', { ...path, body: { event_ids: [eventId] } }))),
    act('Delete', 'danger', async () => {
      if (!(await confirmDialog('Delete this event?', 'It leaves every list and receive, and its payload is erased. This cannot be undone.', 'Delete'))) return;
      const { results } = await api().deleteBatch(endpointId, [eventId]);
      toast(`Event ${results[0]?.outcome === 'deleted' ? 'deleted' : (results[0]?.outcome ?? 'not found').replace('_', ' ')}`);
    }),
  );
}

/** The bytes as UTF-8 text, or null when they are not (binary). */
function decodeText(bytes: ArrayBuffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

function extensionOf(contentType: string): string {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json' || type.endsWith('+json')) return '.json';
  if (type.includes('xml')) return '.xml';
  if (type.startsWith('text/')) return '.txt';
  if (type === 'application/x-www-form-urlencoded') return '.form';
  return '.bin';
}
