import { describe, expect, it } from 'vitest';
import {
  awaitingPaymentStatuses,
  type IntentEvent,
  type IntentStatus,
  intentEvents,
  intentStatuses,
  isLive,
  liveStatuses,
  transition,
  transitions,
} from '../../src/domain/payment-states.ts';

/**
 * The allowed edges, written out independently from DESIGN.md "Payment intent states" as
 * status → event → target. Every pair not listed here must be refused.
 */
const expected: Record<IntentStatus, Partial<Record<IntentEvent, IntentStatus>>> = {
  created: {
    handed_over: 'pending',
    handover_failed: 'failed',
    payment_succeeded: 'succeeded',
    payment_declined: 'failed',
    amount_mismatch: 'needs_review',
    suspected_fraud: 'needs_review',
    expired: 'expired',
    cancelled: 'cancelled',
  },
  pending: {
    payment_succeeded: 'succeeded',
    payment_declined: 'failed',
    amount_mismatch: 'needs_review',
    suspected_fraud: 'needs_review',
    expired: 'expired',
    cancelled: 'cancelled',
  },
  succeeded: {
    refund_partial: 'partially_refunded',
    refund_full: 'refunded',
  },
  partially_refunded: {
    refund_partial: 'partially_refunded',
    refund_full: 'refunded',
  },
  // Late money: taken if the obligations are still free, otherwise sent to review.
  expired: {
    late_payment_succeeded: 'succeeded',
    late_payment_needs_review: 'needs_review',
  },
  cancelled: {
    late_payment_succeeded: 'succeeded',
    late_payment_needs_review: 'needs_review',
  },
  // A success after a decline is never taken silently.
  failed: {
    late_payment_needs_review: 'needs_review',
  },
  needs_review: {
    review_resolved_succeeded: 'succeeded',
    review_resolved_failed: 'failed',
    review_resolved_refunded: 'refunded',
  },
  refunded: {},
};

/** Facts about money beside the intent's own, recorded from any state without moving it. */
const facts: IntentEvent[] = ['review_money_kept', 'review_money_refunded', 'review_money_not_received'];
for (const status of Object.keys(expected) as IntentStatus[]) {
  if (status === 'created' || status === 'pending') continue; // no review can be open beside a payment still awaited
  for (const fact of facts) expected[status][fact] = status;
}

const allStatuses: IntentStatus[] = [
  'created',
  'pending',
  'succeeded',
  'failed',
  'expired',
  'cancelled',
  'partially_refunded',
  'refunded',
  'needs_review',
];

describe('the transition table, every (status, event) pair', () => {
  it('covers exactly the statuses of DESIGN.md', () => {
    expect([...intentStatuses].sort()).toEqual([...allStatuses].sort());
    expect(new Set(intentStatuses).size).toBe(intentStatuses.length);
    expect(new Set(intentEvents).size).toBe(intentEvents.length);
  });

  const pairs = intentStatuses.flatMap((from) => intentEvents.map((event) => [from, event] as const));
  it('has 9 × 18 pairs', () => {
    expect(pairs).toHaveLength(9 * 18);
  });

  it.each(pairs)('%s + %s', (from, event) => {
    const target = expected[from][event];
    const result = transition(from, event);
    if (target === undefined) {
      expect(result).toEqual({ allowed: false, from, event });
    } else {
      expect(result).toEqual({ allowed: true, to: target });
    }
  });

  it('allows exactly the expected number of edges', () => {
    const allowed = pairs.filter(([from, event]) => transition(from, event).allowed).length;
    const expectedCount = Object.values(expected).reduce((n, edges) => n + Object.keys(edges).length, 0);
    expect(expectedCount).toBe(26 + 7 * 3);
    expect(allowed).toBe(expectedCount);
  });
});

describe('the table as data', () => {
  it('lists each (event, from) pair at most once, so the first match is the only match', () => {
    const seen = new Set<string>();
    for (const edge of transitions) {
      for (const from of edge.from) {
        const key = `${from}:${edge.event}`;
        expect(seen.has(key), key).toBe(false);
        seen.add(key);
      }
    }
  });

  it('names every event in at least one edge, and only known events and statuses', () => {
    for (const event of intentEvents)
      expect(
        transitions.some((e) => e.event === event),
        event,
      ).toBe(true);
    for (const edge of transitions) {
      expect(intentEvents).toContain(edge.event);
      if (edge.to !== 'same') expect(intentStatuses).toContain(edge.to);
      for (const from of edge.from) expect(intentStatuses).toContain(from);
      expect(edge.why.length).toBeGreaterThan(0);
    }
  });

  it('gives the terminal state (refunded) no edge to another state', () => {
    expect(transitions.some((e) => e.from.includes('refunded') && e.to !== 'same')).toBe(false);
    for (const event of intentEvents) {
      const r = transition('refunded', event);
      expect(!r.allowed || r.to === 'refunded', event).toBe(true);
    }
  });

  it('leaves every state except refunded with a way out, and reaches every state from created', () => {
    for (const status of intentStatuses) {
      const out = intentEvents.some((event) => {
        const r = transition(status, event);
        return r.allowed && r.to !== status;
      });
      expect(out, status).toBe(status !== 'refunded');
    }
    const reached = new Set<IntentStatus>(['created']);
    let grew = true;
    while (grew) {
      grew = false;
      for (const from of [...reached]) {
        for (const event of intentEvents) {
          const r = transition(from, event);
          if (r.allowed && !reached.has(r.to)) {
            reached.add(r.to);
            grew = true;
          }
        }
      }
    }
    expect([...reached].sort()).toEqual([...intentStatuses].sort());
  });

  it('never leads back to created, and reaches pending only by the hand-over from created', () => {
    for (const status of intentStatuses) {
      for (const event of intentEvents) {
        const r = transition(status, event);
        if (!r.allowed) continue;
        expect(r.to, `${status} + ${event}`).not.toBe('created');
        if (r.to === 'pending') expect([status, event]).toEqual(['created', 'handed_over']);
      }
    }
  });
});

describe('live and awaiting-payment statuses', () => {
  it('holds obligations while created, pending or under review, and only then', () => {
    expect([...liveStatuses].sort()).toEqual(['created', 'needs_review', 'pending']);
    for (const status of intentStatuses) {
      expect(isLive(status), status).toBe(status === 'created' || status === 'pending' || status === 'needs_review');
    }
  });

  it('can still be paid by its gateway only while created or pending', () => {
    expect([...awaitingPaymentStatuses].sort()).toEqual(['created', 'pending']);
    // Exactly the states from which the gateway's own success/decline events apply.
    for (const status of intentStatuses) {
      expect(transition(status, 'payment_succeeded').allowed, status).toBe(awaitingPaymentStatuses.includes(status));
      expect(transition(status, 'payment_declined').allowed, status).toBe(awaitingPaymentStatuses.includes(status));
    }
  });
});
