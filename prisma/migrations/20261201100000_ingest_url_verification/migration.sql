-- The ingest URL carries the token (`/pull/<token>`), checked by its hash as before, so endpoints
-- created earlier keep working: their existing hash is their token under the new URL form.

-- Event type extraction as HookBridge names it: `body` (dot path) | `header` (name) | null.
ALTER TABLE "pull_endpoints" ADD COLUMN "event_type_path" TEXT;
ALTER TABLE "pull_endpoints" ADD COLUMN "event_type_source_kind" TEXT;
UPDATE "pull_endpoints" SET
  "event_type_source_kind" = CASE WHEN "event_type_source" ? 'header' THEN 'header' ELSE 'body' END,
  "event_type_path" = CASE WHEN "event_type_source" ? 'header' THEN "event_type_source"->>'header'
                           ELSE regexp_replace("event_type_source"->>'json_path', '^\$\.', '') END;
ALTER TABLE "pull_endpoints" DROP COLUMN "event_type_source";
ALTER TABLE "pull_endpoints" RENAME COLUMN "event_type_source_kind" TO "event_type_source";

-- Token rotation: the previous token works until its overlap ends.
ALTER TABLE "pull_endpoints"
  ADD COLUMN "previous_token_hash" CHAR(64),
  ADD COLUMN "previous_token_expires_at" TIMESTAMPTZ(3),
-- Verification options. Secrets: the static token is kept as a SHA-256 hash (it is only compared),
-- the HMAC secret encrypted (AES-256-GCM), since verifying needs it.
  ADD COLUMN "verify_static_token" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "token_header_name" TEXT,
  ADD COLUMN "token_query_param" TEXT,
  ADD COLUMN "token_value_hash" CHAR(64),
  ADD COLUMN "verify_hmac" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "hmac_scheme" TEXT,
  ADD COLUMN "hmac_header_name" TEXT,
  ADD COLUMN "hmac_secret_encrypted" TEXT,
  ADD COLUMN "timestamp_header_name" TEXT,
  ADD COLUMN "timestamp_ttl_seconds" INTEGER,
  ADD COLUMN "verify_ip_allowlist" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "allowed_cidrs" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
  ADD COLUMN "ingest_response_code" INTEGER NOT NULL DEFAULT 202,
  ADD COLUMN "idempotency_header_names" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];

-- The newest event id, kept on the endpoint: one UPDATE both serialises ingests on the endpoint
-- (ids grow in commit order) and hands out the next id, in the statement that inserts the event.
ALTER TABLE "pull_endpoints" ADD COLUMN "last_event_id" UUID;
-- Moved by every change of an endpoint: ingest stores a webhook only under the settings it checked.
ALTER TABLE "pull_endpoints" ADD COLUMN "config_version" INTEGER NOT NULL DEFAULT 0;
UPDATE "pull_endpoints" p SET "last_event_id" =
  (SELECT e."id" FROM "pull_events" e WHERE e."pull_endpoint_id" = p."id" ORDER BY e."id" DESC LIMIT 1);

CREATE INDEX "pull_endpoints_previous_token_hash_idx" ON "pull_endpoints"("previous_token_hash");

-- Exact payloads: the raw bytes, their content type and length. Earlier events were JSON kept as
-- jsonb; their text form is the best that is left of their bytes.
ALTER TABLE "pull_events" ALTER COLUMN "payload" TYPE BYTEA USING convert_to("payload"::text, 'UTF8');
ALTER TABLE "pull_events"
  ADD COLUMN "content_type" TEXT,
  ADD COLUMN "payload_is_json" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "size_bytes" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "query_string" TEXT;
UPDATE "pull_events" SET "content_type" = 'application/json', "payload_is_json" = true,
  "size_bytes" = COALESCE(octet_length("payload"), 0);

-- A webhook whose type could not be read has no type (was 'unknown').
ALTER TABLE "pull_events" ALTER COLUMN "event_type" DROP NOT NULL;
UPDATE "pull_events" SET "event_type" = NULL WHERE "event_type" = 'unknown';

-- Idempotency keys: the primary key makes concurrent duplicates store one event.
CREATE TABLE "pull_event_idempotency_keys" (
    "pull_endpoint_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pull_event_idempotency_keys_pkey" PRIMARY KEY ("pull_endpoint_id","idempotency_key")
);
ALTER TABLE "pull_event_idempotency_keys" ADD CONSTRAINT "pull_event_idempotency_keys_pull_endpoint_id_fkey"
  FOREIGN KEY ("pull_endpoint_id") REFERENCES "pull_endpoints"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Refused webhooks, per endpoint; never their bodies. The sweeper keeps the newest of each.
CREATE TABLE "pull_endpoint_rejections" (
    "pull_endpoint_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source_ip" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "query_string" TEXT,
    "content_type" TEXT,
    "size_bytes" INTEGER,
    "headers" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "pull_endpoint_rejections_pkey" PRIMARY KEY ("pull_endpoint_id","id")
);
ALTER TABLE "pull_endpoint_rejections" ADD CONSTRAINT "pull_endpoint_rejections_pull_endpoint_id_fkey"
  FOREIGN KEY ("pull_endpoint_id") REFERENCES "pull_endpoints"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- HookBridge's endpoints need no name.
ALTER TABLE "pull_endpoints" ALTER COLUMN "name" DROP NOT NULL;
