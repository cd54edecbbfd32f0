import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PROJECT_ROOT } from '../paths';
import { addDatabaseCommands } from './database';

/** Read at run time: the same file whether this runs from src/ (tsx) or build/src/. */
function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Options a command needs, checked in the preAction hook rather than by commander's
 * requiredOption: commander checks mandatory options before unknown ones, so a misspelt
 * `--projct x` would read as "required option '--project <id>' not specified" and never reach
 * the unknown-option error with its "Did you mean --project?". preAction runs after that check.
 */
const requiredOptions = new WeakSet<Option>();

export function required(flags: string, description: string, parse?: (value: string) => unknown): Option {
  const option = new Option(flags, `${description} (required)`);
  if (parse) option.argParser(parse);
  requiredOptions.add(option);
  return option;
}

function checkRequired(command: Command): void {
  for (const option of command.options) {
    if (requiredOptions.has(option) && command.getOptionValue(option.attributeName()) === undefined) {
      command.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function uuid(value: string): string {
  if (!UUID.test(value)) throw new InvalidArgumentError('must be a UUID');
  return value.toLowerCase();
}

/**
 * The root command. Commander throws instead of exiting (the caller reports and sets the exit
 * status); with `jsonErrors` it writes nothing to stderr, so that the caller's JSON error is the
 * only document there. Subcommands inherit these settings when `.command()` makes them.
 */
export function createProgram(jsonErrors: boolean): Command {
  const program = new Command('pull-events')
    .description('Administer the pull events service: projects, API keys, endpoints, demo data; or run it.')
    .version(packageVersion())
    .exitOverride()
    .showSuggestionAfterError()
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (_program, actionCommand) => checkRequired(actionCommand));
  if (jsonErrors) program.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  addDatabaseCommands(program);
  return program;
}
