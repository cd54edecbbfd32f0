import type { components } from '../../generated/openapi';
import type { Outcome } from './harness';
import type { Operation } from './openapi';

/**
 * Server bugs this fuzz found, each matched as narrowly as the bug, to be removed once it is fixed.
 * A bug that only spoils an answer leaves that answer unchecked (counted in the closing log line);
 * a bug that changes state (accepts what it must refuse) keeps its defect from being sent at all,
 * as the batch's unchanged-state check would fail on it whatever the answer check skipped; a bug
 * an event read back after an answer shows leaves that event's check out (counted the same way).
 */
interface KnownBug {
  /** A short name, for the closing log line. */
  id: string;
  bug: string;
  answer?: (outcome: Outcome) => boolean;
  defect?: (operation: Operation, defect: string) => boolean;
  /** An event read back after an answer of `operationId` (lease-readback.ts) showing the bug: left unchecked. */
  readBack?: (operationId: string, event: components['schemas']['PullEventSummary']) => boolean;
}

// b91e6c5 fixed the six bugs this fuzz had found first, and 4396b02 the three it found in the time
// filters of pull-logs (an unencoded `+` offset, years 0000-0099, order below a millisecond).
// 3be457b fixed the empty receive after dead letters that the lease coverage found first, da050eb
// the metrics after a replay, ba06633 the redrive of dead letters acked by event id. The timeseries
// 500s left after da050eb came from the fixtures, whose fetched and delivered rows were set
// without their rollup facts; they are now made through the API.
const KNOWN_BUGS: KnownBug[] = [];

/** The id of the known bug an answer shows, if any. */
export function knownBug(outcome: Outcome): string | undefined {
  return KNOWN_BUGS.find(({ answer }) => answer?.(outcome))?.id;
}

/** Whether a defect is kept from being sent because of a known bug. */
export function knownBugDefect(operation: Operation, defect: string): boolean {
  return KNOWN_BUGS.some((known) => known.defect?.(operation, defect));
}

/** The id of the known bug an event read back after an answer of `operationId` shows, if any. */
export function knownReadBackBug(operationId: string, event: components['schemas']['PullEventSummary']): string | undefined {
  return KNOWN_BUGS.find(({ readBack }) => readBack?.(operationId, event))?.id;
}
