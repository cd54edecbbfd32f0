/**
 * The results of a run: their shape (bench/results.json), the targets they are held to, the table
 * printed at the end and the chart (bench/results.svg, hand-written SVG).
 */
import type { Measurement } from './load';
import type { Machine } from './setup';

export type Verdict = 'PASS' | 'MISS' | 'N/A' | 'INFO';

export interface TargetCheck {
  name: string;
  measured: number;
  /** The measured value as printed, e.g. "0.84" or "12.3%". */
  shown: string;
  /** The target as printed, e.g. ">= 0.80"; "-" when the figure is reported only. */
  target: string;
  verdict: Verdict;
  note?: string;
}

export interface BenchResults {
  quick: boolean;
  startedAt: string;
  elapsedSec: number;
  machine: Machine;
  settings: {
    durationSec: number;
    warmupSec: number;
    concurrencies: number[];
    poolSize: number;
    idsPerRequest: number;
  };
  /** 1. The whole stack over HTTP, 100 fresh ids per request. */
  service: { runs: Measurement[] };
  /** 2. The same SQL through pg; ratio = best service req/s / best floor req/s. */
  databaseFloor: { runs: Measurement[]; serviceBestRps: number; floorBestRps: number; ratio: number; target: number };
  /** 3. A bare node:http server with a canned answer, against the service on already-deleted ids. */
  httpFloor: {
    responseBytes: number;
    floor: Measurement[];
    serviceAlreadyDeleted: Measurement[];
    ratio: number;
  };
  /** 4. The service with request validation on and off, same workload. */
  validation: { concurrency: number; on: Measurement; off: Measurement; ratioOffOn: number; costPercent: number; targetPercent: number };
  /** 5. Cost of 100 ids against 1, and p50 on a big table against a small one. */
  scaling: {
    oneId: Measurement;
    hundredIds: Measurement;
    costRatio: number;
    targetCostRatio: number;
    smallTable: { rows: number; run: Measurement };
    bigTable: { rows: number; run: Measurement };
    p50Ratio: number;
    targetP50Ratio: number;
    bigTableTargetRows: number;
  };
  /**
   * 6. The service process's RSS: `peakRssMb` is its VmHWM over the heaviest run (reset just before
   * it), or over its whole life where the reset is not permitted (`method` says which).
   */
  memory: {
    peakRssMb: number;
    method: string;
    heaviestRun: string;
    idleRssMb: number;
    lifetimePeakRssMb: number;
    targetMb: number;
    pid: number;
  };
  targets: TargetCheck[];
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function checkTargets(results: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const { databaseFloor, httpFloor, validation, scaling, memory } = results;
  const verdict = (ok: boolean, value: number): Verdict => (Number.isFinite(value) ? (ok ? 'PASS' : 'MISS') : 'N/A');
  const bigEnough = scaling.bigTable.rows >= scaling.bigTableTargetRows;
  return [
    {
      name: 'service / database floor (req/s, best of each)',
      measured: databaseFloor.ratio,
      shown: fixed(databaseFloor.ratio),
      target: `>= ${fixed(databaseFloor.target)}`,
      verdict: verdict(databaseFloor.ratio >= databaseFloor.target, databaseFloor.ratio),
    },
    {
      name: 'service (already deleted) / HTTP floor',
      measured: httpFloor.ratio,
      shown: fixed(httpFloor.ratio),
      target: '-',
      verdict: 'INFO',
    },
    {
      name: `validation cost (throughput lost, ${validation.concurrency} conn)`,
      measured: validation.costPercent,
      shown: `${fixed(validation.costPercent, 1)}%`,
      target: `<= ${validation.targetPercent}%`,
      verdict: verdict(validation.costPercent <= validation.targetPercent, validation.costPercent),
    },
    {
      name: 'per-request cost, 100 ids / 1 id',
      measured: scaling.costRatio,
      shown: `${fixed(scaling.costRatio)}x`,
      target: `<= ${scaling.targetCostRatio}x`,
      verdict: verdict(scaling.costRatio <= scaling.targetCostRatio, scaling.costRatio),
    },
    {
      name: `p50, ${rowsLabel(scaling.bigTable.rows)} rows / ${rowsLabel(scaling.smallTable.rows)} rows`,
      measured: scaling.p50Ratio,
      shown: `${fixed(scaling.p50Ratio)}x`,
      target: `<= ${scaling.targetP50Ratio}x`,
      verdict: bigEnough ? verdict(scaling.p50Ratio <= scaling.targetP50Ratio, scaling.p50Ratio) : 'N/A',
      ...(!bigEnough && { note: `the target needs >= ${rowsLabel(scaling.bigTableTargetRows)} rows` }),
    },
    {
      name: 'service peak RSS, heaviest run',
      measured: memory.peakRssMb,
      shown: `${fixed(memory.peakRssMb, 0)} MB`,
      target: `< ${memory.targetMb} MB`,
      verdict: verdict(memory.peakRssMb < memory.targetMb, memory.peakRssMb),
    },
  ];
}

export function rowsLabel(rows: number): string {
  if (rows >= 1_000_000) return `${fixed(rows / 1_000_000, rows % 1_000_000 === 0 ? 0 : 1)}M`;
  if (rows >= 1_000) return `${Math.round(rows / 1_000)}k`;
  return String(rows);
}

function table(headers: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function runRow(run: Measurement, what = run.label): string[] {
  return [
    what,
    String(run.concurrency),
    String(run.idsPerRequest),
    fixed(run.rps, 0),
    fixed(run.p50Ms),
    fixed(run.p99Ms),
    String(run.requests) + (run.capped ? ' (ids ran out)' : ''),
  ];
}

export function formatReport(results: BenchResults): string {
  const { machine, settings } = results;
  const runs: string[][] = [];
  for (const c of settings.concurrencies) {
    const at = (list: Measurement[]) => list.filter((run) => run.concurrency === c);
    for (const run of at(results.service.runs)) runs.push(runRow(run, 'service, fresh ids'));
    for (const run of at(results.databaseFloor.runs)) runs.push(runRow(run, 'database floor (pg), fresh ids'));
    for (const run of at(results.httpFloor.serviceAlreadyDeleted)) runs.push(runRow(run, 'service, already-deleted ids'));
    for (const run of at(results.httpFloor.floor)) runs.push(runRow(run, `HTTP floor (${results.httpFloor.responseBytes} B answer)`));
  }
  runs.push(runRow(results.validation.on, 'service, validation on'));
  runs.push(runRow(results.validation.off, 'service, validation off'));
  runs.push(runRow(results.scaling.oneId, 'service, 1 fresh id'));
  runs.push(runRow(results.scaling.hundredIds, 'service, 100 fresh ids'));
  runs.push(runRow(results.scaling.smallTable.run, `service, ${rowsLabel(results.scaling.smallTable.rows)}-row table`));
  runs.push(runRow(results.scaling.bigTable.run, `service, ${rowsLabel(results.scaling.bigTable.rows)}-row table`));

  const busy = machine.loadStart >= machine.cores / 2 || machine.loadEnd >= machine.cores;
  return [
    `Benchmark${results.quick ? ' (--quick: short runs, small tables; indicative only)' : ''}, ${results.startedAt}, ${fixed(results.elapsedSec, 0)} s`,
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB; ${machine.platform}`,
    `node ${machine.node}; ${machine.postgres} (${machine.database})`,
    `load average (1 min): ${fixed(machine.loadStart)} at start, ${fixed(machine.loadEnd)} at end${busy ? '  <- the machine was busy: figures are pessimistic' : ''}`,
    `service: DATABASE_POOL_SIZE=${settings.poolSize}, ${settings.durationSec} s per measurement after ${settings.warmupSec} s warm-up`,
    '',
    table(['run', 'conn', 'ids', 'req/s', 'p50 ms', 'p99 ms', 'requests'], runs, [false, true, true, true, true, true, true]),
    '',
    table(
      ['target', 'measured', 'target', 'verdict'],
      results.targets.map((t) => [t.name, t.shown, t.target, t.verdict + (t.note ? ` (${t.note})` : '')]),
      [false, true, true, false],
    ),
    '',
    `service RSS (pid ${results.memory.pid}): ${fixed(results.memory.idleRssMb, 0)} MB once ready, ` +
      `${fixed(results.memory.peakRssMb, 0)} MB peak over the heaviest run (${results.memory.heaviestRun}), ` +
      `${fixed(results.memory.lifetimePeakRssMb, 0)} MB peak over its life; ${results.memory.method}`,
  ].join('\n');
}

// ---- the chart ------------------------------------------------------------------------------

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

const VERDICT_COLOURS: Record<Verdict, string> = { PASS: '#2e7d32', MISS: '#c62828', 'N/A': '#757575', INFO: '#1565c0' };
const BLUE = '#1f77b4';
const ORANGE = '#ff7f0e';
const GREEN = '#2ca02c';
const PURPLE = '#9467bd';

export function renderSvg(results: BenchResults): string {
  const width = 1000;
  const { machine, settings, validation: v, scaling: s } = results;
  const rpsAt = (runs: Measurement[], c: number) => runs.find((run) => run.concurrency === c)?.rps ?? Number.NaN;
  const byConcurrency = (a: Measurement[], b: Measurement[]): Group[] =>
    settings.concurrencies.map((c) => ({ label: `${c} connection${c === 1 ? '' : 's'}`, values: [rpsAt(a, c), rpsAt(b, c)] }));

  const parts: string[] = [
    text(20, 28, `POST …/events/delete-batch benchmark${results.quick ? ' (--quick: indicative only)' : ''}`, 'font-size="18" font-weight="bold"'),
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
  ];

  // Each target as a bar against its threshold (the black tick), coloured by its verdict.
  const panel = { x: 340, y: 650, width: 400, row: 26 };
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
