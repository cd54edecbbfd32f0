import pg from 'pg';
import type { Logger } from '../http/logger';

/** The PostgreSQL channel; a notification's payload is the endpoint id whose events became receivable. */
export const RECEIVABLE_CHANNEL = 'pull_events_receivable';

const RECONNECT_DELAY_MS = 1000;

/** A waiting receive's registration: `woken` settles when its endpoint may have something for it. */
export interface Ticket {
  readonly woken: Promise<'woken' | 'closed'>;
  cancel(): void;
}

interface Waiter {
  endpointId: string;
  wake(reason: 'woken' | 'closed'): void;
}

/**
 * Long polling's wake-ups. Waiting receives register here and hold no database connection; one
 * `LISTEN` connection per process (when a URL is given) hears that an endpoint's events became
 * receivable on any replica, and `notify` tells every replica, this one at once. Notifications
 * are sent after the change committed, batched: at most one `pg_notify` statement in flight, for
 * every endpoint touched meanwhile. A notification lost (the listening connection dropped, or the
 * process that committed died before notifying) costs a waiter at most its wait, after which the
 * client polls again; on reconnecting, every waiter is woken to look again.
 */
export class Wakeups {
  private readonly waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  private closed = false;
  private client: pg.Client | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private readonly pending = new Set<string>();
  private flushing = false;

  constructor(
    private readonly options: {
      /** The database the LISTEN connection opens; without it, wake-ups stay within this process. */
      listenUrl?: string;
      maxWaiting: number;
      logger?: Logger;
    },
  ) {}

  async start(): Promise<void> {
    if (this.options.listenUrl) await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.listenUrl, application_name: 'pull-events-listen' });
    client.on('notification', (message) => {
      if (message.payload) this.wake(message.payload);
    });
    client.on('error', (error) => {
      this.options.logger?.warn({ err: error }, 'long-polling listener lost its connection; reconnecting');
      this.dropClient(client);
    });
    client.on('end', () => this.dropClient(client));
    await client.connect();
    await client.query(`LISTEN ${RECEIVABLE_CHANNEL}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
  }

  private dropClient(client: pg.Client) {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.closed || this.reconnect) return;
    const retry = () => {
      this.reconnect = undefined;
      if (this.closed) return;
      this.connect()
        .then(() => {
          this.wakeAll('woken');
          if (!this.flushing) this.flush();
        })
        .catch((error: unknown) => {
          this.options.logger?.warn({ err: error }, 'long-polling listener cannot connect; retrying');
          this.reconnect = setTimeout(retry, RECONNECT_DELAY_MS);
        });
    };
    this.reconnect = setTimeout(retry, RECONNECT_DELAY_MS);
  }

  /** Registers a waiter for the endpoint, or answers undefined when the process holds its most (or is stopping). */
  subscribe(endpointId: string): Ticket | undefined {
    if (this.closed || this.count >= this.options.maxWaiting) return undefined;
    let settle!: (reason: 'woken' | 'closed') => void;
    const woken = new Promise<'woken' | 'closed'>((resolve) => (settle = resolve));
    const waiter: Waiter = {
      endpointId,
      wake: (reason) => {
        remove();
        settle(reason);
      },
    };
    let set = this.waiters.get(endpointId);
    if (!set) this.waiters.set(endpointId, (set = new Set()));
    set.add(waiter);
    this.count += 1;
    let removed = false;
    const remove = () => {
      if (removed) return;
      removed = true;
      this.count -= 1;
      const current = this.waiters.get(endpointId);
      current?.delete(waiter);
      if (current?.size === 0) this.waiters.delete(endpointId);
    };
    return { woken, cancel: remove };
  }

  /** How many receives are waiting in this process. */
  get waiting(): number {
    return this.count;
  }

  private wake(endpointId: string, reason: 'woken' | 'closed' = 'woken') {
    const set = this.waiters.get(endpointId);
    if (!set) return;
    for (const waiter of [...set]) waiter.wake(reason);
  }

  private wakeAll(reason: 'woken' | 'closed') {
    for (const endpointId of [...this.waiters.keys()]) this.wake(endpointId, reason);
  }

  /** Events of the endpoint became receivable (committed): wakes its waiters here and on every replica. */
  notify(endpointId: string): void {
    this.wake(endpointId);
    if (!this.options.listenUrl || this.closed) return;
    this.pending.add(endpointId);
    if (!this.flushing) this.flush();
  }

  private flush() {
    const client = this.client;
    if (this.pending.size === 0 || !client) {
      this.flushing = false;
      return;
    }
    this.flushing = true;
    const endpointIds = [...this.pending];
    this.pending.clear();
    client
      .query('SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id', [RECEIVABLE_CHANNEL, endpointIds])
      .catch((error: unknown) => this.options.logger?.warn({ err: error }, 'cannot notify other replicas'))
      .finally(() => this.flush());
  }

  /** Answers every waiter (they answer empty) and refuses new ones; closes the listening connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnect) clearTimeout(this.reconnect);
    this.wakeAll('closed');
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
