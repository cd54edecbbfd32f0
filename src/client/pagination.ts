import type { components } from '../../generated/openapi.js';

export interface Page<T> {
  data: T[];
  meta: components['schemas']['ListMeta'];
}

/**
 * Every item of a cursor-paginated list, page after page: `fetchPage` is called with the previous
 * page's `next_cursor` while `has_more` is true. Pages are fetched only as the loop asks for them.
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  for (;;) {
    const { data, meta } = await fetchPage(cursor);
    yield* data;
    if (!meta.has_more || meta.next_cursor === null) return;
    cursor = meta.next_cursor;
  }
}
