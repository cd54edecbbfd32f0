import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { lockEndpointForInsert } from '../ingest/repository';
import { nextEventId, timeOfEventId } from './ids';

const CHUNK = 5000;
/** After a bulk load this large, statistics are refreshed at once rather than by autovacuum later. */
const ANALYZE_FROM = 10_000;
const EVENT_TYPES = ['order.created', 'order.paid', 'invoice.sent', 'customer.updated'];

/**
 * Bulk-inserts `count` synthetic `stored` events, one multi-row INSERT per chunk of ids built by
 * unnest(), for demos and benchmarks. Ids are handed out under the same endpoint lock as ingest,
 * so they keep growing in commit order. Returns the new ids in id order.
 */
export async function seedEvents(
  db: Database,
  endpointId: string,
  count: number,
  onProgress: (inserted: number) => void = () => undefined,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    const size = Math.min(CHUNK, count - start);
    const chunk = await db.$transaction(async (tx) => {
      const endpoint = await lockEndpointForInsert(tx, endpointId);
      if (!endpoint) throw new Error(`pull endpoint ${endpointId} not found`);
      const chunkIds: string[] = [];
      let last = endpoint.lastId;
      for (let i = 0; i < size; i++) chunkIds.push((last = nextEventId(last)));
      const receivedAt = chunkIds.map((id) => timeOfEventId(id).toISOString());
      await tx.$executeRaw(Prisma.sql`
        INSERT INTO pull_events (pull_endpoint_id, id, event_type, received_at, headers, payload)
        SELECT ${endpointId}::uuid, t.id,
               (${EVENT_TYPES}::text[])[1 + (t.ord % ${EVENT_TYPES.length})],
               t.received_at,
               '{"content-type": "application/json", "user-agent": "pull-events-seed"}'::jsonb,
               jsonb_build_object('id', t.id, 'seq', ${start}::bigint + t.ord, 'amount', t.ord * 7 % 1000)
        FROM unnest(${chunkIds}::uuid[], ${receivedAt}::timestamptz[]) WITH ORDINALITY AS t(id, received_at, ord)`);
      return chunkIds;
    });
    ids.push(...chunk);
    onProgress(start + size);
  }
  // Until ANALYZE has seen the new rows, the planner may scan the whole endpoint for a batch of ids.
  if (count >= ANALYZE_FROM) await db.$executeRaw`ANALYZE pull_events`;
  return ids;
}
