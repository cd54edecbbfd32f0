import type { IncomingMessage, ServerResponse } from 'node:http';

/** The most of a refused body that is read and dropped so that its sender gets the answer. */
export const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * What becomes of the unread rest of a body that is refused (over the limit, an encoding not
 * accepted, a paused endpoint...). A connection closed on bytes it has not read answers them with
 * a TCP reset, and the reset can reach the sender before it has read the answer: it then reports
 * "connection reset" instead of the 413 or 503 it was sent (nginx's lingering close exists for
 * this). So a body that announces at most `limitBytes` is read and dropped, and the connection is
 * kept; a bigger one, or one of unknown length, is not read: the connection closes after the answer.
 */
export function discardUnreadBody(req: IncomingMessage, res: ServerResponse, limitBytes = DISCARD_LIMIT_BYTES): void {
  if (req.complete) return;
  const announced = Number(req.headers['content-length']);
  if (req.headers['transfer-encoding'] === undefined && Number.isSafeInteger(announced) && announced <= limitBytes) {
    req.resume();
  } else {
    res.setHeader('Connection', 'close');
  }
}
