import type { components } from './api';
import { formatBytes, formatTime, h } from './dom';

export type Row = components['schemas']['PullLog'] & { fresh?: boolean };

interface TableOptions {
  onSelect: () => void;
  empty: string;
}

export function statusLabel(row: Pick<Row, 'status' | 'deleted_at' | 'dead_lettered_at'>): HTMLElement {
  if (row.deleted_at) return h('span', { class: 'badge deleted' }, 'deleted');
  if (row.dead_lettered_at) return h('span', { class: 'badge dead' }, 'dead-lettered');
  return h('span', { class: `badge ${row.status}` }, row.status);
}

/**
 * The events as a table a keyboard can drive: one row in the tab order at a time (roving
 * tabindex); ↑/↓, Home and End move between rows, Space or x selects, Enter opens the event.
 */
export function eventsTable(rows: Row[], selected: Set<string>, endpointId: string, options: TableOptions): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, options.empty);
  const live = rows.filter((r) => !r.deleted_at);
  const all = h('input', { type: 'checkbox', 'aria-label': 'Select every event on this page', checked: live.length > 0 && live.every((r) => selected.has(r.event_id)) });
  const boxes: HTMLInputElement[] = [];
  all.addEventListener('change', () => {
    for (const box of boxes) {
      if (box.disabled) continue;
      box.checked = all.checked;
      if (all.checked) selected.add(box.value);
      else selected.delete(box.value);
    }
    options.onSelect();
  });

  const href = (row: Row) => `#/endpoints/${endpointId}/events/${row.event_id}`;
  const tbody = h(
    'tbody',
    {},
    rows.map((row, index) => {
      const box = h('input', {
        type: 'checkbox',
        value: row.event_id,
        checked: selected.has(row.event_id),
        disabled: Boolean(row.deleted_at),
        tabindex: -1,
        'aria-label': `Select event ${row.event_id}`,
      });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(row.event_id);
        else selected.delete(row.event_id);
        options.onSelect();
      });
      boxes.push(box);
      return h(
        'tr',
        { tabindex: index === 0 ? 0 : -1, class: [row.fresh && 'fresh', row.deleted_at && 'is-deleted'].filter(Boolean).join(' '), 'data-event-id': row.event_id },
        h('td', { class: 'select' }, box),
        h('td', {}, h('a', { href: href(row), tabindex: -1 }, formatTime(row.received_at))),
        h('td', {}, row.event_type ?? h('span', { class: 'muted' }, 'no type')),
        h('td', {}, statusLabel(row)),
        h('td', { class: 'num' }, formatBytes(row.size_bytes)),
        h('td', { class: 'num' }, row.delivery_count),
        h('td', {}, h('code', { class: 'id' }, row.event_id)),
      );
    }),
  );

  tbody.addEventListener('keydown', (event) => {
    const row = (event.target as HTMLElement).closest('tr');
    if (!row || event.target !== row) return;
    const all = [...tbody.rows];
    const at = all.indexOf(row);
    const go = (to: number) => {
      const next = all[Math.max(0, Math.min(all.length - 1, to))];
      if (!next) return;
      row.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
    };
    const keys: Record<string, () => void> = {
      ArrowDown: () => go(at + 1),
      ArrowUp: () => go(at - 1),
      Home: () => go(0),
      End: () => go(all.length - 1),
      Enter: () => (location.hash = href(rows[at]!)),
      ' ': () => row.querySelector('input')?.click(),
      x: () => row.querySelector('input')?.click(),
    };
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });
  // A click anywhere on a row (but its checkbox or link) makes it the keyboard's row.
  tbody.addEventListener('focusin', (event) => {
    const row = (event.target as HTMLElement).closest('tr');
    if (!row) return;
    for (const r of tbody.rows) r.tabIndex = r === row ? 0 : -1;
  });

  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'events', 'aria-describedby': 'events-keys' },
      h('caption', {}, h('span', { id: 'events-keys', class: 'hint' }, 'Newest first. Keys: ↑ ↓ move, Space selects, Enter opens.')),
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col', class: 'select' }, all), ['Received', 'Type', 'Status', 'Size', 'Deliveries', 'Event id'].map((t) => h('th', { scope: 'col' }, t))),
      ),
      tbody,
    ),
  );
}
