-- AlterTable
ALTER TABLE "pull_endpoints" ADD COLUMN     "description" TEXT,
ADD COLUMN     "retention_days" INTEGER,
ADD COLUMN     "event_type_source" JSONB NOT NULL DEFAULT '{"header": "X-Event-Type"}',
ADD COLUMN     "secret_token_hash" CHAR(64),
ADD COLUMN     "paused_at" TIMESTAMPTZ(3),
ADD COLUMN     "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Endpoints created before ingest existed get a token nobody knows; ingest stays closed to them.
UPDATE "pull_endpoints" SET "secret_token_hash" = encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex');
ALTER TABLE "pull_endpoints" ALTER COLUMN "secret_token_hash" SET NOT NULL;

-- AlterTable
ALTER TABLE "pull_events" ADD COLUMN     "payload_erased_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE UNIQUE INDEX "pull_endpoints_secret_token_hash_key" ON "pull_endpoints"("secret_token_hash");

-- CreateIndex
CREATE INDEX "pull_events_sweep_idx" ON "pull_events"("pull_endpoint_id", "payload_erased_at", "deleted_at", "id");
