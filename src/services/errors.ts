/**
 * Typed service errors. Each has a stable `code`; the HTTP edge maps codes to statuses in one
 * table (http/problem.ts) and never shows an unknown error's message.
 */
export const errorCodes = {
  'validation-failed': 400,
  'malformed-json': 400,
  'idempotency-key-required': 400,
  unauthenticated: 401,
  forbidden: 403,
  'approver-must-differ': 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'not-acceptable': 406,
  'fee-inputs-locked': 409,
  'obligation-unavailable': 409,
  'idempotency-key-reused': 409,
  'invalid-transition': 409,
  'receipt-not-issued': 409,
  conflict: 409,
  'refundable-changed': 409,
  'not-refundable': 409,
  'approval-not-pending': 409,
  'refund-not-open': 409,
  'concurrent-update': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'fee-input-missing': 422,
  'fee-out-of-range': 422,
  'unknown-procedure': 422,
  'unknown-agency': 422,
  'no-fee-rules': 422,
  'nothing-to-pay': 422,
  'gateway-not-available': 422,
  'gateway-capability-missing': 422,
  'collection-account-missing': 422,
  'refund-too-large': 422,
  'gateway-error': 502,
  'service-unavailable': 503,
  'internal-error': 500,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldIssue {
  path: string;
  message: string;
}

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: FieldIssue[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
  }

  get status(): number {
    return errorCodes[this.code];
  }
}

export const notFound = (what: string) => new ServiceError('not-found', `${what} was not found`);
