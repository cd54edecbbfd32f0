import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { nextEventId, timeOfEventId } from '../pull-events/ids';

type Transaction = Prisma.TransactionClient;

export interface NewEvent {
  eventType: string;
  headers: Record<string, string>;
  payload: unknown;
}

export type StoreOutcome = { stored: true; id: string; receivedAt: Date } | { stored: false; reason: 'paused' | 'gone' };

/**
 * Locks the endpoint row for this transaction (FOR NO KEY UPDATE: ingests on one endpoint queue,
 * as do pause and delete) and returns its newest event id. Ids handed out under this lock grow in
 * commit order, so a reader paging by id never skips an event committed after its page.
 */
export async function lockEndpointForInsert(tx: Transaction, endpointId: string) {
  const [endpoint] = await tx.$queryRaw<{ paused: boolean }[]>`
    SELECT paused_at IS NOT NULL AS paused FROM pull_endpoints
    WHERE id = ${endpointId}::uuid AND deleted_at IS NULL
    FOR NO KEY UPDATE`;
  if (!endpoint) return undefined;
  const [last] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM pull_events WHERE pull_endpoint_id = ${endpointId}::uuid
    ORDER BY pull_events.id DESC LIMIT 1`;
  return { paused: endpoint.paused, lastId: last?.id };
}

/** Stores one webhook as a `stored` event, unless the endpoint is paused or gone. */
export async function storeEvent(db: Database, endpointId: string, event: NewEvent): Promise<StoreOutcome> {
  return db.$transaction(async (tx) => {
    const endpoint = await lockEndpointForInsert(tx, endpointId);
    if (!endpoint) return { stored: false, reason: 'gone' };
    if (endpoint.paused) return { stored: false, reason: 'paused' };
    const id = nextEventId(endpoint.lastId);
    const receivedAt = timeOfEventId(id);
    await tx.$executeRaw`
      INSERT INTO pull_events (pull_endpoint_id, id, event_type, received_at, headers, payload)
      VALUES (${endpointId}::uuid, ${id}::uuid, ${event.eventType}, ${receivedAt},
              ${JSON.stringify(event.headers)}::jsonb, ${JSON.stringify(event.payload)}::jsonb)`;
    return { stored: true, id, receivedAt };
  });
}
