import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../types.ts';
import { holderColumns, type ReceiptIssue, seriesYear } from './mark-paid.ts';
import { lockDossiersEvents } from './record-events.ts';

/** A receipt just numbered, as its event names it. */
export interface NumberedReceipt {
  id: string;
  intentId: string;
  dossierCode: string;
  gateway: string;
  formSymbol: string;
  seriesSymbol: string;
  number: number;
  total: number;
  lookupCode: string;
}

/**
 * Numbers up to `limit` receipt requests of one collecting agency (only `intentId`'s, when given),
 * oldest first, in the series it prints on `issue`'s date — in the caller's transaction:
 *
 * 1. the requests are chosen, their intents key-share locked, and their dossiers' events locks
 *    taken (by code, as recordEvents takes them): a payment, a decision or a refund holds its
 *    intent, then its dossier's events lock, then (a refund, a correction) the counter, so the
 *    issuer takes them in that order too, and never waits in a circle with one;
 * 2. the series' counter row is locked (made at 0 the first time), so two issuers of one series
 *    take turns and the second's next statement sees what the first numbered;
 * 3. the chosen requests still waiting are deleted and become receipts numbered `last + 1 …` in
 *    request order, dated `issue`, and the counter moves by as many.
 *
 * A rollback takes both back: no number is used without its receipt, none twice (the unique
 * series index would refuse it), none skipped. Not signed yet (services/receipt-issuer.ts signs
 * after the commit).
 */
export async function numberReceiptRequests(
  db: Executor,
  input: { agencyCode: string; limit: number; issue: Omit<ReceiptIssue, 'lookupCode'>; intentId?: string },
): Promise<NumberedReceipt[]> {
  const { issue, agencyCode } = input;
  const chosen = await queryRows<{ id: string; dossier_code: string; intent_id: string }>(
    db,
    sql`SELECT id, dossier_code, intent_id FROM receipt_requests
        WHERE agency_code = ${agencyCode} ${input.intentId ? sql`AND intent_id = ${input.intentId}::uuid` : sql``}
        ORDER BY seq LIMIT ${input.limit}`,
  );
  if (chosen.length === 0) return [];
  // The receipts' intents first (the key-share lock their foreign key takes anyway), in id order:
  // a late callback or a decision holds its intent before its dossier's events lock, so the
  // issuer takes them in that order too instead of meeting one the other way round (a deadlock,
  // seen in CI as a receipt left to the jobs).
  await db.execute(sql`
    SELECT count(*) FROM (
      SELECT 1 FROM payment_intents
      WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(chosen.map((r) => r.intent_id))}::jsonb))
      ORDER BY id FOR KEY SHARE) intents`);
  await lockDossiersEvents(
    db,
    chosen.map((r) => r.dossier_code),
  );
  const year = seriesYear(issue);
  const [series] = await queryRows<{ last_number: number; form_symbol: string; series_symbol: string }>(
    db,
    sql`
    WITH holder AS (SELECT ${holderColumns(issue)} FROM agencies a WHERE a.code = ${agencyCode})
    INSERT INTO receipt_series (agency_code, form_symbol, series_symbol, year, last_number)
    SELECT code, form_symbol, series_symbol, ${year}::integer, 0 FROM holder
    ON CONFLICT (agency_code, form_symbol, series_symbol, year) DO UPDATE SET last_number = receipt_series.last_number
    RETURNING last_number, form_symbol, series_symbol`,
  );
  if (!series) throw new Error(`receipt requests of agency ${agencyCode}, which does not exist`);
  const last = Number(series.last_number);
  const at = issue.issuedAt.toISOString();
  const rows = await queryRows<{
    id: string;
    intent_id: string;
    dossier_code: string;
    gateway: string;
    number: number | string;
    total: number | string;
    lookup_code: string;
  }>(
    db,
    sql`
    WITH taken AS (
      DELETE FROM receipt_requests
      WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(chosen.map((r) => r.id))}::jsonb))
      RETURNING *
    ), numbered AS (
      SELECT taken.*, ${last}::integer + row_number() OVER (ORDER BY taken.seq) AS number FROM taken
    ), holder AS (
      SELECT ${holderColumns(issue)} FROM agencies a WHERE a.code = ${agencyCode}
    ), made AS (
      INSERT INTO receipts (id, intent_id, dossier_code, agency_code, agency_name, collector_address, collector_tax_code, issuer, lookup_code,
                            form_symbol, series_symbol, number, issued_at, issued_date, payer_name, payer_address, lines, total, total_in_words,
                            gateway, gateway_transaction_id, created_at)
      SELECT n.id, n.intent_id, n.dossier_code, holder.code, holder.name, holder.address, holder.tax_code, holder.issuer, n.lookup_code,
             ${series.form_symbol}, ${series.series_symbol}, n.number, ${at}::timestamptz, ${issue.issuedDate}::date,
             d.applicant_name, d.applicant_address, n.lines, n.total, n.total_in_words, n.gateway, n.gateway_transaction_id, ${at}::timestamptz
      FROM numbered n CROSS JOIN holder LEFT JOIN dossiers d ON d.code = n.dossier_code
      RETURNING id, intent_id, dossier_code, gateway, number, total, lookup_code
    ), counter AS (
      UPDATE receipt_series SET last_number = ${last}::integer + (SELECT count(*) FROM made)::integer
      WHERE agency_code = ${agencyCode} AND form_symbol = ${series.form_symbol} AND series_symbol = ${series.series_symbol}
        AND year = ${year}::integer AND EXISTS (SELECT 1 FROM made)
    )
    SELECT * FROM made ORDER BY number`,
  );
  // Every request became a receipt, numbered without a gap: otherwise the transaction must not commit.
  rows.forEach((r, k) => {
    if (Number(r.number) !== last + k + 1)
      throw new Error(`receipt numbering of agency ${agencyCode} would leave a gap at ${last + k + 1}`);
  });
  return rows.map((r) => ({
    id: r.id,
    intentId: r.intent_id,
    dossierCode: r.dossier_code,
    gateway: r.gateway,
    formSymbol: series.form_symbol,
    seriesSymbol: series.series_symbol,
    number: Number(r.number),
    total: Number(r.total),
    lookupCode: r.lookup_code,
  }));
}
