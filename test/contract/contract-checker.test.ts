import { ContractChecker } from '../support/contract';

const PATH = '/v1/pull-endpoints/{id}/events/delete-batch';
const checker = new ContractChecker();
const headers = (requestId: string) => new Headers({ 'x-request-id': requestId });
const meta = { request_id: 'req_abcdefghijklmnopqrst' };

describe('the independent contract checker', () => {
  it('accepts a response that matches the spec', () => {
    const body = {
      data: {
        results: [{ event_id: '01935abc-def0-7123-4567-890abcdef012', outcome: 'not_found' }],
        deleted_count: 0,
        already_deleted_count: 0,
        not_found_count: 1,
      },
      meta,
    };
    expect(() => checker.check(PATH, 'POST', 200, headers(meta.request_id), body)).not.toThrow();
  });

  it('rejects a status the operation does not declare', () => {
    expect(() => checker.check(PATH, 'POST', 409, headers(meta.request_id), { meta })).toThrow(/409, which is not declared/);
  });

  it('rejects a not_found result that carries a deleted_at', () => {
    const body = {
      data: {
        results: [{ event_id: '01935abc-def0-7123-4567-890abcdef012', outcome: 'not_found', deleted_at: '2026-01-01T00:00:00.000Z' }],
        deleted_count: 0,
        already_deleted_count: 0,
        not_found_count: 1,
      },
      meta,
    };
    expect(() => checker.check(PATH, 'POST', 200, headers(meta.request_id), body)).toThrow(/does not match/);
  });

  it('rejects an error code outside the declared set', () => {
    const body = { error: { code: 'TEAPOT', message: 'no' }, meta };
    expect(() => checker.check(PATH, 'POST', 400, headers(meta.request_id), body)).toThrow(/does not match/);
  });

  it('rejects a response whose X-Request-Id differs from meta.request_id', () => {
    const body = { error: { code: 'UNAUTHORIZED', message: 'Invalid or missing API key' }, meta };
    expect(() => checker.check(PATH, 'POST', 401, headers('req_somethingelse0000000'), body)).toThrow(/X-Request-Id/);
  });
});
