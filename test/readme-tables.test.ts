import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/processes';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The rows of the first table in README.md's `## <title>` section, as cells without backticks. */
function tableRows(title: string): string[][] {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  if (!section) throw new Error(`README.md has no "## ${title}" section`);
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  return lines.slice(2).map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, '')));
}

interface Spec {
  paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components: { schemas: { ErrorCode: { enum: string[] } } };
}
const spec = parse(fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8')) as Spec;

it('lists every error code of openapi.yaml in the README errors table', () => {
  const codes = new Set(tableRows('Errors').map((row) => row[1]));
  const missing = spec.components.schemas.ErrorCode.enum.filter((code) => !codes.has(code));
  expect(missing).toEqual([]);
});

it('lists every error status an operation declares in the README errors table', () => {
  const statuses = new Set(tableRows('Errors').map((row) => row[0]));
  const declared = new Set(
    Object.values(spec.paths)
      .flatMap((item) => Object.values(item))
      .flatMap((operation) => Object.keys(operation.responses ?? {}))
      .filter((status) => Number(status) >= 400),
  );
  expect([...declared].filter((status) => !statuses.has(status))).toEqual([]);
});

it('documents every environment variable the service reads in the README configuration table', () => {
  const source = fs.readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
  const read = new Set([...source.matchAll(/process\.env\.([A-Z0-9_]+)|(?:intFromEnv|oneOf)\('([A-Z0-9_]+)'/g)].map((m) => m[1] ?? m[2]!));
  // Anything read elsewhere in the service would escape this check: it must go through config.ts.
  const elsewhere = fs
    .readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && file !== 'config.ts' && !file.startsWith('db/generated') && !file.startsWith('client'))
    .filter((file) => /process\.env\b/.test(fs.readFileSync(path.join(ROOT, 'src', file), 'utf8')));
  expect(elsewhere).toEqual([]);
  expect(read.size).toBeGreaterThan(20);
  const documented = new Set(tableRows('Configuration').map((row) => row[0]));
  expect([...read].filter((name) => !documented.has(name))).toEqual([]);
});
