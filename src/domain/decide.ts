import { awaitingPaymentStatuses, type IntentEvent, type IntentStatus, transition } from './payment-states.ts';

/**
 * Deciding what an outcome does to a payment intent (DESIGN.md "Deciding, then writing"). Every
 * rule about money that reaches an intent is stated here once, for every gateway and every source
 * (callback, poller, expiry, portal, a person): `decide` is pure, and `applyOutcome` only locks
 * the intent, asks it, and writes what it says.
 */

/** What a gateway says happened to a payment, normalised. Amounts are integer VND. */
export type GatewayOutcome =
  /**
   * `payeeAccount`: the account the money reached, where the gateway says (a bank credit).
   * `detail`: facts the adapter saw but cannot check itself, kept in the history.
   */
  | { kind: 'succeeded'; amount: number; transactionId: string; paidAt?: Date; payeeAccount?: string; detail?: Record<string, unknown> }
  /** `amount`, when the gateway states one, is checked as for a success (VNPay's 04 comes first). */
  | { kind: 'failed'; reason: string; transactionId?: string; amount?: number }
  | { kind: 'needs_review'; reason: string; amount?: number; transactionId?: string };

/** Everything that can happen to an intent: a gateway's word, the hub giving up, a confirmed refund. */
export type Outcome =
  | GatewayOutcome
  | { kind: 'expired'; reason: string }
  | { kind: 'cancelled'; reason: string }
  /** A refund the gateway confirmed; `refundId` is the hub's refund row. */
  | { kind: 'refunded'; amount: number; refundId: string }
  /**
   * A treasury user's decision on a review of money reported for this intent (services/reviews.ts):
   * `accept` the money, `reject` it (none arrived), or it was `refunded` (given back, confirmed).
   */
  | {
      kind: 'review_decided';
      action: 'accept' | 'reject' | 'refunded';
      reviewId: string;
      /** The money the review is about: its gateway transaction ('' when none) and amount (null when none was stated). */
      money: { gatewayTransactionId: string; amount: number | null };
      /** accept only: the amount the person states was accepted, required when it is not the amount asked. */
      acceptedAmount?: number;
    };

/** The facts of a locked intent that a decision rests on. */
export interface IntentFacts {
  status: IntentStatus;
  amount: number;
  refundedAmount: number;
  /** What was taken when a person accepted another amount than the one asked; null: the amount asked. */
  receivedAmount: number | null;
  gatewayTransactionId: string | null;
  /** The account the payer was shown (a VietQR intent's next action), if any. */
  shownAccount: string | null;
}

/**
 * How the hub's handling ended, for the gateway's answer (each adapter says it in its own words):
 * `applied` moved the intent, `needs_review` moved it to a person, `duplicate` changed nothing
 * because it was already so, `amount_mismatch` is money not of the amount asked (VNPay 04), and
 * `already_final` is an outcome the intent's state refuses (VNPay 02).
 */
export type DecisionAnswer = 'applied' | 'needs_review' | 'duplicate' | 'amount_mismatch' | 'already_final';

/** Why a person must look at money (payment_reviews.kind). */
export const reviewKinds = [
  'amount_mismatch',
  'suspected_fraud',
  'late_payment',
  'success_after_decline',
  'second_payment',
  'unmatched_credit',
  'unreadable_message',
  'refund_disputed',
] as const;
export type ReviewKind = (typeof reviewKinds)[number];

interface ReviewToOpen {
  kind: ReviewKind;
  reason: string;
  proposedAction: 'refund' | 'decide';
  /** One review per (intent, kind, gateway transaction): a gateway repeating itself opens nothing new. '' when none is named. */
  gatewayTransactionId: string;
  amount: number | null;
  /** The answer when this very review is already open (the gateway said it before); else the decision's own. */
  answerIfAlreadyOpen?: DecisionAnswer;
}

/**
 * What happens to the intent's fee lines: `pay` them (and the dossier, and issue the receipt);
 * `claim_then_pay` re-reserves a given-up intent's lines first, if they are all still free;
 * `release` frees them for another payment; `mark_refunded` after everything is given back;
 * `leave` them as they are (held, while money may have moved and a person decides).
 */
type ObligationAction = 'pay' | 'claim_then_pay' | 'release' | 'mark_refunded' | 'leave';

export interface Decision {
  answer: DecisionAnswer;
  /**
   * The named edge, taken (`to` is the new status) or refused (`to` null: recorded, nothing
   * moves). Null when nothing is recorded at all: the same thing said again.
   */
  event: {
    name: IntentEvent;
    to: IntentStatus | null;
    /** Kept in the history beside the outcome: the review's reason, a decline's reason, the refund. */
    note?: Record<string, unknown>;
    /** Recorded only if `review` is newly opened: a repeat of the same money is not a new fact. */
    onlyWithNewReview?: boolean;
  } | null;
  /** Fields a move sets besides the status (only when `event.to` is set). */
  set: {
    reviewReason?: string | null;
    gatewayTransactionId?: string | null;
    refundedAmount?: number;
    /** `pay` only: when the money was taken (the gateway's time, if it gave one). */
    succeededAt?: Date | null;
    /** `pay` only: what was taken, when a person accepted another amount than the one asked. */
    receivedAmount?: number | null;
  };
  review: ReviewToOpen | null;
  obligations: ObligationAction;
  /** `claim_then_pay` only: the decision when the fee lines were paid or taken meanwhile. */
  otherwise?: Decision;
}

const paidStatuses: readonly IntentStatus[] = ['succeeded', 'partially_refunded', 'refunded'];
const digits = (account: string) => account.replace(/[\s.-]/g, '');

/**
 * A credit on another account than the one the payer was shown is not this intent's payment as
 * asked, whatever its text says: the reason, or null when either side names no account.
 */
function otherAccount(intent: IntentFacts, payeeAccount: string | undefined): string | null {
  if (!payeeAccount || intent.shownAccount === null) return null;
  return digits(payeeAccount) === digits(intent.shownAccount)
    ? null
    : `paid into account ${payeeAccount}, not the intent's ${intent.shownAccount}`;
}

/** Moves along `event` if the state machine allows it, else records the refusal (`already_final`). */
function move(
  intent: IntentFacts,
  event: IntentEvent,
  rest: Omit<Decision, 'event' | 'answer'> & { answer?: DecisionAnswer; note?: Record<string, unknown> },
): Decision {
  const { answer, note, ...decision } = rest;
  const t = transition(intent.status, event);
  if (!t.allowed) {
    // Refused: nothing moves, nothing is opened, the lines stay as they are.
    return {
      answer: 'already_final',
      event: { name: event, to: null, ...(note ? { note } : {}) },
      set: {},
      review: null,
      obligations: 'leave',
    };
  }
  return {
    ...decision,
    answer: answer ?? (t.to === 'needs_review' ? 'needs_review' : 'applied'),
    event: { name: event, to: t.to, ...(note ? { note } : {}) },
  };
}

const nothing = (answer: DecisionAnswer): Decision => ({ answer, event: null, set: {}, review: null, obligations: 'leave' });

/** A fact recorded against the intent without moving it, with a review for a person when there is money. */
function refusedWithReview(event: IntentEvent, reviewReason: string, review: ReviewToOpen, answer: DecisionAnswer): Decision {
  return {
    answer,
    event: { name: event, to: null, note: { reviewReason }, onlyWithNewReview: true },
    set: {},
    review,
    obligations: 'leave',
  };
}

/**
 * The decision for one outcome on one locked intent. The rules, each stated once:
 * 1. Money is checked before state: a success or hold for another amount (or into another
 *    account) is answered as a wrong amount first, as VNPay's order of checks has it (04 before
 *    02), and is never dropped: it moves a waiting intent to review, or opens a review beside a
 *    decided one.
 * 2. The same transaction said again changes nothing; a different successful payment of an intent
 *    already paid (or in review) is a second payment: a review proposing its refund.
 * 3. A success while waiting pays; after the hub gave up (expired, cancelled) it pays only if the
 *    fee lines are still free, else it goes to review with a refund proposed; after a decline it
 *    is never taken silently.
 * 4. A decline or a hold for another amount is about another payment than the one asked: recorded,
 *    nothing changes.
 * 5. Declines, expiry and cancellation free the fee lines; a hold (suspected fraud, wrong amount)
 *    keeps them held, since money may have moved.
 * 6. A refund never exceeds what was paid; a full one marks the fee lines refunded.
 * 7. A person's decision moves an intent in review only when the money decided on is the money
 *    that put it there; any other money (a second payment, another amount beside a paid intent,
 *    a disputed refund) is recorded in the history as kept, refunded or never received, and the
 *    intent stays as it is. See `decideReview`.
 */
export function decide(intent: IntentFacts, outcome: Outcome): Decision {
  const awaiting = awaitingPaymentStatuses.includes(intent.status);
  const paid = paidStatuses.includes(intent.status);
  const decided = paid || intent.status === 'needs_review';
  switch (outcome.kind) {
    case 'succeeded': {
      const money = { gatewayTransactionId: outcome.transactionId, amount: outcome.amount };
      const wrongAccount = otherAccount(intent, outcome.payeeAccount);
      if (outcome.amount !== intent.amount || wrongAccount) {
        const reviewReason = wrongAccount ?? `paid ${outcome.amount} VND for an intent of ${intent.amount} VND`;
        if (decided) {
          // Money beside a payment already taken (or already in review).
          const review: ReviewToOpen = {
            kind: 'amount_mismatch',
            reason: reviewReason,
            proposedAction: paid ? 'refund' : 'decide',
            ...money,
          };
          return refusedWithReview('payment_succeeded', reviewReason, review, 'amount_mismatch');
        }
        return move(intent, awaiting ? 'amount_mismatch' : 'late_payment_needs_review', {
          answer: 'amount_mismatch',
          set: { reviewReason, gatewayTransactionId: outcome.transactionId },
          review: { kind: awaiting ? 'amount_mismatch' : 'late_payment', reason: reviewReason, proposedAction: 'decide', ...money },
          obligations: 'leave',
        });
      }
      if (decided) {
        if (intent.gatewayTransactionId !== null && intent.gatewayTransactionId === outcome.transactionId) return nothing('duplicate');
        const reviewReason = paid
          ? `second successful payment (${outcome.transactionId}) for an intent already paid; refund it`
          : `successful payment (${outcome.transactionId}) reported while the intent is in review`;
        const review: ReviewToOpen = {
          kind: 'second_payment',
          reason: reviewReason,
          proposedAction: paid ? 'refund' : 'decide',
          ...money,
          answerIfAlreadyOpen: 'duplicate',
        };
        return refusedWithReview('payment_succeeded', reviewReason, review, 'already_final');
      }
      const pay = { gatewayTransactionId: outcome.transactionId, reviewReason: null, succeededAt: outcome.paidAt ?? null };
      if (awaiting) return move(intent, 'payment_succeeded', { set: pay, review: null, obligations: 'pay' });
      if (intent.status === 'expired' || intent.status === 'cancelled') {
        const reviewReason = 'paid after expiry, but its obligations are paid or held by another intent';
        return move(intent, 'late_payment_succeeded', {
          set: pay,
          review: null,
          obligations: 'claim_then_pay',
          otherwise: move(intent, 'late_payment_needs_review', {
            set: { reviewReason, gatewayTransactionId: outcome.transactionId },
            review: { kind: 'late_payment', reason: reviewReason, proposedAction: 'refund', ...money },
            obligations: 'leave',
          }),
        });
      }
      // failed: a success after an explicit decline is never taken silently.
      const reviewReason = 'success reported after a decline';
      return move(intent, 'late_payment_needs_review', {
        set: { reviewReason, gatewayTransactionId: outcome.transactionId },
        review: { kind: 'success_after_decline', reason: reviewReason, proposedAction: 'decide', ...money },
        obligations: 'leave',
      });
    }
    case 'failed': {
      if (outcome.amount !== undefined && outcome.amount !== intent.amount) {
        const reviewReason = `declined ${outcome.amount} VND for an intent of ${intent.amount} VND`;
        return {
          answer: 'amount_mismatch',
          event: { name: 'payment_declined', to: null, note: { reviewReason } },
          set: {},
          review: null,
          obligations: 'leave',
        };
      }
      if (intent.status === 'failed') return nothing('duplicate');
      return move(intent, 'payment_declined', {
        set: { reviewReason: null },
        review: null,
        obligations: 'release',
        note: { reason: outcome.reason },
      });
    }
    case 'needs_review': {
      const wrongAmount = outcome.amount !== undefined && outcome.amount !== intent.amount;
      if (wrongAmount && !awaiting) {
        // Money held for another amount, on an intent already decided: a fact for a person.
        const reviewReason = `held ${outcome.amount} VND (${outcome.reason}) for an intent of ${intent.amount} VND`;
        const review: ReviewToOpen = {
          kind: 'amount_mismatch',
          reason: reviewReason,
          proposedAction: 'decide',
          gatewayTransactionId: outcome.transactionId ?? '',
          amount: outcome.amount ?? null,
        };
        return refusedWithReview('suspected_fraud', reviewReason, review, 'amount_mismatch');
      }
      if (intent.status === 'needs_review') return nothing('duplicate');
      // The lines stay held: money may have moved, so nobody else may pay them meanwhile. The
      // gateway is told when the amount was not the one asked (VNPay 04).
      return move(intent, 'suspected_fraud', {
        ...(wrongAmount ? { answer: 'amount_mismatch' as const } : {}),
        set: { reviewReason: outcome.reason, gatewayTransactionId: outcome.transactionId ?? null },
        review: {
          kind: 'suspected_fraud',
          reason: outcome.reason,
          proposedAction: 'decide',
          gatewayTransactionId: outcome.transactionId ?? '',
          amount: outcome.amount ?? null,
        },
        obligations: 'leave',
      });
    }
    case 'refunded': {
      const refundedAmount = intent.refundedAmount + outcome.amount;
      // What was paid is what was taken: the amount asked, or what a person accepted instead.
      const paid = intent.receivedAmount ?? intent.amount;
      if (!Number.isSafeInteger(outcome.amount) || outcome.amount <= 0 || refundedAmount > paid) {
        // The refund service checks this before asking the gateway: reaching here is a bug, and
        // the transaction rolls back rather than record more given back than was paid.
        throw new RangeError(`a refund of ${outcome.amount} VND on top of ${intent.refundedAmount} VND exceeds the ${paid} VND paid`);
      }
      const full = refundedAmount === paid;
      return move(intent, full ? 'refund_full' : 'refund_partial', {
        set: { refundedAmount },
        review: null,
        obligations: full ? 'mark_refunded' : 'leave',
        note: { refundId: outcome.refundId },
      });
    }
    case 'review_decided':
      return decideReview(intent, outcome);
    case 'expired':
    case 'cancelled': {
      if (intent.status === outcome.kind) return nothing('duplicate');
      return move(intent, outcome.kind, { set: {}, review: null, obligations: 'release', note: { reason: outcome.reason } });
    }
  }
}

/**
 * A treasury user's decision (rule 7). On the money that put the intent in review: `accept` pays
 * the fee lines (re-reserving them when the intent had let them go, as after a late payment; if
 * they were paid or taken meanwhile, nothing happens and the service says so), stating what was
 * taken when it is not the amount asked; `reject` fails the intent and frees its lines; `refunded`
 * (the money is back with the payer) ends it refunded with its lines free to be paid again.
 */
function decideReview(intent: IntentFacts, outcome: Extract<Outcome, { kind: 'review_decided' }>): Decision {
  const note = { reviewId: outcome.reviewId };
  const { money } = outcome;
  const owning = intent.status === 'needs_review' && (intent.gatewayTransactionId ?? '') === money.gatewayTransactionId;
  if (!owning) {
    const fact = { accept: 'review_money_kept', refunded: 'review_money_refunded', reject: 'review_money_not_received' } as const;
    return move(intent, fact[outcome.action], {
      answer: 'applied',
      set: {},
      review: null,
      obligations: 'leave',
      note: { ...note, gatewayTransactionId: money.gatewayTransactionId, amount: money.amount },
    });
  }
  switch (outcome.action) {
    case 'accept': {
      const received = money.amount ?? intent.amount;
      if (received < intent.amount && outcome.acceptedAmount !== received) {
        // The service asks for the amount and a note first: reaching here is a bug.
        throw new RangeError(`accepting ${received} VND for an intent of ${intent.amount} VND needs that amount stated`);
      }
      const receivedAmount = received === intent.amount ? null : received;
      return move(intent, 'review_resolved_succeeded', {
        set: { gatewayTransactionId: money.gatewayTransactionId, reviewReason: null, succeededAt: null, receivedAmount },
        review: null,
        obligations: 'claim_then_pay',
        // The lines were paid or taken by another intent meanwhile: nothing is written.
        otherwise: nothing('already_final'),
        note: receivedAmount === null ? note : { ...note, receivedAmount, difference: intent.amount - received },
      });
    }
    case 'reject':
      return move(intent, 'review_resolved_failed', { set: { reviewReason: null }, review: null, obligations: 'release', note });
    case 'refunded':
      return move(intent, 'review_resolved_refunded', {
        set: { reviewReason: null, refundedAmount: money.amount ?? intent.amount },
        review: null,
        obligations: 'release',
        note,
      });
  }
}
