import { type SQL, sql } from 'drizzle-orm';
import { addDays } from '../domain/dates.ts';
import { businessDayBounds, parseSource, type StatementSource } from './sources.ts';

/**
 * "The hub's payments of a source and a business day", said once (issue 11): matching, the day's
 * close totals and the three-way view all read it, so they cannot disagree about which money a
 * day holds. A payment belongs to the day on which the gateway or bank collected it: its
 * `succeeded_at` (the gateway's pay time) as a date in Asia/Ho_Chi_Minh.
 */

/**
 * How far back an intent may have been created and still be paid on a day. Intents live minutes
 * (INTENT_TTL_MINUTES) and late money arrives within days, so a month is generous; the bound lets
 * the matching use the intents' creation index instead of reading every intent ever made.
 */
const LOOKBACK_DAYS = 31;

/** Spaces, dots and dashes are not part of an account number (sources.ts normalises the same way). */
const accountOf = (alias: string) => sql.raw(`regexp_replace(coalesce(${alias}.next_action->>'accountNumber', ''), '[\\s.-]', '', 'g')`);

/**
 * The intents a source's statement speaks of (`alias` names payment_intents in the caller's
 * query): a gateway's own, or for `bank:<account>` the VietQR intents that showed the payer that
 * account.
 */
export function sourceIntentCondition(source: StatementSource, alias = 'i'): SQL {
  const a = sql.raw(alias);
  if (source.kind === 'gateway') return sql`${a}.gateway = ${source.gateway}`;
  return sql`(${a}.gateway = 'vietqr' AND ${accountOf(alias)} = ${source.accountNumber})`;
}

/** The creation window of the intents that can be paid on `date` (see LOOKBACK_DAYS). */
export function candidateWindow(date: string, alias = 'i'): SQL {
  const a = sql.raw(alias);
  const { end } = businessDayBounds(date);
  const { start: from } = businessDayBounds(addDays(date, -LOOKBACK_DAYS));
  return sql`${a}.created_at >= ${from.toISOString()}::timestamptz AND ${a}.created_at < ${end.toISOString()}::timestamptz`;
}

/**
 * A SELECT of the hub's payments of `source` on `date`, one row per intent:
 * `id, reference, gateway_transaction_id, amount` (what was taken: the amount asked, or what a
 * person accepted instead), `succeeded_at, dossier_code, status`. Use it as a subquery:
 *
 *   sql`SELECT count(*), coalesce(sum(amount), 0) FROM (${hubPaymentsOfDay(source, date)}) h`
 */
export function hubPaymentsOfDay(source: StatementSource, date: string): SQL {
  return sql`SELECT i.id, i.reference, i.gateway_transaction_id, coalesce(i.received_amount, i.amount) AS amount, i.succeeded_at,
                    i.dossier_code, i.status
             FROM payment_intents i
             WHERE ${sourceIntentCondition(source)} AND ${candidateWindow(date)} AND ${paidOnDay(date)}`;
}

/**
 * Whether the intent (`alias` names payment_intents) is a payment of `date`, the rest of
 * `hubPaymentsOfDay`'s condition: for a query that reads the source's intents once and marks
 * the day's payments among them.
 */
export function paidOnDay(date: string, alias = 'i'): SQL {
  const a = sql.raw(alias);
  const { start, end } = businessDayBounds(date);
  // Paid at some point: money refunded later was still collected that day.
  return sql`(${a}.status IN ('succeeded', 'partially_refunded', 'refunded')
              AND ${a}.succeeded_at >= ${start.toISOString()}::timestamptz AND ${a}.succeeded_at < ${end.toISOString()}::timestamptz)`;
}

/** The statement source an intent's money belongs to (null: a channel no statement speaks of, such as the counter). */
export function sourceIdOfIntent(intent: { gateway: string; nextAction: Record<string, unknown> | null }): string | null {
  if (intent.gateway === 'vietqr') {
    const account = intent.nextAction?.accountNumber;
    return typeof account === 'string' && account !== '' ? `bank:${account.replace(/[\s.-]/g, '')}` : null;
  }
  return parseSource(intent.gateway)?.id ?? null;
}

/**
 * A statement line that says money came in (`alias` names statement_lines): valid, a credit, and —
 * in a gateway's file — paid (or paid and later refunded). Matching counts these lines; the close
 * totals and the three-way view sum them.
 */
export function countedLine(alias = 'l'): SQL {
  return sql.raw(`(${alias}.error IS NULL AND ${alias}.amount IS NOT NULL AND coalesce(${alias}.direction, 'credit') = 'credit'
           AND coalesce(${alias}.status, 'paid') IN ('paid', 'refunded'))`);
}

/** countedLine of a line read in JavaScript (the import counts its lines as it writes them). */
export function isCountedLine(line: {
  error: string | null;
  amount: number | null;
  direction: string | null;
  status: string | null;
}): boolean {
  return (
    line.error === null &&
    line.amount !== null &&
    (line.direction ?? 'credit') === 'credit' &&
    (line.status === null || line.status === 'paid' || line.status === 'refunded')
  );
}
