-- What a batch delete costs PostgreSQL. Setting deleted_at can never be a HOT update (the column is
-- in the sweeper's index and in the partial indexes' predicates), so each deleted event adds an
-- entry to every index whose predicate its new version still matches. Measured per 100-id
-- delete-batch at 32 connections (bench), against the same statement on a copy of the table with
-- its primary key alone: 5.0 ms of PostgreSQL CPU against 3.2 before this migration, 3.6-3.7
-- against 3.1 after it.

-- deleted_by_api_key_id is an audit record. API keys are revoked, never deleted, so the foreign key
-- guarded nothing, yet checked every deleted row (a KEY SHARE lock on the key's row, shared by
-- every concurrent delete); its index served only that foreign key. The column stays.
ALTER TABLE "pull_events" DROP CONSTRAINT "pull_events_deleted_by_api_key_id_fkey";
DROP INDEX "pull_events_deleted_by_api_key_id_idx";

-- Lists by status read live events. Deleted ones leave this index with their delete instead of
-- gaining an entry; a list with include_deleted=true and a status walks the primary key instead.
DROP INDEX "pull_events_pull_endpoint_id_status_id_idx";
CREATE INDEX "pull_events_live_status_idx" ON "pull_events" ("pull_endpoint_id", "status", "id")
  WHERE "deleted_at" IS NULL;

-- Room on each page for the new version of an updated row: lease extends and releases (no indexed
-- column changes) stay HOT, and other updates mostly write the page they read. Applies to pages
-- written from now on; a partitioned table (src/db/partition.ts) keeps it on each partition.
DO $$
DECLARE
  part regclass;
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = 'pull_events'::regclass) = 'p' THEN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'pull_events'::regclass LOOP
      EXECUTE format('ALTER TABLE %s SET (fillfactor = 85)', part);
    END LOOP;
  ELSE
    ALTER TABLE "pull_events" SET (fillfactor = 85);
  END IF;
END $$;
