/**
 * Typed service errors. Each has a stable `code`, which is all a service says: the HTTP edge maps
 * codes to statuses in one table (http/problem.ts) and never shows an unknown error's message.
 */
export const errorCodes = [
  'validation-failed',
  'malformed-json',
  'idempotency-key-required',
  'unauthenticated',
  'forbidden',
  'approver-must-differ',
  'not-found',
  'method-not-allowed',
  'not-acceptable',
  'fee-inputs-locked',
  'obligation-unavailable',
  'idempotency-key-reused',
  'invalid-transition',
  'receipt-not-issued',
  'conflict',
  'refundable-changed',
  'not-refundable',
  'approval-not-pending',
  'refund-not-open',
  'review-not-open',
  'review-action-not-allowed',
  'day-closed',
  'day-not-clean',
  'discrepancy-not-open',
  'unknown-source',
  'statement-unreadable',
  'no-statement',
  'concurrent-update',
  'payload-too-large',
  'unsupported-media-type',
  'fee-input-missing',
  'fee-out-of-range',
  'unknown-procedure',
  'unknown-agency',
  'dossier-code-out-of-scope',
  'no-fee-rules',
  'nothing-to-pay',
  'gateway-not-available',
  'gateway-capability-missing',
  'collection-account-missing',
  'amount-above-gateway-limit',
  'refund-too-large',
  'gateway-error',
  'rate-limited',
  'service-unavailable',
  'internal-error',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface FieldIssue {
  path: string;
  message: string;
  /** The message in Vietnamese, answered instead to `Accept-Language: vi` (never sent as a member of its own). */
  messageVi?: string;
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
}

export const notFound = (what: string) => new ServiceError('not-found', `${what} was not found`);
