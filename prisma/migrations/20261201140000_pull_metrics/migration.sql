-- pull-metrics reads a rollup, not the events: every transition adds to the counters of the
-- minute, hour and day it happened in (src/metrics/repository.ts), in the statement that makes it,
-- once for its endpoint and once for its project (scope_id is the one or the other: both are
-- UUIDv7s made here, so they never collide; no foreign key, as a scope is either). A project-wide
-- read then costs what one endpoint's does, however many endpoints the project has.
--
-- kind: received, fetched (first fetch; slot = time to fetch), delivered (first ack; slot = time to
-- ack), lifecycle (first ack; sum_ms = received to acknowledged), redelivered (a fetch of an event
-- already fetched), deleted (API or retention), rejected (a webhook the ingest URL refused); and,
-- counted in the bucket the event was RECEIVED in, receipt_fetched (first fetch), receipt_delivered
-- (first ack) and receipt_delivered_unread (first ack of an event never fetched): with `received`
-- they give how many of a bucket's events are now stored, fetched or delivered (HookBridge's
-- timeseries) without reading the events.
-- slot: a latency histogram bucket, 4 per doubling (pull_latency_slot); 0 for counts.
-- shard: the writer's backend pid modulo 4, so concurrent writers to one scope rarely wait on one
-- counter row.
-- Minute rows are kept 26 hours and hour rows 32 days (what the windows read); day rows stay.
CREATE TABLE "pull_event_metrics" (
    "scope_id" UUID NOT NULL,
    "bucket_seconds" INTEGER NOT NULL,
    "bucket_start" TIMESTAMPTZ(3) NOT NULL,
    "kind" TEXT NOT NULL,
    "slot" SMALLINT NOT NULL,
    "shard" SMALLINT NOT NULL,
    "events" BIGINT NOT NULL,
    "sum_ms" BIGINT NOT NULL,

    CONSTRAINT "pull_event_metrics_pkey" PRIMARY KEY ("scope_id", "bucket_seconds", "bucket_start", "kind", "slot", "shard")
);

-- Bucket s holds latencies in [2^(s/4) - 1, 2^((s+1)/4) - 1) ms: about 19% wide, up to 127 (~3 years).
CREATE FUNCTION pull_latency_slot(ms BIGINT) RETURNS SMALLINT
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN least(127, floor(4 * ln(greatest(ms, 0) + 1) / ln(2)))::smallint;

-- What happened before this migration, from the events and the rejections still kept (redeliveries
-- were not recorded; trimmed rejections are gone), within the rows' horizons.
WITH facts AS (
  SELECT e.pull_endpoint_id, 'received' AS kind, e.received_at AS at, NULL::bigint AS ms FROM pull_events e
  UNION ALL
  SELECT e.pull_endpoint_id, 'fetched', e.fetched_at, round(extract(epoch FROM e.fetched_at - e.received_at) * 1000)::bigint
  FROM pull_events e WHERE e.fetched_at IS NOT NULL
  UNION ALL
  SELECT e.pull_endpoint_id, 'delivered', e.delivered_at,
         round(extract(epoch FROM e.delivered_at - coalesce(e.fetched_at, e.received_at)) * 1000)::bigint
  FROM pull_events e WHERE e.delivered_at IS NOT NULL
  UNION ALL
  SELECT e.pull_endpoint_id, 'lifecycle', e.delivered_at, round(extract(epoch FROM e.delivered_at - e.received_at) * 1000)::bigint
  FROM pull_events e WHERE e.delivered_at IS NOT NULL
  UNION ALL
  SELECT e.pull_endpoint_id, 'deleted', e.deleted_at, NULL FROM pull_events e WHERE e.deleted_at IS NOT NULL
  UNION ALL
  SELECT e.pull_endpoint_id, 'receipt_fetched', e.received_at, NULL FROM pull_events e WHERE e.fetched_at IS NOT NULL
  UNION ALL
  SELECT e.pull_endpoint_id, 'receipt_delivered', e.received_at, NULL FROM pull_events e WHERE e.delivered_at IS NOT NULL
  UNION ALL
  SELECT e.pull_endpoint_id, 'receipt_delivered_unread', e.received_at, NULL FROM pull_events e
  WHERE e.delivered_at IS NOT NULL AND e.fetched_at IS NULL
  UNION ALL
  SELECT r.pull_endpoint_id, 'rejected', r.received_at, NULL FROM pull_endpoint_rejections r
)
INSERT INTO pull_event_metrics (scope_id, bucket_seconds, bucket_start, kind, slot, shard, events, sum_ms)
SELECT s.scope_id, g.seconds, to_timestamp(floor(extract(epoch FROM f.at) / g.seconds) * g.seconds), f.kind,
       CASE WHEN f.kind IN ('fetched', 'delivered') THEN pull_latency_slot(greatest(f.ms, 0)) ELSE 0 END, 0,
       count(*), coalesce(sum(greatest(f.ms, 0)), 0)
FROM facts f
JOIN pull_endpoints p ON p.id = f.pull_endpoint_id
CROSS JOIN LATERAL (VALUES (p.id), (p.project_id)) s(scope_id)
CROSS JOIN (VALUES (60, interval '26 hours'), (3600, interval '32 days'), (86400, NULL)) g(seconds, horizon)
WHERE g.horizon IS NULL OR f.at >= now() - g.horizon
GROUP BY 1, 2, 3, 4, 5, 6;
