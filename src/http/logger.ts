import pino, { type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

const OPTIONS: pino.LoggerOptions = {
  base: { service: 'pull-events-api' },
  timestamp: pino.stdTimeFunctions.isoTime,
  // Request lines carry no headers (http/request-log.ts); these paths guard any line that would.
  redact: {
    paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-ingest-token"]', 'req.headers["x-api-key"]', 'headers.authorization'],
    censor: '[redacted]',
  },
};

/**
 * pino-pretty is a development dependency: it is loaded only when asked for, and a production
 * install without it keeps JSON unless LOG_FORMAT=pretty insists.
 */
function prettyStream(required: boolean, destination?: pino.DestinationStream): pino.DestinationStream | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when pretty output is wanted
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pretty({ ...(destination && { destination }), colorize: !destination && Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true });
  } catch (error) {
    if (required) throw new Error('LOG_FORMAT=pretty needs the pino-pretty package (a development dependency): install it, or use LOG_FORMAT=json', { cause: error });
    return undefined;
  }
}

/**
 * The service's logger: JSON lines (to `destination`, else stdout), or readable lines for a person
 * at a terminal. `format` undefined means: pretty when stdout is a terminal, JSON otherwise.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format?: LogFormat): Logger {
  const options = { ...OPTIONS, level };
  const pretty = format === 'pretty' || (format === undefined && !destination && process.stdout.isTTY) ? prettyStream(format === 'pretty', destination) : undefined;
  const stream = pretty ?? destination;
  return stream ? pino(options, stream) : pino(options);
}
