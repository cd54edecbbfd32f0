import { v7 as uuidv7 } from 'uuid';
import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';

const CHUNK = 5000;
const EVENT_TYPES = ['order.created', 'order.paid', 'invoice.sent', 'customer.updated'];

/**
 * Bulk-inserts `count` synthetic `stored` events, one multi-row INSERT per chunk of ids built by
 * unnest(), for demos and benchmarks. Returns the new ids in insertion (and id) order.
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
    const chunk = Array.from({ length: size }, () => uuidv7());
    await db.$executeRaw(Prisma.sql`
      INSERT INTO pull_events (pull_endpoint_id, id, event_type, headers, payload)
      SELECT ${endpointId}::uuid, id,
             (${EVENT_TYPES}::text[])[1 + (ord % ${EVENT_TYPES.length})],
             '{"content-type": "application/json", "user-agent": "pull-events-seed"}'::jsonb,
             jsonb_build_object('id', id, 'seq', ${start}::bigint + ord, 'amount', ord * 7 % 1000)
      FROM unnest(${chunk}::uuid[]) WITH ORDINALITY AS t(id, ord)`);
    ids.push(...chunk);
    onProgress(start + size);
  }
  return ids;
}
