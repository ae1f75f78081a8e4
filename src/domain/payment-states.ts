/**
 * The payment intent state machine as data (DESIGN.md "Payment intent states"). Every edge is
 * named by the event that causes it; any (state, event) pair not listed is refused, and the
 * caller records the refusal instead of throwing it away.
 */
export const intentStatuses = [
  'created',
  'pending',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
  'partially_refunded',
  'refunded',
  'needs_review',
] as const;
export type IntentStatus = (typeof intentStatuses)[number];

export const intentEvents = [
  'handed_over',
  'handover_failed',
  'payment_succeeded',
  'payment_declined',
  'amount_mismatch',
  'suspected_fraud',
  'expired',
  'cancelled',
  'late_payment_succeeded',
  'late_payment_needs_review',
  'refund_partial',
  'refund_full',
  'review_resolved_succeeded',
  'review_resolved_failed',
  'review_resolved_refunded',
  'review_money_kept',
  'review_money_refunded',
  'review_money_not_received',
] as const;
export type IntentEvent = (typeof intentEvents)[number];

interface Edge {
  event: IntentEvent;
  from: readonly IntentStatus[];
  /** `same`: a fact recorded in the intent's history that leaves its state as it is. */
  to: IntentStatus | 'same';
  why: string;
}

/** Every state but the two still waiting for the gateway: money reported beside these needs a person. */
const decidedStatuses: readonly IntentStatus[] = [
  'succeeded',
  'failed',
  'expired',
  'cancelled',
  'partially_refunded',
  'refunded',
  'needs_review',
];

export const transitions: readonly Edge[] = [
  { event: 'handed_over', from: ['created'], to: 'pending', why: 'the gateway accepted the payment request' },
  { event: 'handover_failed', from: ['created'], to: 'failed', why: 'the gateway refused the payment request' },
  // A callback can overtake the hand-over's own commit, so success is accepted from `created` too.
  { event: 'payment_succeeded', from: ['created', 'pending'], to: 'succeeded', why: 'verified success for the full amount' },
  { event: 'payment_declined', from: ['created', 'pending'], to: 'failed', why: 'explicit decline by the gateway or payer' },
  { event: 'amount_mismatch', from: ['created', 'pending'], to: 'needs_review', why: 'money arrived, but not the amount asked' },
  { event: 'suspected_fraud', from: ['created', 'pending'], to: 'needs_review', why: 'debited but held as suspected fraud' },
  { event: 'expired', from: ['created', 'pending'], to: 'expired', why: 'no outcome before the deadline' },
  { event: 'cancelled', from: ['created', 'pending'], to: 'cancelled', why: 'the portal cancelled it' },
  // Money that arrives after the hub gave up is never dropped: it is taken if its obligations are
  // still free, and sent to review otherwise (invariant 3: no silent double charge).
  { event: 'late_payment_succeeded', from: ['expired', 'cancelled'], to: 'succeeded', why: 'late success, obligations still unpaid' },
  {
    event: 'late_payment_needs_review',
    from: ['expired', 'cancelled', 'failed'],
    to: 'needs_review',
    why: 'success after a decline, or for obligations paid or held by another intent',
  },
  { event: 'refund_partial', from: ['succeeded', 'partially_refunded'], to: 'partially_refunded', why: 'part of the amount refunded' },
  { event: 'refund_full', from: ['succeeded', 'partially_refunded'], to: 'refunded', why: 'the rest of the amount refunded' },
  { event: 'review_resolved_succeeded', from: ['needs_review'], to: 'succeeded', why: 'treasury accepted the payment' },
  { event: 'review_resolved_failed', from: ['needs_review'], to: 'failed', why: 'treasury found no money received' },
  { event: 'review_resolved_refunded', from: ['needs_review'], to: 'refunded', why: 'treasury returned the money' },
  // Money beside the intent's own (a second payment, another amount, a disputed refund): treasury's
  // decision about it is recorded in the intent's history without moving the intent.
  { event: 'review_money_kept', from: decidedStatuses, to: 'same', why: "treasury kept money beside the intent's own payment" },
  { event: 'review_money_refunded', from: decidedStatuses, to: 'same', why: "treasury returned money beside the intent's own payment" },
  {
    event: 'review_money_not_received',
    from: decidedStatuses,
    to: 'same',
    why: 'treasury found that money reported beside the intent never arrived',
  },
];

export type TransitionResult = { allowed: true; to: IntentStatus } | { allowed: false; from: IntentStatus; event: IntentEvent };

export function transition(from: IntentStatus, event: IntentEvent): TransitionResult {
  const edge = transitions.find((e) => e.event === event && e.from.includes(from));
  return edge ? { allowed: true, to: edge.to === 'same' ? from : edge.to } : { allowed: false, from, event };
}

/** States in which an intent holds its obligations. */
export const liveStatuses: readonly IntentStatus[] = ['created', 'pending', 'needs_review'];
/** States from which an intent can still be paid by its gateway. */
export const awaitingPaymentStatuses: readonly IntentStatus[] = ['created', 'pending'];

export function isLive(status: IntentStatus): boolean {
  return liveStatuses.includes(status);
}
