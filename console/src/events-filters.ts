import { fromLocalInput, h } from './dom';

/** The events table's filters, as the form holds them. */
export interface Filters {
  /** A status, `stored,fetched`, `dead` (dead-lettered) or '' for any. */
  status: string;
  eventType: string;
  /** `datetime-local` values, in the browser's time zone. */
  from: string;
  to: string;
}

/** `GET /v1/pull-logs`'s query for the endpoint's events under `filters`; `since` overrides `from`. */
export function logQuery(endpointId: string, filters: Filters, limit: number, { cursor, since }: { cursor?: string | undefined; since?: string | undefined }) {
  const status = filters.status === 'dead' ? undefined : filters.status || undefined;
  const start = since ?? fromLocalInput(filters.from);
  const end = fromLocalInput(filters.to);
  return {
    pull_endpoint_id: endpointId,
    limit,
    ...(status && { status }),
    ...(filters.status === 'dead' && { dead_lettered: true }),
    ...(filters.eventType && { event_type: filters.eventType }),
    ...(start && { start_time: start }),
    ...(end && { end_time: end }),
    ...(cursor && { cursor }),
  };
}

export function filterForm(filters: Filters, apply: () => void): HTMLElement {
  const status = h(
    'select',
    { id: 'filter-status', name: 'status' },
    [['', 'Any status'], ['stored', 'Stored'], ['fetched', 'Fetched'], ['delivered', 'Delivered'], ['stored,fetched', 'Not yet delivered'], ['dead', 'Dead-lettered']].map(([v, label]) =>
      h('option', { value: v }, label),
    ),
  );
  const type = h('input', { id: 'filter-type', name: 'event_type', type: 'text', maxlength: 200, placeholder: 'e.g. invoice.paid' });
  const from = h('input', { id: 'filter-from', name: 'from', type: 'datetime-local', step: 1 });
  const to = h('input', { id: 'filter-to', name: 'to', type: 'datetime-local', step: 1 });
  const form = h(
    'form',
    { class: 'filters', method: 'post', action: '#', 'aria-label': 'Filter events' },
    h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), status),
    h('div', { class: 'field' }, h('label', { for: 'filter-type' }, 'Event type'), type),
    h('div', { class: 'field' }, h('label', { for: 'filter-from' }, 'Received from'), from),
    h('div', { class: 'field' }, h('label', { for: 'filter-to' }, 'until'), to),
    h('button', { type: 'submit' }, 'Apply'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    Object.assign(filters, { status: status.value, eventType: type.value.trim(), from: from.value, to: to.value });
    apply();
  });
  // On a phone the filters start folded, so the events come first.
  return h('details', { class: 'filter-box', open: !matchMedia('(max-width: 600px)').matches }, h('summary', {}, 'Filters'), form);
}
