/**
 * The chart of a run, bench/results.svg: hand-written SVG, a grouped bar chart per section and
 * each target as a bar against its threshold.
 */
import type { Measurement } from './load';
import { fixed, rowsLabel, type BenchResults, type ReadOperation, type Verdict } from './report';

const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`;
}

function rect(x: number, y: number, width: number, height: number, fill: string): string {
  return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, width).toFixed(1)}" height="${Math.max(0, height).toFixed(1)}" fill="${fill}"/>`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): string {
  return `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="${stroke}" stroke-width="${width}"/>`;
}

/** A round step giving about `count` ticks up to `max`. */
function niceStep(max: number, count = 4): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((step) => step >= raw) ?? raw;
}

const short = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

interface Series {
  name: string;
  colour: string;
}

interface Group {
  label: string;
  /** One value per series, in the chart's series order (NaN: no bar). */
  values: number[];
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A grouped bar chart on a linear axis from 0, with its title and legend above the plot. */
function barChart(box: Box, title: string, series: Series[], groups: Group[]): string[] {
  const parts = [text(box.x, box.y, title, 'font-size="13" font-weight="bold"')];
  let legendX = box.x;
  for (const s of series) {
    parts.push(rect(legendX, box.y + 9, 11, 11, s.colour), text(legendX + 15, box.y + 19, s.name, 'font-size="11"'));
    legendX += 30 + s.name.length * 6;
  }
  const plot = { x: box.x + 44, y: box.y + 40, width: box.width - 44, height: box.height - 66 };
  const values = groups.flatMap((g) => g.values).filter((v) => Number.isFinite(v));
  const max = Math.max(Number.MIN_VALUE, ...values);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (value: number) => plot.y + plot.height - (value / top) * plot.height;
  for (let tick = 0; tick <= top + step / 2; tick += step) {
    parts.push(line(plot.x, y(tick), plot.x + plot.width, y(tick), '#e4e4e4'));
    parts.push(text(plot.x - 6, y(tick) + 4, String(Math.round(tick * 1000) / 1000), 'font-size="10" text-anchor="end" fill="#555"'));
  }
  const groupWidth = plot.width / groups.length;
  const barWidth = Math.min(60, (groupWidth * 0.8) / series.length);
  groups.forEach((group, g) => {
    const left = plot.x + g * groupWidth + (groupWidth - barWidth * series.length) / 2;
    group.values.forEach((value, i) => {
      if (!Number.isFinite(value)) return;
      const x = left + i * barWidth;
      parts.push(rect(x + 1, y(value), barWidth - 2, plot.y + plot.height - y(value), series[i]!.colour));
      parts.push(text(x + barWidth / 2, y(value) - 3, short(value), 'font-size="10" text-anchor="middle"'));
    });
    parts.push(text(plot.x + (g + 0.5) * groupWidth, plot.y + plot.height + 16, group.label, 'font-size="11" text-anchor="middle"'));
  });
  parts.push(line(plot.x, plot.y + plot.height, plot.x + plot.width, plot.y + plot.height, '#333'));
  return parts;
}

const READ_LABELS: Record<ReadOperation, string> = {
  pullLogs: 'pull-logs',
  metrics1h: 'metrics 1h',
  metrics24h: 'metrics 24h',
  metrics7d: 'metrics 7d',
  metrics30d: 'metrics 30d',
  timeseries24h: 'timeseries 24h',
  eventsFirstPage: 'events, page 1',
  eventsDeepCursor: 'events, deep',
};

const VERDICT_COLOURS: Record<Verdict, string> = { PASS: '#2e7d32', MISS: '#c62828', 'N/A': '#757575', INFO: '#1565c0' };
const BLUE = '#1f77b4';
const ORANGE = '#ff7f0e';
const GREEN = '#2ca02c';
const PURPLE = '#9467bd';
const LIGHT_BLUE = '#aec7e8';
const LIGHT_ORANGE = '#ffbb78';
const LIGHT_GREEN = '#98df8a';

export function renderSvg(results: BenchResults): string {
  const width = 1000;
  const { machine, settings, validation: v, scaling: s, ingest, reads } = results;
  const readsAtOne = (Object.keys(READ_LABELS) as ReadOperation[]).map((key) => {
    const run = reads.operations[key].runs.find((r) => r.concurrency === 1);
    return { label: READ_LABELS[key], values: [run?.p50Ms ?? Number.NaN, run?.p99Ms ?? Number.NaN] };
  });
  const rpsAt = (runs: Measurement[], c: number) => runs.find((run) => run.concurrency === c)?.rps ?? Number.NaN;
  const byConcurrency = (a: Measurement[], b: Measurement[]): Group[] =>
    settings.concurrencies.map((c) => ({ label: `${c} connection${c === 1 ? '' : 's'}`, values: [rpsAt(a, c), rpsAt(b, c)] }));

  const parts: string[] = [
    text(20, 28, `POST …/events/delete-batch, POST /pull/<token> and reads benchmark${results.quick ? ' (--quick: indicative only)' : ''}`, 'font-size="18" font-weight="bold"'),
    text(
      20,
      48,
      `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB · node ${machine.node} · ${machine.postgres.split(' on ')[0]} · load ${fixed(machine.loadStart)} → ${fixed(machine.loadEnd)} · ${results.startedAt}`,
      'font-size="11" fill="#555"',
    ),
    ...barChart(
      { x: 20, y: 84, width: 460, height: 270 },
      `Fresh ids, ${settings.idsPerRequest} per request (req/s)`,
      [{ name: 'service', colour: BLUE }, { name: 'database floor (pg, same SQL)', colour: ORANGE }],
      byConcurrency(results.service.runs, results.databaseFloor.runs),
    ),
    ...barChart(
      { x: 520, y: 84, width: 460, height: 270 },
      `Already-deleted ids (req/s)`,
      [{ name: 'service', colour: GREEN }, { name: `HTTP floor (bare node:http, ${results.httpFloor.responseBytes} B)`, colour: PURPLE }],
      byConcurrency(results.httpFloor.serviceAlreadyDeleted, results.httpFloor.floor),
    ),
    ...barChart(
      { x: 20, y: 390, width: 290, height: 210 },
      `Request validation (${v.concurrency} conn, req/s)`,
      [{ name: 'on', colour: BLUE }, { name: 'off', colour: GREEN }],
      [{ label: `cost ${fixed(v.costPercent, 1)}%`, values: [v.on.rps, v.off.rps] }],
    ),
    ...barChart(
      { x: 355, y: 390, width: 290, height: 210 },
      'Cost per request (1 conn, mean ms)',
      [{ name: '1 id', colour: BLUE }, { name: '100 ids', colour: ORANGE }],
      [{ label: `${fixed(s.costRatio)}x`, values: [s.oneId.meanMs, s.hundredIds.meanMs] }],
    ),
    ...barChart(
      { x: 690, y: 390, width: 290, height: 210 },
      'p50 by table size (1 conn, ms)',
      [{ name: `${rowsLabel(s.smallTable.rows)} rows`, colour: BLUE }, { name: `${rowsLabel(s.bigTable.rows)} rows`, colour: ORANGE }],
      [{ label: `${fixed(s.p50Ratio)}x`, values: [s.smallTable.run.p50Ms, s.bigTable.run.p50Ms] }],
    ),
    ...barChart(
      { x: 20, y: 640, width: 960, height: 290 },
      `Ingest, a ${ingest.bodyBytes}-byte JSON webhook (webhooks/s)`,
      [
        { name: `${ingest.endpoints} endpoints`, colour: BLUE },
        { name: `${ingest.endpoints}, HMAC on`, colour: LIGHT_BLUE },
        { name: `floor (pg), ${ingest.endpoints}`, colour: ORANGE },
        { name: '1 endpoint', colour: GREEN },
        { name: '1, HMAC on', colour: LIGHT_GREEN },
        { name: 'floor (pg), 1', colour: LIGHT_ORANGE },
      ],
      ingest.concurrencies.map((c) => ({
        label: `${c} connection${c === 1 ? '' : 's'}`,
        values: [
          ingest.service.manyEndpoints.hmacOff,
          ingest.service.manyEndpoints.hmacOn,
          ingest.floor.manyEndpoints,
          ingest.service.oneEndpoint.hmacOff,
          ingest.service.oneEndpoint.hmacOn,
          ingest.floor.oneEndpoint,
        ].map((runs) => rpsAt(runs, c)),
      })),
    ),
    ...barChart(
      { x: 20, y: 970, width: 960, height: 290 },
      `Reads on a ${rowsLabel(reads.rows)}-event table, 1 connection (ms)`,
      [{ name: 'p50', colour: BLUE }, { name: 'p99', colour: LIGHT_BLUE }],
      readsAtOne,
    ),
  ];

  // Each target as a bar against its threshold (the black tick), coloured by its verdict.
  const panel = { x: 340, y: 1310, width: 400, row: 26 };
  parts.push(text(20, panel.y - 14, 'Targets (bar = measured, tick = target)', 'font-size="13" font-weight="bold"'));
  results.targets.forEach((t, i) => {
    const rowY = panel.y + i * panel.row;
    const threshold = Number(/[\d.]+/.exec(t.target)?.[0] ?? Number.NaN);
    const measured = Number.isFinite(t.measured) ? Math.max(0, t.measured) : 0;
    // A figure without a target is a ratio to a floor: drawn against 1.
    const scale = Math.max(measured, Number.isFinite(threshold) ? threshold : 1) * 1.25 || 1;
    const colour = VERDICT_COLOURS[t.verdict];
    parts.push(text(20, rowY + 13, t.name, 'font-size="12"'));
    parts.push(rect(panel.x, rowY, panel.width, 16, '#f2f2f2'));
    parts.push(rect(panel.x, rowY, (measured / scale) * panel.width, 16, colour));
    if (Number.isFinite(threshold)) {
      const tx = panel.x + (threshold / scale) * panel.width;
      parts.push(line(tx, rowY - 3, tx, rowY + 19, '#000', 2));
    }
    const targetText = t.target === '-' ? '' : `  (${t.target})`;
    parts.push(text(panel.x + panel.width + 12, rowY + 13, `${t.shown}${targetText}  ${t.verdict}`, `font-size="12" fill="${colour}"`));
  });

  const height = panel.y + results.targets.length * panel.row + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
