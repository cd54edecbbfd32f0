-- CreateEnum
CREATE TYPE "pull_event_status" AS ENUM ('stored', 'fetched', 'delivered');

-- CreateTable
CREATE TABLE "projects" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "key_hash" CHAR(64) NOT NULL,
    "key_prefix" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pull_endpoints" (
    "id" UUID NOT NULL,
    "project_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "pull_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pull_events" (
    "pull_endpoint_id" UUID NOT NULL,
    "id" UUID NOT NULL,
    "event_type" TEXT NOT NULL,
    "status" "pull_event_status" NOT NULL DEFAULT 'stored',
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "payload" JSONB,
    "deleted_at" TIMESTAMPTZ(3),
    "deleted_by_api_key_id" UUID,

    CONSTRAINT "pull_events_pkey" PRIMARY KEY ("pull_endpoint_id","id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_prefix_key" ON "api_keys"("key_prefix");

-- CreateIndex
CREATE INDEX "api_keys_project_id_idx" ON "api_keys"("project_id");

-- CreateIndex
CREATE INDEX "pull_endpoints_project_id_id_idx" ON "pull_endpoints"("project_id", "id");

-- CreateIndex
CREATE INDEX "pull_events_pull_endpoint_id_status_id_idx" ON "pull_events"("pull_endpoint_id", "status", "id");

-- CreateIndex
CREATE INDEX "pull_events_deleted_by_api_key_id_idx" ON "pull_events"("deleted_by_api_key_id");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pull_endpoints" ADD CONSTRAINT "pull_endpoints_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pull_events" ADD CONSTRAINT "pull_events_pull_endpoint_id_fkey" FOREIGN KEY ("pull_endpoint_id") REFERENCES "pull_endpoints"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pull_events" ADD CONSTRAINT "pull_events_deleted_by_api_key_id_fkey" FOREIGN KEY ("deleted_by_api_key_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;
