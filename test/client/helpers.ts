import net from 'node:net';
import type { Fetch } from '../../src/client/transport';

export interface Attempt {
  method: string;
  path: string;
  /** The answer's status, or what the attempt ended with instead of one. */
  outcome: number | 'pending' | 'aborted' | 'failed';
}

/** The global fetch, with every attempt the client makes recorded. */
export function recordingFetch(send: Fetch = (request) => fetch(request)) {
  const attempts: Attempt[] = [];
  const record: Fetch = async (input, init) => {
    const request = new Request(input, init);
    const attempt: Attempt = { method: request.method, path: new URL(request.url).pathname, outcome: 'pending' };
    attempts.push(attempt);
    try {
      const response = await send(request);
      attempt.outcome = response.status;
      return response;
    } catch (error) {
      attempt.outcome = request.signal.aborted ? 'aborted' : 'failed';
      throw error;
    }
  };
  return { fetch: record, attempts, outcomes: () => attempts.map((a) => a.outcome) };
}

/** A TCP server that accepts connections and never answers on them. */
export async function silentServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A TCP proxy in front of `target` (host:port) that can be paused: paused, it drops every
 * connection through it and refuses new ones, as a database that went away would.
 */
export async function pausableProxy(target: { host: string; port: number }) {
  const pairs = new Set<net.Socket>();
  let paused = false;
  const server = net.createServer((client) => {
    if (paused) return client.destroy();
    const upstream = net.connect(target.port, target.host);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      pairs.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        pairs.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    pause() {
      paused = true;
      for (const socket of pairs) socket.destroy();
    },
    resume() {
      paused = false;
    },
    async close() {
      paused = true;
      for (const socket of pairs) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
