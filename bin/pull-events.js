#!/usr/bin/env node
// The `pull-events` command: runs the TypeScript CLI through tsx, wherever it is called from.
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const tsx = require.resolve('tsx/cli', { paths: [__dirname] });
const cli = path.join(__dirname, '..', 'src', 'cli', 'index.ts');
const result = spawnSync(process.execPath, [tsx, cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
