import { and, desc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import { pgError } from '../db/errors.ts';
import {
  paymentIntents,
  paymentReviews,
  type ReviewAction,
  type ReviewDecisionRecord,
  type ReviewOutcomeRecord,
  refunds,
} from '../db/schema/index.ts';
import { lockIntent } from '../db/statements/lock-intent.ts';
import type { IntentStatus } from '../domain/payment-states.ts';
import { applyOutcome, type IntentRow, type ReceiptDue } from './apply-outcome.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { followReview } from './discrepancy-links.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import { emitEvents, reviewResolvedEvent } from './outbox.ts';
import { actorOf, dossierScopeCondition, type Principal } from './principal.ts';
import { receiptsDue } from './receipt-issuer.ts';
import { sendRefund } from './refunds.ts';
import { reviewScopeCondition } from './review-scope.ts';

/**
 * Treasury's decisions on payment reviews (issue 10). A decision is one more outcome on the one
 * path: everything it does to an intent goes through `applyOutcome` → `decide`, with the intent
 * locked first (the one lock order: intent, dossier, obligations — then the review, then the
 * audit chain). Above the configured amount a decision waits for a second treasury user; a
 * resolved review never changes again (a database trigger refuses it), and every step appends
 * one row to the hash-chained audit log in the same transaction.
 */

type ReviewRow = typeof paymentReviews.$inferSelect;

export interface DecideReviewInput {
  action: ReviewAction;
  note: string;
  amount?: number;
  intentId?: string;
  dossierCode?: string;
  evidence?: string;
}

/** Kinds that name no intent: their money is assigned to one, refunded by hand, or rejected. */
const WITHOUT_INTENT = new Set<ReviewRow['kind']>(['unmatched_credit', 'unreadable_message']);

/** The statuses an intent can still take money in; an assigned credit must go to one of these (or to a paid one, as a second payment). */
const ASSIGNABLE: IntentStatus[] = ['created', 'pending', 'expired', 'cancelled', 'failed', 'needs_review'];

/** The same person whatever role the token carries: a second pair of eyes is another subject. */
const subjectOf = (actor: string) => actor.split(':').slice(1).join(':');

interface Locked {
  review: ReviewRow;
  intent: IntentRow | null;
  /** The agency whose scope the case is in (for the audit log). */
  agencyCode: string | null;
}

/**
 * Locks a review in scope: its intent first (and, when money may be paid, the dossier), then the
 * review row itself. Two people deciding the same case serialise here; the second sees it decided.
 */
async function lockReview(ctx: ServiceContext, principal: Principal, id: string, paying: (row: ReviewRow) => boolean): Promise<Locked> {
  const db = executor(ctx);
  const scope = reviewScopeCondition(principal);
  const [peek] = await db
    .select()
    .from(paymentReviews)
    .where(scope ? and(eq(paymentReviews.id, id), scope) : eq(paymentReviews.id, id));
  if (!peek) throw notFound(`payment review ${id}`);
  const intent = peek.intentId ? ((await lockIntent(db, { intentId: peek.intentId }, { lockDossier: paying(peek) })) ?? null) : null;
  const [row] = await db
    .select({
      ...getTableColumns(paymentReviews),
      scopeAgency: sql<string | null>`coalesce((SELECT d.agency_code FROM payment_intents i JOIN dossiers d ON d.code = i.dossier_code
                                               WHERE i.id = ${paymentReviews.intentId}), ${paymentReviews.agencyCode})`,
    })
    .from(paymentReviews)
    .where(eq(paymentReviews.id, id))
    .for('update', { of: paymentReviews });
  const { scopeAgency, ...review } = row!;
  return { review, intent, agencyCode: scopeAgency };
}

const refuse = (message: string, path?: string) => new ServiceError('review-action-not-allowed', message, path ? [{ path, message }] : []);

type ReviewFacts = Pick<ReviewRow, 'kind' | 'status' | 'gatewayTransactionId' | 'detail'>;
type IntentFactsForReview = Pick<IntentRow, 'status' | 'gatewayTransactionId'>;

/** The review's money is the intent's own, the one that put it in review. */
const owns = (review: Pick<ReviewRow, 'gatewayTransactionId' | 'detail'>, intent: IntentFactsForReview | null) =>
  intent !== null && intent.status === 'needs_review' && (intent.gatewayTransactionId ?? '') === moneyTransaction(review);

/**
 * The gateway transaction of the money a review is about. A disputed refund is keyed by its refund
 * (`refund:<id>`, one review per refund that did not happen) but is about the money that refund was
 * to give back, named in its detail.
 */
function moneyTransaction(review: Pick<ReviewRow, 'gatewayTransactionId' | 'detail'>): string {
  const money = review.detail?.moneyTransactionId;
  return typeof money === 'string' ? money : review.gatewayTransactionId;
}

const PAID: IntentStatus[] = ['succeeded', 'partially_refunded', 'refunded'];

/**
 * What a person may decide on a review now (the desk offers these; a decision is checked against
 * them): nothing once it is no longer `open`; money naming no intent is assigned, refunded or
 * rejected, never accepted as it is; money beside an intent is kept (accepted) only beside a paid
 * one, since beside an unpaid intent it would pay nothing while the fee lines are, or may become,
 * free to be paid again.
 */
export function allowedReviewActions(review: ReviewFacts, intent: IntentFactsForReview | null): ReviewAction[] {
  if (review.status !== 'open') return [];
  if (WITHOUT_INTENT.has(review.kind)) return ['refund', 'assign', 'reject'];
  const keepable = owns(review, intent) || (intent !== null && PAID.includes(intent.status));
  return keepable ? ['accept', 'refund', 'reject'] : ['refund', 'reject'];
}

/** Why an action is not among the allowed ones, in the decider's words. */
function notAllowed(review: ReviewFacts, intent: IntentFactsForReview | null, action: ReviewAction): string {
  if (WITHOUT_INTENT.has(review.kind)) return `an ${review.kind} is not accepted: assign it to the intent or dossier it pays`;
  if (action === 'assign') return `a ${review.kind} already belongs to its intent; accept, refund or reject it`;
  return `this money is not the payment that put the intent in review, and the intent is ${intent?.status}: decide the intent's own review first, or refund this money`;
}

/**
 * The money a review is about: what the gateway stated, else (a hold that named no amount) the
 * intent's own amount when it is the intent's money, else what the person states.
 */
function amountOf(review: ReviewRow, intent: IntentRow | null, stated: number | undefined): number | null {
  return review.amount ?? (owns(review, intent) ? intent!.amount : (stated ?? null));
}

/** Whether refunding this review's money goes through its gateway's refund API (else it is returned by hand, with evidence). */
export function refundsThroughGateway(
  ctx: ServiceContext,
  review: Pick<ReviewRow, 'gatewayTransactionId' | 'detail'>,
  intent: Pick<IntentRow, 'gateway'> | null,
): boolean {
  const transaction = moneyTransaction(review);
  if (!intent || transaction === '' || transaction.startsWith('refund:')) return false;
  const gateway = ctx.gateways[intent.gateway as keyof typeof ctx.gateways];
  return Boolean(gateway?.refund && gateway.capabilities.refund);
}

/**
 * Checks a decision against the case before anything is written, and says how much money it
 * moves (for the approval rule). Every refusal names the field at fault.
 */
function checkDecision(ctx: ServiceContext, review: ReviewRow, intent: IntentRow | null, input: DecideReviewInput): { atStake: number } {
  if (!allowedReviewActions(review, intent).includes(input.action)) throw refuse(notAllowed(review, intent, input.action), 'action');
  const money = amountOf(review, intent, undefined);
  switch (input.action) {
    case 'accept': {
      const received = money ?? intent!.amount;
      if (owns(review, intent) && received < intent!.amount && input.amount !== received) {
        throw refuse(
          `${received} VND arrived for ${intent!.amount} VND asked: state the amount accepted (amount: ${received}) and why in the note`,
          'amount',
        );
      }
      if (input.amount !== undefined && input.amount !== received)
        throw refuse(`${received} VND arrived; only that amount can be accepted`, 'amount');
      return { atStake: received };
    }
    case 'reject':
      return { atStake: 0 };
    case 'refund': {
      const amount = money ?? input.amount;
      if (amount === undefined || amount === null) throw refuse('the message states no amount: give the amount returned', 'amount');
      if (input.amount !== undefined && input.amount !== amount)
        throw refuse(`${amount} VND is what arrived; refund that amount`, 'amount');
      if (!refundsThroughGateway(ctx, review, intent) && !input.evidence) {
        throw refuse('this money is returned outside the hub (a bank transfer): give its reference as evidence', 'evidence');
      }
      return { atStake: amount };
    }
    case 'assign': {
      if ((input.intentId === undefined) === (input.dossierCode === undefined)) {
        throw refuse('name either the intent (intentId) or the dossier (dossierCode) the money pays', 'intentId');
      }
      const amount = review.amount ?? input.amount;
      if (amount === undefined || amount === null) throw refuse('the message states no amount: give the amount it carried', 'amount');
      if (input.amount !== undefined && input.amount !== amount) throw refuse(`${amount} VND arrived; assign that amount`, 'amount');
      return { atStake: amount };
    }
  }
}

/** What a decision leaves to do once its transaction has committed. */
interface AfterCommit {
  receipt?: ReceiptDue;
  refundId?: string;
}

/** Carries out a decision (at once, or on its approval), inside the caller's transaction. */
async function carryOut(
  ctx: ServiceContext,
  principal: Principal,
  locked: Locked,
  decision: ReviewDecisionRecord,
  approvedBy: string | null,
): Promise<{ outcome: ReviewOutcomeRecord; after: AfterCommit }> {
  const { review, intent } = locked;
  const actor = approvedBy ?? decision.decidedBy;
  const money = { gatewayTransactionId: moneyTransaction(review), amount: amountOf(review, intent, decision.amount) };
  const before = intent ? { intentId: intent.id, intentStatusBefore: intent.status } : {};
  const decided = async (action: 'accept' | 'reject' | 'refunded') => {
    const applied = await applyOutcome(ctx, {
      intentId: intent!.id,
      outcome: { kind: 'review_decided', action, reviewId: review.id, money, acceptedAmount: decision.amount },
      source: 'manual',
      actor,
    });
    if (applied.result === 'unknown_reference') throw notFound(`payment intent ${intent!.id}`);
    if (action === 'accept' && applied.answer === 'already_final') {
      throw new ServiceError(
        'obligation-unavailable',
        'the fee lines were paid or taken by another intent meanwhile: this money cannot pay them; refund it instead',
      );
    }
    return applied;
  };

  switch (decision.action) {
    case 'accept': {
      const applied = await decided('accept');
      const paid = 'event' in applied && applied.event === 'review_resolved_succeeded';
      const received = money.amount ?? intent!.amount;
      return {
        outcome: {
          result: paid ? 'paid' : 'kept',
          ...before,
          intentStatusAfter: applied.intent.status,
          ...(paid && received !== intent!.amount ? { acceptedAmount: received, difference: intent!.amount - received } : {}),
        },
        after: applied.result === 'applied' && applied.receiptDue ? { receipt: applied.receiptDue } : {},
      };
    }
    case 'reject': {
      if (!intent) return { outcome: { result: 'rejected' }, after: {} };
      const applied = await decided('reject');
      const failed = 'event' in applied && applied.event === 'review_resolved_failed';
      return { outcome: { result: failed ? 'failed' : 'rejected', ...before, intentStatusAfter: applied.intent.status }, after: {} };
    }
    case 'refund': {
      const amount = money.amount!;
      if (!intent) return { outcome: { result: 'refunded' }, after: {} };
      const now = ctx.now();
      // Evidence of a transfer already made means the money went back outside the hub, whatever the channel.
      const viaGateway = !decision.evidence && refundsThroughGateway(ctx, review, intent);
      const refundId = crypto.randomUUID();
      await executor(ctx)
        .insert(refunds)
        .values({
          id: refundId,
          intentId: intent.id,
          amount,
          full: owns(review, intent) && amount === intent.amount,
          reason: decision.note,
          status: viaGateway ? 'submitted' : 'succeeded',
          requestedBy: decision.decidedBy,
          approvedBy,
          reviewId: review.id,
          gatewayTransactionId: money.gatewayTransactionId || null,
          method: viaGateway ? 'gateway' : 'manual',
          gatewayRefundId: viaGateway ? null : (decision.evidence ?? null),
          detail: viaGateway ? null : { evidence: decision.evidence },
          createdAt: now,
          updatedAt: now,
          completedAt: viaGateway ? null : now,
        });
      if (viaGateway) {
        // Sent once committed; the intent moves when the gateway confirms (refunds.ts).
        return { outcome: { result: 'refund_submitted', ...before, refundId }, after: { refundId } };
      }
      const applied = await decided('refunded');
      return { outcome: { result: 'refunded', ...before, intentStatusAfter: applied.intent.status, refundId }, after: {} };
    }
    case 'assign': {
      const target = await assignTarget(ctx, principal, review, decision);
      // The money now names an intent: it gets every check a callback would (amount, state, lines).
      const applied = await applyOutcome(ctx, {
        intentId: target.id,
        outcome: {
          kind: 'succeeded',
          amount: money.amount!,
          transactionId: review.gatewayTransactionId,
          ...(typeof review.detail?.payeeAccount === 'string' ? { payeeAccount: review.detail.payeeAccount } : {}),
          detail: { assignedFromReview: review.id },
        },
        source: 'manual',
        actor,
      });
      if (applied.result === 'unknown_reference') throw notFound(`payment intent ${target.id}`);
      return {
        outcome: {
          result: 'assigned',
          intentId: target.id,
          intentStatusBefore: target.status,
          intentStatusAfter: applied.intent.status,
          assignedResult: applied.answer,
        },
        after: applied.result === 'applied' && applied.receiptDue ? { receipt: applied.receiptDue } : {},
      };
    }
  }
}

/** The intent an unmatched credit pays: the one named, or the dossier's latest on the same gateway that can take money. */
async function assignTarget(
  ctx: ServiceContext,
  principal: Principal,
  review: ReviewRow,
  decision: Pick<ReviewDecisionRecord, 'intentId' | 'dossierCode'>,
) {
  const scope = dossierScopeCondition(principal, paymentIntents.dossierCode);
  const conditions = [eq(paymentIntents.gateway, review.gateway)];
  if (scope) conditions.push(scope);
  if (decision.intentId) conditions.push(eq(paymentIntents.id, decision.intentId));
  else conditions.push(eq(paymentIntents.dossierCode, decision.dossierCode!), inArray(paymentIntents.status, ASSIGNABLE));
  const [target] = await executor(ctx)
    .select({ id: paymentIntents.id, status: paymentIntents.status })
    .from(paymentIntents)
    .where(and(...conditions))
    .orderBy(desc(paymentIntents.createdAt))
    .limit(1);
  if (!target) {
    throw refuse(
      decision.intentId
        ? `payment intent ${decision.intentId} is not a ${review.gateway} intent in your scope`
        : `dossier ${decision.dossierCode} has no ${review.gateway} payment intent in your scope that can take this money`,
      decision.intentId ? 'intentId' : 'dossierCode',
    );
  }
  return target;
}

/** Issues a receipt and sends a refund that a committed decision left to do. */
async function finish(ctx: ServiceContext, after: AfterCommit) {
  if (after.receipt) await receiptsDue(ctx, after.receipt.agencyCode);
  if (after.refundId) await sendRefund(ctx, after.refundId);
}

/**
 * payment.review_resolved, to the dossier whose money it was (the intent in review, or the one an
 * assignment paid), before the audit row: the events' lock comes before the audit chain's, the last.
 * Money that never named an intent and was not assigned is no dossier's: nothing is told.
 */
async function tellResolved(
  ctx: ServiceContext,
  locked: Locked,
  decision: ReviewDecisionRecord,
  outcome: ReviewOutcomeRecord,
  resolvedBy: string,
): Promise<void> {
  const intentId = locked.intent?.id ?? outcome.intentId;
  if (!intentId) return;
  const [intent] = await executor(ctx)
    .select({ dossierCode: paymentIntents.dossierCode })
    .from(paymentIntents)
    .where(eq(paymentIntents.id, intentId));
  if (!intent) return;
  const { review } = locked;
  await emitEvents(ctx, [reviewResolvedEvent(ctx, review, intent.dossierCode, decision, { ...outcome }, resolvedBy)]);
}

const reviewState = (review: ReviewRow) => ({ status: review.status, decision: review.decision, outcome: review.outcome });

/** One step on a review, appended to the audit log in the step's own transaction: the state before it and after. */
const auditStep = (
  ctx: ServiceContext,
  principal: Principal,
  locked: Locked,
  action: 'review.decide' | 'review.approve' | 'review.decline',
  reason: string | null,
  after: Record<string, unknown>,
) =>
  appendAudit(ctx, principal, {
    action,
    resourceType: 'payment_review',
    resourceId: locked.review.id,
    agencyCode: locked.agencyCode,
    reason,
    before: reviewState(locked.review),
    after,
  });

/**
 * A treasury user decides a review. The decision is checked, then carried out at once, or kept
 * `awaiting_approval` when it moves more than the configured amount (accept, assign, refund). An
 * Idempotency-Key makes a retry replay; a review someone else decided first answers 409.
 */
export async function decideReview(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  input: DecideReviewInput,
  idempotencyKey: string,
): Promise<void> {
  const owner = actorOf(principal);
  const fingerprint = requestFingerprint(`POST /v1/payment-reviews/${id}/decision`, input);
  const after = await withTransaction(ctx, async (ctx): Promise<AfterCommit> => {
    const locked = await lockReview(ctx, principal, id, () => input.action === 'accept');
    // Read under the lock: a concurrent retry with the same key waits, then replays.
    if (await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint)) return {};
    const { review, intent } = locked;
    if (review.status !== 'open') {
      throw new ServiceError(
        'review-not-open',
        `this review was already decided (${review.status === 'resolved' ? `resolved by ${review.resolvedBy}` : `awaiting the approval of a decision by ${review.decidedBy}`})`,
        [],
        { reviewStatus: review.status },
      );
    }
    const { atStake } = checkDecision(ctx, review, intent, input);
    // The intent an assignment pays is found now, in the decider's scope: an approver carries out
    // what was decided, never a target the decider could not see.
    const assigned = input.action === 'assign' ? await assignTarget(ctx, principal, review, input) : null;
    const now = ctx.now();
    const decision: ReviewDecisionRecord = {
      action: input.action,
      note: input.note,
      ...(input.amount !== undefined ? { amount: input.amount } : {}),
      ...(assigned ? { intentId: assigned.id } : input.intentId ? { intentId: input.intentId } : {}),
      ...(input.dossierCode ? { dossierCode: input.dossierCode } : {}),
      ...(input.evidence ? { evidence: input.evidence } : {}),
      decidedBy: owner,
      decidedAt: now.toISOString(),
    };
    await rememberResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint, { status: 200, body: { id } });
    const needsApproval = input.action !== 'reject' && atStake > ctx.settings.reviewApprovalThreshold;
    if (needsApproval) {
      await executor(ctx)
        .update(paymentReviews)
        .set({ status: 'awaiting_approval', decision, decidedBy: owner, decidedAt: now })
        .where(eq(paymentReviews.id, id));
      await auditStep(ctx, principal, locked, 'review.decide', input.note, { status: 'awaiting_approval', decision });
      await followReview(ctx, principal, { id, status: 'awaiting_approval', decision, outcome: null });
      return {};
    }
    const done = await carryOut(ctx, principal, locked, decision, null);
    await executor(ctx)
      .update(paymentReviews)
      .set({ status: 'resolved', decision, outcome: done.outcome, decidedBy: owner, decidedAt: now, resolvedBy: owner, resolvedAt: now })
      .where(eq(paymentReviews.id, id));
    await tellResolved(ctx, locked, decision, done.outcome, owner);
    await auditStep(ctx, principal, locked, 'review.decide', input.note, { status: 'resolved', decision, outcome: done.outcome });
    await followReview(ctx, principal, { id, status: 'resolved', decision, outcome: done.outcome });
    return done.after;
  }).catch(async (error: unknown) => {
    // The same key used at the same moment on another review: whichever committed first owns it.
    if (pgError(error).code !== '23505' || !(await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint)))
      throw error;
    return {};
  });
  await finish(ctx, after);
}

/** A second treasury user approves a decision awaiting approval: it is carried out now. */
export async function approveReview(ctx: ServiceContext, principal: Principal, id: string, note: string | undefined): Promise<void> {
  const after = await withTransaction(ctx, async (ctx) => {
    const locked = await lockReview(ctx, principal, id, (row) => row.decision?.action === 'accept');
    const { review } = locked;
    const decision = pendingDecision(review, principal);
    const approver = actorOf(principal);
    const done = await carryOut(ctx, principal, locked, decision, approver);
    const now = ctx.now();
    await executor(ctx)
      .update(paymentReviews)
      .set({ status: 'resolved', outcome: done.outcome, approvedBy: approver, resolvedBy: approver, resolvedAt: now })
      .where(eq(paymentReviews.id, id));
    await tellResolved(ctx, locked, decision, done.outcome, approver);
    await auditStep(ctx, principal, locked, 'review.approve', note ?? null, { status: 'resolved', decision, outcome: done.outcome });
    await followReview(ctx, principal, { id, status: 'resolved', decision, outcome: done.outcome });
    return done.after;
  });
  await finish(ctx, after);
}

/** A second treasury user declines a decision: the review is open again, the decline on the record. */
export async function declineReview(ctx: ServiceContext, principal: Principal, id: string, note: string): Promise<void> {
  await withTransaction(ctx, async (ctx) => {
    const locked = await lockReview(ctx, principal, id, () => false);
    const { review } = locked;
    pendingDecision(review, principal);
    await executor(ctx)
      .update(paymentReviews)
      .set({ status: 'open', decision: null, decidedBy: null, decidedAt: null })
      .where(eq(paymentReviews.id, id));
    await auditStep(ctx, principal, locked, 'review.decline', note, { status: 'open' });
    await followReview(ctx, principal, { id, status: 'open', decision: null, outcome: null });
  });
}

function pendingDecision(review: ReviewRow, principal: Principal): ReviewDecisionRecord {
  if (review.status !== 'awaiting_approval' || !review.decision) {
    throw new ServiceError('approval-not-pending', `this review is ${review.status}, not awaiting approval`, [], {
      reviewStatus: review.status,
    });
  }
  if (subjectOf(review.decision.decidedBy) === principal.subject) {
    throw new ServiceError('approver-must-differ', 'a decision is approved or declined by a treasury user other than the one who made it');
  }
  return review.decision;
}
