#!/usr/bin/env node
// Builds the service into build/: the Prisma client when its schema changed, then tsc, then the
// client package, then the web console (Vite, into build/console). With --if-stale (`npm start`,
// `npm test`, `npm run bench`) it does nothing when nothing the build reads changed since the last
// build, so starting costs no compile. What was built from is recorded as content hashes (not
// mtimes, which a checkout or a copy rewrites).
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stampFile = path.join(root, 'build/.built-from.json');
const prismaOutput = path.join(root, 'src/db/generated');
/** Everything tsc, the client build and Vite read, beside the Prisma client (hashed on its own). */
const SOURCES = ['src', 'generated', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.client.json', 'scripts/build-client.js', 'console', 'package.json', 'package-lock.json'];

function filesUnder(relative) {
  const full = path.join(root, relative);
  if (!fs.existsSync(full)) return [];
  if (!fs.statSync(full).isDirectory()) return [relative];
  return fs
    .readdirSync(full, { withFileTypes: true })
    .flatMap((entry) => {
      const child = path.join(relative, entry.name);
      if (path.join(root, child) === prismaOutput) return [];
      return entry.isDirectory() ? filesUnder(child) : [child];
    });
}

function hashOf(files) {
  const hash = crypto.createHash('sha256');
  for (const file of [...files].sort()) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** The Prisma CLI's version; undefined in a production install (`--omit=dev`), which cannot build. */
function prismaVersion() {
  try {
    return require(require.resolve('prisma/package.json', { paths: [root] })).version;
  } catch {
    return undefined;
  }
}
const prismaCli = prismaVersion();

const current = {
  prisma: crypto.createHash('sha256').update(fs.readFileSync(path.join(root, 'prisma/schema.prisma'))).update(prismaCli ?? '').digest('hex'),
  sources: hashOf(SOURCES.flatMap(filesUnder)),
};
let recorded = {};
try {
  recorded = JSON.parse(fs.readFileSync(stampFile, 'utf8'));
} catch {
  // Never built, or the stamp is unreadable: build.
}

const built = ['build/src/server.js', 'build/client/package.json', 'build/console/index.html'].every((file) => fs.existsSync(path.join(root, file)));
// Without the Prisma CLI the generated client cannot have changed: the build there is the one to run.
const prismaFresh = (recorded.prisma === current.prisma || !prismaCli) && fs.existsSync(prismaOutput);
if (process.argv.includes('--if-stale') && built && prismaFresh && recorded.sources === current.sources) process.exit(0);

const run = (args, quiet) => {
  try {
    execFileSync(process.execPath, args, { cwd: root, stdio: quiet ? 'pipe' : 'inherit' });
  } catch (error) {
    if (quiet) process.stderr.write(`${error.stdout ?? ''}${error.stderr ?? ''}`);
    process.exit(error.status ?? 1);
  }
};

if (!prismaCli) {
  console.error('cannot build: the development dependencies (prisma, typescript) are not installed; run `npm ci` (without --omit=dev) first');
  process.exit(1);
}
console.error(process.argv.includes('--if-stale') ? 'building build/: sources changed since the last build' : 'building build/');
// Prisma's generate prints a banner on success: shown only when it fails.
if (!prismaFresh) run([path.join(root, 'scripts/prisma-generate.js')], true);
run([require.resolve('typescript/bin/tsc', { paths: [root] }), '-p', path.join(root, 'tsconfig.build.json')], false);
run([path.join(root, 'scripts/build-client.js')], false);
run([path.join(path.dirname(require.resolve('vite/package.json', { paths: [root] })), 'bin/vite.js'), 'build', '--config', path.join(root, 'console/vite.config.mts')], false);
fs.writeFileSync(stampFile, `${JSON.stringify(current, null, 2)}\n`);
