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
  at: Date;
}

/** Records how an inbox message was handled and the answer the gateway got. */
export async function recordInboxAnswer(db: Executor, a: InboxAnswer): Promise<void> {
  await db.execute(sql`
    UPDATE callback_inbox SET status = ${a.status}, signature_valid = ${a.signatureValid}, reference = ${a.reference},
           intent_id = ${a.intentId}::uuid, result = ${a.result}, detail = ${JSON.stringify(a.detail)}::jsonb,
           response_status = ${a.response.status}, response_body = ${a.response.body}, attempts = attempts + 1,
           processed_at = ${a.at.toISOString()}::timestamptz
    WHERE id = ${a.inboxId}::uuid`);
}
