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

const MAX_MS = 2 ** 48 - 1;

/**
 * The smallest UUIDv7 of millisecond `ms`: every event received at or after `ms` has an id >= it.
 * Times outside UUIDv7's range (before 1970, after year 10889) are clamped to its ends.
 */
export function lowestEventIdAt(ms: number): string {
  const clamped = Math.min(Math.max(Math.floor(ms), 0), MAX_MS);
  return format(`${clamped.toString(16).padStart(12, '0')}7000${'8'}${'0'.repeat(15)}`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

const DAY_MS = 86_400_000;
/** The Gregorian calendar repeats every 400 years, 146,097 days. */
const FOUR_CENTURIES_MS = 146_097 * DAY_MS;

/** An RFC 3339 time as whole milliseconds since the epoch and the digits past the millisecond. */
function instantOf(rfc3339: string): { ms: number; subMillis: string } | undefined {
  const match = RFC3339.exec(rfc3339);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zulu, sign, offsetHours, offsetMinutes = '0'] = match;
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  // Date.UTC reads years 0-99 as 1900-1999: those are computed four centuries on, then moved back.
  // A leap second (:60) counts as the first millisecond after :59.999, which Date.UTC gives.
  const shifted = Number(year) < 100;
  let time = Date.UTC(Number(year) + (shifted ? 400 : 0), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), ms);
  if (shifted) time -= FOUR_CENTURIES_MS;
  if (!zulu) time -= (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return Number.isFinite(time) ? { ms: time, subMillis: fraction.slice(3).replace(/0+$/, '') } : undefined;
}

/**
 * Milliseconds since the epoch of an RFC 3339 time (as the contract's date-time format accepts
 * it, leap seconds and `+hh` offsets included), rounded up when it has sub-millisecond digits;
 * undefined when it is not one.
 */
export function ceilMillis(rfc3339: string): number | undefined {
  const instant = instantOf(rfc3339);
  if (!instant) return undefined;
  return instant.ms + (instant.subMillis === '' ? 0 : 1);
}

/** Whether RFC 3339 time `a` is later than `b`, to any precision either is written with. */
export function isLater(a: string, b: string): boolean {
  const [x, y] = [instantOf(a), instantOf(b)];
  if (!x || !y) return false;
  if (x.ms !== y.ms) return x.ms > y.ms;
  const digits = Math.max(x.subMillis.length, y.subMillis.length);
  return x.subMillis.padEnd(digits, '0') > y.subMillis.padEnd(digits, '0');
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
