-- Competing consumers (POST .../events/receive and the lease operations).
--
-- A lease is (lease_id, lease_expires_at) on the event row: receive sets both, ack/extend/release
-- check lease_id, and an event is held while lease_expires_at is in the future. Release clears
-- lease_id and, with a delay, keeps the event held until lease_expires_at. After an ack the
-- lease_id stays, so a repeated ack of the same lease answers `already_acked`.
-- delivery_count counts receives since the event was stored, replayed or redriven;
-- dead_lettered_at is set by a receive that finds delivery_count at the endpoint's max_deliveries.
ALTER TABLE "pull_events"
  ADD COLUMN "lease_id" UUID,
  ADD COLUMN "lease_expires_at" TIMESTAMPTZ(3),
  ADD COLUMN "delivery_count" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "dead_lettered_at" TIMESTAMPTZ(3);

ALTER TABLE "pull_endpoints" ADD COLUMN "max_deliveries" INTEGER;

-- Receive reads `stored` events from pull_events_pull_endpoint_id_status_id_idx, and `fetched`
-- ones that may be receivable from this partial index: dead letters, delivered and deleted events
-- are not in it, so a receive never scans past a pile of them. Ingest writes nothing to it (a
-- new event is `stored`), and neither lease columns nor delivery_count are indexed, so extend and
-- release are HOT updates.
CREATE INDEX "pull_events_receivable_idx" ON "pull_events" ("pull_endpoint_id", "id")
  WHERE "status" = 'fetched' AND "deleted_at" IS NULL AND "dead_lettered_at" IS NULL;

-- Redrive `all` and list/pull-logs with dead_lettered=true read the dead letters from here.
CREATE INDEX "pull_events_dead_letters_idx" ON "pull_events" ("pull_endpoint_id", "id")
  WHERE "dead_lettered_at" IS NOT NULL AND "deleted_at" IS NULL;
