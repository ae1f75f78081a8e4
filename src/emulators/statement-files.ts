import { and, asc, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Database } from '../db/types.ts';
import { gmt7 } from './protocol/time.ts';
import { sandboxTransactions } from './schema.ts';

/**
 * What every emulated channel's statement download is made of: the business day asked for, and a
 * CSV written the way Vietnamese exports write it. Written apart from the hub's reader
 * (src/gateways/statement-format.ts, src/domain/statement-values.ts), so that a file the hub
 * cannot read is the hub's mistake, shown by its own import.
 */

/** A Vietnamese business day as instants: [start, end). Vietnam keeps GMT+7 all year. */
export interface StatementDay {
  date: string;
  start: Date;
  end: Date;
}

/** `?date=yyyy-mm-dd` (today in Vietnam when absent), or null when it is no real date. */
export function statementDay(raw: string | undefined, now: Date): StatementDay | null {
  const local = gmt7(now);
  const date = raw ?? `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}`;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
  const start = new Date(`${date}T00:00:00+07:00`);
  // Formatted back, so 2026-02-31 is refused rather than rolled over.
  if (Number.isNaN(start.getTime()) || gmt7(start).slice(0, 8) !== date.replaceAll('-', '')) return null;
  return { date, start, end: new Date(start.getTime() + 24 * 60 * 60 * 1000) };
}

export interface CsvStyle {
  separator: ',' | ';';
  lineEnd: '\r\n' | '\n';
  /** Excel needs a byte order mark to open UTF-8 with Vietnamese letters. */
  bom: boolean;
}

/** One CSV file: a field holding the separator, a quote or a line break is quoted (RFC 4180). */
export function csv(rows: ReadonlyArray<ReadonlyArray<string | number>>, style: CsvStyle): string {
  const field = (value: string | number) => {
    const text = String(value);
    return text.includes(style.separator) || /["\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const body = rows.map((row) => row.map(field).join(style.separator)).join(style.lineEnd);
  return `${style.bom ? '\uFEFF' : ''}${body}${style.lineEnd}`;
}

/** `dd/MM/yyyy HH:mm:ss` in Vietnam, as portals and banks show a time. */
export function vnDateTime(at: Date): string {
  const t = gmt7(at);
  return `${t.slice(6, 8)}/${t.slice(4, 6)}/${t.slice(0, 4)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)}`;
}

/** `1.250.000`: đồng grouped by dots, as Vietnamese exports show money. */
export const vnMoney = (amount: number) => String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, '.');

/** The file as a download named as the channel names it. */
export function statementDownload(c: Context, fileName: string, content: string) {
  return c.body(content, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${fileName}"`,
    'cache-control': 'no-store',
  });
}

export const badStatementDate = (c: Context) => c.text('date must be a real yyyy-mm-dd date', 400);

/**
 * A channel's ledger rows decided on a day (paid or declined), oldest first, with what was refunded
 * of each since: `ownRows` picks the channel's rows by the shape of its transaction ids.
 */
export function decidedOnDay(db: Database, day: StatementDay, ownRows: SQL) {
  return db
    .select({
      transactionId: sandboxTransactions.transactionId,
      reference: sandboxTransactions.reference,
      amount: sandboxTransactions.amount,
      status: sandboxTransactions.status,
      at: sandboxTransactions.createdAt,
      // Qualified by hand: inside the subquery an unqualified "reference" would be the refund's own.
      refunded: sql<string>`(SELECT coalesce(sum(r.amount), 0) FROM sandbox_refunds r WHERE r.reference = sandbox_transactions.reference)`,
    })
    .from(sandboxTransactions)
    .where(
      and(
        ownRows,
        inArray(sandboxTransactions.status, ['succeeded', 'declined']),
        gte(sandboxTransactions.createdAt, day.start),
        lt(sandboxTransactions.createdAt, day.end),
      ),
    )
    .orderBy(asc(sandboxTransactions.createdAt), asc(sandboxTransactions.reference));
}
