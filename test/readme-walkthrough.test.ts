import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrismaClient } from '../src/db/prisma';
import { buildProject } from './support/factories';
import { ROOT, runProcess, startService, type ServiceProcess } from './support/processes';
import { testDatabaseUrl } from './support/server';

const db = createPrismaClient(testDatabaseUrl());
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-walkthrough-'));
let service: ServiceProcess;

beforeAll(async () => {
  service = await startService(testDatabaseUrl());
});
afterAll(async () => {
  await service.stop();
  await db.$disconnect();
  fs.rmSync(workDir, { recursive: true, force: true });
});

/** The shell blocks of README.md's curl walkthrough, in order. */
function walkthrough(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### A walk through the API with curl');
  const end = readme.indexOf('The batch delete answers:', start);
  if (start < 0 || end < 0) throw new Error('README.md has lost its curl walkthrough');
  return [...readme.slice(start, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join('\n');
}

it('answers every call of the README walkthrough with the status its comment promises', async () => {
  const { apiKey } = await buildProject(db);
  let script = walkthrough();
  for (const line of ['KEY=$(cat .data/dev-api-key)', 'API=http://localhost:3000']) expect(script).toContain(line);
  script = script
    .replace('KEY=$(cat .data/dev-api-key)', `KEY=${apiKey}`)
    .replace('API=http://localhost:3000', `API=${service.baseUrl}`)
    .replaceAll('/tmp/', `${workDir}/`)
    // `# -> 202` after a call becomes a line saying what was promised, printed after each call's status.
    .replace(/^(.*?)\s+#\s*->\s*(\d{3})\b.*$/gm, '$1; echo "promised $2"');

  const { code, stdout, stderr } = await runProcess('bash', ['-c', script], { cwd: workDir });

  expect(stderr).toBe('');
  expect(code).toBe(0);
  const lines = stdout.split('\n');
  const pairs = lines.flatMap((line, i) => (line.startsWith('promised ') ? [{ promised: line.slice(9), got: lines[i - 1] }] : []));
  expect(pairs.length).toBeGreaterThanOrEqual(25);
  expect(lines.filter((line) => /^-> \d{3}$/.test(line))).toHaveLength(pairs.length);
  expect(pairs.filter(({ promised, got }) => got !== `-> ${promised}`)).toEqual([]);
  expect(new Set(pairs.map(({ promised }) => promised))).toEqual(new Set(['200', '201', '202', '400', '401', '404', '410']));
});
