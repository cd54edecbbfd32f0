-- Receive takes the oldest `stored` events of an endpoint. The primary key (endpoint, id) gives
-- that order too, and when the statistics say most events are `stored` PostgreSQL walks it and
-- filters on status, passing every delivered or deleted event at the head of the queue: 577 ms
-- for a receive behind 150,000 delivered events, against 0.9 ms from this index. It holds only
-- live `stored` events, so it is smaller than the primary key as soon as the statistics see one
-- event in ten delivered or deleted (test/leases/receive-plan.test.ts); with statistics taken
-- while nearly every event was stored (a fresh table before autovacuum's next ANALYZE) the
-- primary key still wins. Ingest adds one entry per event; no later update writes to it, since
-- no other status and no deleted event matches its predicate.
CREATE INDEX "pull_events_stored_idx" ON "pull_events" ("pull_endpoint_id", "id")
  WHERE "status" = 'stored' AND "deleted_at" IS NULL;
