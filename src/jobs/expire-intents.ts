import { and, asc, inArray, lte } from 'drizzle-orm';
import { paymentIntents } from '../db/schema/index.ts';
import { awaitingPaymentStatuses } from '../domain/payment-states.ts';
import { applyOutcome } from '../services/apply-outcome.ts';
import type { ServiceContext } from '../services/context.ts';

export interface ExpiryReport {
  due: number;
  expired: number;
  settledByQuery: number;
  leftPending: number;
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
  const report: ExpiryReport = { due: due.length, expired: 0, settledByQuery: 0, leftPending: 0 };
  const graceMs = ctx.settings.expiryUnknownGraceMinutes * 60_000;

  for (const intent of due) {
    const gateway = ctx.gateways[intent.gateway as keyof typeof ctx.gateways];
    let expire = true;
    if (gateway?.queryStatus) {
      const answer = await gateway.queryStatus({ reference: intent.reference, amount: intent.amount, createdAt: intent.createdAt });
      if (answer.kind === 'outcome') {
        await applyOutcome(ctx, { intentId: intent.id, outcome: answer.outcome, source: 'expiry' });
        report.settledByQuery++;
        continue;
      }
      if (answer.kind === 'unknown' || answer.kind === 'pending') {
        expire = now.getTime() - intent.expiresAt.getTime() >= graceMs;
        if (!expire) {
          ctx.log.warn('expiry postponed: gateway status unknown', { intentId: intent.id, gateway: intent.gateway, answer: answer.kind });
        }
      }
    }
    if (!expire) {
      report.leftPending++;
      continue;
    }
    const result = await applyOutcome(ctx, {
      intentId: intent.id,
      outcome: { kind: 'expired', reason: 'no payment before the deadline' },
      source: 'expiry',
    });
    if (result.result === 'applied') report.expired++;
  }
  return report;
}
