import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, ROOT, waitFor } from '../support/processes';
import { testDatabaseUrl } from '../support/server';
import { runCli } from './run';

const BIN = path.join(ROOT, 'bin', 'pull-events.js');
const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The bin as a user runs it, from elsewhere than the checkout. Needs `npm run build` first. */
function runBin(bin: string, args: string[]) {
  return promisify(execFile)(process.execPath, [bin, ...args], { cwd: os.tmpdir() }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

it('runs the compiled CLI in its own process, never tsx or a child process', () => {
  const code = fs
    .readFileSync(BIN, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\/\/|#!)/.test(line))
    .join('\n');
  expect(code).not.toMatch(/tsx/);
  expect(code).not.toMatch(/child_process|spawn|fork|exec/);
  expect(code).toMatch(/'build', 'src', 'cli', 'index\.js'/);
  expect(code).toMatch(/require\(cli\)\.run\(process\.argv\)/);
});

it("prints package.json's version, from build/ through the bin and from src/ through tsx", async () => {
  expect(fs.existsSync(path.join(ROOT, 'build/src/cli/index.js'))).toBe(true);
  const [bin, ts] = await Promise.all([runBin(BIN, ['--version']), runCli(['--version'])]);
  expect(bin).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  expect(ts).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
});

it('says in one line to run npm run build when there is no build, and exits 1', async () => {
  const checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'pull-events-bin-'));
  try {
    fs.mkdirSync(path.join(checkout, 'bin'));
    fs.copyFileSync(BIN, path.join(checkout, 'bin', 'pull-events.js'));
    const result = await runBin(path.join(checkout, 'bin', 'pull-events.js'), ['project', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('run `npm run build`');
  } finally {
    fs.rmSync(checkout, { recursive: true, force: true });
  }
});

it('serves the API in the bin process itself, which stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: testDatabaseUrl(), PORT: String(port), LOG_LEVEL: 'warn', SWEEP_INTERVAL_MS: '0' };
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: os.tmpdir(), env });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).ok, 60_000, 'pull-events serve');
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${output}`, { cause: error });
  }
  // A wrapper relaying to a child would die of the signal (exit code null) or leave the port open.
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  await expect(fetch(`${baseUrl}/readyz`)).rejects.toThrow();
});
