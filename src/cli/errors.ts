import { CommanderError } from 'commander';
import { AppError, type ErrorCode } from '../http/errors';

/** Exit statuses: 1 when a command ran and failed, 2 when it was never run (a usage error). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure a command reports under one of the API's error codes. */
export class CliError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function notFound(message: string): CliError {
  return new CliError('NOT_FOUND', message);
}

// Node's socket errors and PostgreSQL's connection (08), authorization (28), unknown database and
// "cannot connect now" (starting up) states: the database is not there for us, nothing ran.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', '3D000', '57P03']);

function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return UNREACHABLE.has(code) || code.startsWith('08') || code.startsWith('28');
}

/** Wraps an error of connecting (not of a statement) into SERVICE_UNAVAILABLE, as /readyz names it. */
export function connectionFailure(error: unknown): unknown {
  if (!isUnreachable(error)) return error;
  return new CliError('SERVICE_UNAVAILABLE', `database is not reachable: ${(error as Error).message}`);
}

export interface Failure {
  code: ErrorCode;
  message: string;
  exitCode: number;
}

/** Commander's message without its `error: ` prefix, its suggestion on the same line. */
function usageMessage(error: CommanderError): string {
  // A command group run without a subcommand: commander printed the help, its message is a marker.
  if (error.code === 'commander.help') return 'a command is required (see --help)';
  return error.message.replace(/^error: /, '').split('\n').filter(Boolean).join(' ');
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof CommanderError) return { code: 'INVALID_REQUEST', message: usageMessage(error), exitCode: EXIT_USAGE };
  if (error instanceof CliError || error instanceof AppError) return { code: error.code, message: error.message, exitCode: EXIT_FAILURE };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL_ERROR', message, exitCode: EXIT_FAILURE };
}
