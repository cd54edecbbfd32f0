/**
 * The lease ids of ack, extend and release bodies, drawn when the batch is (a counterexample's
 * shrinking draws again from the leases known by then): mostly the newest of the endpoint's own
 * leases not known to have ended, some ended ones, another endpoint's, real ones altered, and
 * made-up ones.
 */
import fc from 'fast-check';
import type { LeaseLedger, Lease } from './lease-ledger';
import { nastyString } from './schema-arbitraries';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Lease ids that are no lease: well-formed ones no receive made, and any strings the schema allows. */
const madeUp = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), nastyString(1, 200));

/**
 * A real lease id changed so that it names no lease: a character of its first 42 changed, its case
 * swapped, cut or lengthened, or (the last character carries two unused bits) the same bytes
 * spelled another way, which only the canonical spelling may name.
 */
function altered(id: string, how: number, at: number): string {
  const swap = (c: string) => BASE64URL[(BASE64URL.indexOf(c) + 1 + (at % 60)) % 64]!;
  const variants = [
    `${id.slice(0, at % 42)}${swap(id[at % 42]!)}${id.slice((at % 42) + 1)}`,
    [...id].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
    id.slice(0, 42),
    `${id}A`,
    `${id.slice(0, 42)}${BASE64URL[BASE64URL.indexOf(id[42]!) ^ (1 + (at % 3))]}`,
  ];
  return variants.find((v, i) => i >= how % variants.length && v !== id) ?? `${id}=`;
}

type Pick = 'open' | 'ended' | 'foreign' | 'altered';

const picks = fc.oneof<fc.WeightedArbitrary<Pick>[]>(
  { weight: 8, arbitrary: fc.constant('open') },
  { weight: 3, arbitrary: fc.constant('ended') },
  { weight: 1, arbitrary: fc.constant('foreign') },
  { weight: 2, arbitrary: fc.constant('altered') },
);

/** 1 to 6 lease ids for a lease operation on `endpointId` mostly, sometimes 90 to 100; never one twice. */
export function leaseIds(ledger: LeaseLedger, endpointId: string): fc.Arbitrary<string[]> {
  const own = () => ledger.all().filter((l) => l.endpointId === endpointId.toLowerCase());
  const resolve = (pick: Pick, n: number): Lease | undefined => {
    const now = Date.now();
    const mine = own();
    const open = mine.filter((l) => !l.ended && l.end > now);
    const pools = {
      open: [open, mine],
      ended: [mine.filter((l) => l.ended || l.end <= now), mine],
      foreign: [ledger.all().filter((l) => l.endpointId !== endpointId.toLowerCase())],
      altered: [mine],
    }[pick];
    // The first pool that has any (an ended lease where none is open); among the newest, as the
    // older ones of a long run have mostly been used.
    const pool = pools.find((p) => p.length > 0) ?? [];
    return pool[pool.length - 1 - (n % Math.min(pool.length, 40))];
  };
  const id = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(picks, fc.nat(), fc.nat(), madeUp).map(([pick, n, how, fallback]) => {
        const lease = resolve(pick, n);
        if (!lease) return fallback;
        return pick === 'altered' ? altered(lease.id, how, n) : lease.id;
      }),
    },
    { weight: 1, arbitrary: madeUp },
  );
  const exact = { selector: (v: string) => v };
  return fc.oneof({ weight: 8, arbitrary: fc.uniqueArray(id, { ...exact, minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.uniqueArray(id, { ...exact, minLength: 90, maxLength: 100 }) });
}
