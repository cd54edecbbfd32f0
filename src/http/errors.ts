import type { components } from '../../generated/openapi';

export type ErrorCode = components['schemas']['ErrorCode'];

/** The one error type handlers and domain code throw; the error mapper turns it into the envelope. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** Response headers that go with the error, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static invalidRequest(message: string): AppError {
    return new AppError(400, 'INVALID_REQUEST', message);
  }

  static endpointNotFound(): AppError {
    return new AppError(404, 'ENDPOINT_NOT_FOUND', 'endpoint not found');
  }

  static eventNotFound(): AppError {
    return new AppError(404, 'NOT_FOUND', 'event not found');
  }
}
