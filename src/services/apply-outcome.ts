import { describeError } from '../db/errors.ts';
import { claimObligations } from '../db/statements/claim-obligations.ts';
import { type IntentRow, type IntentTarget, lockIntent } from '../db/statements/lock-intent.ts';
import { type MarkPaidInput, markPaidAndIssueReceipt } from '../db/statements/mark-paid.ts';
import { writeDecision } from '../db/statements/write-decision.ts';
import { type Decision, type DecisionAnswer, decide, type IntentFacts, type Outcome } from '../domain/decide.ts';
import type { IntentEvent, IntentStatus } from '../domain/payment-states.ts';
import { amountInWords } from '../domain/words.ts';
import type { IntentSnapshot } from '../gateways/types.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { bookIfDayClosed } from './late-money.ts';
import { issueOf, type ReceiptRow, signReceipt } from './receipts.ts';

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
   * Leave a new receipt unsigned: the caller signs it and writes the signature with its own
   * next statement (the callback inbox writes it with the message's answer).
   */
  deferSigning?: boolean;
  /**
   * False: a payment leaves no e-receipt (a counter payment whose agency hands out paper
   * receipts, `agencies.issues_counter_receipts` off). Default true: every gateway payment has one.
   */
  issueReceipt?: boolean;
}

/**
 * `answer` is the decision's answer for the gateway. `result` sums it up for the hub's own
 * callers: `applied` when the intent moved (`amount_mismatch` when it moved because of a wrong
 * amount); `receipt` is issued by this transaction, signed by applyOutcome once it commits.
 */
export type ApplyResult =
  | { result: 'applied'; answer: DecisionAnswer; intent: IntentRow; event: IntentEvent; from: IntentStatus; receipt?: ReceiptRow }
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
  if (!nested && !input.deferSigning && result.result === 'applied' && result.receipt) {
    // Committed: now sign the receipt. If this fails (or the process dies here) the receipt is
    // signed by the next read or by the jobs; the payment itself is already safe.
    try {
      await signReceipt(ctx, result.receipt, result.intent.reference);
    } catch (error) {
      ctx.log.warn('receipt left unsigned for the jobs', { receiptId: result.receipt.id, error: describeError(error) });
    }
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
      review: decision.review && { ...decision.review, id: crypto.randomUUID(), detail },
      obligations: decision.obligations,
      source: input.source,
      actor: input.actor ?? null,
      at: now,
    });
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
 * Pays the intent's fee lines and issues its receipt (db/statements/mark-paid.ts). The receipt
 * is signed after the commit (applyOutcome), since a signature needs the committed number.
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
  const totalInWords = amountInWords(intent.amount);
  const receiptIssue = issueOf(ctx, now);
  const issued = await markPaidAndIssueReceipt(executor(ctx), {
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
    history,
    receipt: { ...receiptIssue, id: receiptId, totalInWords, issue: issueReceipt },
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
  if (issued.number === null) return { result: 'applied', answer: 'applied', intent: updated, event: event.name, from: intent.status };
  const receipt: ReceiptRow = {
    id: receiptId,
    intentId: intent.id,
    dossierCode: intent.dossierCode,
    ...issued,
    number: issued.number,
    issuedAt: now,
    issuedDate: receiptIssue.issuedDate,
    total: intent.amount,
    totalInWords,
    gateway: intent.gateway,
    gatewayTransactionId: transactionId,
    lookupCode: receiptIssue.lookupCode,
    kind: 'original',
    originalId: null,
    reason: null,
    signature: null,
    signingKid: null,
    xml: null,
    createdAt: now,
  };
  return { result: 'applied', answer: 'applied', intent: updated, event: event.name, from: intent.status, receipt };
}
