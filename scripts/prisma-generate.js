#!/usr/bin/env node
// `prisma generate` needs no schema engine, but Prisma 7's CLI tries to download one unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file. Where the engine cannot be downloaded
// (offline machines, CI without egress), point it at this script: generate never runs it.
const { spawnSync } = require('node:child_process');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= __filename;
env.PRISMA_HIDE_UPDATE_MESSAGE ??= '1';
const prismaCli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate', ...process.argv.slice(2)], {
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
