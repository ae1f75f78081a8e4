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

/** A message just received, as its inbox row stores it. */
export interface ReceivedMessage {
  id: string;
  gateway: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  rawBody: string;
  receivedAt: Date;
}

/**
 * The same answer for a message just received and verified, in ONE statement that stores it
 * already answered: one write and one commit for the commonest message, instead of storing it,
 * then answering it. Nothing is written when the intent does not hold this very payment (false):
 * the message is then stored and processed the ordinary way.
 */
export async function storeRepeatedSuccess(
  db: Executor,
  m: Omit<RepeatedSuccess, 'inboxId' | 'gateway' | 'at'> & { message: ReceivedMessage },
): Promise<boolean> {
  const detail = JSON.stringify({ outcome: 'succeeded', repeated: true });
  const { message } = m;
  const at = message.receivedAt.toISOString();
  const stored = await queryRows<{ id: string }>(
    db,
    sql`
    INSERT INTO callback_inbox (id, gateway, method, url, headers, raw_body, received_at, status, signature_valid, reference, intent_id,
                                result, detail, response_status, response_body, attempts, processed_at)
    SELECT ${message.id}::uuid, ${message.gateway}, ${message.method}, ${message.url}, ${JSON.stringify(message.headers)}::jsonb,
           ${message.rawBody}, ${at}::timestamptz, 'processed', 'valid', ${m.reference}, i.id, 'duplicate', ${detail}::jsonb,
           ${m.response.status}, ${m.response.body}, 1, ${at}::timestamptz
    FROM payment_intents i
    WHERE i.gateway = ${message.gateway} AND i.reference = ${m.reference} AND i.status = 'succeeded'
      AND i.amount = ${m.amount} AND i.gateway_transaction_id = ${m.transactionId}
    RETURNING id`,
  );
  return stored.length === 1;
}
