import type { IngestEndpointRow } from './repository';

/**
 * The endpoints recently looked up by token hash, so a steady stream of webhooks costs one SQL
 * statement each instead of two. A cached endpoint may be stale; that is safe because the store
 * statement accepts a webhook only while the endpoint's `config_version` is the one it was
 * checked against, and a refusal is only ever given after a fresh look-up.
 */
export class EndpointCache {
  private readonly entries = new Map<string, { endpoint: IngestEndpointRow; until: number }>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly maxEntries = 10_000,
  ) {}

  get(tokenHash: string, now = Date.now()): IngestEndpointRow | undefined {
    const entry = this.entries.get(tokenHash);
    if (entry && entry.until > now) return entry.endpoint;
    if (entry) this.entries.delete(tokenHash);
    return undefined;
  }

  set(tokenHash: string, endpoint: IngestEndpointRow, now = Date.now()): void {
    this.entries.delete(tokenHash);
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(tokenHash, { endpoint, until: now + this.ttlMs });
  }

  delete(tokenHash: string): void {
    this.entries.delete(tokenHash);
  }
}
