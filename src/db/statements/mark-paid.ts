import { sql } from 'drizzle-orm';
import type { IntentStatus } from '../../domain/payment-states.ts';
import type { ReceiptIssuer, ReceiptLine } from '../schema/receipts.ts';
import { type Executor, queryRows } from '../types.ts';

/** What every receipt's issue needs to know besides its content: its date and the hub's receipt settings. */
export interface ReceiptIssue {
  issuedAt: Date;
  /** The Vietnamese date it is issued on: its series' year. */
  issuedDate: string;
  /** Used when the collecting agency registered none of its own. */
  defaultFormSymbol: string;
  defaultSeriesSymbol: string;
  /** The look-up code printed on the receipt. */
  lookupCode: string;
  /**
   * The hub's operator, recorded as the receipt's issuer (with the agency's delegation) unless
   * the collecting agency signs its own receipts (one of `ownKeyAgencies`).
   */
  operator: { name: string; address: string; taxCode: string | null };
  ownKeyAgencies: readonly string[];
}

/** The series' year is the issue date's (a Vietnamese date, yyyy-mm-dd). */
const seriesYear = (issue: ReceiptIssue) => Number(issue.issuedDate.slice(0, 4));

/**
 * The collecting agency `a` as a receipt issued now prints it: code, name, address, tax code, its
 * form and series symbols (a series that starts with two digits carries its year there: Circular
 * 91/2026), and the issuer when the hub signs on its behalf.
 */
function holderColumns(issue: ReceiptIssue) {
  return sql`a.code, a.name, a.address, a.tax_code, coalesce(a.receipt_form_symbol, ${issue.defaultFormSymbol}) AS form_symbol,
             CASE WHEN a.receipt_series_symbol ~ '^[0-9]{2}' THEN ${issue.issuedDate.slice(2, 4)} || substr(a.receipt_series_symbol, 3)
                  ELSE coalesce(a.receipt_series_symbol, ${issue.defaultSeriesSymbol}) END AS series_symbol,
             CASE WHEN a.code IN (SELECT jsonb_array_elements_text(${JSON.stringify(issue.ownKeyAgencies)}::jsonb)) THEN NULL
                  ELSE ${JSON.stringify(issue.operator)}::jsonb || jsonb_build_object('delegation', a.receipt_delegation) END AS issuer`;
}

/**
 * Takes the next number of the series `holder` (a CTE with holderColumns) prints, in the year of
 * `issue`: the counter row stays locked until the transaction ends, so numbers have no gaps.
 */
const nextNumber = (issue: ReceiptIssue, when: ReturnType<typeof sql>) => sql`
      INSERT INTO receipt_series (agency_code, form_symbol, series_symbol, year, last_number)
      SELECT code, form_symbol, series_symbol, ${seriesYear(issue)}::integer, 1 FROM holder WHERE ${when}
      ON CONFLICT (agency_code, form_symbol, series_symbol, year) DO UPDATE SET last_number = receipt_series.last_number + 1
      RETURNING last_number`;

export interface MarkPaidInput {
  intentId: string;
  dossierCode: string;
  gateway: string;
  /** The intent's amount: what the receipt's lines must add up to. */
  amount: number;
  onlinePaymentFlag: number;
  event: 'payment_succeeded' | 'late_payment_succeeded' | 'review_resolved_succeeded';
  /** Set when a person accepted another amount than the one asked: what was taken. */
  receivedAmount: number | null;
  fromStatus: IntentStatus;
  toStatus: IntentStatus;
  gatewayTransactionId: string;
  paidAt: Date;
  history: { source: string; actor: string | null; detail: Record<string, unknown> };
  receipt: ReceiptIssue & {
    id: string;
    totalInWords: string;
    /**
     * Default true. False for a counter payment of an agency that hands out paper receipts
     * (`agencies.issues_counter_receipts` off): no e-receipt, no number taken from the series.
     */
    issue?: boolean;
  };
}

export interface MarkPaidResult {
  /** The receipt's number in its series; null when no e-receipt was issued (`receipt.issue` false). */
  number: number | null;
  agencyCode: string;
  agencyName: string;
  formSymbol: string;
  seriesSymbol: string;
  collectorAddress: string | null;
  collectorTaxCode: string | null;
  issuer: ReceiptIssuer | null;
  payerName: string | null;
  payerAddress: string | null;
  lines: ReceiptLine[];
}

/**
 * Marks an intent's fee lines, the intent and (when nothing else is unpaid) its dossier paid,
 * records the event, and issues the receipt — in ONE statement, the last before COMMIT. The
 * agency's receipt counter is locked by that statement, so payments of one agency wait on each
 * other only for a statement and a commit; numbers stay gapless, since a rolled back payment
 * takes its number back with it. The caller holds the intent's and the dossier's locks, so
 * "nothing else unpaid" sees every payment of the dossier committed before this one.
 *
 * Throws when the intent no longer holds every one of its lines (it cannot happen while
 * reservations hold; if it ever does, the transaction rolls back: no line is paid twice, no
 * receipt number is used).
 */
export async function markPaidAndIssueReceipt(db: Executor, p: MarkPaidInput): Promise<MarkPaidResult> {
  const issue = p.receipt.issue ?? true;
  const at = p.receipt.issuedAt.toISOString();
  const paidAt = p.paidAt.toISOString();
  const [row] = await queryRows<{
    paid: number;
    linked: number;
    moved: number;
    number: number | null;
    agency_code: string;
    agency_name: string;
    form_symbol: string;
    series_symbol: string;
    collector_address: string | null;
    collector_tax_code: string | null;
    issuer: unknown;
    payer_name: string | null;
    payer_address: string | null;
    lines: unknown;
    lines_total: string;
  }>(
    db,
    sql`
    WITH paid AS (
      UPDATE obligations SET status = 'paid', paid_intent_id = ${p.intentId}::uuid, paid_at = ${paidAt}::timestamptz,
                             live_intent_id = NULL, updated_at = ${at}::timestamptz
      WHERE live_intent_id = ${p.intentId}::uuid AND status = 'unpaid'
      RETURNING id, kind, fee_code, name, line_no
    ), links AS (
      SELECT obligation_id, amount FROM intent_obligations WHERE intent_id = ${p.intentId}::uuid
    ), moved AS (
      -- Only when every obligation of the intent was still held by it: never a partial payment.
      UPDATE payment_intents SET status = ${p.toStatus}, gateway_transaction_id = ${p.gatewayTransactionId},
                                 succeeded_at = ${paidAt}::timestamptz, review_reason = NULL, received_amount = ${p.receivedAmount}::bigint,
                                 updated_at = ${at}::timestamptz
      WHERE id = ${p.intentId}::uuid AND (SELECT count(*) FROM paid) = (SELECT count(*) FROM links)
      RETURNING id
    ), history AS (
      INSERT INTO payment_events (intent_id, event, from_status, to_status, accepted, source, actor, detail, created_at)
      SELECT id, ${p.event}, ${p.fromStatus}, ${p.toStatus}, true, ${p.history.source}, ${p.history.actor}, ${JSON.stringify(p.history.detail)}::jsonb, ${at}::timestamptz
      FROM moved
    ), dossier AS (
      -- The dossier counts as paid online (766 flag) once none of its fee lines is left unpaid, and
      -- only if none of them was paid outside the gateways (a counter payment, flag 0): a dossier
      -- paid partly in cash is not a dossier paid online, whichever payment came last.
      UPDATE dossiers SET online_payment_flag = CASE WHEN EXISTS (
                            SELECT 1 FROM obligations o JOIN payment_intents pi ON pi.id = o.paid_intent_id
                            WHERE o.dossier_code = ${p.dossierCode} AND o.status IN ('paid', 'refunded') AND pi.online_payment_flag = 0
                              AND o.id NOT IN (SELECT id FROM paid))
                          THEN 0 ELSE ${p.onlinePaymentFlag}::smallint END,
                          paid_at = ${paidAt}::timestamptz,
                          updated_at = ${at}::timestamptz
      WHERE code = ${p.dossierCode} AND EXISTS (SELECT 1 FROM moved)
        AND NOT EXISTS (SELECT 1 FROM obligations o WHERE o.dossier_code = ${p.dossierCode} AND o.status = 'unpaid'
                          AND o.id NOT IN (SELECT id FROM paid))
    ), holder AS (
      SELECT ${holderColumns(p.receipt)}, d.applicant_name, d.applicant_address
      FROM dossiers d JOIN agencies a ON a.code = d.agency_code WHERE d.code = ${p.dossierCode}
    ), lines AS (
      SELECT coalesce(json_agg(json_build_object('obligationId', p.id, 'kind', p.kind, 'feeCode', p.fee_code, 'name', p.name,
                                                 'amount', l.amount) ORDER BY p.line_no), '[]'::json) AS items,
             coalesce(sum(l.amount), 0)::text AS total
      FROM paid p JOIN links l ON l.obligation_id = p.id
    ), counter AS (
${nextNumber(p.receipt, sql`EXISTS (SELECT 1 FROM moved) AND ${issue}::boolean`)}
    ), receipt AS (
      INSERT INTO receipts (id, intent_id, dossier_code, agency_code, agency_name, collector_address, collector_tax_code, issuer, lookup_code,
                            form_symbol, series_symbol, number, issued_at, issued_date, payer_name, payer_address, lines, total, total_in_words,
                            gateway, gateway_transaction_id, created_at)
      SELECT ${p.receipt.id}::uuid, ${p.intentId}::uuid, ${p.dossierCode}, holder.code, holder.name, holder.address, holder.tax_code, holder.issuer,
             ${p.receipt.lookupCode}, holder.form_symbol, holder.series_symbol,
             counter.last_number, ${at}::timestamptz, ${p.receipt.issuedDate}::date, holder.applicant_name, holder.applicant_address,
             (SELECT items FROM lines)::jsonb, ${p.amount}, ${p.receipt.totalInWords}, ${p.gateway}, ${p.gatewayTransactionId}, ${at}::timestamptz
      FROM holder CROSS JOIN counter
      RETURNING number
    )
    SELECT (SELECT count(*) FROM paid)::int AS paid, (SELECT count(*) FROM links)::int AS linked, (SELECT count(*) FROM moved)::int AS moved,
           (SELECT number FROM receipt) AS number, holder.code AS agency_code, holder.name AS agency_name, holder.form_symbol,
           holder.series_symbol, holder.address AS collector_address, holder.tax_code AS collector_tax_code, holder.issuer,
           holder.applicant_name AS payer_name, holder.applicant_address AS payer_address,
           (SELECT items FROM lines) AS lines, (SELECT total FROM lines) AS lines_total
    FROM holder`,
  );
  if (!row || row.paid !== row.linked || row.moved !== 1 || (issue && row.number === null) || Number(row.lines_total) !== p.amount) {
    throw new Error(`intent ${p.intentId} holds ${row?.paid ?? 0} of its ${row?.linked ?? 0} obligations`);
  }
  const lines = (typeof row.lines === 'string' ? JSON.parse(row.lines) : row.lines) as Array<ReceiptLine & { amount: number | string }>;
  return {
    number: row.number === null ? null : Number(row.number),
    agencyCode: row.agency_code,
    agencyName: row.agency_name,
    formSymbol: row.form_symbol,
    seriesSymbol: row.series_symbol,
    collectorAddress: row.collector_address,
    collectorTaxCode: row.collector_tax_code,
    issuer: (typeof row.issuer === 'string' ? JSON.parse(row.issuer) : row.issuer) as ReceiptIssuer | null,
    payerName: row.payer_name,
    payerAddress: row.payer_address,
    lines: lines.map((line) => ({ ...line, amount: Number(line.amount) })),
  };
}

export interface CorrectionInput extends ReceiptIssue {
  id: string;
  /** The receipt corrected: its intent, dossier, agency, channel and transaction carry over. */
  originalId: string;
  kind: 'adjusting' | 'replacing';
  reason: string;
  lines: ReceiptLine[];
  /** The lines' sum: negative for an adjustment that gives money back. */
  total: number;
  totalInWords: string;
  payerName: string | null;
  payerAddress: string | null;
}

/**
 * Issues a receipt that corrects another (Circular 91/2026: a receipt is never edited), numbered
 * in the series the collecting agency prints now, in ONE statement. The caller holds the
 * original's row lock and checks that the correction is due.
 */
export async function issueCorrectionReceipt(db: Executor, p: CorrectionInput): Promise<number> {
  const at = p.issuedAt.toISOString();
  const [row] = await queryRows<{ number: number | string }>(
    db,
    sql`
    WITH original AS (
      SELECT * FROM receipts WHERE id = ${p.originalId}::uuid
    ), holder AS (
      SELECT ${holderColumns(p)} FROM original JOIN agencies a ON a.code = original.agency_code
    ), counter AS (${nextNumber(p, sql`true`)}
    )
    INSERT INTO receipts (id, intent_id, dossier_code, kind, original_id, reason, agency_code, agency_name, collector_address, collector_tax_code,
                          issuer, lookup_code, form_symbol, series_symbol, number, issued_at, issued_date, payer_name, payer_address, lines, total,
                          total_in_words, gateway, gateway_transaction_id, created_at)
    SELECT ${p.id}::uuid, original.intent_id, original.dossier_code, ${p.kind}, original.id, ${p.reason}, holder.code, holder.name, holder.address,
           holder.tax_code, holder.issuer, ${p.lookupCode}, holder.form_symbol, holder.series_symbol, counter.last_number, ${at}::timestamptz,
           ${p.issuedDate}::date, ${p.payerName}, ${p.payerAddress}, ${JSON.stringify(p.lines)}::jsonb, ${p.total}, ${p.totalInWords},
           original.gateway, original.gateway_transaction_id, ${at}::timestamptz
    FROM original CROSS JOIN holder CROSS JOIN counter
    RETURNING number`,
  );
  if (!row) throw new Error(`receipt ${p.originalId} does not exist`);
  return Number(row.number);
}
