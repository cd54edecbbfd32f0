import { defineConfig } from 'prisma/config';

// DATABASE_URL is only needed by Prisma's migrate commands (`prisma migrate deploy`, where the
// Prisma schema engine can be downloaded); `prisma generate` runs without it.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
