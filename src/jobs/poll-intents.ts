import { and, asc, eq, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { paymentIntents } from '../db/schema/index.ts';
import { awaitingPaymentStatuses } from '../domain/payment-states.ts';
import { applyOutcome, intentSnapshot } from '../services/apply-outcome.ts';
import type { ServiceContext } from '../services/context.ts';

export interface PollReport {
  due: number;
  settled: number;
  stillPending: number;
  gaveUp: number;
  failed: number;
}

/**
 * The first safety net for a lost callback (gateways.md): pending intents are asked about on
 * their gateway's schedule — a start delay after creation, then every interval, at most so many
 * times. What the gateway reports goes through applyOutcome like a callback; "pending", "not
 * found yet" and "unknown" only move the next question later. After the last attempt the intent
 * is left to expiry, which asks once more before giving up.
 */
export async function pollPendingIntents(ctx: ServiceContext, options: { limit?: number } = {}): Promise<PollReport> {
  const now = ctx.now();
  const due = await ctx.db
    .select()
    .from(paymentIntents)
    .where(
      and(
        inArray(paymentIntents.status, [...awaitingPaymentStatuses]),
        isNotNull(paymentIntents.nextPollAt),
        lte(paymentIntents.nextPollAt, now),
      ),
    )
    .orderBy(asc(paymentIntents.nextPollAt))
    .limit(options.limit ?? 200);
  const report: PollReport = { due: due.length, settled: 0, stillPending: 0, gaveUp: 0, failed: 0 };

  for (const intent of due) {
    const gateway = ctx.gateways[intent.gateway as keyof typeof ctx.gateways];
    const schedule = gateway?.queryStatus ? gateway.polling : undefined;
    try {
      if (!gateway?.queryStatus || !schedule) {
        // Not pollable (any more): out of the poller's queue for good.
        await ctx.db.update(paymentIntents).set({ nextPollAt: null }).where(eq(paymentIntents.id, intent.id));
        continue;
      }
      const answer = await gateway.queryStatus(intentSnapshot(intent));
      if (answer.kind === 'outcome') {
        const result = await applyOutcome(ctx, { intentId: intent.id, outcome: answer.outcome, source: 'poller' });
        if (result.result !== 'duplicate' && result.result !== 'unknown_reference') report.settled++;
        await ctx.db
          .update(paymentIntents)
          .set({ nextPollAt: null, pollAttempts: sql`${paymentIntents.pollAttempts} + 1` })
          .where(eq(paymentIntents.id, intent.id));
        continue;
      }
      if (answer.kind === 'unknown')
        ctx.log.warn('status query unknown', { intentId: intent.id, gateway: gateway.id, reason: answer.reason });
      const attempts = intent.pollAttempts + 1;
      const last = attempts >= schedule.maxAttempts;
      await ctx.db
        .update(paymentIntents)
        .set({ pollAttempts: attempts, nextPollAt: last ? null : new Date(now.getTime() + schedule.intervalSeconds * 1000) })
        .where(eq(paymentIntents.id, intent.id));
      if (last) report.gaveUp++;
      else report.stillPending++;
    } catch (error) {
      // One intent that cannot be polled must not hold back the others; it is asked again later.
      report.failed++;
      ctx.log.error('polling failed for one intent', { intentId: intent.id, gateway: intent.gateway, error: describeError(error) });
      if (schedule) {
        await ctx.db
          .update(paymentIntents)
          .set({ nextPollAt: new Date(now.getTime() + schedule.intervalSeconds * 1000) })
          .where(eq(paymentIntents.id, intent.id))
          .catch(() => undefined);
      }
    }
  }
  return report;
}
