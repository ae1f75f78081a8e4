import { and, eq } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { agencies, offlinePayments, paymentIntents, receipts } from '../db/schema/index.ts';
import type { OfflineMethod } from '../db/schema/treasury-day.ts';
import { insertIntent } from '../db/statements/create-intent.ts';
import { sumVnd } from '../domain/money.ts';
import { newReference } from '../domain/reference.ts';
import { COUNTER_CHANNEL } from '../gateways/types.ts';
import { applyOutcome, type ReceiptDue } from './apply-outcome.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, KEY_LIFETIME_MS, requestFingerprint, storedResponse } from './idempotency.ts';
import { emitEvents, offlinePaymentEvent } from './outbox.ts';
import { intentViews, type PaymentIntentView, readDossierBill } from './payment-intents.ts';
import { actorOf, dossierScopeCondition, type Principal } from './principal.ts';
import { issueWaitingReceipts } from './receipt-issuer.ts';

/**
 * Payments outside the gateways (issue 11): a citizen paid at the counter (cash, a POS card, a
 * transfer the counter saw arrive) and a person records it. It is an intent of the `counter`
 * channel, created and succeeded in one transaction through `applyOutcome` (the one path that
 * pays fee lines): 766 flag 0, an e-receipt only when the agency issues them for counter
 * payments (else the paper receipt's number is what the citizen holds), and it enters the day's
 * collections like any other payment.
 */

export interface OfflinePaymentInput {
  /** Fee lines as the dossier API names them: obligation ids, or line numbers (`lineNo`). */
  lines: Array<string | number>;
  method: OfflineMethod;
  /** Who took the money (name or staff id), as the counter's book records it. */
  collector: string;
  paperReceiptNumber?: string;
  /** When the money was taken (default: now); its Vietnamese date is the payment's business day. */
  collectedAt?: string;
}

export interface OfflinePaymentView {
  intent: PaymentIntentView;
  method: OfflineMethod;
  collector: string;
  paperReceiptNumber: string | null;
  collectedAt: string;
  recordedBy: string;
  /** The e-receipt the hub issued, or null when the agency hands out paper receipts only. */
  receipt: { formSymbol: string; seriesSymbol: string; number: number } | null;
}

/** A counter payment may be recorded a little after the fact, never ahead of the clock (beyond its skew). */
const CLOCK_SKEW_MS = 5 * 60_000;
/** The counter's book is typed in the same month at the latest: older money is an adjustment, not a payment. */
const MAX_BACKDATE_MS = 31 * 24 * 60 * 60_000;

/** Thrown inside the transaction when the random reference collided: retried with another. */
class ReferenceTaken extends Error {}

/**
 * Records a counter payment of some fee lines of a dossier in the caller's scope. Idempotent by
 * the Idempotency-Key (the same key and body answer the first result; another body, 409). Lines
 * already paid or held by a live intent: 409 `obligation-unavailable`, nothing written.
 */
export async function recordOfflinePayment(
  ctx: ServiceContext,
  principal: Principal,
  dossierCode: string,
  input: OfflinePaymentInput,
  idempotencyKey: string,
): Promise<{ status: number; body: OfflinePaymentView }> {
  const owner = actorOf(principal);
  const keyScope = idempotencyScope(principal);
  const fingerprint = requestFingerprint(`POST /v1/dossiers/${dossierCode}/offline-payments`, input);
  const replay = async () => {
    const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint);
    if (!stored) return null;
    // Read again (in scope): the same subject may hold tokens of different scopes.
    return { status: stored.status, body: await getOfflinePayment(ctx, principal, (stored.body as { intentId: string }).intentId) };
  };
  const first = await replay();
  if (first) return first;

  const bill = await readDossierBill(ctx, principal, dossierCode);
  if (!bill) throw notFound(`dossier ${dossierCode}`);
  const { dossier } = bill;
  let chosen: BillLine[];
  try {
    chosen = chooseLines(bill.lines, input.lines);
  } catch (error) {
    // The same request committed meanwhile (a retry racing its first send): its lines are paid
    // by its own intent, and it gets the first answer, not a conflict.
    if (error instanceof ServiceError) {
      const stored = await replay();
      if (stored) return stored;
    }
    throw error;
  }
  const amount = sumVnd(chosen.map((l) => l.amount));
  if (amount === 0) throw new ServiceError('nothing-to-pay', 'these fee lines have nothing to pay');
  const now = ctx.now();
  const collectedAt = input.collectedAt ? new Date(input.collectedAt) : now;
  if (collectedAt.getTime() > now.getTime() + CLOCK_SKEW_MS || collectedAt.getTime() < now.getTime() - MAX_BACKDATE_MS) {
    throw new ServiceError('validation-failed', 'collectedAt must be within the last 31 days and not in the future', [
      { path: 'collectedAt', message: 'out of range' },
    ]);
  }
  const [agency] = await executor(ctx)
    .select({ issuesCounterReceipts: agencies.issuesCounterReceipts })
    .from(agencies)
    .where(eq(agencies.code, dossier.agencyCode));
  const eReceipt = agency?.issuesCounterReceipts ?? false;
  const obligationIds = chosen.map((l) => l.id);
  const detail = {
    method: input.method,
    collector: input.collector,
    paperReceiptNumber: input.paperReceiptNumber ?? null,
    collectedAt: collectedAt.toISOString(),
  };

  for (let attempt = 0; ; attempt++) {
    let written: { intentId: string; reference: string; receipt?: ReceiptDue } | null;
    try {
      written = await withTransaction(ctx, async (ctx) => {
        const id = crypto.randomUUID();
        const reference = newReference();
        const at = ctx.now();
        const result = await insertIntent(executor(ctx), {
          id,
          reference,
          dossierCode: dossier.code,
          gateway: COUNTER_CHANNEL,
          amount,
          returnUrl: '',
          // Succeeded below, in this transaction: never live, so nothing ever expires or polls it.
          expiresAt: at,
          nextAction: { type: 'counter', method: input.method },
          gatewayReference: input.paperReceiptNumber ?? null,
          onlinePaymentFlag: 0,
          nextPollAt: null,
          principal: owner,
          createdAt: at,
          obligationIds,
          events: [
            { event: 'created', from: null, to: 'created', detail: { amount, obligationIds, channel: COUNTER_CHANNEL } },
            { event: 'handed_over', from: 'created', to: 'pending', detail },
          ],
          idempotency: {
            scope: keyScope,
            key: idempotencyKey,
            fingerprint,
            expiresAt: new Date(at.getTime() + KEY_LIFETIME_MS),
            response: { status: 201, body: { intentId: id } },
          },
        });
        if (result === 'key_taken') return null;
        if (result === 'reference_taken') throw new ReferenceTaken();
        if (result === 'obligation_taken') {
          throw new ServiceError('obligation-unavailable', 'a fee line was taken by another payment meanwhile', [], { obligationIds });
        }
        const applied = await applyOutcome(ctx, {
          intentId: id,
          // The counter's own transaction id: unique, and never mistaken for a gateway's.
          outcome: { kind: 'succeeded', amount, transactionId: `counter-${reference}`, paidAt: collectedAt, detail },
          source: 'counter',
          actor: owner,
          issueReceipt: eReceipt,
        });
        if (applied.result !== 'applied') throw new Error(`a new counter intent did not succeed: ${applied.result}`);
        await executor(ctx)
          .insert(offlinePayments)
          .values({
            intentId: id,
            method: input.method,
            collector: input.collector,
            paperReceiptNumber: input.paperReceiptNumber ?? null,
            collectedAt,
            recordedBy: owner,
            eReceipt,
            createdAt: at,
          });
        // Told to dossier systems with the payment's own events, before the audit row (its lock is the last).
        await emitEvents(ctx, [
          offlinePaymentEvent(ctx, applied.intent, {
            method: input.method,
            collector: input.collector,
            paperReceiptNumber: input.paperReceiptNumber ?? null,
            collectedAt,
            recordedBy: owner,
            eReceipt,
          }),
        ]);
        await appendAudit(ctx, principal, {
          action: 'offline_payment.record',
          resourceType: 'payment_intent',
          resourceId: id,
          agencyCode: dossier.agencyCode,
          before: null,
          after: { dossierCode: dossier.code, amount, obligationIds, ...detail, eReceipt },
        });
        return { intentId: id, reference, receipt: applied.result === 'applied' ? applied.receiptDue : undefined };
      });
    } catch (error) {
      if (error instanceof ReferenceTaken && attempt < 3) continue;
      throw error;
    }
    if (!written) {
      const stored = await replay();
      if (stored) return stored;
      throw new Error('idempotency key conflicted but no stored answer was found');
    }
    if (written.receipt) {
      // Committed: the clerk hands the citizen the e-receipt's number, so it is issued now, not in
      // the background (a failure leaves it to the jobs; the payment is already safe).
      try {
        await issueWaitingReceipts(ctx, written.receipt.agencyCode);
      } catch (error) {
        ctx.log.warn('receipts left waiting for the jobs', { intentId: written.intentId, error: describeError(error) });
      }
    }
    return { status: 201, body: await getOfflinePayment(ctx, principal, written.intentId) };
  }
}

type BillLine = NonNullable<Awaited<ReturnType<typeof readDossierBill>>>['lines'][number];

/** The fee lines named by id or line number: all must exist, be unpaid, and be held by nobody. */
function chooseLines(lines: BillLine[], wanted: Array<string | number>): BillLine[] {
  const chosen = new Map<string, BillLine>();
  const unknown: string[] = [];
  for (const name of wanted) {
    const line = lines.find((l) => (typeof name === 'number' ? l.lineNo === name : l.id === name));
    if (line) chosen.set(line.id, line);
    else unknown.push(String(name));
  }
  if (unknown.length > 0) {
    throw new ServiceError(
      'validation-failed',
      'some fee lines do not belong to this dossier',
      unknown.map((name) => ({ path: 'lines', message: `unknown fee line ${name}` })),
    );
  }
  const picked = [...chosen.values()];
  const waived = picked.filter((l) => l.status === 'waived');
  if (waived.length > 0) {
    throw new ServiceError('nothing-to-pay', 'waived fee lines have nothing to pay', [], { obligationIds: waived.map((l) => l.id) });
  }
  const unavailable = picked.filter((l) => l.status !== 'unpaid' || l.liveIntentId !== null);
  if (unavailable.length > 0) {
    throw new ServiceError('obligation-unavailable', 'a fee line is already paid or held by a live payment intent', [], {
      obligationIds: unavailable.map((l) => l.id),
    });
  }
  return picked;
}

/** A counter payment in the caller's scope: its intent, how it was paid, who took it, its receipt. */
async function getOfflinePayment(ctx: ServiceContext, principal: Principal, intentId: string): Promise<OfflinePaymentView> {
  const scope = dossierScopeCondition(principal, paymentIntents.dossierCode);
  const [row] = await executor(ctx)
    .select({ intent: paymentIntents, offline: offlinePayments })
    .from(offlinePayments)
    .innerJoin(paymentIntents, eq(paymentIntents.id, offlinePayments.intentId))
    .where(scope ? and(eq(offlinePayments.intentId, intentId), scope) : eq(offlinePayments.intentId, intentId));
  if (!row) throw notFound(`counter payment ${intentId}`);
  const [receipt] = await executor(ctx)
    .select({ formSymbol: receipts.formSymbol, seriesSymbol: receipts.seriesSymbol, number: receipts.number })
    .from(receipts)
    .where(eq(receipts.intentId, intentId));
  const [intent] = await intentViews(ctx, [row.intent]);
  return {
    intent: intent!,
    method: row.offline.method,
    collector: row.offline.collector,
    paperReceiptNumber: row.offline.paperReceiptNumber,
    collectedAt: row.offline.collectedAt.toISOString(),
    recordedBy: row.offline.recordedBy,
    receipt: receipt ? { formSymbol: receipt.formSymbol, seriesSymbol: receipt.seriesSymbol, number: Number(receipt.number) } : null,
  };
}
