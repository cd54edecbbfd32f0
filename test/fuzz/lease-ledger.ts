/**
 * Every lease the fuzz saw a receive hand out, and what later answers said of it: what the lease
 * operations' bodies name (lease-ids.ts), and what their answers may say (lease-answers.ts).
 *
 * After each batch `settle` checks the promise leases make: no receive hands an event out while
 * another lease on it is current. Each lease is current from when its receive ran (its
 * `lease_expires_at` less its `lease_seconds`: the database's clock) until it expires, unless a
 * request ended it sooner (an ack, a release, an ack by event id); such a request's send time is a
 * time the lease was still current at, so two leases of one event overlapping by these bounds
 * overlapped for real.
 */
import type { Outcome } from './harness';

export interface Lease {
  id: string;
  endpointId: string;
  eventId: string;
  /** When the receive leased it, in ms (the database's clock). */
  start: number;
  /** When it runs out, as its receive or its last extension answered. */
  expiry: number;
  /** A time it was certainly current until: its expiry, or when a request that may have ended it was sent. */
  end: number;
  /** How an answer of an earlier batch ended it: acked, or dead (released, superseded by a newer lease of its event). */
  ended?: 'acked' | 'dead';
}

/** Two leases' bounds closer than this are let pass: timestamps are stored to the millisecond. */
const SLACK_MS = 5;

/** The operations whose answers say what happened to leases or events (`remember`). */
const HISTORY = ['receivePullEvents', 'ackPullEventLeases', 'extendPullEventLeases', 'releasePullEventLeases', 'ackPullEvents', 'redrivePullEvents', 'replayPullEvents'];

const EFFECTS = [
  'receivePullEvents events',
  'ackPullEventLeases acked',
  'ackPullEventLeases not_found',
  'extendPullEventLeases extended',
  'releasePullEventLeases released',
  'redrivePullEvents moved',
  'replayPullEvents moved',
];

export function endpointOf(outcome: Outcome): string {
  return decodeURIComponent(new URL(outcome.request.target, 'http://localhost').pathname.split('/')[3] ?? '').toLowerCase();
}

export class LeaseLedger {
  private readonly byId = new Map<string, Lease>();
  private readonly byEvent = new Map<string, Lease[]>();
  /** What answers said of each event, for a failure report: the last few, with when they were sent and answered. */
  private readonly history = new Map<string, string[]>();
  /** What the new operations' valid requests achieved, e.g. `ackPullEventLeases acked`: their count. */
  readonly effects = new Map<string, number>();

  lease(id: string): Lease | undefined {
    return this.byId.get(id);
  }

  note(effect: string, count = 1): void {
    if (count > 0) this.effects.set(effect, (this.effects.get(effect) ?? 0) + count);
  }

  /** What the new operations' valid requests are for and none achieved yet: real leases, dead letters, deliveries. */
  missingEffects(): string[] {
    return EFFECTS.filter((effect) => !this.effects.has(effect));
  }

  /** Every lease seen, oldest first. */
  all(): Lease[] {
    return [...this.byId.values()];
  }

  /** Notes a lease a receive answered (in `settle`, once the whole batch is known). */
  private add(lease: Lease): void {
    this.byId.set(lease.id, lease);
    this.byEvent.set(lease.eventId, [...(this.byEvent.get(lease.eventId) ?? []), lease]);
  }

  /**
   * Takes in a checked batch: new leases, extended ones' new ends, leases ended by an ack, a
   * release or an ack by event id; then throws if two leases of one event overlapped.
   */
  settle(outcomes: Outcome[]): void {
    const relevant = (o: Outcome) => HISTORY.includes(o.request.operation.operationId);
    const answered = outcomes.filter((o) => o.status === 200 && o.request.kind === 'valid' && relevant(o)).map((outcome) => ({
      outcome,
      operationId: outcome.request.operation.operationId,
      request: JSON.parse(outcome.request.body?.toString('utf8') || '{}') as Record<string, unknown>,
      data: (JSON.parse(outcome.text) as { data: Record<string, unknown> }).data,
    }));
    const touched = new Set<string>();
    const extended = new Map<string, number>();
    const endings: { leases: () => Lease[]; sentAt: number; ends?: 'acked' | 'dead' }[] = [];
    const successes: { lease: Lease; outcome: Outcome; result: string }[] = [];
    for (const { outcome, operationId, request, data } of answered) {
      this.remember(outcome, operationId, request, data);
      if (operationId === 'receivePullEvents') {
        const seconds = (request.lease_seconds as number | undefined) ?? 30;
        for (const event of data.events as { id: string; lease_id: string; lease_expires_at: string }[]) {
          const end = Date.parse(event.lease_expires_at);
          this.add({ id: event.lease_id, endpointId: endpointOf(outcome), eventId: event.id.toLowerCase(), start: end - seconds * 1000, expiry: end, end });
          touched.add(event.id.toLowerCase());
        }
      } else if (operationId === 'ackPullEvents' && (data.acknowledged as number) > 0) {
        const ids = (request.event_ids as string[]).map((id) => id.toLowerCase());
        // Resolved once the batch's receives are in: one of them may have leased the event first.
        endings.push({ leases: () => ids.flatMap((id) => this.byEvent.get(id) ?? []), sentAt: outcome.sentAt });
      } else if (operationId.endsWith('PullEventLeases')) {
        for (const result of data.results as { lease_id: string; outcome: string; lease_expires_at?: string }[]) {
          const lease = this.byId.get(result.lease_id);
          if (!lease) continue;
          if (['acked', 'extended', 'released'].includes(result.outcome)) successes.push({ lease, outcome, result: result.outcome });
          if (result.outcome === 'extended') extended.set(lease.id, Math.min(extended.get(lease.id) ?? Infinity, Date.parse(result.lease_expires_at!)));
          if (result.outcome === 'acked') endings.push({ leases: () => [lease], sentAt: outcome.sentAt, ends: 'acked' });
          if (result.outcome === 'released') endings.push({ leases: () => [lease], sentAt: outcome.sentAt, ends: 'dead' });
        }
      }
    }
    // Sent after the lease ran out, unless an extension of this batch may have come first.
    for (const { lease, outcome, result } of successes) {
      if (!extended.has(lease.id) && outcome.sentAt > lease.expiry + SLACK_MS) {
        throw new Error(
          `${outcome.request.operation.key} answered ${result} for lease ${lease.id}, which ran out at ${new Date(lease.expiry).toISOString()}, ` +
            `before the request was sent (${new Date(outcome.sentAt).toISOString()})\n${outcome.request.method} ${outcome.request.target}`,
        );
      }
    }
    // An extension answered proves the lease current until its new end (the smaller, if two
    // raced); a request that may have ended it, in this batch too, was sent while it was current.
    for (const [id, end] of extended) {
      const lease = this.byId.get(id)!;
      lease.expiry = end;
      lease.end = end;
    }
    for (const { leases, sentAt, ends } of endings) {
      for (const lease of leases()) {
        lease.end = Math.min(lease.end, sentAt);
        if (ends && lease.ended !== 'dead') lease.ended = ends;
      }
    }
    for (const eventId of touched) this.checkDisjoint(this.byEvent.get(eventId)!);
  }

  private remember(outcome: Outcome, operationId: string, request: Record<string, unknown>, data: Record<string, unknown>): void {
    const when = `${new Date(outcome.sentAt).toISOString()}..${new Date(outcome.answeredAt).toISOString().slice(11)}`;
    const said: [string, string][] =
      operationId === 'receivePullEvents'
        ? (data.events as { id: string; lease_id: string; lease_expires_at: string }[]).map((e) => [e.id, `leased ${e.lease_id} until ${e.lease_expires_at}`])
        : operationId.endsWith('PullEventLeases')
          ? (data.results as { event_id?: string; lease_id: string; outcome: string; lease_expires_at?: string }[])
              .filter((r) => r.event_id !== undefined)
              .map((r) => [r.event_id!, `${r.lease_id} ${r.outcome}${r.lease_expires_at ? ` until ${r.lease_expires_at}` : ''}`])
          : operationId === 'ackPullEvents'
            ? (request.event_ids as string[]).map((id) => [id, `acked by id (${String(data.acknowledged)} acknowledged)`])
            : ((data.redriven_event_ids ?? data.replayed_event_ids) as string[]).map((id) => [id, 'moved']);
    for (const [eventId, what] of said) {
      const id = eventId.toLowerCase();
      this.history.set(id, [...(this.history.get(id) ?? []).slice(-11), `${when} ${operationId}: ${what}`]);
    }
  }

  /** Throws if two of an event's leases were current at once; marks all but the newest dead. */
  private checkDisjoint(leases: Lease[]): void {
    const ordered = [...leases].sort((a, b) => a.start - b.start);
    for (let i = 1; i < ordered.length; i++) {
      const [before, after] = [ordered[i - 1]!, ordered[i]!];
      if (after.start < before.end - SLACK_MS) {
        const show = (l: Lease) => `lease ${l.id} from ${new Date(l.start).toISOString()} until at least ${new Date(l.end).toISOString()}`;
        const history = (this.history.get(after.eventId) ?? []).join('\n    ');
        throw new Error(
          `receive handed out event ${after.eventId} of endpoint ${after.endpointId} again while a lease on it was current:\n  ${show(before)}\n  ${show(after)}\n  what the answers said of it:\n    ${history}`,
        );
      }
      before.ended = 'dead';
    }
  }
}
