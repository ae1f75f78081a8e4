import { sql } from 'drizzle-orm';
import { queryRows } from '../db/types.ts';
import { vnDate } from '../domain/dates.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext } from './context.ts';
import { sourceIdOfIntent } from './day-payments.ts';

/**
 * Money for a day already closed (issue 11): a late callback, a late statement line, a person's
 * decision. The fee lines are paid at once as always (the caller has just done it); the books of
 * the closed day stay as signed, and the money is booked as an adjustment on the next open day
 * of its source, with an audit entry. Called from the one place an intent becomes paid
 * (apply-outcome.ts markPaid), inside its transaction, so every path gets it.
 *
 * The day's reconciliation row is read FOR SHARE: a close running at the same moment (FOR UPDATE)
 * either commits first, and this payment is then booked as late, or waits for this payment, and
 * its totals then include it.
 */
export async function bookIfDayClosed(
  ctx: ServiceContext,
  payment: { intentId: string; gateway: string; nextAction: Record<string, unknown> | null; amount: number; paidAt: Date; actor: string },
): Promise<{ bookedDate: string } | null> {
  const source = sourceIdOfIntent(payment);
  if (!source) return null;
  const db = executor(ctx);
  const businessDate = vnDate(payment.paidAt);
  const [day] = await queryRows<{ status: string; agency_code: string }>(
    db,
    sql`SELECT status, agency_code FROM reconciliations WHERE source = ${source} AND business_date = ${businessDate}::date FOR SHARE`,
  );
  if (day?.status !== 'closed') return null;
  const [booked] = await queryRows<{ id: string; booked_date: string }>(
    db,
    sql`WITH next_open AS (
          SELECT d::date AS day FROM generate_series(${businessDate}::date + 1, ${businessDate}::date + 400, interval '1 day') AS d
          WHERE NOT EXISTS (SELECT 1 FROM reconciliations r WHERE r.source = ${source} AND r.business_date = d::date AND r.status = 'closed')
          ORDER BY d LIMIT 1
        )
        INSERT INTO book_adjustments (id, source, business_date, booked_date, agency_code, intent_id, amount, reason, created_at)
        SELECT gen_random_uuid(), ${source}, ${businessDate}::date, next_open.day, ${day.agency_code}, ${payment.intentId}::uuid,
               ${payment.amount}::bigint, ${`paid for ${businessDate}, a day already closed`}, ${ctx.now().toISOString()}::timestamptz
        FROM next_open
        ON CONFLICT DO NOTHING
        RETURNING id, to_char(booked_date, 'YYYY-MM-DD') AS booked_date`,
  );
  if (!booked) return null;
  await appendAudit(ctx, payment.actor, {
    action: 'adjustment.book',
    resourceType: 'book_adjustment',
    resourceId: booked.id,
    agencyCode: day.agency_code,
    reason: `late money for the closed day ${businessDate} of ${source}`,
    after: { source, businessDate, bookedDate: booked.booked_date, intentId: payment.intentId, amount: payment.amount },
  });
  return { bookedDate: booked.booked_date };
}
