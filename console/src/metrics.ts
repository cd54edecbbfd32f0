import { api, dataOf, describeError, type components } from './api';
import { fill, h, requestTurns, svg } from './dom';

type Timeseries = components['schemas']['PullMetricsTimeseries'];
type Bucket = components['schemas']['MetricsBucket'];
type Window = Timeseries['window'];

const WINDOWS: [Window, string][] = [
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['30d', 'Last 30 days'],
];

/** What the chart draws of each bucket (events by the bucket they arrived in). */
const SERIES: { key: keyof Bucket; label: string; className: string }[] = [
  { key: 'total', label: 'Received', className: 'received' },
  { key: 'fetched', label: 'Fetched, not acked', className: 'fetched' },
  { key: 'succeeded', label: 'Acked', className: 'acked' },
  { key: 'rejected', label: 'Rejected', className: 'rejected' },
];

let chosen: Window = '1h';

/** The project's metrics page: every endpoint together. */
export async function metricsView(main: HTMLElement, _endpointId: null, signal: AbortSignal): Promise<void> {
  const body = h('div');
  fill(main, h('h1', {}, 'Metrics'), h('p', { class: 'hint' }, 'Every endpoint of the project. Each endpoint’s own chart is on its Metrics tab.'), body);
  await metricsPanel(body, null, signal);
}

/** A window picker and the chart of `/v1/pull-metrics/timeseries` for it. */
export async function metricsPanel(body: HTMLElement, endpointId: string | null, signal: AbortSignal): Promise<void> {
  const picker = h('select', { id: 'metrics-window' }, WINDOWS.map(([value, label]) => h('option', { value, selected: value === chosen }, label)));
  const chartSlot = h('div', { class: 'chart-slot', 'aria-live': 'polite' });
  const turns = requestTurns();
  const show = async () => {
    const turn = turns.begin();
    const query = { window: chosen, ...(endpointId && { pull_endpoint_id: endpointId }) };
    const series = await dataOf(api().GET('/v1/pull-metrics/timeseries', { params: { query }, signal }));
    if (!signal.aborted && turns.isLatest(turn)) fill(chartSlot, chart(series));
  };
  picker.addEventListener('change', () => {
    chosen = picker.value as Window;
    show().catch((error) => {
      if (!signal.aborted) fill(chartSlot, h('p', { class: 'error', role: 'alert' }, describeError(error)));
    });
  });
  fill(body, h('div', { class: 'field inline' }, h('label', { for: 'metrics-window' }, 'Window'), picker), chartSlot);
  await show();
}

function duration(seconds: number): string {
  const [n, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : [seconds / 60, 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

const W = 800;
const H = 260;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

function niceMax(value: number): number {
  if (value <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

/** The series as an SVG line chart, with a legend and the numbers as a table for screen readers. */
export function chart(series: Timeseries): HTMLElement {
  const { buckets } = series;
  const max = niceMax(Math.max(0, ...buckets.flatMap((b) => SERIES.map((s) => Number(b[s.key])))));
  const x = (i: number) => PAD.left + (buckets.length < 2 ? 0 : (i / (buckets.length - 1)) * (W - PAD.left - PAD.right));
  const y = (v: number) => H - PAD.bottom - (v / max) * (H - PAD.top - PAD.bottom);
  const time = (iso: string) =>
    new Date(iso).toLocaleString(undefined, series.bucket_seconds >= 3600 ? { month: 'short', day: 'numeric', hour: '2-digit' } : { hour: '2-digit', minute: '2-digit' });

  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    svg('g', { class: 'grid' }, svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(max * f), y2: y(max * f) }), svg('text', { x: PAD.left - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, String(max * f))),
  );
  const labelEvery = Math.max(1, Math.ceil(buckets.length / 6));
  const labels = buckets.flatMap((b, i) => (i % labelEvery === 0 ? [svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'axis' }, time(b.timestamp))] : []));
  const lines = SERIES.map((s) =>
    svg(
      'g',
      { class: `series ${s.className}` },
      svg('polyline', { points: buckets.map((b, i) => `${x(i)},${y(Number(b[s.key]))}`).join(' ') }),
      ...buckets.flatMap((b, i) => (Number(b[s.key]) > 0 ? [svg('circle', { cx: x(i), cy: y(Number(b[s.key])), r: 3 }, svg('title', {}, `${time(b.timestamp)}: ${b[s.key]} ${s.label.toLowerCase()}`))] : [])),
    ),
  );
  const totals = SERIES.map((s) => ({ ...s, sum: buckets.reduce((n, b) => n + Number(b[s.key]), 0) }));
  const figure = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title' }, svg('title', { id: 'chart-title' }, `Events per bucket of ${duration(series.bucket_seconds)}`), ...grid, ...labels, ...lines);

  return h(
    'figure',
    { class: 'metrics' },
    figure,
    h(
      'figcaption',
      {},
      h('ul', { class: 'legend' }, totals.map((s) => h('li', { class: s.className }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), `${s.label}: ${s.sum}`))),
      h('span', { class: 'hint' }, `${buckets.length} buckets of ${duration(series.bucket_seconds)}; events count in the bucket they arrived in.`),
    ),
    h(
      'details',
      {},
      h('summary', {}, 'The numbers'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Bucket'), SERIES.map((s) => h('th', { scope: 'col' }, s.label)))),
          h('tbody', {}, buckets.filter((b) => SERIES.some((s) => Number(b[s.key]) > 0)).map((b) => h('tr', {}, h('th', { scope: 'row' }, time(b.timestamp)), SERIES.map((s) => h('td', { class: 'num' }, b[s.key]))))),
        ),
      ),
    ),
  );
}
