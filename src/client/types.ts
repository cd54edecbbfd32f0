import type { components, operations } from '../../generated/openapi.js';

type Schemas = components['schemas'];
export type PullEndpoint = Schemas['PullEndpoint'];
export type PullEventSummary = Schemas['PullEventSummary'];
export type PullEvent = Schemas['PullEvent'];
export type PullLog = Schemas['PullLog'];
export type Rejection = Schemas['Rejection'];
export type LeasedEvent = Schemas['LeasedEvent'];
export type DeleteBatchResult = Schemas['DeleteBatchResult'];
export type ReceiveRequest = Schemas['ReceiveRequest'];
export type ReceiveResult = Schemas['ReceiveResponse']['data'];
export type LeaseAckResult = Schemas['LeaseAckResponse']['data'];
export type LeaseExtendResult = Schemas['LeaseExtendResponse']['data'];
export type LeaseReleaseResult = Schemas['LeaseReleaseResponse']['data'];

/** A list operation's query without `cursor`: the iterator pages on by itself. */
type ListQuery<O extends keyof operations> = Omit<NonNullable<operations[O]['parameters']['query']>, 'cursor'>;
export type EndpointListQuery = ListQuery<'listPullEndpoints'>;
export type EventListQuery = ListQuery<'listPullEvents'>;
export type PullLogListQuery = ListQuery<'listPullLogs'>;
export type RejectionListQuery = ListQuery<'listPullEndpointRejections'>;

export interface CallOptions {
  /** Cancels the call, retries and waits between them included: it then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** This call's `timeoutMs` (per attempt; a receive adds its `wait_seconds`). */
  timeoutMs?: number;
  /** This call's `retries`. */
  retries?: number;
}
