import { api, bodyOf, dataOf, describeError, forgetKey, isUnauthorized, type components } from './api';
import { confirmDialog, fill, formatTime, fromLocalInput, h, requestTurns, rerender, toast } from './dom';
import { eventsTable, type Row } from './events-table';
import { filterForm, logQuery, type Filters } from './events-filters';

/** A page of the table; the live mode adds to the first page only. */
const PAGE_SIZE = 50;
/** Live mode asks for new events this often, one request at a time, and not while the tab is hidden. */
export const LIVE_INTERVAL_MS = 2000;
/** Live checks look this far behind the newest event shown, for webhooks that committed late. */
const LIVE_OVERLAP_MS = 10_000;
/** The live table keeps this many rows, newest first. */
const LIVE_MAX_ROWS = 200;

/** Remembered while the console is open, so that coming back from an event keeps live mode on. */
let liveWanted = false;

/**
 * The endpoint's events, newest first (`GET /v1/pull-logs?pull_endpoint_id=`, which pages by
 * event id so that arrivals never shift a page), with filters, cursor paging, live mode, and
 * ack or delete of the selected events.
 */
export async function eventsPanel(body: HTMLElement, endpointId: string, signal: AbortSignal, onChange: () => void): Promise<void> {
  const filters: Filters = { status: '', eventType: '', from: '', to: '' };
  /** The cursors of the pages shown so far: the last one is the page on screen. */
  const cursors: (string | undefined)[] = [undefined];
  let rows: Row[] = [];
  let hasMore = false;
  const selected = new Set<string>();

  const outcome = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  const liveStatus = h('span', { class: 'live-status', 'aria-live': 'off' });
  const liveButton = h('button', { type: 'button', class: 'live', 'aria-pressed': String(liveWanted) }, 'Live');
  const tableSlot = h('div');
  const pager = h('div', { class: 'pager' });
  const selection = h('span', { class: 'selection' }, 'None selected');
  const ackButton = h('button', { type: 'button', disabled: true }, 'Acknowledge selected');
  const deleteButton = h('button', { type: 'button', class: 'danger', disabled: true }, 'Delete selected');

  const query = (cursor?: string, since?: string) => logQuery(endpointId, filters, PAGE_SIZE, { cursor, since });

  const draw = (focusFirst = false) => {
    fill(
      tableSlot,
      eventsTable(rows, selected, endpointId, {
        onSelect: updateSelection,
        empty: filtered() ? 'No events match these filters.' : 'No webhooks yet. Post one to the ingest URL (live mode shows it as it arrives).',
      }),
    );
    fill(
      pager,
      h('button', { type: 'button', disabled: cursors.length < 2, onclick: () => reload(cursors.length - 2) }, 'Newer'),
      h('span', {}, `Page ${cursors.length}`),
      h('button', { type: 'button', disabled: !hasMore, onclick: () => reload(cursors.length) }, 'Older'),
    );
    updateSelection();
    if (focusFirst) (tableSlot.querySelector('tbody tr') as HTMLElement | null)?.focus();
  };
  const filtered = () => Object.values(filters).some(Boolean);

  const updateSelection = () => {
    const count = selected.size;
    selection.textContent = count === 0 ? 'None selected' : `${count} selected`;
    ackButton.disabled = deleteButton.disabled = count === 0;
  };

  let nextCursor: string | null = null;
  /** Loads and live checks: only the answer of the latest load is shown. */
  const turns = requestTurns();
  /** Shows page `index` (0: the newest), unless another load began before its answer came. */
  const load = async (index: number, focusFirst = false) => {
    const turn = turns.begin();
    if (index >= cursors.length) cursors.push(nextCursor ?? undefined);
    cursors.length = index + 1;
    const page = await bodyOf(api().GET('/v1/pull-logs', { params: { query: query(cursors[index]) }, signal }));
    if (!turns.isLatest(turn)) return;
    rows = page.data;
    hasMore = page.meta.has_more;
    nextCursor = page.meta.next_cursor;
    draw(focusFirst);
  };
  /** A load a person asked for: a failure shows above the table. */
  const reload = (index: number, focusFirst = false) => void load(index, focusFirst).catch(showError);
  const showError = (error: unknown) => {
    if (signal.aborted) return;
    if (isUnauthorized(error)) {
      // The key was revoked meanwhile: back to the sign-in form.
      forgetKey();
      rerender();
      return;
    }
    fill(outcome, h('p', { class: 'error', role: 'alert' }, describeError(error)));
  };

  let timer: number | undefined;
  const schedule = () => {
    window.clearTimeout(timer);
    if (liveWanted && !signal.aborted) timer = window.setTimeout(() => void poll(), LIVE_INTERVAL_MS);
  };
  /**
   * One live check: events received since shortly before the newest shown (a webhook received
   * earlier may commit later), merged by id. When more arrived than a page holds, the first page
   * is read again instead, so that the pages after it hold the rest.
   */
  const poll = async () => {
    if (document.hidden || cursors.length > 1) return schedule();
    const newest = rows[0]?.received_at;
    const from = fromLocalInput(filters.from);
    const since = newest && new Date(Math.max(Date.parse(newest) - LIVE_OVERLAP_MS, from ? Date.parse(from) : 0)).toISOString();
    // A load that begins meanwhile (a filter applied, a page turned) makes this answer stale.
    const turn = turns.latest;
    try {
      const page = await bodyOf(api().GET('/v1/pull-logs', { params: { query: query(undefined, since) }, signal }));
      if (!turns.isLatest(turn)) return schedule();
      const known = new Set(rows.map((r) => r.event_id));
      const fresh = page.data.filter((r) => !known.has(r.event_id));
      if (fresh.length > 0 && page.meta.has_more && fresh.length === page.data.length) {
        await load(0);
      } else if (fresh.length > 0) {
        const merged = [...fresh.map((r) => ({ ...r, fresh: true })), ...rows.map((r) => ({ ...r, fresh: false }))];
        rows = merged.sort((a, b) => (a.event_id < b.event_id ? 1 : -1)).slice(0, LIVE_MAX_ROWS);
        draw();
      }
      if (fresh.length > 0) {
        onChange();
        toast(`${fresh.length}${page.meta.has_more ? '+' : ''} new event${fresh.length === 1 ? '' : 's'}`);
      }
      liveStatus.textContent = `Checked ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (signal.aborted) return;
      if (isUnauthorized(error)) return showError(error);
      liveStatus.textContent = `Check failed: ${describeError(error)}; retrying`;
    }
    schedule();
  };
  const onVisible = () => {
    if (!document.hidden && liveWanted) void poll();
  };
  document.addEventListener('visibilitychange', onVisible);
  signal.addEventListener('abort', () => {
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  });
  liveButton.addEventListener('click', () => {
    liveWanted = !liveWanted;
    liveButton.setAttribute('aria-pressed', String(liveWanted));
    liveStatus.textContent = liveWanted ? `Checking every ${LIVE_INTERVAL_MS / 1000} s` : '';
    if (liveWanted && cursors.length > 1) void load(0).then(schedule, showError);
    else schedule();
  });

  const run = async (button: HTMLButtonElement, action: (ids: string[]) => Promise<HTMLElement>) => {
    button.disabled = true;
    try {
      fill(outcome, await action([...selected]));
      selected.clear();
      onChange();
      await load(cursors.length - 1);
    } catch (error) {
      fill(outcome, h('p', { class: 'error', role: 'alert' }, describeError(error)));
    }
    updateSelection();
  };
  ackButton.addEventListener('click', () =>
    void run(ackButton, async (ids) => {
      const { acknowledged } = await dataOf(api().POST('/v1/pull-endpoints/{id}/events/ack', { params: { path: { id: endpointId } }, body: { event_ids: ids } }));
      return h('p', {}, `Acknowledged ${acknowledged} of ${ids.length} selected (events already delivered, deleted or unknown are not counted).`);
    }),
  );
  deleteButton.addEventListener('click', async () => {
    const count = selected.size;
    const sure = await confirmDialog(`Delete ${count} event${count === 1 ? '' : 's'}?`, 'Deleted events leave every list and receive, and their payloads are erased. This cannot be undone.', 'Delete');
    if (sure) await run(deleteButton, async (ids) => deleteOutcome(await api().deleteBatch(endpointId, ids)));
  });

  fill(
    body,
    filterForm(filters, () => reload(0, true)),
    h('div', { class: 'toolbar' }, h('div', { class: 'live-box' }, liveButton, liveStatus), h('div', { class: 'bulk' }, selection, ackButton, deleteButton)),
    outcome,
    tableSlot,
    pager,
  );
  await load(0);
  if (liveWanted) {
    liveStatus.textContent = `Checking every ${LIVE_INTERVAL_MS / 1000} s`;
    schedule();
  }
}

type DeleteBatchResult = components['schemas']['DeleteBatchResult'];
const OUTCOME_LABEL = { deleted: 'deleted', already_deleted: 'already deleted', not_found: 'not found' } as const;

function deleteOutcome(result: DeleteBatchResult): HTMLElement {
  return h(
    'div',
    {},
    h('p', {}, `Deleted ${result.deleted_count}, already deleted ${result.already_deleted_count}, not found ${result.not_found_count}.`),
    h(
      'ul',
      { class: 'outcomes' },
      result.results.map((r) =>
        h('li', { 'data-outcome': r.outcome }, h('code', {}, r.event_id), ' ', h('span', { class: `badge ${r.outcome}` }, OUTCOME_LABEL[r.outcome]), 'deleted_at' in r ? ` at ${formatTime(r.deleted_at)}` : ''),
      ),
    ),
  );
}
