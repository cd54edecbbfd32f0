import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { addFactsSql } from '../metrics/repository';
import { nextEventId, timeOfEventId } from './ids';

const CHUNK = 5000;
/** After a bulk load this large, statistics are refreshed at once rather than by autovacuum later. */
const ANALYZE_FROM = 10_000;
const EVENT_TYPES = ['order.created', 'order.paid', 'invoice.sent', 'customer.updated'];

/**
 * Bulk-inserts `count` synthetic `stored` events, one multi-row INSERT per chunk of ids built by
 * unnest(), for demos and benchmarks. Ids continue the endpoint's last_event_id under its row lock, as ingest does,
 * so they keep growing in commit order; they count as received in the metrics rollup. Returns the new ids in id order.
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
      const [endpoint] = await tx.$queryRaw<{ last_event_id: string | null }[]>`
        SELECT last_event_id::text AS last_event_id FROM pull_endpoints WHERE id = ${endpointId}::uuid FOR NO KEY UPDATE`;
      if (!endpoint) throw new Error(`pull endpoint ${endpointId} not found`);
      const chunkIds: string[] = [];
      let last = endpoint.last_event_id ?? undefined;
      for (let i = 0; i < size; i++) chunkIds.push((last = nextEventId(last)));
      const receivedAt = chunkIds.map((id) => timeOfEventId(id).toISOString());
      await tx.$executeRaw(Prisma.sql`
        WITH inserted AS (
        INSERT INTO pull_events (pull_endpoint_id, id, event_type, received_at, headers, payload, content_type,
                                 payload_is_json, size_bytes)
        SELECT ${endpointId}::uuid, t.id,
               (${EVENT_TYPES}::text[])[1 + (t.ord % ${EVENT_TYPES.length})],
               t.received_at,
               '{"content-type": "application/json", "user-agent": "pull-events-seed"}'::jsonb,
               p.payload, 'application/json', true, octet_length(p.payload)
        FROM unnest(${chunkIds}::uuid[], ${receivedAt}::timestamptz[]) WITH ORDINALITY AS t(id, received_at, ord),
             LATERAL (SELECT convert_to(json_build_object('id', t.id, 'seq', ${start}::bigint + t.ord, 'amount', t.ord * 7 % 1000)::text, 'UTF8') AS payload) p
        RETURNING pull_endpoint_id, received_at
        ), counted AS (${addFactsSql(Prisma.sql`
          SELECT i.pull_endpoint_id, e.project_id, 'received' AS kind, i.received_at AS at, NULL::bigint AS ms
          FROM inserted i JOIN pull_endpoints e ON e.id = i.pull_endpoint_id`)})
        SELECT count(*) FROM inserted`);
      await tx.$executeRaw`UPDATE pull_endpoints SET last_event_id = ${last}::uuid WHERE id = ${endpointId}::uuid`;
      return chunkIds;
    });
    ids.push(...chunk);
    onProgress(start + size);
  }
  // Until ANALYZE has seen the new rows, the planner may scan the whole endpoint for a batch of ids.
  if (count >= ANALYZE_FROM) await db.$executeRaw`ANALYZE pull_events`;
  return ids;
}
