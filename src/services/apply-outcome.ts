import { claimObligations } from '../db/statements/claim-obligations.ts';
import { type IntentRow, type IntentTarget, lockIntent } from '../db/statements/lock-intent.ts';
import { type MarkPaidInput, markPaidAndRequestReceipt } from '../db/statements/mark-paid.ts';
import { writeDecision } from '../db/statements/write-decision.ts';
import { type Decision, type DecisionAnswer, decide, type IntentFacts, type Outcome } from '../domain/decide.ts';
import type { IntentEvent, IntentStatus } from '../domain/payment-states.ts';
import { amountInWords } from '../domain/words.ts';
import type { IntentSnapshot } from '../gateways/types.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { bookIfDayClosed } from './late-money.ts';
import { decisionEvents, emitEvents, type PaymentFacts, paidEvents } from './outbox.ts';
import { receiptsDue } from './receipt-issuer.ts';
import { newLookupCode } from './receipts.ts';

export type { IntentRow } from '../db/statements/lock-intent.ts';
export type { Outcome } from '../domain/decide.ts';

/** What an adapter may know of an intent (status queries, refunds). */
export function intentSnapshot(row: IntentRow): IntentSnapshot {
  return {
    id: row.id,
    reference: row.reference,
    amount: row.amount,
    createdAt: row.createdAt,
    gatewayReference: row.gatewayReference,
    gatewayTransactionId: row.gatewayTransactionId,
    succeededAt: row.succeededAt,
  };
}

type OutcomeSource = 'callback' | 'poller' | 'expiry' | 'portal' | 'statement' | 'manual' | 'counter' | 'seed';

export interface ApplyOutcomeInput {
  /** Find the intent by id, or by (gateway, reference) as a gateway names it. */
  intentId?: string;
  gateway?: string;
  reference?: string;
  outcome: Outcome;
  source: OutcomeSource;
  actor?: string;
  /** The inbox message this outcome came from, for the history. */
  inboxId?: string;
  /**
   * False: a payment leaves no e-receipt (a counter payment whose agency hands out paper
   * receipts, `agencies.issues_counter_receipts` off). Default true: every gateway payment has one.
   */
  issueReceipt?: boolean;
}

/** The receipt a payment asked for: its id, and the agency whose series numbers it. */
export interface ReceiptDue {
  id: string;
  agencyCode: string;
}

/**
 * `answer` is the decision's answer for the gateway. `result` sums it up for the hub's own
 * callers: `applied` when the intent moved (`amount_mismatch` when it moved because of a wrong
 * amount); `receiptDue` is the receipt this transaction asked for, issued once it commits
 * (services/receipt-issuer.ts): by applyOutcome itself, or by the caller of a nested one.
 */
export type ApplyResult =
  | { result: 'applied'; answer: DecisionAnswer; intent: IntentRow; event: IntentEvent; from: IntentStatus; receiptDue?: ReceiptDue }
  | { result: 'duplicate'; answer: DecisionAnswer; intent: IntentRow }
  | { result: 'unknown_reference' }
  | { result: 'amount_mismatch'; answer: DecisionAnswer; intent: IntentRow }
  | { result: 'already_final'; answer: DecisionAnswer; intent: IntentRow; event: IntentEvent };

/**
 * The one path that changes a payment intent's state (DESIGN.md invariant 1): callbacks, the
 * poller, expiry, cancellation, refunds and (later) statement matching and people's decisions.
 * It locks the intent (and, for a payment, its dossier), asks the pure `decide` what the outcome
 * does, and writes that, in one transaction: concurrent deliveries of the same outcome
 * serialise on the lock, and applying an outcome twice changes nothing the second time.
 */
export async function applyOutcome(ctx: ServiceContext, input: ApplyOutcomeInput): Promise<ApplyResult> {
  const nested = ctx.tx !== undefined;
  const result = await withTransaction(ctx, async (ctx) => {
    const target: IntentTarget = input.intentId
      ? { intentId: input.intentId }
      : { gateway: input.gateway ?? '', reference: input.reference ?? '' };
    // A payment may complete the dossier: its lock is taken with the intent's, in the one order.
    const { outcome } = input;
    const paying = outcome.kind === 'succeeded' || (outcome.kind === 'review_decided' && outcome.action === 'accept');
    const intent = await lockIntent(executor(ctx), target, { lockDossier: paying });
    if (!intent) return { result: 'unknown_reference' } as const;
    return execute(ctx, intent, decide(factsOf(intent), input.outcome), input);
  });
  if (!nested && result.result === 'applied' && result.receiptDue) {
    // Committed: the receipt's series may number it now (in the background where the host has an issuer).
    await receiptsDue(ctx, result.receiptDue.agencyCode);
  }
  return result;
}

function factsOf(intent: IntentRow): IntentFacts {
  const shown = (intent.nextAction as { accountNumber?: unknown } | null)?.accountNumber;
  return {
    status: intent.status,
    amount: intent.amount,
    refundedAmount: intent.refundedAmount,
    receivedAmount: intent.receivedAmount,
    gatewayTransactionId: intent.gatewayTransactionId,
    shownAccount: typeof shown === 'string' ? shown : null,
  };
}

/** Writes what `decide` said, with the intent locked. */
async function execute(ctx: ServiceContext, intent: IntentRow, decision: Decision, input: ApplyOutcomeInput): Promise<ApplyResult> {
  const db = executor(ctx);
  const now = ctx.now();
  const detail: Record<string, unknown> = { outcome: input.outcome, ...(input.inboxId ? { inboxId: input.inboxId } : {}) };
  const { event, answer } = decision;

  if (decision.obligations === 'claim_then_pay') {
    // Money after the hub gave up: taken if the fee lines are still free, else `otherwise`.
    const claimed = await claimObligations(db, { intentId: intent.id, at: now });
    if (!claimed) return execute(ctx, intent, decision.otherwise!, input);
  }
  if (decision.obligations === 'pay' || decision.obligations === 'claim_then_pay') {
    return markPaid(ctx, intent, decision, { source: input.source, actor: input.actor ?? null, detail }, input.issueReceipt ?? true);
  }

  const to = event?.to ?? null;
  const moved: IntentRow | null =
    to === null
      ? null
      : {
          ...intent,
          status: to,
          reviewReason: decision.set.reviewReason !== undefined ? decision.set.reviewReason : intent.reviewReason,
          gatewayTransactionId:
            decision.set.gatewayTransactionId !== undefined ? decision.set.gatewayTransactionId : intent.gatewayTransactionId,
          refundedAmount: decision.set.refundedAmount ?? intent.refundedAmount,
          updatedAt: now,
        };
  if (event || decision.review || decision.obligations !== 'leave') {
    const reviewId = decision.review ? crypto.randomUUID() : undefined;
    const { reviewOpened } = await writeDecision(db, {
      intentId: intent.id,
      gateway: intent.gateway,
      fromStatus: intent.status,
      event: event ? { name: event.name, detail: { ...detail, ...event.note }, onlyWithNewReview: event.onlyWithNewReview ?? false } : null,
      moveTo: moved && {
        status: moved.status,
        reviewReason: moved.reviewReason,
        gatewayTransactionId: moved.gatewayTransactionId,
        refundedAmount: moved.refundedAmount,
      },
      review: decision.review && { ...decision.review, id: reviewId!, detail },
      obligations: decision.obligations,
      source: input.source,
      actor: input.actor ?? null,
      at: now,
    });
    // Told to dossier systems in this transaction: a failure, an expiry, money given back, a review opened.
    await emitEvents(
      ctx,
      decisionEvents(ctx, paymentFacts(moved ?? intent), {
        event: event?.name ?? null,
        moved: moved !== null,
        // Money beside the intent's own given back leaves the intent as it is: its amount is the note's.
        refunded:
          event?.name === 'review_money_refunded'
            ? Number(event.note?.amount ?? 0)
            : moved
              ? moved.refundedAmount - intent.refundedAmount
              : 0,
        review: reviewOpened && decision.review ? { ...decision.review, amount: decision.review.amount ?? null, id: reviewId! } : null,
      }),
    );
    if (decision.review && !reviewOpened && decision.review.answerIfAlreadyOpen) {
      return summary(decision.review.answerIfAlreadyOpen, intent, null);
    }
  }
  return summary(answer, moved ?? intent, event && { name: event.name, moved: moved !== null, from: intent.status });
}

/** The caller's view of a written decision. */
function summary(
  answer: DecisionAnswer,
  intent: IntentRow,
  event: { name: IntentEvent; moved: boolean; from: IntentStatus } | null,
): ApplyResult {
  if (event?.moved) {
    return answer === 'amount_mismatch'
      ? { result: 'amount_mismatch', answer, intent }
      : { result: 'applied', answer, intent, event: event.name, from: event.from };
  }
  if (answer === 'already_final' && event) return { result: 'already_final', answer, intent, event: event.name };
  if (answer === 'amount_mismatch') return { result: 'amount_mismatch', answer, intent };
  return { result: 'duplicate', answer, intent };
}

/**
 * Pays the intent's fee lines and asks for its receipt (db/statements/mark-paid.ts), which the
 * receipt issuer numbers and signs after the commit.
 */
async function markPaid(
  ctx: ServiceContext,
  intent: IntentRow,
  decision: Decision,
  history: { source: string; actor: string | null; detail: Record<string, unknown> },
  issueReceipt: boolean,
): Promise<ApplyResult> {
  const now = ctx.now();
  const event = decision.event!;
  const succeededAt = decision.set.succeededAt;
  const paidAt = succeededAt && !Number.isNaN(succeededAt.getTime()) ? succeededAt : now;
  const transactionId = decision.set.gatewayTransactionId!;
  const receiptId = crypto.randomUUID();
  const requested = await markPaidAndRequestReceipt(executor(ctx), {
    intentId: intent.id,
    dossierCode: intent.dossierCode,
    gateway: intent.gateway,
    amount: intent.amount,
    onlinePaymentFlag: intent.onlinePaymentFlag,
    event: event.name as MarkPaidInput['event'],
    receivedAmount: decision.set.receivedAmount ?? null,
    fromStatus: intent.status,
    toStatus: event.to!,
    gatewayTransactionId: transactionId,
    paidAt,
    at: now,
    history,
    receipt: { id: receiptId, lookupCode: newLookupCode(), totalInWords: amountInWords(intent.amount), issue: issueReceipt },
  });
  // A closed day's books do not change: its late money is booked on the next open day.
  await bookIfDayClosed(ctx, {
    intentId: intent.id,
    gateway: intent.gateway,
    nextAction: intent.nextAction as Record<string, unknown> | null,
    amount: decision.set.receivedAmount ?? intent.amount,
    paidAt,
    actor: history.actor ?? `system:${history.source}`,
  });
  const updated: IntentRow = {
    ...intent,
    status: event.to!,
    gatewayTransactionId: transactionId,
    succeededAt: paidAt,
    reviewReason: null,
    receivedAmount: decision.set.receivedAmount ?? null,
    updatedAt: now,
  };
  // Told to dossier systems in this transaction: each fee line paid, the dossier when complete (the receipt, when the issuer numbers it).
  await emitEvents(ctx, paidEvents(ctx, paymentFacts(updated), { lines: requested.lines, dossierPaid: requested.dossierPaid }));
  return {
    result: 'applied',
    answer: 'applied',
    intent: updated,
    event: event.name,
    from: intent.status,
    receiptDue: requested.receiptRequested ? { id: receiptId, agencyCode: requested.agencyCode } : undefined,
  };
}

/** The intent as its events name it. */
function paymentFacts(intent: IntentRow): PaymentFacts {
  return {
    id: intent.id,
    reference: intent.reference,
    gateway: intent.gateway,
    dossierCode: intent.dossierCode,
    amount: intent.amount,
    status: intent.status,
    gatewayTransactionId: intent.gatewayTransactionId,
  };
}
