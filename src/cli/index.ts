#!/usr/bin/env node
import { CommanderError, type Command } from 'commander';
import { loadConfig } from '../config';
import { sweep } from '../sweeper/sweeper';
import { withDatabase } from './database';
import { addEndpointAndEventCommands } from './endpoints';
import { describeFailure } from './errors';
import { jsonOption, report, type JsonOption } from './output';
import { createProgram } from './program';
import { addProjectAndKeyCommands } from './projects';

function addServiceCommands(program: Command): void {
  program
    .command('sweep')
    .description('erase payloads of deleted events and expire events past their endpoint retention, once')
    .addOption(jsonOption())
    .action((options: JsonOption) =>
      withDatabase(async (db) => {
        const result = await sweep(db, loadConfig().sweeper);
        const { erased, expired, rejectionsTrimmed, metricsPruned } = result;
        report(options, { erased, expired, rejections_trimmed: rejectionsTrimmed, metrics_pruned: metricsPruned }, [
          `erased ${erased} payloads, expired ${expired} events, trimmed ${rejectionsTrimmed} rejections, pruned ${metricsPruned} metric rows`,
        ]);
      }),
    );
  program
    .command('serve')
    .description('run the service in this process, as `npm start` does (configured by the environment)')
    // The service opens its own database and handles SIGTERM/SIGINT; loaded only when asked for.
    .action(async () => (await import('../server.js')).serve());
}

/** `--json` among the arguments (before a `--`): errors then come out as JSON too, usage errors included. */
function wantsJson(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}

/** Runs the CLI on `argv` (as process.argv: node, script, arguments) and sets the exit status. */
export async function run(argv: string[]): Promise<void> {
  const json = wantsJson(argv.slice(2));
  const program = createProgram(json);
  addProjectAndKeyCommands(program);
  addEndpointAndEventCommands(program);
  addServiceCommands(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    // --help and --version end by throwing too, with status 0 and their output written.
    if (error instanceof CommanderError && error.exitCode === 0) return;
    const failure = describeFailure(error);
    if (json) console.error(JSON.stringify({ error: { code: failure.code, message: failure.message } }));
    // Commander has written its own usage errors (and a hint) already.
    else if (!(error instanceof CommanderError)) console.error(`error: ${failure.message}`);
    process.exitCode = failure.exitCode;
  }
}

if (require.main === module) void run(process.argv);
