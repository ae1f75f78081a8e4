import type { ZodType } from 'zod';
import type { ErrorCode } from '../services/errors.ts';
import { httpStatus, problemBody } from './problem.ts';
import { ProblemSchema } from './schemas.ts';

/**
 * The error answers of an operation, for its OpenAPI `responses`: a route names the problem codes
 * it can answer, and the statuses, descriptions and examples follow from the one code → status
 * table (problem.ts), so the document cannot disagree with what the hub sends.
 *
 *   responses: { 200: …, ...errorResponses([...SECURED, ...JSON_BODY, 'not-found', 'conflict']) }
 */

/**
 * Every route behind the bearer middleware: no or a bad token (401), a role the route does not
 * allow (403), a resource outside the caller's agencies or none at all (404), a query string with
 * ill-formed text (400, before any route sees it), and the unexpected (500, its message never
 * shown). The shared security suite holds every route to 401, 403 and 404, so they are declared
 * on all, even where they cannot happen: 403 on the catalogue's reads (every role may call them),
 * 404 on the lists and creations that name nothing. 429: too many failed authentications from
 * the address, or writes by the principal (RATE_LIMIT_*); 503: the database is away.
 */
export const SECURED = [
  'unauthenticated',
  'forbidden',
  'not-found',
  'validation-failed',
  'rate-limited',
  'internal-error',
  'service-unavailable',
] as const satisfies readonly ErrorCode[];

/** A route with a JSON body: it must be JSON, sent as JSON, at most 1 MiB, and match its schema. */
export const JSON_BODY = [
  'validation-failed',
  'malformed-json',
  'unsupported-media-type',
  'payload-too-large',
] as const satisfies readonly ErrorCode[];

/**
 * A route that writes: a deadlock or serialisation failure rolls the whole request back and is
 * answered 409 `concurrent-update` (safe to retry).
 */
export const WRITES = ['concurrent-update'] as const satisfies readonly ErrorCode[];

/**
 * What any operation may answer, whatever it declares: its path asked with a method it does not
 * take (405, those it takes in `Allow`), a rate limit (429), the database away (503). app.ts adds
 * them to every operation of the document that does not declare them already.
 */
export const EVERY_OPERATION = ['method-not-allowed', 'rate-limited', 'service-unavailable'] as const satisfies readonly ErrorCode[];

/** A creating POST: Idempotency-Key required (400), and a key reused with another body (409). */
export const IDEMPOTENT = ['idempotency-key-required', 'idempotency-key-reused'] as const satisfies readonly ErrorCode[];

const statusDescriptions: Record<number, string> = {
  400: 'The request is not valid (the fields at fault in `errors`)',
  401: 'No valid bearer token',
  403: 'Not allowed',
  404: "Not found, or outside the caller's agencies",
  405: 'The path does not take this method (those it takes are in `Allow`)',
  409: 'Conflicts with the current state',
  413: 'The request body is too large',
  415: 'The request body is not of the media type the route reads',
  422: 'Understood, but cannot be done',
  429: 'Too many requests: wait the `Retry-After` seconds',
  500: 'Unexpected error (quote the request id to the operators)',
  502: 'The gateway did not accept the request',
  503: 'Not available now; try again',
};

/** A plausible detail for each code's example (the real ones say what exactly went wrong). */
const exampleDetails: Partial<
  Record<ErrorCode, { detail: string; errors?: Array<{ path: string; message: string }>; extra?: Record<string, unknown> }>
> = {
  'validation-failed': { detail: 'the request does not match the schema', errors: [{ path: 'returnUrl', message: 'Invalid URL' }] },
  'malformed-json': { detail: 'Malformed JSON in request body' },
  'idempotency-key-required': { detail: 'send an Idempotency-Key header', errors: [{ path: 'Idempotency-Key', message: 'required' }] },
  'idempotency-key-reused': { detail: 'this Idempotency-Key was used with a different request body' },
  unauthenticated: { detail: 'send Authorization: Bearer <JWT>' },
  forbidden: { detail: 'the campaign role may not do this' },
  'approver-must-differ': { detail: 'a refund is approved by a treasury user other than the one who asked for it' },
  'not-found': { detail: 'the resource was not found' },
  'method-not-allowed': {
    detail: 'DELETE is not a method of /v1/campaigns; it takes GET, HEAD, POST',
    errors: [{ path: 'method', message: 'one of GET, HEAD, POST' }],
  },
  'fee-inputs-locked': { detail: 'fee inputs and the agency cannot change once an obligation is paid or held by a live payment intent' },
  'obligation-unavailable': { detail: 'an obligation is already paid or held by a live payment intent' },
  'invalid-transition': { detail: 'a succeeded payment intent cannot be cancelled' },
  'receipt-not-issued': { detail: 'no receipt: the payment intent is pending' },
  'refundable-changed': { detail: '135000 VND may be refunded, not 200000' },
  'not-refundable': { detail: 'a pending payment intent has nothing to refund' },
  'approval-not-pending': { detail: 'this refund is succeeded, not awaiting approval' },
  'refund-not-open': { detail: 'this refund is succeeded; only a submitted refund is resolved by hand' },
  'review-not-open': { detail: 'this review was already decided (resolved by treasury:ke-toan-02); it is no longer open' },
  'review-action-not-allowed': { detail: 'an unmatched_credit is not accepted: assign it to the intent or dossier it pays' },
  'day-closed': { detail: 'the day 2026-12-03 of vnpay is closed: nothing of it changes any more' },
  'day-not-clean': { detail: 'the day cannot close: 2 discrepancies and 1 payment review of it are open' },
  'discrepancy-not-open': { detail: 'this discrepancy is resolved; it is no longer open' },
  'unknown-source': { detail: 'source must be a gateway id (vnpay, dvcqg, sandbox) or bank:<account number> of a collecting account' },
  'statement-unreadable': { detail: 'the file is not a CSV or XLSX statement this source can read' },
  'no-statement': { detail: 'no statement was imported for vnpay on 2026-12-03' },
  'concurrent-update': { detail: 'a concurrent change to the same records got in the way; retry the request' },
  'payload-too-large': { detail: 'request bodies are at most 1 MiB' },
  'unsupported-media-type': {
    detail: 'this operation reads application/json',
    errors: [{ path: 'content-type', message: 'expected application/json' }],
  },
  'fee-input-missing': {
    detail: 'fee "Lệ phí trước bạ" needs declaredValue',
    errors: [{ path: 'declaredValue', message: 'required by a fee rule' }],
  },
  'fee-out-of-range': { detail: 'the declared value is outside the fee table' },
  'unknown-procedure': { detail: 'procedure 9.999999 is not in the catalogue', errors: [{ path: 'procedureCode', message: 'unknown' }] },
  'unknown-agency': { detail: 'agency 000.99.99.H19 is not known in your scope', errors: [{ path: 'agencyCode', message: 'unknown' }] },
  'nothing-to-pay': { detail: 'this dossier has nothing left to pay' },
  'gateway-not-available': {
    detail: 'gateway "vnpay" is not configured on this hub',
    errors: [{ path: 'gateway', message: 'not configured' }],
  },
  'gateway-capability-missing': { detail: 'gateway "vietqr" cannot refund; return the money outside the hub' },
  'collection-account-missing': { detail: 'the agency has no collection account for this gateway' },
  'amount-above-gateway-limit': {
    detail: 'gateway "vnpay" takes at most 9999999999 VND in one payment, and these obligations come to 12500000000 VND',
    errors: [{ path: 'gateway', message: 'at most 9999999999 VND in one payment' }],
  },
  'refund-too-large': { detail: 'at most 135000 VND may be refunded', errors: [{ path: 'amount', message: 'above 135000' }] },
  'gateway-error': { detail: 'gateway "sandbox" did not accept the payment request' },
  'service-unavailable': { detail: 'the database is not reachable or not migrated' },
  'internal-error': { detail: 'unexpected error; quote the request id to the hub operators' },
};

const EXAMPLE_REQUEST_ID = '0b6c5e0e-6f0a-4d1e-9a57-3f1c2b7d8e90';

function problemExample(code: ErrorCode): Record<string, unknown> {
  const example = exampleDetails[code] ?? { detail: code.replace(/-/g, ' ') };
  return problemBody(EXAMPLE_REQUEST_ID, code, example.detail, example.errors, example.extra);
}

interface ErrorResponseOptions {
  /** The problem schema, when the route extends it (the national portal's `error_code`). */
  schema?: ZodType;
  /** Members a problem of this route also carries, by its code. */
  extra?: (code: ErrorCode) => Record<string, unknown>;
}

/** The `responses` entries of these problem codes, grouped by status, one example per code. */
export function errorResponses(codes: readonly ErrorCode[], options: ErrorResponseOptions = {}) {
  const byStatus = new Map<number, Set<ErrorCode>>();
  for (const code of codes) {
    const status = httpStatus[code];
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  const responses: Record<
    number,
    { description: string; content: Record<string, { schema: ZodType; examples: Record<string, { summary: string; value: unknown }> }> }
  > = {};
  for (const [status, set] of [...byStatus].sort(([a], [b]) => a - b)) {
    const list = [...set];
    responses[status] = {
      description: `${statusDescriptions[status] ?? 'Error'}: ${list.map((c) => `\`${c}\``).join(', ')}`,
      content: {
        'application/problem+json': {
          schema: options.schema ?? ProblemSchema,
          examples: Object.fromEntries(
            list.map((code) => [code, { summary: code, value: { ...problemExample(code), ...options.extra?.(code) } }]),
          ),
        },
      },
    };
  }
  return responses;
}
