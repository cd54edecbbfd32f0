/**
 * A strict reader of Prometheus's text exposition format (0.0.4), to check what GET /metrics
 * serves independently of prom-client, which writes it and has no parser. It throws on anything
 * Prometheus would refuse: a malformed line, a sample outside its family's TYPE, a family split
 * in two, a series twice, a histogram without its +Inf bucket, _sum and _count, or non-cumulative
 * buckets. (The npm parser parse-prometheus-text-format merges the series of a labelled histogram
 * into one and drops their labels: unusable here.)
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<MetricType, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

function fail(lineNo: number, message: string): never {
  throw new Error(`line ${lineNo}: ${message}`);
}

/** As Go's strconv.ParseFloat reads it, which takes NaN and Inf in any letter case (prom-client writes `Nan`). */
function parseValue(text: string, lineNo: number): number {
  if (/^nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) fail(lineNo, `"${text}" is not a number`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` from `at` (the brace); returns the labels and the index after the closing brace. */
function parseLabels(line: string, at: number, lineNo: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = at + 1;
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) fail(lineNo, 'a label without "="');
    const name = line.slice(i, eq).trim();
    if (!LABEL_NAME.test(name) || name.startsWith('__')) fail(lineNo, `bad label name "${name}"`);
    if (name in labels) fail(lineNo, `label "${name}" twice`);
    if (line[eq + 1] !== '"') fail(lineNo, `label "${name}" is not quoted`);
    let value = '';
    for (i = eq + 2; line[i] !== '"'; i++) {
      if (i >= line.length) fail(lineNo, `label "${name}" is not closed`);
      if (line[i] !== '\\') {
        value += line[i];
        continue;
      }
      const escaped = line[++i];
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else fail(lineNo, `bad escape "\\${escaped}" in label "${name}"`);
    }
    labels[name] = value;
    i += 1;
    if (line[i] === ',') i += 1;
    else if (line[i] !== '}') fail(lineNo, `expected "," or "}" after label "${name}"`);
  }
}

function parseSample(line: string, lineNo: number): Sample {
  const nameEnd = line.search(/[{ \t]/);
  const name = nameEnd < 0 ? line : line.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) fail(lineNo, `bad metric name "${name}"`);
  let labels: Record<string, string> = {};
  let rest = nameEnd < 0 ? '' : line.slice(nameEnd);
  if (rest.startsWith('{')) {
    const [parsed, end] = parseLabels(line, nameEnd, lineNo);
    labels = parsed;
    rest = line.slice(end);
  }
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === '') fail(lineNo, 'expected a value and at most a timestamp');
  if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) fail(lineNo, `bad timestamp "${fields[1]}"`);
  return { name, labels, value: parseValue(fields[0]!, lineNo) };
}

const seriesKey = (sample: Sample) => `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...labels } = sample.labels;
    const key = JSON.stringify(Object.entries(labels).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${sample.name}: a bucket without "le"`);
      entry.buckets.push([parseValue(le, 0), sample.value]);
    } else if (sample.name.endsWith('_sum')) entry.sum = sample.value;
    else entry.count = sample.value;
  }
  for (const [key, { buckets, sum, count }] of series) {
    buckets.sort((a, b) => a[0] - b[0]);
    const last = buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (sum === undefined || count === undefined) throw new Error(`${family.name}${key}: no _sum or _count`);
    if (last[1] !== count) throw new Error(`${family.name}${key}: +Inf bucket ${last[1]} is not _count ${count}`);
    buckets.reduce((previous, [, value]) => {
      if (value < previous) throw new Error(`${family.name}${key}: buckets are not cumulative`);
      return value;
    }, 0);
  }
}

/** The families of an exposition, by name; throws on anything malformed. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  let current: MetricFamily | undefined;
  const family = (name: string, lineNo: number): MetricFamily => {
    if (current?.name === name) return current;
    if (families.has(name)) fail(lineNo, `family ${name} is split`);
    current = { name, type: 'untyped', help: '', samples: [] };
    families.set(name, current);
    return current;
  };
  text.split('\n').forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '') return;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      if (!METRIC_NAME.test(name!)) fail(lineNo, `bad metric name "${name}"`);
      const target = family(name!, lineNo);
      if (kind === 'HELP') target.help = rest.replace(/\\(n|\\)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      else if (target.samples.length > 0 || !TYPES.has(rest.trim())) fail(lineNo, `bad or late TYPE for ${name}`);
      else target.type = rest.trim() as MetricType;
      return;
    }
    if (line.startsWith('#')) return;
    const sample = parseSample(line, lineNo);
    const owner = current && SUFFIXES[current.type].some((suffix) => sample.name === `${current!.name}${suffix}`) ? current : family(sample.name, lineNo);
    if (seen.has(seriesKey(sample))) fail(lineNo, `series ${sample.name} appears twice`);
    seen.add(seriesKey(sample));
    owner.samples.push(sample);
  });
  for (const parsed of families.values()) if (parsed.type === 'histogram') checkHistogram(parsed);
  return families;
}
