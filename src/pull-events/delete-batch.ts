import type { components } from '../../generated/openapi';
import type { Database } from '../db/prisma';
import { AppError } from '../http/errors';
import { batchDelete, type BatchDeleteRow } from './repository';

type DeleteBatchResult = components['schemas']['DeleteBatchResult'];
type EventResult = components['schemas']['DeleteBatchEventResult'];

export interface DeleteBatchCommand {
  endpointId: string;
  projectId: string;
  apiKeyId: string;
  /** Already checked by the contract to be 1..100 UUIDs in any letter case. */
  messageIds: string[];
}

/** Lowercases the ids and rejects the whole request when one appears twice. */
function canonicalIds(messageIds: string[]): string[] {
  const seen = new Set<string>();
  for (const raw of messageIds) {
    const id = raw.toLowerCase();
    if (seen.has(id)) {
      throw AppError.invalidRequest(
        `message_ids: ${id} appears more than once (IDs are compared case-insensitively)`,
      );
    }
    seen.add(id);
  }
  return [...seen];
}

export async function deleteEventsBatch(db: Database, command: DeleteBatchCommand): Promise<DeleteBatchResult> {
  const ids = canonicalIds(command.messageIds);
  const outcome = await batchDelete(db, command.endpointId.toLowerCase(), command.projectId, command.apiKeyId, ids);
  if (!outcome.endpointFound) throw AppError.endpointNotFound();
  return batchResult(ids, outcome.rows);
}

/** The answer for `ids`, in their order, from the rows the statement found of them. */
export function batchResult(ids: string[], rows: BatchDeleteRow[]): DeleteBatchResult {
  const found = new Map(rows.map((row) => [row.id, row]));
  const counts = { deleted: 0, already_deleted: 0, not_found: 0 };
  const results = ids.map((id): EventResult => {
    const row = found.get(id);
    if (!row) {
      counts.not_found += 1;
      return { event_id: id, outcome: 'not_found' };
    }
    const outcome = row.deletedNow ? 'deleted' : 'already_deleted';
    counts[outcome] += 1;
    return { event_id: id, outcome, deleted_at: row.deletedAt };
  });
  return {
    results,
    deleted_count: counts.deleted,
    already_deleted_count: counts.already_deleted,
    not_found_count: counts.not_found,
  };
}
