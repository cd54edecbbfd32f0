import { AppError } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CursorPayload {
  /** Which list, e.g. `events:<endpoint id>`: a cursor is valid only for the list that issued it. */
  s: string;
  /** The filters the list was read with, canonicalised. */
  f: string;
  /** The id of the last item of the previous page. */
  a: string;
}

/**
 * The page of `rows` (fetched with limit + 1) and the cursor that continues after it. The cursor
 * is given on the last page too (and echoed for an empty one), so a consumer can poll it for items
 * added later; it is null only when there is nothing to continue after.
 */
export function paginate<T extends { id: string }>(
  rows: T[],
  limit: number,
  scope: string,
  filters: unknown,
  cursor: string | undefined,
) {
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  const nextCursor = last ? encodeCursor(scope, filters, last.id) : (cursor ?? null);
  return { page, hasMore, nextCursor };
}

export function encodeCursor(scope: string, filters: unknown, afterId: string): string {
  const payload: CursorPayload = { s: scope, f: JSON.stringify(filters), a: afterId };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The id to continue after, or undefined without a cursor. A cursor of another list or other filters is a 400. */
export function decodeCursor(cursor: string | undefined, scope: string, filters: unknown): string | undefined {
  if (cursor === undefined) return undefined;
  let payload: Partial<CursorPayload>;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorPayload>;
  } catch {
    throw AppError.invalidRequest('cursor is malformed: pass meta.next_cursor exactly as received');
  }
  if (typeof payload !== 'object' || payload === null || typeof payload.a !== 'string' || !UUID.test(payload.a)) {
    throw AppError.invalidRequest('cursor is malformed: pass meta.next_cursor exactly as received');
  }
  if (payload.s !== scope) {
    throw AppError.invalidRequest('cursor belongs to another list: start this list again without a cursor');
  }
  if (payload.f !== JSON.stringify(filters)) {
    throw AppError.invalidRequest('cursor was issued for other filters: send the same filters as the first page');
  }
  return payload.a;
}
