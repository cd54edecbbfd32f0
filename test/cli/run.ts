import { runTs, type RunResult } from '../support/processes';
import { testDatabaseUrl } from '../support/server';

/** The CLI from its TypeScript source through tsx, as `npm run cli` runs it, on the test database. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runTs('src/cli/index.ts', args, { ...process.env, DATABASE_URL: testDatabaseUrl(), ...env });
}

/** Runs a command with `--json` and parses what it printed; a non-zero exit fails the test. */
export async function cliJson<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const result = await runCli([...args, '--json']);
  if (result.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** The one JSON document a failed `--json` command printed on stderr. */
export function jsonError(result: RunResult): { error: { code: string; message: string } } {
  return JSON.parse(result.stderr) as { error: { code: string; message: string } };
}
