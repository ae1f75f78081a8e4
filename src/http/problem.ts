import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import { describeError, pgError } from '../db/errors.ts';
import { type ErrorCode, type FieldIssue, ServiceError } from '../services/errors.ts';
import type { AppEnv } from './env.ts';
import { detailsVi, fieldMessageIn, type ProblemLanguage, titlesVi, zodFieldIssues } from './problem-language.ts';

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
  'dossier-code-out-of-scope': 422,
  'no-fee-rules': 422,
  'nothing-to-pay': 422,
  'gateway-not-available': 422,
  'gateway-capability-missing': 422,
  'collection-account-missing': 422,
  'amount-above-gateway-limit': 422,
  'refund-too-large': 422,
  'gateway-error': 502,
  'rate-limited': 429,
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
  language: ProblemLanguage = 'en',
): Problem {
  const vietnamese = language === 'vi';
  return {
    ...extra,
    type: `urn:fee-payment-hub:problem:${code}`,
    title: vietnamese ? titlesVi[code] : (titles[code] ?? code.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase())),
    status: statusOf(code),
    code,
    // A service's English detail may name what it found: in Vietnamese, the code's own sentence.
    detail: vietnamese ? detailsVi[code] : detail,
    requestId,
    ...(errors.length > 0 ? { errors: errors.map((e) => ({ path: e.path, message: fieldMessageIn(language, e) })) } : {}),
  };
}

/** The language of a request's problems (`Accept-Language`, set by app.ts's language detector): English unless Vietnamese is asked for. */
const languageOf = (c: Context<AppEnv>): ProblemLanguage => (c.get('language') === 'vi' ? 'vi' : 'en');

export function problemResponse(
  c: Context<AppEnv>,
  code: ErrorCode,
  detail: string,
  errors: FieldIssue[] = [],
  extra: Record<string, unknown> = {},
): Response {
  const language = languageOf(c);
  const body = problemBody(c.get('requestId') ?? 'unknown', code, detail, errors, extra, language);
  c.set('problem', { code, detail });
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'content-language': language,
    vary: 'Accept-Language',
  };
  if (code === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
  // A 429 or 503 says when to come back (RFC 9110 Retry-After), from the error's `retryAfterSeconds`.
  if (typeof extra.retryAfterSeconds === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(extra.retryAfterSeconds)));
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/** A failed validation's issues as the problem's `errors`; `input` is what was validated (for their Vietnamese). */
export function zodIssues(error: ZodError, prefix?: string, input?: unknown): FieldIssue[] {
  return zodFieldIssues(error, prefix, input);
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
  429: 'rate-limited',
  503: 'service-unavailable',
};

const JSON_BODY = 'application/json';

export function errorToResponse(c: Context<AppEnv>, error: unknown): Response {
  if (error instanceof ServiceError) return problemResponse(c, error.code, error.message, error.fields, error.extra);
  if (error instanceof HTTPException) {
    // @hono/zod-openapi's media-type gate, in front of a zod-validated body: JSON in every operation
    // of the hub (its uploads read their multipart bodies themselves and name what they take).
    if (error.status === 415) {
      return problemResponse(c, 'unsupported-media-type', `this operation reads ${JSON_BODY}`, [
        { path: 'content-type', message: `expected ${JSON_BODY}` },
      ]);
    }
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
