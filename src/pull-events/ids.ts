import { v7 as uuidv7 } from 'uuid';

/**
 * Event ids are UUIDv7: their first 48 bits are the receive time in Unix milliseconds, so id order
 * is receive order, and a time bound is an id bound.
 */
export function timeOfEventId(id: string): Date {
  return new Date(parseInt(id.replaceAll('-', '').slice(0, 12), 16));
}

function format(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The smallest UUIDv7 of millisecond `ms`: every event received at or after `ms` has an id >= it. */
export function lowestEventIdAt(ms: number): string {
  return format(`${ms.toString(16).padStart(12, '0')}7000${'8'}${'0'.repeat(15)}`);
}

/** Milliseconds since the epoch of an RFC 3339 time, rounded up when it has sub-millisecond digits. */
export function ceilMillis(rfc3339: string): number {
  const ms = Date.parse(rfc3339);
  const fraction = /\.(\d+)/.exec(rfc3339)?.[1] ?? '';
  return /[1-9]/.test(fraction.slice(3)) ? ms + 1 : ms;
}

const RAND_B_BITS = 62n;
const RAND_B_MASK = (1n << RAND_B_BITS) - 1n;

/**
 * A new event id greater than `lastId` (the endpoint's newest): a fresh UUIDv7 normally, or
 * `lastId`'s successor when the clock (of this replica) is behind it, so that ids on one endpoint
 * only ever grow in commit order.
 */
export function nextEventId(lastId: string | undefined, now = Date.now()): string {
  const fresh = uuidv7({ msecs: now });
  if (!lastId || fresh > lastId) return fresh;
  const value = BigInt(`0x${lastId.replaceAll('-', '')}`);
  if ((value & RAND_B_MASK) === RAND_B_MASK) {
    return uuidv7({ msecs: timeOfEventId(lastId).getTime() + 1 });
  }
  return format((value + 1n).toString(16).padStart(32, '0'));
}
