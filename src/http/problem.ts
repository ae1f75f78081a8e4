import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { describeError, pgError } from '../db/errors.ts';
import { type ErrorCode, type FieldIssue, ServiceError } from '../services/errors.ts';
import type { AppEnv } from './env.ts';

/**
 * The one error contract (RFC 9457 problem details): every error answer has a stable `code`,
 * the fields at fault, and the request id. Unknown errors are logged and answered with a
 * generic 500 that never shows their message.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string;
  errors?: FieldIssue[];
  [extra: string]: unknown;
}

/**
 * The HTTP status of each service error code: services name what went wrong, only the edge knows
 * HTTP. `satisfies` keeps the table exhaustive: a new code does not compile until it has a status.
 */
export const httpStatus = {
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
  'review-not-open': 409,
  'review-action-not-allowed': 422,
  'day-closed': 409,
  'day-not-clean': 409,
  'discrepancy-not-open': 409,
  'unknown-source': 422,
  'statement-unreadable': 422,
  'no-statement': 409,
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
} as const satisfies Record<ErrorCode, number>;

type ProblemStatus = (typeof httpStatus)[ErrorCode];

export const statusOf = (code: ErrorCode): ProblemStatus => httpStatus[code];

const titles: Partial<Record<ErrorCode, string>> = {
  'validation-failed': 'The request is not valid',
  'malformed-json': 'The request body is not valid JSON',
  unauthenticated: 'Authentication required',
  forbidden: 'Not allowed for your role',
  'not-found': 'Not found',
  'internal-error': 'Internal error',
};

export function problemBody(
  requestId: string,
  code: ErrorCode,
  detail: string,
  errors: FieldIssue[] = [],
  extra: Record<string, unknown> = {},
): Problem {
  return {
    ...extra,
    type: `urn:fee-payment-hub:problem:${code}`,
    title: titles[code] ?? code.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase()),
    status: statusOf(code),
    code,
    detail,
    requestId,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

export function problemResponse(
  c: Context<AppEnv>,
  code: ErrorCode,
  detail: string,
  errors: FieldIssue[] = [],
  extra: Record<string, unknown> = {},
): Response {
  const body = problemBody(c.get('requestId') ?? 'unknown', code, detail, errors, extra);
  c.set('problem', { code, detail });
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (code === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

export function zodIssues(error: ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: i.message,
  }));
}

const statusCodes: Partial<Record<number, ErrorCode>> = {
  400: 'validation-failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  503: 'service-unavailable',
};

export function errorToResponse(c: Context<AppEnv>, error: unknown): Response {
  if (error instanceof ServiceError) return problemResponse(c, error.code, error.message, error.fields, error.extra);
  if (error instanceof HTTPException) {
    const code = /malformed json/i.test(error.message) ? 'malformed-json' : (statusCodes[error.status] ?? 'internal-error');
    return problemResponse(c, code, code === 'internal-error' ? 'unexpected error' : error.message || code);
  }
  const pg = pgError(error);
  // Deadlock or serialisation failure: the database rolled the request back whole; retrying it
  // is safe (and an Idempotency-Key makes it safe for creations too).
  if (pg.code === '40P01' || pg.code === '40001') {
    return problemResponse(c, 'concurrent-update', 'a concurrent change to the same records got in the way; retry the request');
  }
  // A failed query's wrapper message carries its parameters (names, addresses): log only the
  // database's own error code and message, and the first frames of the stack.
  c.get('ctx')?.log.error('unhandled error', {
    error: describeError(error),
    stack: error instanceof Error && !pg.code ? error.stack?.split('\n').slice(1, 6).join(' | ') : undefined,
  });
  return problemResponse(c, 'internal-error', 'unexpected error; quote the request id to the hub operators');
}
