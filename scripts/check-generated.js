#!/usr/bin/env node
// Fails when generated/openapi.ts is not what openapi-typescript makes of openapi.yaml today,
// i.e. someone edited the spec and forgot `npm run generate`.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
// Keep in step with the generate:api script in package.json.
const GENERATE_FLAGS = ['--default-non-nullable', 'false'];
const committed = path.join(root, 'generated', 'openapi.ts');
const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-types-')), 'openapi.ts');
const cli = path.join(path.dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');
const result = spawnSync(process.execPath, [cli, path.join(root, 'openapi.yaml'), '-o', fresh, ...GENERATE_FLAGS], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

const same = fs.existsSync(committed) && fs.readFileSync(committed, 'utf8') === fs.readFileSync(fresh, 'utf8');
fs.rmSync(path.dirname(fresh), { recursive: true, force: true });
if (!same) {
  console.error('generated/openapi.ts is stale: run `npm run generate` and commit the result.');
  process.exit(1);
}
console.log('generated/openapi.ts matches openapi.yaml');
