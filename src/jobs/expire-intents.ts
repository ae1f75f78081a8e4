import { and, asc, inArray, lte } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { paymentIntents } from '../db/schema/index.ts';
import { awaitingPaymentStatuses } from '../domain/payment-states.ts';
import { applyOutcome, intentSnapshot } from '../services/apply-outcome.ts';
import type { ServiceContext } from '../services/context.ts';

export interface ExpiryReport {
  due: number;
  expired: number;
  settledByQuery: number;
  leftPending: number;
  failed: number;
}

/**
 * Expires intents past their deadline and frees their obligations. A gateway that can be asked
 * is asked first (DESIGN.md: a status query before expiring): a payment it reports is applied
 * instead; an answer it cannot give (timeout, 5xx) leaves the intent pending until a grace
 * period has passed, because "unknown" is not "unpaid".
 */
export async function expireDueIntents(ctx: ServiceContext, options: { limit?: number } = {}): Promise<ExpiryReport> {
  const now = ctx.now();
  const due = await ctx.db
    .select()
    .from(paymentIntents)
    .where(and(inArray(paymentIntents.status, [...awaitingPaymentStatuses]), lte(paymentIntents.expiresAt, now)))
    .orderBy(asc(paymentIntents.expiresAt))
    .limit(options.limit ?? 500);
  const report: ExpiryReport = { due: due.length, expired: 0, settledByQuery: 0, leftPending: 0, failed: 0 };
  const graceMs = ctx.settings.expiryUnknownGraceMinutes * 60_000;

  for (const intent of due) {
    try {
      await settleOrExpire(ctx, intent, now, graceMs, report);
    } catch (error) {
      // One intent that cannot be settled must not hold back every intent due after it.
      report.failed++;
      ctx.log.error('expiry failed for one intent', { intentId: intent.id, gateway: intent.gateway, error: describeError(error) });
    }
  }
  return report;
}

async function settleOrExpire(
  ctx: ServiceContext,
  intent: typeof paymentIntents.$inferSelect,
  now: Date,
  graceMs: number,
  report: ExpiryReport,
): Promise<void> {
  const gateway = ctx.gateways[intent.gateway as keyof typeof ctx.gateways];
  if (gateway?.queryStatus) {
    const answer = await gateway.queryStatus(intentSnapshot(intent));
    if (answer.kind === 'outcome') {
      const result = await applyOutcome(ctx, { intentId: intent.id, outcome: answer.outcome, source: 'expiry' });
      const still = 'intent' in result && awaitingPaymentStatuses.includes(result.intent.status);
      if (!still) {
        if (result.result !== 'unknown_reference') report.settledByQuery++;
        return;
      }
      // What the gateway said changed nothing (a decline of another amount, say): the intent
      // would stay due for ever, holding its obligations. It expires like any unpaid intent;
      // money that does arrive later is still taken, or sent to review.
    } else if ((answer.kind === 'unknown' || answer.kind === 'pending') && now.getTime() - intent.expiresAt.getTime() < graceMs) {
      ctx.log.warn('expiry postponed: gateway status unknown', { intentId: intent.id, gateway: intent.gateway, answer: answer.kind });
      report.leftPending++;
      return;
    }
  }
  const result = await applyOutcome(ctx, {
    intentId: intent.id,
    outcome: { kind: 'expired', reason: 'no payment before the deadline' },
    source: 'expiry',
  });
  if (result.result === 'applied') report.expired++;
}
