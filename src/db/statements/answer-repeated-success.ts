import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../types.ts';

export interface RepeatedSuccess {
  inboxId: string;
  gateway: string;
  reference: string;
  amount: number;
  transactionId: string;
  /** The gateway's answer to record on the inbox row. */
  response: { status: number; body: string };
  at: Date;
}

/**
 * A gateway delivering again a success the hub has already applied (VNPay retries its IPN until
 * it reads an answer) is the commonest message of all. It changes nothing, so it is answered by
 * ONE statement that records the answer on the inbox row if, and only if, the intent is
 * succeeded with this very transaction and amount — the facts `decide` would compare, and final
 * once written. False: anything else, for the ordinary path.
 */
export async function answerRepeatedSuccess(db: Executor, m: RepeatedSuccess): Promise<boolean> {
  const detail = JSON.stringify({ outcome: 'succeeded', repeated: true });
  const answered = await queryRows<{ id: string }>(
    db,
    sql`
    UPDATE callback_inbox SET status = 'processed', signature_valid = 'valid', reference = ${m.reference},
           intent_id = i.id, result = 'duplicate', detail = ${detail}::jsonb, response_status = ${m.response.status},
           response_body = ${m.response.body}, attempts = callback_inbox.attempts + 1, processed_at = ${m.at.toISOString()}::timestamptz
    FROM payment_intents i
    WHERE callback_inbox.id = ${m.inboxId}::uuid
      AND i.gateway = ${m.gateway} AND i.reference = ${m.reference} AND i.status = 'succeeded'
      AND i.amount = ${m.amount} AND i.gateway_transaction_id = ${m.transactionId}
    RETURNING callback_inbox.id`,
  );
  return answered.length === 1;
}
