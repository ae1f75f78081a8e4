import { z } from '@hono/zod-openapi';
import { refundStatuses } from '../db/schema/payments.ts';
import { reviewActions, reviewStatuses } from '../db/schema/reviews.ts';
import { reviewKinds } from '../domain/decide.ts';
import { intentStatuses } from '../domain/payment-states.ts';
import { gatewayIds } from '../gateways/types.ts';
import type { DateRange, PageRequest } from '../services/treasury-lists.ts';
import { agencyCode, dossierCode, isoDate, PaymentIntentSchema, RefundSchema, vndAmount } from './schemas.ts';

/** Schemas of the treasury desk's lists, its review cases and the audit log (validation and OpenAPI alike). */

// ── Query strings ───────────────────────────────────────────────────────────────────────

const pageQuery = {
  cursor: z
    .string()
    .max(500)
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page (opaque); none for the first page', example: 'eyJpZCI6NDJ9' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: 'Items per page, 1–200', example: 50 }),
};

const vnDate = (description: string, example: string) => isoDate.optional().openapi({ description, example });
const gatewayFilter = z.enum(gatewayIds).optional().openapi({ description: 'Only this gateway', example: 'vietqr' });
const agencyFilter = agencyCode.optional().openapi({ description: "Only this agency's subtree (within the caller's own scope)" });
const createdRange = {
  createdFrom: vnDate('Created on or after this date (Asia/Ho_Chi_Minh)', '2026-11-01'),
  createdTo: vnDate('Created on or before this date (Asia/Ho_Chi_Minh), inclusive', '2026-11-30'),
};

export const ReviewListQuerySchema = z.object({
  kind: z.enum(reviewKinds).optional().openapi({ example: 'amount_mismatch' }),
  status: z.enum(reviewStatuses).optional().openapi({ example: 'open' }),
  gateway: gatewayFilter,
  agency: agencyFilter,
  ...createdRange,
  minAmount: z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional().openapi({
    description: 'At least this amount (integer VND); leaves out reviews that name no amount',
    example: 50000,
  }),
  maxAmount: z.coerce
    .number()
    .int()
    .nonnegative()
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .openapi({ description: 'At most this amount (integer VND)', example: 2000000 }),
  ...pageQuery,
});

export const ReviewSummaryQuerySchema = z.object({ agency: agencyFilter });

export const IntentListQuerySchema = z.object({
  status: z.enum(intentStatuses).optional().openapi({ example: 'needs_review' }),
  gateway: gatewayFilter,
  agency: agencyFilter,
  dossier: dossierCode.optional().openapi({ description: 'Only the intents of this dossier' }),
  reference: z
    .string()
    .regex(/^[0-9A-Za-z]{1,40}$/, 'a hub reference such as HPATW51CYHX4')
    .optional()
    .openapi({ description: "The hub's reference, as a statement or the payer quotes it", example: 'HPATW51CYHX4' }),
  ...createdRange,
  paidFrom: vnDate('Paid on or after this date (Asia/Ho_Chi_Minh)', '2026-11-01'),
  paidTo: vnDate('Paid on or before this date (Asia/Ho_Chi_Minh), inclusive', '2026-11-30'),
  ...pageQuery,
});

export const RefundListQuerySchema = z.object({
  status: z.enum(refundStatuses).optional().openapi({ example: 'awaiting_approval' }),
  gateway: gatewayFilter,
  agency: agencyFilter,
  intent: z.uuid().optional().openapi({ description: 'Only the refunds of this payment intent' }),
  review: z.uuid().optional().openapi({ description: 'Only the refunds decided in this payment review' }),
  method: z.enum(['gateway', 'manual']).optional().openapi({ example: 'manual' }),
  ...createdRange,
  ...pageQuery,
});

export const AuditListQuerySchema = z.object({
  resourceType: z
    .string()
    .regex(/^[a-z_]{1,40}$/)
    .optional()
    .openapi({ description: 'payment_review, refund…', example: 'payment_review' }),
  resourceId: z.string().min(1).max(200).optional().openapi({ description: 'The id of the resource acted on' }),
  actor: z.string().min(1).max(300).optional().openapi({ description: 'Who acted, as `role:subject`', example: 'treasury:ke-toan-01' }),
  from: vnDate('On or after this date (Asia/Ho_Chi_Minh)', '2026-11-01'),
  to: vnDate('On or before this date (Asia/Ho_Chi_Minh), inclusive', '2026-11-30'),
  ...pageQuery,
});

/** The page a list's query asks for. */
export const pageRequest = (q: { cursor?: string; limit: number }): PageRequest => ({ cursor: q.cursor, limit: q.limit });
export const createdRangeOf = (q: { createdFrom?: string; createdTo?: string }): DateRange => ({ from: q.createdFrom, to: q.createdTo });

// ── Answers ─────────────────────────────────────────────────────────────────────────────

const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last' }),
    })
    .openapi(name);

export const PaymentIntentPageSchema = pageOf(PaymentIntentSchema, 'PaymentIntentPage');
export const RefundPageSchema = pageOf(RefundSchema, 'RefundPage');

const jsonObject = z.record(z.string(), z.unknown());

const DecisionSchema = z
  .object({
    action: z.enum(reviewActions),
    note: z.string(),
    amount: vndAmount.optional(),
    intentId: z.string().optional(),
    dossierCode: z.string().optional(),
    evidence: z.string().optional(),
    decidedBy: z.string(),
    decidedAt: z.string(),
  })
  .openapi('ReviewDecision', { description: 'The decision as a person made it (pending while `awaiting_approval`)' });

const OutcomeSchema = z
  .object({
    result: z.enum(['paid', 'failed', 'refunded', 'refund_submitted', 'assigned', 'kept', 'rejected']),
    intentId: z.string().optional(),
    intentStatusBefore: z.string().optional(),
    intentStatusAfter: z.string().optional(),
    refundId: z.string().optional(),
    acceptedAmount: vndAmount.optional(),
    difference: z.number().int().optional(),
    assignedResult: z.string().optional(),
  })
  .openapi('ReviewOutcome', { description: 'What the decision did to the money and the intent, once resolved' });

export const PaymentReviewSchema = z
  .object({
    id: z.uuid(),
    kind: z.enum(reviewKinds),
    status: z.enum(reviewStatuses),
    gateway: z.string(),
    gatewayTransactionId: z.string().openapi({ description: "The gateway's transaction id; empty when it named none" }),
    amount: vndAmount.nullable().openapi({ description: 'What the gateway said was paid; null when the message named no amount' }),
    currency: z.literal('VND'),
    reason: z.string(),
    proposedAction: z.enum(['refund', 'decide']),
    intentId: z.uuid().nullable().openapi({ description: 'Null for money naming no intent (unmatched_credit, unreadable_message)' }),
    intentReference: z.string().nullable(),
    dossierCode: z.string().nullable(),
    agencyCode: z
      .string()
      .nullable()
      .openapi({ description: "Whose case it is: the intent's dossier's agency, else the agency owning the account the money reached" }),
    detail: jsonObject
      .nullable()
      .openapi({ description: 'What opened the review, as recorded (the inbox message id, the payee account…)' }),
    decision: DecisionSchema.nullable(),
    outcome: OutcomeSchema.nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    approvedBy: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('PaymentReview');

export const PaymentReviewPageSchema = pageOf(PaymentReviewSchema, 'PaymentReviewPage');

export const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string().openapi({ description: '`role:subject` of the person' }),
    action: z.string().openapi({ example: 'decide' }),
    resourceType: z.string(),
    resourceId: z.string(),
    agencyCode: z
      .string()
      .nullable()
      .openapi({ description: 'The scope the resource was in when acted on (null: the province as a whole)' }),
    reason: z.string().nullable(),
    before: jsonObject.nullable(),
    after: jsonObject.nullable(),
    prevHash: z.string().openapi({ description: "The previous row's hash (64 zeros before the first row)" }),
    hash: z.string().openapi({ description: "SHA-256 over this row's content and prevHash" }),
  })
  .openapi('AuditEntry');

export const AuditPageSchema = pageOf(AuditEntrySchema, 'AuditPage');

export const ChainVerificationSchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().openapi({ description: 'Rows found sound, oldest first, before the first broken one' }),
    firstBroken: z
      .object({
        id: z.number().int(),
        reason: z.enum(['hash-mismatch', 'broken-link']).openapi({
          description: '`hash-mismatch`: the row was edited; `broken-link`: a row before it was removed, inserted or edited',
        }),
        expected: z.string(),
        found: z.string(),
      })
      .nullable(),
    lastHash: z.string().openapi({ description: 'The hash of the last sound row' }),
  })
  .openapi('AuditChainVerification');

const ReviewFeeLineSchema = z.object({
  obligationId: z.uuid(),
  lineNo: z.number().int(),
  kind: z.enum(['phi', 'le_phi']),
  name: z.string(),
  amount: vndAmount.openapi({ description: 'What this intent pays for the line' }),
  status: z.string(),
});

const GatewayMessageSchema = z
  .object({
    id: z.uuid(),
    gateway: z.string(),
    method: z.string(),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    rawBody: z.string().openapi({ description: 'The body exactly as received' }),
    signatureValid: z.enum(['valid', 'invalid', 'unchecked']),
    status: z.string(),
    result: z
      .string()
      .nullable()
      .openapi({ description: 'What the hub made of it: applied, duplicate, amount_mismatch, unknown_reference…' }),
    reference: z.string().nullable(),
    receivedAt: z.string(),
    processedAt: z.string().nullable(),
  })
  .openapi('GatewayMessage');

const PaymentEventSchema = z
  .object({
    id: z.number().int(),
    event: z.string(),
    fromStatus: z.string().nullable(),
    toStatus: z.string().nullable(),
    accepted: z.boolean().openapi({ description: 'False for a transition the state table refused (recorded, not applied)' }),
    source: z.string(),
    actor: z.string().nullable(),
    detail: jsonObject.nullable(),
    at: z.string(),
    repeats: z.number().int().min(1).openapi({
      description: 'How many times the same principal said this refusal, identically (counted here, not one line each); 1 otherwise',
    }),
    lastRepeatedAt: z.string().nullable().openapi({ description: 'When it was last said, if more than once' }),
  })
  .openapi('PaymentEvent');

export const ReviewDetailSchema = z
  .object({
    review: PaymentReviewSchema,
    intent: PaymentIntentSchema.nullable(),
    dossier: z
      .object({
        code: z.string(),
        procedureCode: z.string(),
        procedureName: z.string(),
        agencyCode: z.string(),
        agencyName: z.string(),
        applicant: z.object({ name: z.string().nullable(), address: z.string().nullable() }),
      })
      .nullable(),
    feeLines: z.array(ReviewFeeLineSchema).openapi({ description: "The intent's fee lines and their state now" }),
    messages: z.array(GatewayMessageSchema).openapi({ description: 'The gateway messages behind the case, raw, oldest first' }),
    events: z.array(PaymentEventSchema).openapi({ description: "The intent's history, oldest first" }),
    refunds: z.array(RefundSchema).openapi({ description: 'Refunds of the intent, and any decided in this review' }),
    history: z.array(AuditEntrySchema).openapi({ description: "This review's record in the audit log, oldest first" }),
    allowedActions: z.array(z.enum(reviewActions)).openapi({ description: 'What may be decided now (none once decided)' }),
  })
  .openapi('PaymentReviewCase');

const countsBy = <T extends readonly [string, ...string[]]>(keys: T) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as { [K in T[number]]: z.ZodNumber });

export const ReviewSummarySchema = z
  .object({
    byStatus: countsBy(reviewStatuses),
    byKind: countsBy(reviewKinds),
    byStatusAndKind: z.array(
      z.object({ status: z.enum(reviewStatuses), kind: z.enum(reviewKinds), count: z.number().int(), amount: vndAmount }),
    ),
    openAmount: vndAmount.openapi({ description: 'The money of the open reviews (a review naming no amount counts 0)' }),
  })
  .openapi('PaymentReviewSummary');

// ── Decisions ───────────────────────────────────────────────────────────────────────────

/** Why a person decided: kept with the decision and in the audit log. */
export const reviewNote = z.string().trim().min(3).max(1000);

/** A treasury decision on a review, as the API and the desk's form take it. */
export const ReviewDecisionInputSchema = z
  .object({
    action: z.enum(reviewActions).openapi({
      description:
        '`accept` the money (an underpayment only with `amount` stated); `refund` it (through the gateway where it can, else recorded as a manual refund with `evidence`); ' +
        '`assign` an unmatched credit or unreadable message to an intent (`intentId`) or a dossier (`dossierCode`); `reject`: no money was received.',
    }),
    note: reviewNote.openapi({
      description: 'Why: kept with the decision and in the audit log',
      example: 'Đối chiếu sao kê Vietcombank 03/12: đã nhận 100.000 đ',
    }),
    amount: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().openapi({
      description: 'Integer VND: the amount accepted (required for an underpayment), or carried by a message that states none',
      example: 100000,
    }),
    intentId: z.uuid().optional().openapi({ description: '`assign`: the payment intent the money pays' }),
    dossierCode: dossierCode
      .optional()
      .openapi({ description: "`assign`: the dossier whose latest intent on the review's gateway the money pays" }),
    evidence: z.string().trim().min(3).max(500).optional().openapi({
      description: "A manual refund's proof: the bank transfer's reference",
      example: 'FT26338912345 Vietcombank 04/12/2026',
    }),
  })
  .strict()
  .openapi('ReviewDecisionInput');
