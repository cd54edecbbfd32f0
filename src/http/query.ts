import querystring from 'node:querystring';

// A time with a `+hh:mm` offset written into a URL unencoded reaches the query parser as
// `...T00:00:00 01:00`: form encoding reads `+` as a space. No date-time has a space there.
const OFFSET_READ_AS_SPACE = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?) (\d{2}(?::?\d{2})?)$/;

/**
 * Express's "simple" query parser (node:querystring), except that a date-time whose `+` offset
 * was sent unencoded (`since=2026-03-01T00:00:00+01:00`, as people type it) keeps its `+`.
 */
export function parseQuery(search: string): querystring.ParsedUrlQuery {
  const query = querystring.parse(search);
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') continue;
    const offset = OFFSET_READ_AS_SPACE.exec(value);
    if (offset) query[name] = `${offset[1]}+${offset[2]}`;
  }
  return query;
}
