import type { RequestHandler } from 'express';
import { operationOf } from '../http/operation';
import type { Telemetry } from './registry';

/** nginx's code for a client that closed the connection before it was answered. */
const CLIENT_CLOSED = '499';

/**
 * Counts and times every request by its operation (the spec's operationId, never the URL: an
 * ingest URL holds its token) and status code, once it is answered or its client went away.
 */
export function requestMetrics({ http }: Telemetry): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      const status = res.writableFinished || res.headersSent ? String(res.statusCode) : CLIENT_CLOSED;
      const labels = { operation: operationOf(req).operationId, status };
      http.requests.inc(labels);
      http.duration.observe(labels, (performance.now() - started) / 1000);
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
