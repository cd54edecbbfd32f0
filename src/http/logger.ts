import pino, { type Logger } from 'pino';

export type { Logger };

/** The service's logger: JSON lines to `destination` (stdout unless given), credentials redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'pull-events-api' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-ingest-token"]',
        'req.headers["x-api-key"]',
        'req.headers["proxy-authorization"]',
        'res.headers["set-cookie"]',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
