#!/usr/bin/env node
// Builds the client into build/client/, a package of its own: `npm pack ./build/client` makes the
// tarball consumers install. It is not the repository's package because that one is the server:
// installing it would pull in Prisma, Express and pg and run its postinstall. The client is
// compiled twice, as ES modules (bundlers, browsers, `import`) and as CommonJS (`require`, Jest),
// each with its .d.ts; its only dependency is openapi-fetch.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build/client');
const tsc = require.resolve('typescript/bin/tsc');
const manifest = require(path.join(root, 'package.json'));

fs.rmSync(out, { recursive: true, force: true });
const compile = (...args) => execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.client.json'), ...args], { stdio: 'inherit' });
compile('--outDir', path.join(out, 'esm'));
compile('--outDir', path.join(out, 'cjs'), '--module', 'commonjs', '--moduleResolution', 'node10');

const writeJson = (file, value) => fs.writeFileSync(path.join(out, file), `${JSON.stringify(value, null, 2)}\n`);
// Node reads a .js file's module system from the nearest package.json.
writeJson('esm/package.json', { type: 'module' });
writeJson('cjs/package.json', { type: 'commonjs' });
const entry = (format) => ({ types: `./${format}/src/client/index.d.ts`, default: `./${format}/src/client/index.js` });
writeJson('package.json', {
  name: manifest.name,
  version: manifest.version,
  description: 'Typed client for the Pull Events API: retries, timeouts, pagination, batch deletes and workers.',
  license: manifest.license,
  private: true,
  engines: { node: '>=20' },
  sideEffects: false,
  exports: { './client': { import: entry('esm'), require: entry('cjs') } },
  dependencies: { 'openapi-fetch': manifest.dependencies['openapi-fetch'] },
});
