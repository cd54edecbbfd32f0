import { api, dataOf, describeError, expectOk, readEndpoint, type components } from './api';
import { endpointForm, formError } from './endpoint-form';
import { ingestUrlPanel, stateBadge } from './endpoints';
import { actionButton, confirmDialog, fill, h, rerender, term, toast } from './dom';
import { eventsPanel } from './events';
import { metricsPanel } from './metrics';
import { rejectionsPanel } from './rejections';

type EndpointWithCounts = components['schemas']['PullEndpointWithCountsResponse']['data'];

const TABS = [
  ['events', 'Events'],
  ['rejections', 'Rejections'],
  ['metrics', 'Metrics'],
  ['settings', 'Settings'],
] as const;

/** One endpoint: its state and counts, its actions, and a tab of events, rejections, metrics or settings. */
export async function endpointView(main: HTMLElement, id: string, tab: string, signal: AbortSignal): Promise<void> {
  const endpoint = await readEndpoint(id, signal);
  if (signal.aborted) return;
  const notice = h('div', { class: 'notice-slot' });
  const body = h('div', { class: 'tab-body' });
  const countsSlot = h('div', {}, counts(endpoint));
  /** Live mode, acks and deletes change the counts: read them again (failures keep the old ones). */
  const refreshCounts = async () => {
    const fresh = await readEndpoint(id, signal).catch(() => undefined);
    if (fresh && !signal.aborted) fill(countsSlot, counts(fresh));
  };
  fill(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Endpoints'), ' / '),
    h('div', { class: 'heading' }, h('h1', {}, endpoint.name, ' ', stateBadge(endpoint)), actions(endpoint, notice)),
    endpoint.description && h('p', { class: 'description' }, endpoint.description),
    countsSlot,
    notice,
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Endpoint' },
      TABS.map(([key, label]) => h('a', { href: `#/endpoints/${id}/${key}`, 'aria-current': key === tab ? 'page' : false }, label)),
    ),
    body,
  );
  if (tab === 'rejections') return rejectionsPanel(body, id, signal);
  if (tab === 'metrics') return metricsPanel(body, id, signal);
  if (tab === 'settings') return void body.append(settingsForm(endpoint));
  return eventsPanel(body, id, signal, () => void refreshCounts());
}

/** How long a rotated-out token keeps working, to move senders over without losing webhooks. */
const OVERLAPS: [number, string][] = [
  [0, 'No: it stops at once'],
  [3600, 'for 1 hour'],
  [86_400, 'for 1 day'],
  [604_800, 'for 7 days (the longest)'],
];

function counts(endpoint: EndpointWithCounts): HTMLElement {
  const { stored, fetched, delivered, total } = endpoint.counts;
  return h('dl', { class: 'counts' }, term('Stored', stored), term('Fetched', fetched), term('Delivered', delivered), term('Total', total));
}

function actions(endpoint: EndpointWithCounts, notice: HTMLElement): HTMLElement {
  const path = { params: { path: { id: endpoint.id } } };
  const act = (label: string, run: () => Promise<void>, className = '') =>
    actionButton(label, run, (error) => fill(notice, h('p', { class: 'error', role: 'alert' }, describeError(error))), className);
  return h(
    'div',
    { class: 'actions' },
    endpoint.paused
      ? act('Resume', async () => {
          await dataOf(api().POST('/v1/pull-endpoints/{id}/resume', path));
          toast('Resumed: the ingest URL accepts webhooks again');
          rerender();
        })
      : act('Pause', async () => {
          await dataOf(api().POST('/v1/pull-endpoints/{id}/pause', path));
          toast('Paused: the ingest URL refuses webhooks (each refusal is recorded)');
          rerender();
        }),
    act('Rotate token', async () => {
      const overlap = h(
        'select',
        { id: 'rotate-overlap' },
        OVERLAPS.map(([seconds, label]) => h('option', { value: seconds }, label)),
      );
      const field = h('div', { class: 'field' }, h('label', { for: 'rotate-overlap' }, 'The current URL keeps working'), overlap);
      const sure = await confirmDialog('Rotate the ingest token?', 'Senders must be given the new ingest URL; the current one stops working when you choose.', 'Rotate', field);
      if (!sure) return;
      const body = { expire_previous_after_seconds: Number(overlap.value) };
      const rotated = await dataOf(api().POST('/v1/pull-endpoints/{id}/rotate-token', { ...path, body }));
      fill(notice, ingestUrlPanel(rotated.ingest_url, 'New ingest URL'));
      (notice.querySelector('.once button') as HTMLButtonElement).focus();
    }),
    act(
      'Delete endpoint',
      async () => {
        const sure = await confirmDialog(`Delete “${endpoint.name}”?`, `Its ingest URL stops accepting webhooks and its ${endpoint.counts.total} events can no longer be read. This cannot be undone.`, 'Delete endpoint');
        if (!sure) return;
        await expectOk(api().DELETE('/v1/pull-endpoints/{id}', path));
        toast(`Deleted “${endpoint.name}”`);
        location.hash = '#/';
      },
      'danger',
    ),
  );
}

function settingsForm(endpoint: EndpointWithCounts): HTMLElement {
  const form = endpointForm(endpoint, 'Save settings', async (settings, f) => {
    try {
      await dataOf(api().PATCH('/v1/pull-endpoints/{id}', { params: { path: { id: endpoint.id } }, body: settings }));
      toast('Settings saved');
      formError(f, '');
    } catch (error) {
      formError(f, describeError(error));
    }
  });
  return h('section', { class: 'card', 'aria-label': 'Settings' }, form);
}
