import { and, asc, desc, eq, lt, lte, sql } from 'drizzle-orm';
import { describeError } from '../db/errors.ts';
import { paymentIntents, refunds } from '../db/schema/index.ts';
import type { ServiceContext } from '../services/context.ts';
import { REFUND_SEND_WINDOW_MS, sendRefund } from '../services/refunds.ts';

export interface ResendReport {
  due: number;
  succeeded: number;
  failed: number;
  stillUnknown: number;
  /** Reached the last attempt still unknown: a person resolves it (POST /v1/refunds/{id}/resolve). */
  leftForPerson: number;
  errors: number;
}

export interface ResendOptions {
  limit?: number;
  /** A refund touched more recently than this may still be on its way; it is not sent again yet. */
  resendAfterMs?: number;
  maxAttempts?: number;
}

const REFUND_RESEND_AFTER_MS = REFUND_SEND_WINDOW_MS;
export const REFUND_MAX_ATTEMPTS = 10;

/**
 * Sends again the refunds left `submitted`: the gateway did not answer, answered something the hub
 * could not read (VNPay 94 "already in progress" included), or the process stopped between the
 * commit and the first send (attempts 0, sent first). Without this they would count against what
 * is refundable forever.
 *
 * A refund never sent (the process stopped after its commit) is always sent. One that WAS sent
 * and went unanswered is sent again only to a gateway that recognises a repeated refund id for
 * ever (`refundIdempotentById`: the sandbox); VNPay promises unique request ids only within a
 * day, so a re-send the next day could refund the payer twice — its unanswered refunds stay
 * `submitted` for a person at once.
 *
 * After the last attempt the refund stays `submitted` for a person, who checks the gateway's
 * portal or statement and resolves it.
 */
export async function resendSubmittedRefunds(ctx: ServiceContext, options: ResendOptions = {}): Promise<ResendReport> {
  const maxAttempts = options.maxAttempts ?? REFUND_MAX_ATTEMPTS;
  const staleBefore = new Date(ctx.now().getTime() - (options.resendAfterMs ?? REFUND_RESEND_AFTER_MS));
  const candidates = await ctx.db
    .select({ id: refunds.id, attempts: refunds.attempts, gateway: paymentIntents.gateway })
    .from(refunds)
    .innerJoin(paymentIntents, eq(paymentIntents.id, refunds.intentId))
    .where(and(eq(refunds.status, 'submitted'), lt(refunds.attempts, maxAttempts), lte(refunds.updatedAt, staleBefore)))
    .orderBy(desc(sql`${refunds.attempts} = 0`), asc(refunds.updatedAt))
    .limit(options.limit ?? 100);
  const due = candidates.filter((r) => r.attempts === 0 || ctx.gateways[r.gateway as keyof typeof ctx.gateways]?.refundIdempotentById);
  const report: ResendReport = { due: due.length, succeeded: 0, failed: 0, stillUnknown: 0, leftForPerson: 0, errors: 0 };

  for (const { id } of due) {
    try {
      const row = await sendRefund(ctx, id, { staleBefore });
      if (row.status === 'succeeded') report.succeeded++;
      else if (row.status === 'failed') report.failed++;
      else if (row.status === 'submitted' && row.attempts >= maxAttempts) {
        report.leftForPerson++;
        ctx.log.error('refund left for a person', { refundId: id, intentId: row.intentId, attempts: row.attempts, detail: row.detail });
      } else report.stillUnknown++;
    } catch (error) {
      // One refund that cannot be sent must not hold back the others; it is tried again next run.
      report.errors++;
      ctx.log.error('refund resend failed', { refundId: id, error: describeError(error) });
    }
  }
  return report;
}
