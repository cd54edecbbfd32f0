-- HookBridge's event lifecycle: when an event was first fetched and first acknowledged, and how
-- long ingest took to store it. Events from before are null: those times were not kept.
ALTER TABLE "pull_events"
  ADD COLUMN "fetched_at" TIMESTAMPTZ(3),
  ADD COLUMN "delivered_at" TIMESTAMPTZ(3),
  ADD COLUMN "ingest_processing_ms" INTEGER;
