import { api, dataOf, describeError, readEndpoint, type components } from './api';
import { endpointForm, formError } from './endpoint-form';
import { copyText, fill, formatTime, h } from './dom';

type Endpoint = components['schemas']['PullEndpoint'];
type Counts = components['schemas']['PullEndpointCounts'];

/** Endpoints' counts are fetched this many at a time (each is a GET of its own). */
const COUNT_CONCURRENCY = 4;

export function stateBadge(endpoint: Pick<Endpoint, 'paused'>): HTMLElement {
  return endpoint.paused ? h('span', { class: 'badge paused' }, 'Paused') : h('span', { class: 'badge active' }, 'Active');
}

/**
 * An ingest URL with its token, shown once: the service keeps only a hash, so this page is the
 * only chance to copy it.
 */
export function ingestUrlPanel(url: string, heading: string): HTMLElement {
  const code = h('code', { id: 'ingest-url' }, url);
  return h(
    'section',
    { class: 'once', 'aria-labelledby': 'once-title' },
    h('h2', { id: 'once-title' }, heading),
    h('p', { class: 'warning' }, h('strong', {}, 'Shown once. '), 'Copy the ingest URL now and give it to the webhook sender: its last segment is the secret token, and the service keeps only a hash of it. Lost, it can only be rotated.'),
    h('div', { class: 'copy-row' }, code, h('button', { type: 'button', onclick: () => void copyText(url, 'the ingest URL', code) }, 'Copy URL')),
  );
}

async function countsOf(endpoints: Endpoint[]): Promise<Map<string, Counts>> {
  const counts = new Map<string, Counts>();
  const queue = [...endpoints];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { counts: c } = await readEndpoint(next.id);
      counts.set(next.id, c);
    }
  };
  await Promise.all(Array.from({ length: COUNT_CONCURRENCY }, worker));
  return counts;
}

/** Every endpoint of the project (all pages), with its counts by status. */
export async function endpointsView(main: HTMLElement, signal: AbortSignal): Promise<void> {
  const createSlot = h('div');
  const listSlot = h('div', {}, h('p', { 'aria-busy': 'true' }, 'Loading…'));
  const newButton = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'create' }, 'New endpoint');
  const showList = async () => {
    const endpoints = await allEndpoints(signal);
    const counts = await countsOf(endpoints);
    if (!signal.aborted) fill(listSlot, endpointsTable(endpoints, counts));
  };
  newButton.addEventListener('click', () => {
    const open = createSlot.childElementCount === 0;
    newButton.setAttribute('aria-expanded', String(open));
    fill(createSlot, open && createPanel(createSlot, () => void showList()));
    if (open) (createSlot.querySelector('input') as HTMLInputElement | null)?.focus();
  });
  fill(main, h('div', { class: 'heading' }, h('h1', {}, 'Endpoints'), newButton), createSlot, listSlot);
  await showList();
}

async function allEndpoints(signal: AbortSignal): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = [];
  for await (const endpoint of api().listEndpoints({ limit: 100 }, { signal })) endpoints.push(endpoint);
  return endpoints;
}

function endpointsTable(endpoints: Endpoint[], counts: Map<string, Counts>): HTMLElement {
  if (endpoints.length === 0) return h('p', { class: 'empty' }, 'No endpoints yet. Create one, give its ingest URL to the webhook sender, and its webhooks show up here.');
  const cell = (id: string, key: keyof Counts) => h('td', { class: 'num' }, counts.get(id)?.[key] ?? '—');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'endpoints' },
      h('caption', { class: 'visually-hidden' }, 'Endpoints with their events by status'),
      h('thead', {}, h('tr', {}, ['Name', 'State', 'Stored', 'Fetched', 'Delivered', 'Total', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        endpoints.map((e) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('a', { href: `#/endpoints/${e.id}` }, e.name)),
            h('td', {}, stateBadge(e)),
            cell(e.id, 'stored'),
            cell(e.id, 'fetched'),
            cell(e.id, 'delivered'),
            cell(e.id, 'total'),
            h('td', {}, formatTime(e.created_at)),
          ),
        ),
      ),
    ),
  );
}

function createPanel(slot: HTMLElement, onCreated: () => void): HTMLElement {
  const form = endpointForm(undefined, 'Create endpoint', async (settings, f) => {
    try {
      const created = await dataOf(api().POST('/v1/pull-endpoints', { body: settings }));
      fill(
        slot,
        ingestUrlPanel(created.ingest_url, `Created “${created.name}”`),
        h('p', {}, h('a', { href: `#/endpoints/${created.id}` }, 'Open the endpoint and watch its events')),
      );
      (slot.querySelector('.once button') as HTMLButtonElement).focus();
      onCreated();
    } catch (error) {
      formError(f, describeError(error));
    }
  });
  return h('section', { id: 'create', class: 'card', 'aria-labelledby': 'create-title' }, h('h2', { id: 'create-title' }, 'New endpoint'), form);
}
