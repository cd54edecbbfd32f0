import { PullEventsApiError, PullEventsBatchError } from './errors.js';
import type { DeleteBatchResult } from './types.js';

/** The most ids delete-batch takes in one request. */
export const DELETE_BATCH_SIZE = 100;

/** The service's own check within one request, over the whole list: nothing is sent when it fails. */
function rejectDuplicates(ids: string[]): void {
  const seen = new Set<string>();
  for (const raw of ids) {
    const id = raw.toLowerCase();
    if (seen.has(id)) {
      throw new PullEventsApiError({
        message: `message_ids: ${id} appears more than once (IDs are compared case-insensitively)`,
        status: 400,
        code: 'INVALID_REQUEST',
      });
    }
    seen.add(id);
  }
}

/**
 * Deletes `ids` in requests of 100, one after the other in list order, and merges the answers:
 * results in list order, counts summed. A failed request throws `PullEventsBatchError` with what
 * the earlier ones did and the ids not confirmed.
 */
export async function deleteInChunks(ids: string[], send: (chunk: string[]) => Promise<DeleteBatchResult>): Promise<DeleteBatchResult> {
  rejectDuplicates(ids);
  const merged: DeleteBatchResult = { results: [], deleted_count: 0, already_deleted_count: 0, not_found_count: 0 };
  for (let start = 0; start < ids.length; start += DELETE_BATCH_SIZE) {
    let answer: DeleteBatchResult;
    try {
      answer = await send(ids.slice(start, start + DELETE_BATCH_SIZE));
    } catch (error) {
      throw new PullEventsBatchError(merged, ids.slice(start), error);
    }
    merged.results.push(...answer.results);
    merged.deleted_count += answer.deleted_count;
    merged.already_deleted_count += answer.already_deleted_count;
    merged.not_found_count += answer.not_found_count;
  }
  return merged;
}
