#!/usr/bin/env node
// The `pull-events` command: the compiled CLI, run in this process (no tsx, no child process), so
// that `serve`'s service gets the signals sent to this process and its exit status is ours.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const cli = path.join(root, 'build', 'src', 'cli', 'index.js');
if (!fs.existsSync(cli)) {
  console.error(`pull-events: ${cli} is missing; run \`npm run build\` in ${root} first`);
  process.exit(1);
}
require(cli).run(process.argv);
