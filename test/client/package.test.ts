import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildEndpoint, buildEvents, buildProject } from '../support/factories';
import { ROOT } from '../support/processes';
import { startTestServer, type TestServer } from '../support/server';

// The client as a consumer gets it: `npm pack ./build/client` (made by `npm run build`, which
// `npm test` runs first), installed into an empty project, type-checked and run there.
const run = promisify(execFile);
const PACKAGE = path.join(ROOT, 'build/client');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

let server: TestServer;
let dir: string;
let app: string;
let packed: { filename: string; files: Array<{ path: string }> };
beforeAll(async () => {
  if (!fs.existsSync(path.join(PACKAGE, 'package.json'))) throw new Error('build/client is missing: run `npm run build`');
  server = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-client-'));
  app = path.join(dir, 'app');
  fs.mkdirSync(app);
  const { stdout } = await run('npm', ['pack', PACKAGE, '--pack-destination', dir, '--json'], { cwd: ROOT });
  [packed] = JSON.parse(stdout) as [typeof packed];
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(dir, packed.filename)], { cwd: app });
}, 120_000);
afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The TypeScript block of README.md whose first line is `// <marker>`. */
function readmeBlock(marker: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const found = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.startsWith(`// ${marker}\n`));
  if (found.length !== 1) throw new Error(`README.md has ${found.length} blocks marked // ${marker}`);
  return found[0]!;
}

it('holds the compiled client and its types, and nothing of the server', () => {
  const files = packed.files.map((f) => f.path);
  expect(files.filter((f) => !/^(esm|cjs)\/(src\/client|generated)\/[\w-]+(\.d\.ts|\.js)$|^(esm|cjs)\/package\.json$/.test(f))).toEqual(['package.json']);
  for (const format of ['esm', 'cjs']) {
    expect(files).toEqual(expect.arrayContaining([`${format}/src/client/index.js`, `${format}/src/client/index.d.ts`, `${format}/generated/openapi.d.ts`]));
  }
});

it('installs with openapi-fetch as its only dependency: no Prisma, Express or pg', () => {
  const installed = fs.readdirSync(path.join(app, 'node_modules')).filter((name) => !name.startsWith('.'));
  expect(installed.sort()).toEqual(['openapi-fetch', 'openapi-typescript-helpers', 'pull-events-api']);
  for (const server of ['@prisma', 'express', 'pg']) expect(fs.existsSync(path.join(app, 'node_modules', server))).toBe(false);
});

it("type-checks consumers, the README's included, and runs them with import and with require", async () => {
  const consumer = (format: 'esm' | 'cjs') => `import { PullEventsApiError, createPullEventsClient, type PullEndpoint } from 'pull-events-api/client';

const [baseUrl, apiKey] = process.argv.slice(2) as [string, string];
const client = createPullEventsClient({ baseUrl, apiKey });
// @ts-expect-error: not a path of the API (the types are the generated ones, not any)
void client.GET('/v1/nowhere');

async function main() {
  const names: Array<PullEndpoint['name']> = [];
  for await (const endpoint of client.listEndpoints({ limit: 1 })) names.push(endpoint.name);
  const error = await client.getEvent(crypto.randomUUID(), crypto.randomUUID()).catch((e: unknown) => e);
  const code = error instanceof PullEventsApiError ? error.code : 'not a PullEventsApiError';
  console.log(JSON.stringify({ names, code, resolved: ${format === 'esm' ? "import.meta.resolve('pull-events-api/client')" : "require.resolve('pull-events-api/client')"} }));
}
void main();
`;
  fs.writeFileSync(path.join(app, 'list.mts'), consumer('esm'));
  fs.writeFileSync(path.join(app, 'list.cts'), consumer('cjs'));
  const baseUrlPattern = `'http://localhost:3000'`;
  for (const marker of ['readme-client', 'readme-consume']) {
    const code = readmeBlock(marker);
    if (!code.includes(baseUrlPattern)) throw new Error(`the README's ${marker} no longer connects to ${baseUrlPattern}`);
    fs.writeFileSync(path.join(app, `${marker}.mts`), code.replace(baseUrlPattern, JSON.stringify(server.baseUrl)));
  }
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        lib: ['es2022', 'dom'],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        types: ['node'],
        outDir: 'dist',
      },
      include: ['*.mts', '*.cts'],
    }),
  );
  await run(process.execPath, [TSC, '-p', app], { cwd: app }).catch((error: { stdout: string }) => {
    throw new Error(`tsc failed:\n${error.stdout}`);
  });

  const project = await buildProject(server.db);
  const endpoints = [await buildEndpoint(server.db, project.projectId), await buildEndpoint(server.db, project.projectId)];
  for (const [file, format] of [['list.mjs', 'esm'], ['list.cjs', 'cjs']] as const) {
    const { stdout } = await run(process.execPath, [path.join(app, 'dist', file), server.baseUrl, project.apiKey], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      names: endpoints.map(() => 'test endpoint'),
      code: 'ENDPOINT_NOT_FOUND',
      resolved: expect.stringContaining(`/node_modules/pull-events-api/${format}/src/client/index.js`),
    });
  }

  // The README's list, read, ack and batch-delete, on an endpoint with three events.
  const ids = await buildEvents(server.db, endpoints[0]!, 3);
  const env = { ...process.env, PULL_EVENTS_API_KEY: project.apiKey, PULL_ENDPOINT_ID: endpoints[0] };
  const { stdout } = await run(process.execPath, [path.join(app, 'dist', 'readme-client.mjs')], { cwd: app, env });
  expect(stdout.trim().split('\n').map((line) => line.split(' ')[0])).toEqual(ids);
  const rows = await server.db.pullEvent.findMany({ where: { pullEndpointId: endpoints[0]! }, orderBy: { id: 'asc' } });
  expect(rows.map((r) => [r.status, r.deletedAt !== null])).toEqual(ids.map(() => ['delivered', true]));
}, 60_000);
