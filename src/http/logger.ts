import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
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
  });
}
