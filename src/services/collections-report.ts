import { and, eq, type SQL, sql } from 'drizzle-orm';
import { agencies } from '../db/schema/index.ts';
import { queryRows } from '../db/types.ts';
import { budgetShare } from '../domain/budget.ts';
import { addDays, vnDayStart } from '../domain/dates.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound } from './errors.ts';
import { type Principal, scopeCondition } from './principal.ts';

/**
 * The collections report (issue 11, "Reports: collections and the budget's share"): the money the
 * hub collected over a period of business days, per agency, collection account, fee code, budget
 * codes and channel, with what goes to the state budget and what the agency keeps.
 *
 * - A payment belongs to the business day it was collected: its `succeeded_at` as a date in
 *   Asia/Ho_Chi_Minh (a counter payment's is when the counter took the money).
 * - Amounts are per fee line, as the intent paid them (`intent_obligations.amount`), classified by
 *   the line's fee rule as the catalogue has it now.
 * - Refunds are counted when they are completed (`refunds.completed_at`, same calendar), as money
 *   going back out in that period: `collected` stays the gross of the payments of the period, and
 *   `refunded` is what completed refunds of any earlier or same-period payment gave back. So a
 *   payment refunded later is counted once in its own period and its refund once in the later one:
 *   no money is counted twice, and the periods add up. A refund is spread over the fee lines of its
 *   payment in proportion to their amounts (largest remainder, in line order), so it lands on the
 *   same rows as the money it returns. Refunds decided in a payment review return that review's
 *   money (a second payment, never collected as a fee line) and are left out.
 * - `net` = collected − refunded; the budget's share is computed on each row's net: a lệ phí is
 *   remitted wholly, a phí keeps `retainedPercent` rounded half-up to the whole đồng
 *   (domain/budget.ts), and `remit` = net − retained, so remit + retained = net exactly.
 */

export interface CollectionsQuery {
  /** Business dates (yyyy-mm-dd, Asia/Ho_Chi_Minh), both included. */
  from: string;
  to: string;
  /** Only this agency's subtree (in the caller's scope); default: all of the caller's scope. */
  agency?: string;
}

interface CollectionRow {
  agencyCode: string;
  agencyName: string;
  collectionAccount: string | null;
  kind: 'phi' | 'le_phi';
  feeCode: string;
  feeName: string;
  budgetChapter: string | null;
  budgetSubItem: string | null;
  budgetAccount: string | null;
  /** The share a phí keeps (two decimals), null for a lệ phí or an unclassified rule. */
  retainedPercent: string | null;
  budgetCodesDemo: boolean;
  /** A gateway id, or `counter` for money taken at the agency's counter. */
  channel: string;
  online: boolean;
  /** Payments (intents) and fee lines collected in the period on this row. */
  payments: number;
  lines: number;
  collected: number;
  refunds: number;
  refunded: number;
  net: number;
  remit: number;
  retained: number;
}

export interface CollectionsReport {
  from: string;
  to: string;
  agency: { code: string; name: string } | null;
  generatedAt: string;
  rows: CollectionRow[];
  totals: Pick<CollectionRow, 'payments' | 'lines' | 'collected' | 'refunds' | 'refunded' | 'net' | 'remit' | 'retained'>;
}

/** The longest period one report covers (a year and a day: a leap year's whole). */
export const MAX_REPORT_DAYS = 366;

interface GroupKey {
  agency_code: string;
  agency_name: string;
  collection_account: string | null;
  kind: 'phi' | 'le_phi';
  fee_code: string;
  budget_chapter: string | null;
  budget_sub_item: string | null;
  budget_account: string | null;
  retained_percent: string | null;
  budget_codes_demo: boolean;
  channel: string;
}

/** The columns a row is grouped by, the same for payments and refunds. */
const GROUP_COLUMNS = sql.raw(`d.agency_code, a.name AS agency_name, fr.collection_account, o.kind, o.fee_code,
  fr.budget_chapter, fr.budget_sub_item, fr.budget_account, fr.retained_percent::text AS retained_percent,
  coalesce(fr.budget_codes_demo, false) AS budget_codes_demo, pi.gateway AS channel`);

const keyOf = (g: GroupKey) =>
  JSON.stringify([
    g.agency_code,
    g.collection_account,
    g.kind,
    g.fee_code,
    g.budget_chapter,
    g.budget_sub_item,
    g.budget_account,
    g.retained_percent,
    g.budget_codes_demo,
    g.channel,
  ]);

export async function reportAgency(ctx: ServiceContext, principal: Principal, code: string | undefined) {
  if (code === undefined) return null;
  const scope = scopeCondition(principal, agencies.code);
  const [row] = await executor(ctx)
    .select({ code: agencies.code, name: agencies.name })
    .from(agencies)
    .where(scope ? and(eq(agencies.code, code), scope) : eq(agencies.code, code));
  if (!row) throw notFound(`agency ${code}`);
  return row;
}

export async function collectionsReport(ctx: ServiceContext, principal: Principal, query: CollectionsQuery): Promise<CollectionsReport> {
  const agency = await reportAgency(ctx, principal, query.agency);
  const start = vnDayStart(query.from).toISOString();
  const end = vnDayStart(addDays(query.to, 1)).toISOString();
  const scope = scopeCondition(principal, sql`d.agency_code`);
  const filters: SQL[] = [];
  if (scope) filters.push(scope);
  if (agency) filters.push(sql`strpos(a.path, ${`/${agency.code}/`}) > 0`);
  const where = filters.length > 0 ? sql` AND ${sql.join(filters, sql` AND `)}` : sql``;
  const db = executor(ctx);

  const collected = await queryRows<GroupKey & { fee_name: string; payments: number; lines: number; amount: string }>(
    db,
    sql`SELECT ${GROUP_COLUMNS}, min(o.name) AS fee_name, count(DISTINCT pi.id)::int AS payments, count(*)::int AS lines,
               sum(io.amount)::text AS amount
        FROM payment_intents pi
        JOIN intent_obligations io ON io.intent_id = pi.id
        JOIN obligations o ON o.id = io.obligation_id
        LEFT JOIN fee_rules fr ON fr.id = o.fee_rule_id
        JOIN dossiers d ON d.code = pi.dossier_code
        JOIN agencies a ON a.code = d.agency_code
        WHERE pi.status IN ('succeeded', 'partially_refunded', 'refunded')
          AND pi.succeeded_at >= ${start}::timestamptz AND pi.succeeded_at < ${end}::timestamptz${where}
        GROUP BY d.agency_code, a.name, fr.collection_account, o.kind, o.fee_code, fr.budget_chapter, fr.budget_sub_item,
                 fr.budget_account, fr.retained_percent, fr.budget_codes_demo, pi.gateway`,
  );

  // Each completed refund with its payment's fee lines, in line order, to spread it over them.
  const refundLines = await queryRows<GroupKey & { fee_name: string; refund_id: string; refund_amount: string; line_amount: string }>(
    db,
    sql`SELECT ${GROUP_COLUMNS}, o.name AS fee_name, r.id AS refund_id, r.amount::text AS refund_amount, io.amount::text AS line_amount
        FROM refunds r
        JOIN payment_intents pi ON pi.id = r.intent_id
        JOIN intent_obligations io ON io.intent_id = pi.id
        JOIN obligations o ON o.id = io.obligation_id
        LEFT JOIN fee_rules fr ON fr.id = o.fee_rule_id
        JOIN dossiers d ON d.code = pi.dossier_code
        JOIN agencies a ON a.code = d.agency_code
        WHERE r.status = 'succeeded' AND r.review_id IS NULL
          AND r.completed_at >= ${start}::timestamptz AND r.completed_at < ${end}::timestamptz${where}
        ORDER BY r.id, o.line_no`,
  );

  const rows = new Map<string, CollectionRow>();
  const rowOf = (g: GroupKey & { fee_name: string }): CollectionRow => {
    const key = keyOf(g);
    let row = rows.get(key);
    if (!row) {
      row = {
        agencyCode: g.agency_code,
        agencyName: g.agency_name,
        collectionAccount: g.collection_account,
        kind: g.kind,
        feeCode: g.fee_code,
        feeName: g.fee_name,
        budgetChapter: g.budget_chapter,
        budgetSubItem: g.budget_sub_item,
        budgetAccount: g.budget_account,
        retainedPercent: g.kind === 'phi' ? g.retained_percent : null,
        budgetCodesDemo: g.budget_codes_demo === true || String(g.budget_codes_demo) === 'true',
        channel: g.channel,
        online: g.channel !== 'counter',
        payments: 0,
        lines: 0,
        collected: 0,
        refunds: 0,
        refunded: 0,
        net: 0,
        remit: 0,
        retained: 0,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const g of collected) {
    const row = rowOf(g);
    row.payments += Number(g.payments);
    row.lines += Number(g.lines);
    row.collected += Number(g.amount);
  }
  const byRefund = new Map<string, typeof refundLines>();
  for (const line of refundLines) byRefund.set(line.refund_id, [...(byRefund.get(line.refund_id) ?? []), line]);
  for (const lines of byRefund.values()) {
    const shares = spread(
      Number(lines[0]!.refund_amount),
      lines.map((l) => Number(l.line_amount)),
    );
    const touched = new Set<CollectionRow>();
    lines.forEach((line, i) => {
      const row = rowOf(line);
      row.refunded += shares[i]!;
      touched.add(row);
    });
    for (const row of touched) row.refunds += 1;
  }

  const result = [...rows.values()]
    .map((row) => {
      const net = row.collected - row.refunded;
      const share = budgetShare(net, row.kind, row.retainedPercent);
      return { ...row, net, remit: share.remit, retained: share.retained };
    })
    .sort((a, b) => compareRows(a, b));
  const sum = (field: keyof CollectionsReport['totals']) => result.reduce((n, r) => n + r[field], 0);
  return {
    from: query.from,
    to: query.to,
    agency,
    generatedAt: ctx.now().toISOString(),
    rows: result,
    totals: {
      payments: sum('payments'),
      lines: sum('lines'),
      collected: sum('collected'),
      refunds: sum('refunds'),
      refunded: sum('refunded'),
      net: sum('net'),
      remit: sum('remit'),
      retained: sum('retained'),
    },
  };
}

const orderFields: Array<keyof CollectionRow> = [
  'agencyCode',
  'collectionAccount',
  'feeCode',
  'budgetChapter',
  'budgetSubItem',
  'budgetAccount',
  'channel',
];
function compareRows(a: CollectionRow, b: CollectionRow): number {
  for (const field of orderFields) {
    const x = String(a[field] ?? '');
    const y = String(b[field] ?? '');
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Spreads `total` over parts in proportion to `weights` in whole đồng: each part gets the floor of
 * its exact share, and the đồng left go one by one to the largest remainders (ties: the earlier
 * line). The parts add up to `total` exactly.
 */
export function spread(total: number, weights: number[]): number[] {
  const sum = weights.reduce((n, w) => n + w, 0);
  if (sum === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (BigInt(total) * BigInt(w)) / BigInt(sum));
  const remainders = weights.map((w, i) => ({ i, r: (BigInt(total) * BigInt(w)) % BigInt(sum) }));
  let left = BigInt(total) - exact.reduce((n, x) => n + x, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left <= 0n) break;
    exact[i] = exact[i]! + 1n;
    left -= 1n;
  }
  return exact.map(Number);
}
