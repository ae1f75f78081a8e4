import { sql } from 'drizzle-orm';
import type { IntentStatus } from '../../domain/payment-states.ts';
import type { ReceiptLine } from '../schema/receipts.ts';
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
export const seriesYear = (issue: Pick<ReceiptIssue, 'issuedDate'>) => Number(issue.issuedDate.slice(0, 4));

/**
 * The collecting agency `a` as a receipt issued now prints it: code, name, address, tax code, its
 * form and series symbols (a series that starts with two digits carries its year there: Circular
 * 91/2026), and the issuer when the hub signs on its behalf.
 */
export function holderColumns(issue: Omit<ReceiptIssue, 'lookupCode' | 'issuedAt'>) {
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
  /** When this is written (updated_at, the event's time). */
  at: Date;
  history: { source: string; actor: string | null; detail: Record<string, unknown> };
  /** The receipt asked for: its id and look-up code now, its number and date when the issuer numbers it. */
  receipt: {
    id: string;
    lookupCode: string;
    totalInWords: string;
    /**
     * Default true. False for a counter payment of an agency that hands out paper receipts
     * (`agencies.issues_counter_receipts` off): no e-receipt, no number taken from the series.
     */
    issue?: boolean;
  };
}

export interface MarkPaidResult {
  /** This payment left none of the dossier's fee lines unpaid: the dossier is paid now. */
  dossierPaid: boolean;
  /** The dossier's collecting agency, whose series will number the receipt. */
  agencyCode: string;
  /** A receipt request was written (receipt_requests): the issuer numbers it once this commits. */
  receiptRequested: boolean;
  lines: ReceiptLine[];
}

/**
 * Marks an intent's fee lines, the intent and (when nothing else is unpaid) its dossier paid,
 * records the event, and asks for the receipt — in ONE statement. The receipt is a request
 * (receipt_requests), numbered after this commits by the receipt issuer, so a payment never waits
 * on another payment of its agency for a number. The caller holds the intent's and the dossier's
 * locks, so "nothing else unpaid" sees every payment of the dossier committed before this one.
 *
 * Throws when the intent no longer holds every one of its lines (it cannot happen while
 * reservations hold; if it ever does, the transaction rolls back: no line is paid twice, no
 * receipt asked for).
 */
export async function markPaidAndRequestReceipt(db: Executor, p: MarkPaidInput): Promise<MarkPaidResult> {
  const issue = p.receipt.issue ?? true;
  const at = p.at.toISOString();
  const paidAt = p.paidAt.toISOString();
  const [row] = await queryRows<{
    paid: number;
    linked: number;
    moved: number;
    dossier_paid: number;
    requested: number;
    agency_code: string;
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
      RETURNING 1
    ), holder AS (
      SELECT d.agency_code FROM dossiers d WHERE d.code = ${p.dossierCode}
    ), lines AS (
      SELECT coalesce(json_agg(json_build_object('obligationId', p.id, 'kind', p.kind, 'feeCode', p.fee_code, 'name', p.name,
                                                 'amount', l.amount) ORDER BY p.line_no), '[]'::json) AS items,
             coalesce(sum(l.amount), 0)::text AS total
      FROM paid p JOIN links l ON l.obligation_id = p.id
    ), request AS (
      INSERT INTO receipt_requests (id, intent_id, dossier_code, agency_code, lookup_code, lines, total, total_in_words, gateway,
                                    gateway_transaction_id, created_at)
      SELECT ${p.receipt.id}::uuid, ${p.intentId}::uuid, ${p.dossierCode}, holder.agency_code, ${p.receipt.lookupCode},
             (SELECT items FROM lines)::jsonb, ${p.amount}, ${p.receipt.totalInWords}, ${p.gateway}, ${p.gatewayTransactionId}, ${at}::timestamptz
      FROM holder WHERE EXISTS (SELECT 1 FROM moved) AND ${issue}::boolean
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM paid)::int AS paid, (SELECT count(*) FROM links)::int AS linked, (SELECT count(*) FROM moved)::int AS moved,
           (SELECT count(*) FROM dossier)::int AS dossier_paid, (SELECT count(*) FROM request)::int AS requested,
           holder.agency_code, (SELECT items FROM lines) AS lines, (SELECT total FROM lines) AS lines_total
    FROM holder`,
  );
  if (!row || row.paid !== row.linked || row.moved !== 1 || (issue && row.requested !== 1) || Number(row.lines_total) !== p.amount) {
    throw new Error(`intent ${p.intentId} holds ${row?.paid ?? 0} of its ${row?.linked ?? 0} obligations`);
  }
  const lines = (typeof row.lines === 'string' ? JSON.parse(row.lines) : row.lines) as Array<ReceiptLine & { amount: number | string }>;
  return {
    dossierPaid: row.dossier_paid > 0,
    agencyCode: row.agency_code,
    receiptRequested: row.requested === 1,
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
