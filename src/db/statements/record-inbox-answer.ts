import { sql } from 'drizzle-orm';
import type { callbackInbox } from '../schema/index.ts';
import type { Executor } from '../types.ts';

type InboxRow = typeof callbackInbox.$inferSelect;

export interface InboxAnswer {
  inboxId: string;
  status: Extract<InboxRow['status'], 'processed' | 'rejected'>;
  signatureValid: InboxRow['signatureValid'];
  reference: string | null;
  intentId: string | null;
  result: string;
  detail: Record<string, unknown>;
  response: { status: number; body: string };
  /** The signatures of the receipt this message's payment issued (JWS, XML, the key), written with the answer. */
  receiptSignature?: { receiptId: string; signature: string; signingKid: string; xml: string };
  at: Date;
}

/**
 * Records how an inbox message was handled and the answer the gateway got, in ONE statement with
 * the signature of the receipt its payment issued (if any): the last write of a paying callback.
 * A receipt already signed (by a read or the jobs meanwhile) keeps its signature.
 */
export async function recordInboxAnswer(db: Executor, a: InboxAnswer): Promise<void> {
  const signed = a.receiptSignature;
  await db.execute(sql`
    WITH signed AS (
      UPDATE receipts SET signature = ${signed?.signature ?? null}, signing_kid = ${signed?.signingKid ?? null}, xml = ${signed?.xml ?? null}
      WHERE ${signed !== undefined}::boolean AND id = ${signed?.receiptId ?? null}::uuid AND signature IS NULL AND xml IS NULL
      RETURNING id
    )
    UPDATE callback_inbox SET status = ${a.status}, signature_valid = ${a.signatureValid}, reference = ${a.reference},
           intent_id = ${a.intentId}::uuid, result = ${a.result}, detail = ${JSON.stringify(a.detail)}::jsonb,
           response_status = ${a.response.status}, response_body = ${a.response.body}, attempts = attempts + 1,
           processed_at = ${a.at.toISOString()}::timestamptz
    WHERE id = ${a.inboxId}::uuid`);
}
