import { type SQL, sql } from 'drizzle-orm';
import type { paymentIntents } from '../schema/index.ts';
import { type Executor, queryRows } from '../types.ts';

export type IntentRow = typeof paymentIntents.$inferSelect;

/** An intent as the one that locks it names it: by id, or as its gateway names it. */
export type IntentTarget = { intentId: string } | { gateway: string; reference: string };

/**
 * Locks an intent and, for a payment, its dossier, in the order every writer uses (intent,
 * dossier, obligations), in one statement: `dossier` reads the intent's row from `intent`, so it
 * runs after the intent's lock is taken. Two intents of one dossier paid at the same moment would
 * otherwise each see the other's obligation still unpaid, and neither would mark the dossier
 * paid. NO KEY UPDATE does not block new intents, whose foreign key takes KEY SHARE. The row
 * comes from the locking scan itself, so it is the latest version, not the snapshot's.
 */
export async function lockIntent(db: Executor, target: IntentTarget, options: { lockDossier: boolean }): Promise<IntentRow | undefined> {
  const where: SQL =
    'intentId' in target ? sql`id = ${target.intentId}::uuid` : sql`gateway = ${target.gateway} AND reference = ${target.reference}`;
  const [raw] = await queryRows<Record<string, unknown>>(
    db,
    sql`
    WITH intent AS (
      SELECT * FROM payment_intents WHERE ${where} FOR UPDATE
    ), dossier AS (
      SELECT 1 FROM dossiers WHERE ${options.lockDossier}::boolean AND code = (SELECT dossier_code FROM intent) FOR NO KEY UPDATE
    )
    SELECT intent.*, intent.amount::text AS amount_text, intent.refunded_amount::text AS refunded_text,
           intent.received_amount::text AS received_text,
           (SELECT count(*) FROM dossier)::int AS dossier_locked
    FROM intent`,
  );
  return raw ? intentFromRow(raw) : undefined;
}

const instantOf = (value: unknown): Date | null =>
  value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value));
const jsonOf = (value: unknown) =>
  typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : (value as Record<string, unknown> | null);

/** A raw payment_intents row (snake_case, as either driver returns it) as drizzle's row type. */
function intentFromRow(r: Record<string, unknown>): IntentRow {
  return {
    id: String(r.id),
    reference: String(r.reference),
    dossierCode: String(r.dossier_code),
    gateway: String(r.gateway),
    amount: Number(r.amount_text),
    currency: String(r.currency),
    status: r.status as IntentRow['status'],
    returnUrl: String(r.return_url),
    expiresAt: instantOf(r.expires_at)!,
    nextAction: jsonOf(r.next_action) ?? null,
    gatewayReference: (r.gateway_reference as string | null) ?? null,
    gatewayTransactionId: (r.gateway_transaction_id as string | null) ?? null,
    onlinePaymentFlag: Number(r.online_payment_flag),
    succeededAt: instantOf(r.succeeded_at),
    refundedAmount: Number(r.refunded_text),
    receivedAmount: r.received_text === null || r.received_text === undefined ? null : Number(r.received_text),
    reviewReason: (r.review_reason as string | null) ?? null,
    principal: String(r.principal),
    pollAttempts: Number(r.poll_attempts),
    nextPollAt: instantOf(r.next_poll_at),
    createdAt: instantOf(r.created_at)!,
    updatedAt: instantOf(r.updated_at)!,
  };
}
