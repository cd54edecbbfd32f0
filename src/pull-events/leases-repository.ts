import { Prisma } from '../db/generated/client';
import type { Database } from '../db/prisma';
import { retryTransient } from '../db/retry';
import { addFactsSql, millisBetween } from '../metrics/repository';
import { ackedFacts, EVENT_COLUMNS, type EventFilter, type EventRow } from './repository';

export interface LeasedEventRow extends EventRow {
  lease_id: string;
  lease_expires_at: Date;
}

export interface ReceiveCommand {
  endpointId: string;
  projectId: string;
  maxEvents: number;
  leaseSeconds: number;
  eventType?: string;
}

const receivableSql = Prisma.sql`deleted_at IS NULL AND (lease_expires_at IS NULL OR lease_expires_at <= now())`;

/**
 * One statement that leases up to `maxEvents` receivable events, oldest first, and dead-letters
 * those that reached the endpoint's `max_deliveries` instead.
 *
 * Candidates come from two ordered index scans, `stored` events (the partial stored index) and
 * `fetched` ones not dead-lettered (the partial receivable index), each locked with SKIP LOCKED: a
 * concurrent receive skips the rows this one holds rather than waiting for them, and, as the
 * UPDATE re-reads nothing it did not lock, two receives never lease one event. The oldest
 * `maxEvents` of both are taken; the other candidates are unlocked at commit. Each row answers
 * whether it was leased or dead-lettered (`outcome`), with the event's columns when leased.
 */
export function receiveSql(command: ReceiveCommand) {
  const { endpointId, projectId, maxEvents, leaseSeconds } = command;
  const typeSql = command.eventType !== undefined ? Prisma.sql`AND event_type = ${command.eventType}` : Prisma.empty;
  return Prisma.sql`
    WITH endpoint AS (
      SELECT max_deliveries FROM pull_endpoints
      WHERE id = ${endpointId}::uuid AND project_id = ${projectId}::uuid AND deleted_at IS NULL
    ), fresh AS (
      SELECT id, delivery_count FROM pull_events
      WHERE pull_endpoint_id = ${endpointId}::uuid AND status = 'stored' AND ${receivableSql} ${typeSql}
        AND EXISTS (SELECT 1 FROM endpoint)
      ORDER BY id
      LIMIT ${maxEvents}
      FOR UPDATE SKIP LOCKED
    ), again AS (
      SELECT id, delivery_count FROM pull_events
      WHERE pull_endpoint_id = ${endpointId}::uuid AND status = 'fetched' AND dead_lettered_at IS NULL AND ${receivableSql} ${typeSql}
        AND EXISTS (SELECT 1 FROM endpoint)
      ORDER BY id
      LIMIT ${maxEvents}
      FOR UPDATE SKIP LOCKED
    ), chosen AS (
      SELECT c.id, c.first, c.delivery_count >= coalesce((SELECT max_deliveries FROM endpoint), 2147483647) AS dead
      FROM (SELECT id, delivery_count, true AS first FROM fresh UNION ALL SELECT id, delivery_count, false FROM again) c
      ORDER BY c.id
      LIMIT ${maxEvents}
    ), dead AS (
      UPDATE pull_events SET dead_lettered_at = now(), lease_id = NULL, lease_expires_at = NULL
      WHERE pull_endpoint_id = ${endpointId}::uuid AND id = ANY(ARRAY(SELECT id FROM chosen WHERE dead))
      RETURNING id
    ), leased AS (
      UPDATE pull_events
      SET status = 'fetched', fetched_at = coalesce(fetched_at, now()), delivery_count = delivery_count + 1,
          lease_id = gen_random_uuid(), lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
      WHERE pull_endpoint_id = ${endpointId}::uuid AND id = ANY(ARRAY(SELECT id FROM chosen WHERE NOT dead))
      RETURNING ${EVENT_COLUMNS}, lease_id::text AS lease_id, lease_expires_at
    ), counted AS (${addFactsSql(Prisma.sql`
      SELECT ${endpointId}::uuid AS pull_endpoint_id, ${projectId}::uuid AS project_id, 'fetched' AS kind, l.fetched_at AS at,
             ${millisBetween(Prisma.sql`l.received_at`, Prisma.sql`l.fetched_at`)} AS ms
      FROM leased l JOIN chosen c ON c.id = l.id::uuid WHERE c.first
      UNION ALL
      SELECT ${endpointId}::uuid, ${projectId}::uuid, 'receipt_fetched', l.received_at, NULL::bigint
      FROM leased l JOIN chosen c ON c.id = l.id::uuid WHERE c.first
      UNION ALL
      SELECT ${endpointId}::uuid, ${projectId}::uuid, 'redelivered', now(), NULL::bigint
      FROM chosen WHERE NOT first AND NOT dead`)})
    SELECT found.endpoint_found, (SELECT count(*)::int FROM dead) AS dead_lettered, leased.*
    FROM (SELECT EXISTS (SELECT 1 FROM endpoint) AS endpoint_found) found
    LEFT JOIN leased ON true
    ORDER BY leased.id`;
}

type ReceiveRow = { endpoint_found: boolean; dead_lettered: number } & (LeasedEventRow | { [K in keyof LeasedEventRow]: null });

export interface ReceiveOutcome {
  endpointFound: boolean;
  leased: LeasedEventRow[];
  deadLettered: number;
}

export async function receive(db: Database, command: ReceiveCommand): Promise<ReceiveOutcome> {
  const rows = await retryTransient(() => db.$queryRaw<ReceiveRow[]>(receiveSql(command)));
  return {
    endpointFound: rows[0]?.endpoint_found ?? false,
    leased: rows.filter((row): row is ReceiveRow & LeasedEventRow => row.id !== null),
    deadLettered: rows[0]?.dead_lettered ?? 0,
  };
}

/**
 * When the next event held by a lease or a release's delay becomes receivable, if any: the
 * earliest `lease_expires_at` still ahead among the endpoint's fetched events (the partial
 * receivable index holds only those, so this reads the leases in flight, not the table).
 */
export async function nextLeaseExpiry(db: Database, endpointId: string, eventType: string | undefined): Promise<Date | undefined> {
  const typeSql = eventType !== undefined ? Prisma.sql`AND event_type = ${eventType}` : Prisma.empty;
  const [row] = await db.$queryRaw<{ at: Date | null }[]>`
    SELECT min(lease_expires_at) AS at FROM pull_events
    WHERE pull_endpoint_id = ${endpointId}::uuid AND status = 'fetched' AND deleted_at IS NULL AND dead_lettered_at IS NULL
      AND lease_expires_at > now() ${typeSql}`;
  return row?.at ?? undefined;
}

export type LeaseOperation = { kind: 'ack' } | { kind: 'extend'; leaseSeconds: number } | { kind: 'release'; delaySeconds: number };

/** The lease's state when the operation ran: `current` ones are the ones it changed. */
export type LeaseState = 'current' | 'already_acked' | 'lease_expired' | 'not_found';

export interface LeaseKey {
  eventId: string;
  leaseId: string;
}

function leaseChangeSql(endpointId: string, projectId: string, operation: LeaseOperation) {
  const target = Prisma.sql`pull_endpoint_id = ${endpointId}::uuid AND id = ANY(ARRAY(SELECT event_id FROM judged WHERE state = 'current'))`;
  switch (operation.kind) {
    case 'ack':
      return Prisma.sql`
        changed AS (
          UPDATE pull_events SET status = 'delivered', delivered_at = now()
          WHERE ${target}
          RETURNING id, lease_expires_at, received_at, fetched_at, delivered_at
        ), acked AS (SELECT * FROM changed), counted AS (${ackedFacts(endpointId, projectId)})`;
    case 'extend':
      return Prisma.sql`
        changed AS (
          UPDATE pull_events SET lease_expires_at = now() + make_interval(secs => ${operation.leaseSeconds})
          WHERE ${target}
          RETURNING id, lease_expires_at
        )`;
    case 'release':
      return Prisma.sql`
        changed AS (
          UPDATE pull_events
          SET lease_id = NULL,
              lease_expires_at = CASE WHEN ${operation.delaySeconds}::int > 0 THEN now() + make_interval(secs => ${operation.delaySeconds}) END
          WHERE ${target}
          RETURNING id, lease_expires_at
        )`;
  }
}

/**
 * Acks, extends or releases leases in one statement. The events are locked in id order (racing
 * operations queue rather than deadlock, and each sees what the one before it committed); a lease
 * is current when it is still the event's lease, the event is live and not yet acknowledged, and
 * its time has not run out. Only current leases change.
 */
export function leaseOperationSql(endpointId: string, projectId: string, keys: LeaseKey[], operation: LeaseOperation) {
  const eventIds = keys.map((key) => key.eventId);
  const leaseIds = keys.map((key) => key.leaseId);
  return Prisma.sql`
    WITH endpoint AS (
      SELECT 1 FROM pull_endpoints WHERE id = ${endpointId}::uuid AND project_id = ${projectId}::uuid AND deleted_at IS NULL
    ), locked AS (
      SELECT id, lease_id, lease_expires_at, status, deleted_at FROM pull_events
      WHERE pull_endpoint_id = ${endpointId}::uuid AND id = ANY(${eventIds}::uuid[]) AND EXISTS (SELECT 1 FROM endpoint)
      ORDER BY id
      FOR UPDATE
    ), judged AS (
      SELECT r.event_id, r.lease_id, l.lease_expires_at AS previous_expiry,
             CASE WHEN l.id IS NULL OR l.deleted_at IS NOT NULL THEN 'not_found'
                  WHEN l.lease_id IS DISTINCT FROM r.lease_id THEN 'lease_expired'
                  WHEN l.status = 'delivered' THEN 'already_acked'
                  WHEN l.lease_expires_at <= now() THEN 'lease_expired'
                  ELSE 'current' END AS state
      FROM unnest(${eventIds}::uuid[], ${leaseIds}::uuid[]) AS r(event_id, lease_id)
      LEFT JOIN locked l ON l.id = r.event_id
    ), ${leaseChangeSql(endpointId, projectId, operation)}
    SELECT found.endpoint_found, j.event_id::text AS event_id, j.lease_id::text AS lease_id, j.state, changed.lease_expires_at,
           coalesce(changed.lease_expires_at < j.previous_expiry, false) AS shortened
    FROM (SELECT EXISTS (SELECT 1 FROM endpoint) AS endpoint_found) found
    LEFT JOIN (judged j LEFT JOIN changed ON changed.id = j.event_id AND j.state = 'current') ON true`;
}

export interface LeaseOperationRow {
  event_id: string;
  lease_id: string;
  state: LeaseState;
  /** The lease's new end (extend) or when the event becomes receivable (release with a delay). */
  lease_expires_at: Date | null;
  /** An extend that brought the lease's end forward (a shorter `lease_seconds` than was left). */
  shortened: boolean;
}

export async function changeLeases(
  db: Database,
  scope: { endpointId: string; projectId: string },
  keys: LeaseKey[],
  operation: LeaseOperation,
): Promise<{ endpointFound: boolean; rows: LeaseOperationRow[] }> {
  const sql = leaseOperationSql(scope.endpointId, scope.projectId, keys, operation);
  const result = await retryTransient(() =>
    db.$queryRaw<(Partial<LeaseOperationRow> & { endpoint_found: boolean })[]>(sql),
  );
  return {
    endpointFound: result[0]?.endpoint_found ?? false,
    rows: result.filter((row) => row.event_id) as LeaseOperationRow[],
  };
}

/**
 * Dead letters back to receivable: `dead_lettered_at` cleared, `delivery_count` 0, no lease.
 * One acknowledged meanwhile by event id is done with, not redriven.
 * The given ids, or (`ids` undefined) the oldest; at most `limit`. Returns the ids moved, in id order.
 */
export async function redrive(db: Database, endpointId: string, ids: string[] | undefined, limit: number): Promise<string[]> {
  const rows = await retryTransient(
    () => db.$queryRaw<{ id: string }[]>`
      WITH locked AS (
        SELECT id FROM pull_events
        WHERE pull_endpoint_id = ${endpointId}::uuid AND dead_lettered_at IS NOT NULL AND deleted_at IS NULL
          AND status = 'fetched'
          ${ids ? Prisma.sql`AND id = ANY(${ids}::uuid[])` : Prisma.empty}
        ORDER BY id
        LIMIT ${limit}
        FOR UPDATE
      )
      UPDATE pull_events SET dead_lettered_at = NULL, delivery_count = 0, lease_id = NULL, lease_expires_at = NULL
      WHERE pull_endpoint_id = ${endpointId}::uuid AND id = ANY(ARRAY(SELECT id FROM locked))
      RETURNING id::text AS id`,
  );
  return rows.map((row) => row.id).sort();
}

/**
 * Delivered live events matching `filter` back to `stored`, as if just received: no fetch, ack,
 * lease or dead letter left. Oldest first, at most `limit`; returns the ids moved, in id order.
 * The rollup takes back the receipt facts the first fetch and ack added (events acknowledged before
 * delivered_at existed had none: rebuildFacts counts receipts from fetched_at and delivered_at).
 */
export async function replay(
  db: Database,
  { endpointId, projectId }: { endpointId: string; projectId: string },
  filter: Pick<EventFilter, 'eventType' | 'fromId' | 'toId'>,
  limit: number,
): Promise<string[]> {
  const rows = await retryTransient(
    () => db.$queryRaw<{ id: string }[]>`
      WITH locked AS (
        SELECT id, received_at, fetched_at, delivered_at FROM pull_events
        WHERE pull_endpoint_id = ${endpointId}::uuid AND status = 'delivered' AND deleted_at IS NULL
          ${filter.eventType !== undefined ? Prisma.sql`AND event_type = ${filter.eventType}` : Prisma.empty}
          ${filter.fromId ? Prisma.sql`AND id >= ${filter.fromId}::uuid` : Prisma.empty}
          ${filter.toId ? Prisma.sql`AND id < ${filter.toId}::uuid` : Prisma.empty}
        ORDER BY id
        LIMIT ${limit}
        FOR UPDATE
      )
      , moved AS (
        UPDATE pull_events
        SET status = 'stored', fetched_at = NULL, delivered_at = NULL, delivery_count = 0, dead_lettered_at = NULL,
            lease_id = NULL, lease_expires_at = NULL
        WHERE pull_endpoint_id = ${endpointId}::uuid AND id = ANY(ARRAY(SELECT id FROM locked)) AND status = 'delivered'
        RETURNING id
      ), counted AS (${addFactsSql(Prisma.sql`
        SELECT ${endpointId}::uuid AS pull_endpoint_id, ${projectId}::uuid AS project_id, 'receipt_replayed' AS kind,
               l.received_at AS at, NULL::bigint AS ms
        FROM locked l JOIN moved USING (id) WHERE l.delivered_at IS NOT NULL
        UNION ALL
        SELECT ${endpointId}::uuid, ${projectId}::uuid, 'receipt_replayed_unread', l.received_at, NULL::bigint
        FROM locked l JOIN moved USING (id) WHERE l.delivered_at IS NOT NULL AND l.fetched_at IS NULL`)})
      SELECT id::text AS id FROM moved`,
  );
  return rows.map((row) => row.id).sort();
}
