import { and, eq, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import { intentObligations, obligations, paymentEvents, paymentIntents, paymentReviews } from '../db/schema/index.ts';
import type { ReviewKind } from '../db/schema/reviews.ts';
import { queryRows } from '../db/types.ts';
import { awaitingPaymentStatuses, transition, type IntentEvent, type IntentStatus } from '../domain/payment-states.ts';
import type { GatewayOutcome, IntentSnapshot } from '../gateways/types.ts';
import { describeError } from '../db/errors.ts';
import { executor, withTransaction, type ServiceContext } from './context.ts';
import type { ReceiptLine } from '../db/schema/receipts.ts';
import { vnDate } from '../domain/dates.ts';
import { amountInWords } from '../domain/words.ts';
import { DEFAULT_FORM_SYMBOL, defaultSeriesSymbol, signReceipt, type ReceiptRow } from './receipts.ts';

export type IntentRow = typeof paymentIntents.$inferSelect;

/** What an adapter may know of an intent (status queries, refunds). */
export function intentSnapshot(row: IntentRow): IntentSnapshot {
  return {
    id: row.id,
    reference: row.reference,
    amount: row.amount,
    createdAt: row.createdAt,
    gatewayReference: row.gatewayReference,
    gatewayTransactionId: row.gatewayTransactionId,
    succeededAt: row.succeededAt,
  };
}

/** Everything that can happen to an intent from outside: a gateway's word, or the hub giving up. */
export type Outcome =
  | GatewayOutcome
  | { kind: 'expired'; reason: string }
  | { kind: 'cancelled'; reason: string }
  /** A refund the gateway confirmed; `refundId` is the hub's refund row. */
  | { kind: 'refunded'; amount: number; refundId: string };

export type OutcomeSource = 'callback' | 'poller' | 'expiry' | 'portal' | 'statement' | 'manual' | 'seed';

export interface ApplyOutcomeInput {
  /** Find the intent by id, or by (gateway, reference) as a gateway names it. */
  intentId?: string;
  gateway?: string;
  reference?: string;
  outcome: Outcome;
  source: OutcomeSource;
  actor?: string;
  /** The inbox message this outcome came from, for the history. */
  inboxId?: string;
  /**
   * Leave a new receipt unsigned: the caller signs it and writes the signature with its own
   * next statement (the callback inbox writes it with the message's answer).
   */
  deferSigning?: boolean;
}

export type ApplyResult =
  /** `receipt`: issued by this transaction, signed by applyOutcome once it commits. */
  | { result: 'applied'; intent: IntentRow; event: IntentEvent; from: IntentStatus; receipt?: ReceiptRow }
  | { result: 'duplicate'; intent: IntentRow }
  | { result: 'unknown_reference' }
  | { result: 'amount_mismatch'; intent: IntentRow }
  | { result: 'already_final'; intent: IntentRow; event: IntentEvent };

/**
 * The one path that changes a payment intent's state (DESIGN.md invariant 1). Callbacks, the
 * poller, expiry, cancellation and (later) statement matching and manual resolution all come
 * here. It runs in one transaction with the intent row locked, so concurrent deliveries of the
 * same outcome serialise, and applying an outcome twice changes nothing the second time.
 */
export async function applyOutcome(ctx: ServiceContext, input: ApplyOutcomeInput): Promise<ApplyResult> {
  const nested = ctx.tx !== undefined;
  const result = await withTransaction(ctx, (ctx) => applyInTransaction(ctx, input));
  if (!nested && !input.deferSigning && result.result === 'applied' && result.receipt) {
    // Committed: now sign the receipt. If this fails (or the process dies here) the receipt is
    // signed by the next read or by the jobs; the payment itself is already safe.
    try {
      await signReceipt(ctx, result.receipt, result.intent.reference);
    } catch (error) {
      ctx.log.warn('receipt left unsigned for the jobs', { receiptId: result.receipt.id, error: describeError(error) });
    }
  }
  return result;
}

function historyOf(input: ApplyOutcomeInput, detail: Record<string, unknown>): History {
  return { source: input.source, actor: input.actor ?? null, detail };
}

/**
 * Locks the intent and, for a payment, its dossier, in the order every writer uses (intent,
 * dossier, obligations), in one statement: `dossier` reads the intent's row from `intent`, so
 * it runs after the intent's lock is taken. Two intents of one dossier paid at the same moment
 * would otherwise each see the other's obligation still unpaid, and neither would mark the
 * dossier paid. NO KEY UPDATE does not block new intents, whose foreign key takes KEY SHARE.
 * The row comes from the locking scan itself, so it is the latest version, not the snapshot's.
 */
async function lockIntent(ctx: ServiceContext, where: SQL | undefined, lockDossier: boolean): Promise<IntentRow | undefined> {
  const [raw] = await queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    WITH intent AS (
      SELECT * FROM payment_intents WHERE ${where} FOR UPDATE
    ), dossier AS (
      SELECT 1 FROM dossiers WHERE ${lockDossier}::boolean AND code = (SELECT dossier_code FROM intent) FOR NO KEY UPDATE
    )
    SELECT intent.*, intent.amount::text AS amount_text, intent.refunded_amount::text AS refunded_text,
           (SELECT count(*) FROM dossier)::int AS dossier_locked
    FROM intent`,
  );
  return raw ? intentFromRow(raw) : undefined;
}

const instantOf = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));
const jsonOf = (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : (value as Record<string, unknown> | null));

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
    reviewReason: (r.review_reason as string | null) ?? null,
    principal: String(r.principal),
    pollAttempts: Number(r.poll_attempts),
    nextPollAt: instantOf(r.next_poll_at),
    createdAt: instantOf(r.created_at)!,
    updatedAt: instantOf(r.updated_at)!,
  };
}

async function applyInTransaction(ctx: ServiceContext, input: ApplyOutcomeInput): Promise<ApplyResult> {
  {
    const db = executor(ctx);
    const where = input.intentId
      ? eq(paymentIntents.id, input.intentId)
      : and(eq(paymentIntents.gateway, input.gateway ?? ''), eq(paymentIntents.reference, input.reference ?? ''));
    const { outcome } = input;
    const intent = await lockIntent(ctx, where, outcome.kind === 'succeeded');
    if (!intent) return { result: 'unknown_reference' };

    const now = ctx.now();
    const detail: Record<string, unknown> = { outcome, ...(input.inboxId ? { inboxId: input.inboxId } : {}) };

    const record = async (event: IntentEvent, accepted: boolean, from: IntentStatus, to: IntentStatus | null, extra = {}) => {
      await db.insert(paymentEvents).values({
        intentId: intent.id,
        event,
        fromStatus: from,
        toStatus: to,
        accepted,
        source: input.source,
        actor: input.actor ?? null,
        detail: { ...detail, ...extra },
        createdAt: now,
      });
    };

    /**
     * Opens a review for money the hub cannot decide about alone (once per intent, kind and
     * gateway transaction: a gateway repeating itself opens nothing new). False if it existed.
     */
    const openReview = async (kind: ReviewKind, reason: string, proposedAction: 'refund' | 'decide') => {
      const money = outcome.kind === 'succeeded' || outcome.kind === 'needs_review' ? outcome : undefined;
      const opened = await db
        .insert(paymentReviews)
        .values({
          id: crypto.randomUUID(),
          intentId: intent.id,
          gateway: intent.gateway,
          kind,
          gatewayTransactionId: money?.transactionId ?? '',
          amount: money?.amount ?? null,
          proposedAction,
          reason,
          detail,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: paymentReviews.id });
      return opened.length > 0;
    };

    /** Moves the intent along a named edge, or records the refusal and reports `already_final`. */
    const move = async (event: IntentEvent, set: Partial<IntentRow> = {}, extra = {}): Promise<ApplyResult> => {
      const t = transition(intent.status, event);
      if (!t.allowed) {
        await record(event, false, intent.status, null, extra);
        return { result: 'already_final', intent, event };
      }
      const [updated] = await db
        .update(paymentIntents)
        .set({ ...set, status: t.to, updatedAt: now })
        .where(eq(paymentIntents.id, intent.id))
        .returning();
      await record(event, true, intent.status, t.to, extra);
      return { result: 'applied', intent: updated!, event, from: intent.status };
    };

    const releaseObligations = () =>
      db
        .update(obligations)
        .set({ liveIntentId: null, updatedAt: now })
        .where(eq(obligations.liveIntentId, intent.id));

    const awaiting = awaitingPaymentStatuses.includes(intent.status);

    switch (outcome.kind) {
      case 'succeeded': {
        // The dossier is locked too (lockIntent): a payment may complete it.
        // The same payment only when the gateway names the same transaction as before.
        const sameTransaction = intent.gatewayTransactionId !== null && intent.gatewayTransactionId === outcome.transactionId;
        const paidAlready = intent.status === 'succeeded' || intent.status === 'partially_refunded' || intent.status === 'refunded';
        // The amount (and, for a transfer, the account it reached) is checked before the state,
        // as VNPay's IPN order of checks asks (04 before 02).
        const wrongAccount = paidIntoOtherAccount(intent, outcome);
        if (outcome.amount !== intent.amount || wrongAccount) {
          const reviewReason = wrongAccount ?? `paid ${outcome.amount} VND for an intent of ${intent.amount} VND`;
          if (paidAlready || intent.status === 'needs_review') {
            // Money beside a payment already taken (or already in review): never dropped.
            const opened = await openReview('amount_mismatch', reviewReason, paidAlready ? 'refund' : 'decide');
            if (opened) await record('payment_succeeded', false, intent.status, null, { reviewReason });
            return { result: 'amount_mismatch', intent };
          }
          const result = await move(awaiting ? 'amount_mismatch' : 'late_payment_needs_review', {
            reviewReason,
            gatewayTransactionId: outcome.transactionId,
          });
          await openReview(awaiting ? 'amount_mismatch' : 'late_payment', reviewReason, 'decide');
          return result.result === 'applied' ? { result: 'amount_mismatch', intent: result.intent } : result;
        }
        if (paidAlready || intent.status === 'needs_review') {
          if (sameTransaction) return { result: 'duplicate', intent };
          // A second, different successful payment: money to give back (or, while the intent
          // is in review, one more fact for the reviewer).
          const reviewReason = paidAlready
            ? `second successful payment (${outcome.transactionId}) for an intent already paid; refund it`
            : `successful payment (${outcome.transactionId}) reported while the intent is in review`;
          if (!(await openReview('second_payment', reviewReason, paidAlready ? 'refund' : 'decide'))) {
            return { result: 'duplicate', intent };
          }
          await record('payment_succeeded', false, intent.status, null, { reviewReason });
          return { result: 'already_final', intent, event: 'payment_succeeded' };
        }
        if (awaiting) return markPaid(ctx, intent, outcome, 'payment_succeeded', historyOf(input, detail));
        if (intent.status === 'expired' || intent.status === 'cancelled') {
          // Money after the hub gave up: take it if its obligations are still free, else review.
          const claimed = await claimObligations(ctx, intent);
          if (claimed) return markPaid(ctx, intent, outcome, 'late_payment_succeeded', historyOf(input, detail));
          const reviewReason = 'paid after expiry, but its obligations are paid or held by another intent';
          await openReview('late_payment', reviewReason, 'refund');
          return move('late_payment_needs_review', { reviewReason, gatewayTransactionId: outcome.transactionId });
        }
        // failed: a success after an explicit decline is never taken silently.
        const reviewReason = 'success reported after a decline';
        await openReview('success_after_decline', reviewReason, 'decide');
        return move('late_payment_needs_review', { reviewReason, gatewayTransactionId: outcome.transactionId });
      }
      case 'failed': {
        if (outcome.amount !== undefined && outcome.amount !== intent.amount) {
          // A decline for another amount is not about this intent as the hub asked for it
          // (VNPay checks the amount, 04, before recording a failure): recorded, nothing changes.
          await record('payment_declined', false, intent.status, null, { reviewReason: `declined ${outcome.amount} VND for an intent of ${intent.amount} VND` });
          return { result: 'amount_mismatch', intent };
        }
        if (intent.status === 'failed') return { result: 'duplicate', intent };
        const result = await move('payment_declined', { reviewReason: null }, { reason: outcome.reason });
        if (result.result === 'applied') await releaseObligations();
        return result;
      }
      case 'needs_review': {
        if (outcome.amount !== undefined && outcome.amount !== intent.amount && !awaiting) {
          // Money held for another amount, on an intent already decided: the amount is answered
          // first (VNPay 04 before 02), and the money is a fact for a person.
          const reviewReason = `held ${outcome.amount} VND (${outcome.reason}) for an intent of ${intent.amount} VND`;
          if (await openReview('amount_mismatch', reviewReason, 'decide')) {
            await record('suspected_fraud', false, intent.status, null, { reviewReason });
          }
          return { result: 'amount_mismatch', intent };
        }
        if (intent.status === 'needs_review') return { result: 'duplicate', intent };
        // Obligations stay held: money may have moved, so nobody else may pay them meanwhile.
        const result = await move('suspected_fraud', { reviewReason: outcome.reason, gatewayTransactionId: outcome.transactionId ?? null });
        if (result.result === 'applied') await openReview('suspected_fraud', outcome.reason, 'decide');
        // Held either way; the gateway is told the amount was not the one asked (VNPay 04).
        if (result.result === 'applied' && outcome.amount !== undefined && outcome.amount !== intent.amount) {
          return { result: 'amount_mismatch', intent: result.intent };
        }
        return result;
      }
      case 'refunded': {
        const refundedAmount = intent.refundedAmount + outcome.amount;
        if (outcome.amount <= 0 || refundedAmount > intent.amount) {
          throw new Error(`intent ${intent.id}: a refund of ${outcome.amount} VND exceeds what was paid`);
        }
        const full = refundedAmount === intent.amount;
        const result = await move(full ? 'refund_full' : 'refund_partial', { refundedAmount }, { refundId: outcome.refundId });
        if (result.result === 'applied' && full) {
          // Everything given back: the fee lines are no longer paid (they are not payable again
          // either; a new charge is a new obligation).
          await db
            .update(obligations)
            .set({ status: 'refunded', updatedAt: now })
            .where(and(eq(obligations.paidIntentId, intent.id), eq(obligations.status, 'paid')));
        }
        return result;
      }
      case 'expired':
      case 'cancelled': {
        if (intent.status === outcome.kind) return { result: 'duplicate', intent };
        const result = await move(outcome.kind, {}, { reason: outcome.reason });
        if (result.result === 'applied') await releaseObligations();
        return result;
      }
    }
  }
}

/**
 * A credit reported on another account than the one the payer was shown (the intent's QR) is
 * not this intent's payment as asked, whatever its text says: the reason, or null when the
 * gateway names no account or the intent showed none.
 */
function paidIntoOtherAccount(intent: IntentRow, outcome: Extract<GatewayOutcome, { kind: 'succeeded' }>): string | null {
  const shown = (intent.nextAction as { accountNumber?: unknown } | null)?.accountNumber;
  if (!outcome.payeeAccount || typeof shown !== 'string') return null;
  const digits = (account: string) => account.replace(/[\s.-]/g, '');
  return digits(outcome.payeeAccount) === digits(shown) ? null : `paid into account ${outcome.payeeAccount}, not the intent's ${shown}`;
}

/**
 * Re-reserves a given-up intent's obligations for a late payment, if every one is still unpaid
 * and held by nobody. Conditional UPDATE: a racing intent cannot take them at the same time.
 */
async function claimObligations(ctx: ServiceContext, intent: IntentRow): Promise<boolean> {
  const db = executor(ctx);
  const ids = (
    await db.select({ id: intentObligations.obligationId }).from(intentObligations).where(eq(intentObligations.intentId, intent.id))
  ).map((r) => r.id);
  if (ids.length === 0) return false;
  const claimed = await db
    .update(obligations)
    .set({ liveIntentId: intent.id, updatedAt: ctx.now() })
    .where(and(inArray(obligations.id, ids), eq(obligations.status, 'unpaid'), isNull(obligations.liveIntentId)))
    .returning({ id: obligations.id });
  if (claimed.length === ids.length) return true;
  if (claimed.length > 0) {
    await db.update(obligations).set({ liveIntentId: null }).where(and(inArray(obligations.id, ids), eq(obligations.liveIntentId, intent.id)));
  }
  return false;
}

interface History {
  source: OutcomeSource;
  actor: string | null;
  detail: Record<string, unknown>;
}

/**
 * Marks a succeeded intent's obligations, the intent and (when nothing else is unpaid) its
 * dossier paid, records the event, and issues the receipt — in ONE statement, the last before
 * COMMIT. The agency's receipt counter is locked by that statement, so payments of one agency
 * wait on each other only for a statement and a commit; numbers stay gapless, since a rolled
 * back payment takes its number back with it. The caller holds the intent's and the dossier's
 * locks, so "nothing else unpaid" sees every payment of the dossier committed before this one.
 * The receipt is signed after the commit (applyOutcome), since a signature needs the number.
 */
async function markPaid(
  ctx: ServiceContext,
  intent: IntentRow,
  outcome: Extract<GatewayOutcome, { kind: 'succeeded' }>,
  event: 'payment_succeeded' | 'late_payment_succeeded',
  history: History,
): Promise<ApplyResult> {
  const db = executor(ctx);
  const now = ctx.now();
  const paidAt = outcome.paidAt && !Number.isNaN(outcome.paidAt.getTime()) ? outcome.paidAt : now;
  const t = transition(intent.status, event);
  // Both edges are allowed from every state markPaid is called in; anything else must roll back.
  if (!t.allowed) throw new Error(`intent ${intent.id}: ${event} refused from ${intent.status}`);
  const at = now.toISOString();
  const paidAtText = paidAt.toISOString();
  // The receipt is dated when it is issued: numbers then follow dates within a series.
  const issuedDate = vnDate(now);
  const receiptId = crypto.randomUUID();
  const total = intent.amount;
  const words = amountInWords(total);
  const [row] = await queryRows<{
    paid: number;
    linked: number;
    moved: number;
    number: number | null;
    agency_code: string;
    agency_name: string;
    form_symbol: string;
    series_symbol: string;
    payer_name: string | null;
    payer_address: string | null;
    lines: unknown;
    lines_total: string;
  }>(
    db,
    sql`
    WITH paid AS (
      UPDATE obligations SET status = 'paid', paid_intent_id = ${intent.id}::uuid, paid_at = ${paidAtText}::timestamptz,
                             live_intent_id = NULL, updated_at = ${at}::timestamptz
      WHERE live_intent_id = ${intent.id}::uuid AND status = 'unpaid'
      RETURNING id, kind, fee_code, name, line_no
    ), links AS (
      SELECT obligation_id, amount FROM intent_obligations WHERE intent_id = ${intent.id}::uuid
    ), moved AS (
      -- Only when every obligation of the intent was still held by it: never a partial payment.
      UPDATE payment_intents SET status = ${t.to}, gateway_transaction_id = ${outcome.transactionId},
                                 succeeded_at = ${paidAtText}::timestamptz, review_reason = NULL, updated_at = ${at}::timestamptz
      WHERE id = ${intent.id}::uuid AND (SELECT count(*) FROM paid) = (SELECT count(*) FROM links)
      RETURNING id
    ), history AS (
      INSERT INTO payment_events (intent_id, event, from_status, to_status, accepted, source, actor, detail, created_at)
      SELECT id, ${event}, ${intent.status}, ${t.to}, true, ${history.source}, ${history.actor}, ${JSON.stringify(history.detail)}::jsonb, ${at}::timestamptz
      FROM moved
    ), dossier AS (
      -- The dossier counts as paid online (766 flag) once none of its fee lines is left unpaid.
      UPDATE dossiers SET online_payment_flag = ${intent.onlinePaymentFlag}, paid_at = ${paidAtText}::timestamptz,
                          updated_at = ${at}::timestamptz
      WHERE code = ${intent.dossierCode} AND EXISTS (SELECT 1 FROM moved)
        AND NOT EXISTS (SELECT 1 FROM obligations o WHERE o.dossier_code = ${intent.dossierCode} AND o.status = 'unpaid'
                          AND o.id NOT IN (SELECT id FROM paid))
    ), holder AS (
      SELECT a.code, a.name, coalesce(a.receipt_form_symbol, ${DEFAULT_FORM_SYMBOL}) AS form_symbol,
             coalesce(a.receipt_series_symbol, ${defaultSeriesSymbol(issuedDate)}) AS series_symbol,
             d.applicant_name, d.applicant_address
      FROM dossiers d JOIN agencies a ON a.code = d.agency_code WHERE d.code = ${intent.dossierCode}
    ), lines AS (
      SELECT coalesce(json_agg(json_build_object('obligationId', p.id, 'kind', p.kind, 'feeCode', p.fee_code, 'name', p.name,
                                                 'amount', l.amount) ORDER BY p.line_no), '[]'::json) AS items,
             coalesce(sum(l.amount), 0)::text AS total
      FROM paid p JOIN links l ON l.obligation_id = p.id
    ), counter AS (
      INSERT INTO receipt_series (agency_code, form_symbol, series_symbol, last_number)
      SELECT code, form_symbol, series_symbol, 1 FROM holder WHERE EXISTS (SELECT 1 FROM moved)
      ON CONFLICT (agency_code, form_symbol, series_symbol) DO UPDATE SET last_number = receipt_series.last_number + 1
      RETURNING last_number
    ), receipt AS (
      INSERT INTO receipts (id, intent_id, dossier_code, agency_code, agency_name, form_symbol, series_symbol, number, issued_at,
                            issued_date, payer_name, payer_address, lines, total, total_in_words, gateway, gateway_transaction_id, created_at)
      SELECT ${receiptId}::uuid, ${intent.id}::uuid, ${intent.dossierCode}, holder.code, holder.name, holder.form_symbol, holder.series_symbol,
             counter.last_number, ${at}::timestamptz, ${issuedDate}::date, holder.applicant_name, holder.applicant_address,
             (SELECT items FROM lines)::jsonb, ${total}, ${words}, ${intent.gateway}, ${outcome.transactionId}, ${at}::timestamptz
      FROM holder CROSS JOIN counter
      RETURNING number
    )
    SELECT (SELECT count(*) FROM paid)::int AS paid, (SELECT count(*) FROM links)::int AS linked, (SELECT count(*) FROM moved)::int AS moved,
           (SELECT number FROM receipt) AS number, holder.code AS agency_code, holder.name AS agency_name, holder.form_symbol,
           holder.series_symbol, holder.applicant_name AS payer_name, holder.applicant_address AS payer_address,
           (SELECT items FROM lines) AS lines, (SELECT total FROM lines) AS lines_total
    FROM holder`,
  );
  if (!row || row.paid !== row.linked || row.moved !== 1 || row.number === null || Number(row.lines_total) !== total) {
    // Cannot happen while reservations hold; if it ever does, the transaction rolls back and
    // no obligation is paid twice, nor a receipt number used.
    throw new Error(`intent ${intent.id} holds ${row?.paid ?? 0} of its ${row?.linked ?? 0} obligations`);
  }
  const updated: IntentRow = {
    ...intent,
    status: t.to,
    gatewayTransactionId: outcome.transactionId,
    succeededAt: paidAt,
    reviewReason: null,
    updatedAt: now,
  };
  const lines = (typeof row.lines === 'string' ? JSON.parse(row.lines) : row.lines) as Array<ReceiptLine & { amount: number | string }>;
  const receipt: ReceiptRow = {
    id: receiptId,
    intentId: intent.id,
    dossierCode: intent.dossierCode,
    agencyCode: row.agency_code,
    agencyName: row.agency_name,
    formSymbol: row.form_symbol,
    seriesSymbol: row.series_symbol,
    number: Number(row.number),
    issuedAt: now,
    issuedDate,
    payerName: row.payer_name,
    payerAddress: row.payer_address,
    lines: lines.map((line) => ({ ...line, amount: Number(line.amount) })),
    total,
    totalInWords: words,
    gateway: intent.gateway,
    gatewayTransactionId: outcome.transactionId,
    signature: null,
    createdAt: now,
  };
  return { result: 'applied', intent: updated, event, from: intent.status, receipt };
}

