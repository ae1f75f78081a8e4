import { sql } from 'drizzle-orm';
import type { ReviewKind } from '../../domain/decide.ts';
import type { IntentEvent, IntentStatus } from '../../domain/payment-states.ts';
import { type Executor, queryRows } from '../types.ts';

export interface DecisionWrite {
  intentId: string;
  gateway: string;
  fromStatus: IntentStatus;
  /** The history line: accepted when `moveTo` is given, else a refusal. Null: nothing recorded. */
  event: { name: IntentEvent; detail: Record<string, unknown>; onlyWithNewReview: boolean } | null;
  /** The intent's columns after the move; null when it does not move. */
  moveTo: { status: IntentStatus; reviewReason: string | null; gatewayTransactionId: string | null; refundedAmount: number } | null;
  review: {
    id: string;
    kind: ReviewKind;
    reason: string;
    proposedAction: 'refund' | 'decide';
    gatewayTransactionId: string;
    amount: number | null;
    detail: Record<string, unknown>;
  } | null;
  /** What happens to the fee lines: freed, marked refunded (everything given back), or left. */
  obligations: 'release' | 'mark_refunded' | 'leave';
  source: string;
  actor: string | null;
  at: Date;
}

/**
 * Writes a decision that pays nothing, in ONE statement: the review (once per intent, kind and
 * gateway transaction), the history line (a refusal tied to a new review is written only with
 * it: a gateway repeating itself adds nothing; a principal's refusal said again, identically, is
 * counted on the first one's row: a client retrying a refused cancel in a loop cannot grow the
 * history), the intent's move, and its fee lines. The caller holds the intent's lock, so two
 * repeats are counted one after the other. `reviewOpened` is false when the review was already there.
 */
export async function writeDecision(db: Executor, w: DecisionWrite): Promise<{ reviewOpened: boolean }> {
  const at = w.at.toISOString();
  const review = w.review;
  const move = w.moveTo;
  // Only a person's or a system's principal repeats itself this way (a portal cancelling a paid
  // intent again and again); a gateway's refusals name their message (inboxId) and stay rows.
  const repeatable = w.event !== null && move === null && review === null && w.actor !== null;
  const [row] = await queryRows<{ review_opened: number }>(
    db,
    sql`
    WITH review AS (
      INSERT INTO payment_reviews (id, intent_id, gateway, kind, gateway_transaction_id, amount, proposed_action, reason, detail, created_at)
      SELECT ${review?.id ?? null}::uuid, ${w.intentId}::uuid, ${w.gateway}, ${review?.kind ?? null}, ${review?.gatewayTransactionId ?? ''},
             ${review?.amount ?? null}::bigint, ${review?.proposedAction ?? null}, ${review?.reason ?? null},
             ${JSON.stringify(review?.detail ?? null)}::jsonb, ${at}::timestamptz
      WHERE ${review !== null}::boolean
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), moved AS (
      UPDATE payment_intents SET status = ${move?.status ?? null}, review_reason = ${move?.reviewReason ?? null},
             gateway_transaction_id = ${move?.gatewayTransactionId ?? null}, refunded_amount = ${move?.refundedAmount ?? 0}::bigint,
             updated_at = ${at}::timestamptz
      WHERE id = ${w.intentId}::uuid AND ${move !== null}::boolean
      RETURNING 1
    ), repeated AS (
      -- A principal's refusal said again, identically: counted on its first row, not a row more.
      UPDATE payment_events SET repeats = repeats + 1, last_repeated_at = ${at}::timestamptz
      WHERE id = (
        SELECT first.id FROM payment_events first
        WHERE first.intent_id = ${w.intentId}::uuid AND NOT first.accepted AND first.event = ${w.event?.name ?? null}
          AND first.from_status IS NOT DISTINCT FROM ${w.fromStatus} AND first.source = ${w.source} AND first.actor = ${w.actor}
          AND first.detail IS NOT DISTINCT FROM ${JSON.stringify(w.event?.detail ?? null)}::jsonb
        ORDER BY first.id LIMIT 1
      ) AND ${repeatable}::boolean
      RETURNING 1
    ), history AS (
      INSERT INTO payment_events (intent_id, event, from_status, to_status, accepted, source, actor, detail, created_at)
      SELECT ${w.intentId}::uuid, ${w.event?.name ?? null}, ${w.fromStatus}, ${move?.status ?? null}, ${move !== null}::boolean,
             ${w.source}, ${w.actor}, ${JSON.stringify(w.event?.detail ?? null)}::jsonb, ${at}::timestamptz
      WHERE ${w.event !== null}::boolean AND (NOT ${w.event?.onlyWithNewReview ?? false}::boolean OR EXISTS (SELECT 1 FROM review))
        AND NOT EXISTS (SELECT 1 FROM repeated)
    ), released AS (
      UPDATE obligations SET live_intent_id = NULL, updated_at = ${at}::timestamptz
      WHERE ${w.obligations === 'release'}::boolean AND live_intent_id = ${w.intentId}::uuid
    ), refunded AS (
      -- Everything given back: the lines are no longer paid (nor payable again: a new charge is a new line).
      UPDATE obligations SET status = 'refunded', updated_at = ${at}::timestamptz
      WHERE ${w.obligations === 'mark_refunded'}::boolean AND paid_intent_id = ${w.intentId}::uuid AND status = 'paid'
    )
    SELECT (SELECT count(*) FROM review)::int AS review_opened`,
  );
  return { reviewOpened: Number(row?.review_opened ?? 0) > 0 };
}
