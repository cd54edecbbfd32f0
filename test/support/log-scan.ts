import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/http/logger';

/**
 * Every secret a test made or was handed (API keys, ingest tokens, HMAC secrets, static tokens),
 * so the logs of every test server can be read for them: no secret may reach a log line.
 */
const secrets = new Set<string>();

export function rememberSecret(...values: (string | undefined)[]): void {
  for (const value of values) if (value) secrets.add(value);
}

/** The service's own logger at debug level, writing into `lines`. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

/** Throws when a log line holds a secret a test remembered; says which kind, never the secret. */
export function expectNoSecretsIn(lines: string[]): void {
  const log = lines.join('');
  const leaked = [...secrets].filter((secret) => log.includes(secret));
  if (leaked.length > 0) {
    throw new Error(`log lines hold ${leaked.length} secret(s), e.g. one starting ${leaked[0]!.slice(0, 6)}...`);
  }
}
