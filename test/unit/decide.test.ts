import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Decision, decide, type IntentFacts, type Outcome } from '../../src/domain/decide.ts';
import { type IntentStatus, intentStatuses, transition } from '../../src/domain/payment-states.ts';

/**
 * `decide` as a table, the way GOV.UK Pay tests its transition graph: every intent status ×
 * every outcome kind × amount as asked or not × the same or another gateway transaction, each
 * cell written out by hand from the rules in DESIGN.md and domain/decide.ts's header, in a short
 * notation:
 *
 *   answer · event · review · fee lines
 *   event:  name→status (taken), name✗ (refused, recorded), name✗new (recorded with a new review
 *           only), - (nothing recorded)
 *   review: kind/proposedAction, with "(dup)" when an already open review makes it a duplicate
 *   claim_then_pay shows what happens otherwise after " | otherwise ".
 */
const AMOUNT = 135_000;
const TX = 'TX-1';

/** The intent in each status: refunds already given where the status says so. */
function intentIn(status: IntentStatus, extra: Partial<IntentFacts> = {}): IntentFacts {
  const refundedAmount = status === 'refunded' ? AMOUNT : status === 'partially_refunded' ? 35_000 : 0;
  return { status, amount: AMOUNT, refundedAmount, receivedAmount: null, gatewayTransactionId: TX, shownAccount: null, ...extra };
}

function render(d: Decision): string {
  const event = !d.event ? '-' : d.event.to ? `${d.event.name}→${d.event.to}` : `${d.event.name}✗${d.event.onlyWithNewReview ? 'new' : ''}`;
  const review = !d.review
    ? '-'
    : `${d.review.kind}/${d.review.proposedAction}${d.review.answerIfAlreadyOpen === 'duplicate' ? '(dup)' : ''}`;
  const own = `${d.answer} · ${event} · ${review} · ${d.obligations}`;
  return d.otherwise ? `${own} | otherwise ${render(d.otherwise)}` : own;
}

type Row = Record<IntentStatus, string>;
/** One cell for the awaiting statuses, one for the rest, with exceptions. */
const row = (cells: { awaiting: string; rest: string } & Partial<Row>): Row =>
  Object.fromEntries(intentStatuses.map((s) => [s, cells[s] ?? (s === 'created' || s === 'pending' ? cells.awaiting : cells.rest)])) as Row;

const PAY = 'applied · payment_succeeded→succeeded · - · pay';
const LATE =
  'applied · late_payment_succeeded→succeeded · - · claim_then_pay | otherwise needs_review · late_payment_needs_review→needs_review · late_payment/refund · leave';
const AFTER_DECLINE = 'needs_review · late_payment_needs_review→needs_review · success_after_decline/decide · leave';
const WRONG_WAITING = 'amount_mismatch · amount_mismatch→needs_review · amount_mismatch/decide · leave';
const WRONG_PAID = 'amount_mismatch · payment_succeeded✗new · amount_mismatch/refund · leave';
const WRONG_IN_REVIEW = 'amount_mismatch · payment_succeeded✗new · amount_mismatch/decide · leave';
const WRONG_GIVEN_UP = 'amount_mismatch · late_payment_needs_review→needs_review · late_payment/decide · leave';
const DUPLICATE = 'duplicate · - · - · leave';

/** A success for another amount is answered the same, whichever transaction it names. */
const successOfWrongAmount = row({
  awaiting: WRONG_WAITING,
  rest: WRONG_PAID,
  needs_review: WRONG_IN_REVIEW,
  failed: WRONG_GIVEN_UP,
  expired: WRONG_GIVEN_UP,
  cancelled: WRONG_GIVEN_UP,
});

const declineTaken = row({
  awaiting: 'applied · payment_declined→failed · - · release',
  rest: 'already_final · payment_declined✗ · - · leave',
  failed: DUPLICATE,
});
const holdTaken = row({
  awaiting: 'needs_review · suspected_fraud→needs_review · suspected_fraud/decide · leave',
  rest: 'already_final · suspected_fraud✗ · - · leave',
  needs_review: DUPLICATE,
});

const table: Record<string, { amount: Record<'as asked' | 'another', Record<'same' | 'another', Row>> }> = {
  succeeded: {
    amount: {
      'as asked': {
        same: row({ awaiting: PAY, rest: DUPLICATE, failed: AFTER_DECLINE, expired: LATE, cancelled: LATE }),
        another: row({
          awaiting: PAY,
          rest: 'already_final · payment_succeeded✗new · second_payment/refund(dup) · leave',
          needs_review: 'already_final · payment_succeeded✗new · second_payment/decide(dup) · leave',
          failed: AFTER_DECLINE,
          expired: LATE,
          cancelled: LATE,
        }),
      },
      another: { same: successOfWrongAmount, another: successOfWrongAmount },
    },
  },
  // A decline names no money to keep; the transaction does not matter.
  failed: {
    amount: {
      'as asked': { same: declineTaken, another: declineTaken },
      another: {
        same: row({ awaiting: 'amount_mismatch · payment_declined✗ · - · leave', rest: 'amount_mismatch · payment_declined✗ · - · leave' }),
        another: row({
          awaiting: 'amount_mismatch · payment_declined✗ · - · leave',
          rest: 'amount_mismatch · payment_declined✗ · - · leave',
        }),
      },
    },
  },
  needs_review: {
    amount: {
      'as asked': { same: holdTaken, another: holdTaken },
      another: {
        same: row({
          awaiting: 'amount_mismatch · suspected_fraud→needs_review · suspected_fraud/decide · leave',
          rest: 'amount_mismatch · suspected_fraud✗new · amount_mismatch/decide · leave',
        }),
        another: row({
          awaiting: 'amount_mismatch · suspected_fraud→needs_review · suspected_fraud/decide · leave',
          rest: 'amount_mismatch · suspected_fraud✗new · amount_mismatch/decide · leave',
        }),
      },
    },
  },
};

/** Expiry and cancellation carry no amount and no transaction: one row each. */
const givingUp: Record<'expired' | 'cancelled', Row> = {
  expired: row({ awaiting: 'applied · expired→expired · - · release', rest: 'already_final · expired✗ · - · leave', expired: DUPLICATE }),
  cancelled: row({
    awaiting: 'applied · cancelled→cancelled · - · release',
    rest: 'already_final · cancelled✗ · - · leave',
    cancelled: DUPLICATE,
  }),
};

/** Refunds: all of the amount, or a part; a refund beyond what was paid is refused outright. */
const THROWS = 'throws';
const refunds: Record<'all' | 'part', Row> = {
  all: row({
    awaiting: 'already_final · refund_full✗ · - · leave',
    rest: 'already_final · refund_full✗ · - · leave',
    succeeded: 'applied · refund_full→refunded · - · mark_refunded',
    partially_refunded: THROWS,
    refunded: THROWS,
  }),
  part: row({
    awaiting: 'already_final · refund_partial✗ · - · leave',
    rest: 'already_final · refund_partial✗ · - · leave',
    succeeded: 'applied · refund_partial→partially_refunded · - · leave',
    partially_refunded: 'applied · refund_partial→partially_refunded · - · leave',
    refunded: THROWS,
  }),
};

function outcomeOf(kind: 'succeeded' | 'failed' | 'needs_review', amount: 'as asked' | 'another', tx: 'same' | 'another'): Outcome {
  const money = { amount: amount === 'as asked' ? AMOUNT : AMOUNT + 1, transactionId: tx === 'same' ? TX : 'TX-2' };
  if (kind === 'succeeded') return { kind, ...money };
  return { kind, reason: kind === 'failed' ? 'declined by the payer' : 'held as suspected fraud', ...money };
}

const attempt = (intent: IntentFacts, outcome: Outcome) => {
  try {
    return render(decide(intent, outcome));
  } catch (error) {
    if (error instanceof RangeError) return THROWS;
    throw error;
  }
};

describe('decide, every status × outcome × amount × transaction', () => {
  for (const [kind, byAmount] of Object.entries(table) as Array<['succeeded' | 'failed' | 'needs_review', (typeof table)[string]]>) {
    for (const amount of ['as asked', 'another'] as const) {
      for (const tx of ['same', 'another'] as const) {
        it.each(intentStatuses.map((s) => [s]))(`${kind}, amount ${amount}, ${tx} transaction, on %s`, (status) => {
          expect(attempt(intentIn(status), outcomeOf(kind, amount, tx))).toBe(byAmount.amount[amount][tx][status]);
        });
      }
    }
  }
  for (const kind of ['expired', 'cancelled'] as const) {
    it.each(intentStatuses.map((s) => [s]))(`${kind} on %s`, (status) => {
      expect(attempt(intentIn(status), { kind, reason: 'test' })).toBe(givingUp[kind][status]);
    });
  }
  for (const size of ['all', 'part'] as const) {
    it.each(intentStatuses.map((s) => [s]))(`a refund of ${size} of the amount on %s`, (status) => {
      const outcome: Outcome = { kind: 'refunded', amount: size === 'all' ? AMOUNT : 50_000, refundId: 'refund-1' };
      expect(attempt(intentIn(status), outcome)).toBe(refunds[size][status]);
    });
  }
  it('refunds of an intent paid with another amount a person accepted count against what was taken', () => {
    const short = intentIn('succeeded', { receivedAmount: 100_000 });
    expect(render(decide(short, { kind: 'refunded', amount: 100_000, refundId: 'r' }))).toBe(
      'applied · refund_full→refunded · - · mark_refunded',
    );
    expect(() => decide(short, { kind: 'refunded', amount: 100_001, refundId: 'r' })).toThrow(RangeError);
    const over = intentIn('succeeded', { receivedAmount: 150_000 });
    expect(render(decide(over, { kind: 'refunded', amount: AMOUNT, refundId: 'r' }))).toBe(
      'applied · refund_partial→partially_refunded · - · leave',
    );
  });

  it('a refund of the rest of a partly refunded intent is full; zero, negative or fractional refunds are refused', () => {
    expect(attempt(intentIn('partially_refunded'), { kind: 'refunded', amount: 100_000, refundId: 'r' })).toBe(
      'applied · refund_full→refunded · - · mark_refunded',
    );
    for (const amount of [0, -1, 0.5]) expect(attempt(intentIn('succeeded'), { kind: 'refunded', amount, refundId: 'r' })).toBe(THROWS);
  });
});

describe('decide, the account a transfer reached (VietQR)', () => {
  const shown = { shownAccount: '0071 000 123456' };
  const credit = (payeeAccount?: string): Outcome => ({
    kind: 'succeeded',
    amount: AMOUNT,
    transactionId: 'TX-2',
    ...(payeeAccount ? { payeeAccount } : {}),
  });
  it.each(intentStatuses.map((s) => [s]))('money into another account is a wrong amount, on %s', (status) => {
    const decision = decide(intentIn(status, shown), credit('0071000999999'));
    expect(render(decision)).toBe(successOfWrongAmount[status]);
    expect(decision.review?.reason).toBe("paid into account 0071000999999, not the intent's 0071 000 123456");
  });
  it('the same account written with spaces, dots or dashes is the same account', () => {
    expect(render(decide(intentIn('pending', shown), credit('0071.000-123 456')))).toBe(PAY);
  });
  it('no account named on either side is not a mismatch', () => {
    expect(render(decide(intentIn('pending', shown), credit()))).toBe(PAY);
    expect(render(decide(intentIn('pending'), credit('0071000999999')))).toBe(PAY);
  });
});

describe('decide, the fields it sets and the facts it keeps', () => {
  it('a payment sets the transaction, clears the review reason and keeps the gateway time', () => {
    const paidAt = new Date('2026-12-01T03:04:05Z');
    const decision = decide(intentIn('pending', { gatewayTransactionId: null }), {
      kind: 'succeeded',
      amount: AMOUNT,
      transactionId: 'TX-9',
      paidAt,
    });
    expect(decision.set).toEqual({ gatewayTransactionId: 'TX-9', reviewReason: null, succeededAt: paidAt });
  });
  it('a wrong amount names both amounts, on the intent and its review, with the money', () => {
    const decision = decide(intentIn('pending'), { kind: 'succeeded', amount: 100_000, transactionId: 'TX-9' });
    expect(decision.set).toEqual({ reviewReason: 'paid 100000 VND for an intent of 135000 VND', gatewayTransactionId: 'TX-9' });
    expect(decision.review).toMatchObject({
      gatewayTransactionId: 'TX-9',
      amount: 100_000,
      reason: 'paid 100000 VND for an intent of 135000 VND',
    });
  });
  it('a hold keeps its reason and transaction; one without a transaction is keyed by ""', () => {
    const decision = decide(intentIn('pending'), { kind: 'needs_review', reason: 'VNPay 07' });
    expect(decision.set).toEqual({ reviewReason: 'VNPay 07', gatewayTransactionId: null });
    expect(decision.review).toMatchObject({ gatewayTransactionId: '', amount: null });
  });
  it('a decline and a give-up keep their reason in the history; a refund its id and new total', () => {
    expect(decide(intentIn('pending'), { kind: 'failed', reason: 'payer cancelled' }).event?.note).toEqual({ reason: 'payer cancelled' });
    expect(decide(intentIn('pending'), { kind: 'expired', reason: 'deadline' }).event?.note).toEqual({ reason: 'deadline' });
    const refund = decide(intentIn('succeeded'), { kind: 'refunded', amount: 5_000, refundId: 'r-1' });
    expect(refund.event?.note).toEqual({ refundId: 'r-1' });
    expect(refund.set).toEqual({ refundedAmount: 5_000 });
  });
});

describe('decide, invariants over any input (property)', () => {
  const status = fc.constantFrom(...intentStatuses);
  const amount = fc.oneof(fc.constant(AMOUNT), fc.integer({ min: 1, max: 10_000_000 }));
  const tx = fc.constantFrom(TX, 'TX-2', 'TX-3');
  const outcome: fc.Arbitrary<Outcome> = fc.oneof(
    fc.record({ kind: fc.constant('succeeded' as const), amount, transactionId: tx }),
    fc.record({ kind: fc.constant('failed' as const), reason: fc.constant('no'), amount: fc.option(amount, { nil: undefined }) }),
    fc.record({
      kind: fc.constant('needs_review' as const),
      reason: fc.constant('held'),
      amount: fc.option(amount, { nil: undefined }),
      transactionId: fc.option(tx, { nil: undefined }),
    }),
    fc.record({ kind: fc.constantFrom('expired' as const, 'cancelled' as const), reason: fc.constant('x') }),
  );
  const intent = fc.record({
    status,
    amount: fc.constant(AMOUNT),
    refundedAmount: fc.constant(0),
    receivedAmount: fc.constant(null),
    gatewayTransactionId: fc.option(tx, { nil: null }),
    shownAccount: fc.constant(null),
  });

  it('follows the state machine, pays only the amount asked, and never drops money', () => {
    fc.assert(
      fc.property(intent, outcome, (i, o) => {
        const snapshot = JSON.stringify([i, o]);
        const d = decide(i, o);
        expect(JSON.stringify([i, o])).toBe(snapshot); // pure: its inputs are untouched
        for (const step of d.otherwise ? [d, d.otherwise] : [d]) {
          if (step.event?.to) expect(transition(i.status, step.event.name)).toEqual({ allowed: true, to: step.event.to });
          if (!step.event?.to) expect(step.set).toEqual({}); // nothing is set without a move
          if (step.obligations === 'release') expect(['failed', 'expired', 'cancelled']).toContain(step.event?.to);
        }
        if (d.obligations === 'pay' || d.obligations === 'claim_then_pay') {
          expect(o.kind === 'succeeded' && o.amount === i.amount).toBe(true);
        }
        for (const step of d.otherwise ? [d, d.otherwise] : [d]) {
          // A review is keyed by the very transaction and holds the very amount the gateway named:
          // one review per transaction, however often it is said.
          if (step.review && (o.kind === 'succeeded' || o.kind === 'needs_review')) {
            expect(step.review.gatewayTransactionId).toBe(o.transactionId ?? '');
            expect(step.review.amount).toBe(o.amount ?? null);
          }
          if (step.event?.to === 'needs_review') expect(typeof step.set.reviewReason).toBe('string');
        }
        if (o.kind === 'succeeded') {
          // Money is paid, put before a person, or the very payment the intent already holds.
          const sameAgain = i.gatewayTransactionId === o.transactionId && o.amount === i.amount && d.answer === 'duplicate';
          const kept = d.obligations === 'pay' || d.obligations === 'claim_then_pay' || d.review !== null || sameAgain;
          expect(kept).toBe(true);
          if (d.otherwise) expect(d.otherwise.review).not.toBeNull();
        }
        // The amount is answered before the state (VNPay 04 before 02).
        if ((o.kind === 'succeeded' || o.kind === 'failed') && o.amount !== undefined && o.amount !== i.amount) {
          expect(d.answer).toBe('amount_mismatch');
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("decide, a person's decision on a review (rule 7)", () => {
  const decision = (
    action: 'accept' | 'reject' | 'refunded',
    money: { gatewayTransactionId: string; amount: number | null },
    acceptedAmount?: number,
  ) => ({ kind: 'review_decided', action, reviewId: 'rv-1', money, ...(acceptedAmount !== undefined ? { acceptedAmount } : {}) }) as const;
  const own = { gatewayTransactionId: TX, amount: AMOUNT };
  const beside = { gatewayTransactionId: 'TX-2', amount: AMOUNT };

  it('on the money that put the intent in review: pay (re-reserving the lines), fail and free, or refund and free', () => {
    const inReview = intentIn('needs_review');
    expect(render(decide(inReview, decision('accept', own)))).toBe(
      'applied · review_resolved_succeeded→succeeded · - · claim_then_pay | otherwise already_final · - · - · leave',
    );
    expect(render(decide(inReview, decision('reject', own)))).toBe('applied · review_resolved_failed→failed · - · release');
    expect(render(decide(inReview, decision('refunded', own)))).toBe('applied · review_resolved_refunded→refunded · - · release');
    expect(decide(inReview, decision('refunded', { gatewayTransactionId: TX, amount: 100_000 })).set.refundedAmount).toBe(100_000);
    // A hold that named no transaction is the intent's own money too.
    const heldWithout = intentIn('needs_review', { gatewayTransactionId: null });
    expect(decide(heldWithout, decision('reject', { gatewayTransactionId: '', amount: null })).event?.name).toBe('review_resolved_failed');
  });

  it('accepts less than asked only when the amount is stated, and keeps the difference', () => {
    const inReview = intentIn('needs_review');
    const short = { gatewayTransactionId: TX, amount: 100_000 };
    expect(() => decide(inReview, decision('accept', short))).toThrow(RangeError);
    expect(() => decide(inReview, decision('accept', short, 90_000))).toThrow(RangeError);
    const accepted = decide(inReview, decision('accept', short, 100_000));
    expect(accepted.set).toMatchObject({ receivedAmount: 100_000, gatewayTransactionId: TX });
    expect(accepted.event?.note).toEqual({ reviewId: 'rv-1', receivedAmount: 100_000, difference: 35_000 });
    expect(decide(inReview, decision('accept', own)).set.receivedAmount).toBeNull();
  });

  it('on money beside the intent (or any intent not in review): a named fact, the state and the lines as they are', () => {
    const facts = { accept: 'review_money_kept', reject: 'review_money_not_received', refunded: 'review_money_refunded' } as const;
    for (const status of intentStatuses.filter((s) => s !== 'created' && s !== 'pending')) {
      for (const action of ['accept', 'reject', 'refunded'] as const) {
        for (const money of status === 'needs_review' ? [beside] : [own, beside]) {
          const d = decide(intentIn(status), decision(action, money));
          expect(render(d), `${status} ${action} ${money.gatewayTransactionId}`).toBe(`applied · ${facts[action]}→${status} · - · leave`);
          expect(d.set).toEqual({});
        }
      }
    }
  });

  it('moves an intent only from review, only along review_resolved_*, and never pays from a fact (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...intentStatuses.filter((s) => s !== 'created' && s !== 'pending')),
        fc.constantFrom('accept' as const, 'reject' as const, 'refunded' as const),
        fc.constantFrom(TX, 'TX-2', ''),
        fc.option(fc.integer({ min: AMOUNT, max: 10_000_000 }), { nil: null }),
        (status, action, tx, amount) => {
          const d = decide(intentIn(status), decision(action, { gatewayTransactionId: tx, amount }));
          if (d.event?.to && d.event.to !== status) {
            expect(status).toBe('needs_review');
            expect(d.event.name.startsWith('review_resolved_')).toBe(true);
            expect(tx).toBe(TX);
          }
          if (d.obligations === 'claim_then_pay' || d.obligations === 'pay') expect(action).toBe('accept');
          if (d.event?.to) expect(transition(status, d.event.name)).toEqual({ allowed: true, to: d.event.to });
        },
      ),
      { numRuns: 500 },
    );
  });
});
