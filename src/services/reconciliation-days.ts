import { type SQL, sql } from 'drizzle-orm';
import type { DayTotals } from '../db/schema/treasury-day.ts';
import { queryRows } from '../db/types.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { countedLine, hubPaymentsOfDay, sourceIntentCondition } from './day-payments.ts';
import { notFound, ServiceError } from './errors.ts';
import { actorOf, type Principal, scopeCondition } from './principal.ts';
import type { ClassTotals, ReconciliationView } from './reconciliation.ts';
import {
  businessDayBounds,
  parseSource,
  requireSource,
  type StatementSource,
  settlementAccountOf,
  sourceOutsideScope,
  sourceOwner,
} from './sources.ts';
import { rootedAt } from './treasury-lists.ts';

/** A day of a source as the treasury sees it (issue 11): its last run, what is still open, its close. */

export const gatewayOfSource = (source: StatementSource) => (source.kind === 'bank' ? 'vietqr' : source.gateway);

export const dayClosed = (source: string, date: string) =>
  new ServiceError('day-closed', `the day ${date} of ${source} is closed: nothing of it changes any more`);

/** Throws not-found unless the agency is in the principal's scope. */
export async function requireAgencyInScope(ctx: ServiceContext, principal: Principal, agencyCode: string, what: string) {
  if (!(await agencyInScope(ctx, principal, agencyCode))) throw notFound(what);
}

async function agencyInScope(ctx: ServiceContext, principal: Principal, agencyCode: string): Promise<boolean> {
  const scope = scopeCondition(principal, sql`a.code`);
  if (!scope) return true;
  const rows = await queryRows(executor(ctx), sql`SELECT 1 FROM agencies a WHERE a.code = ${agencyCode} AND ${scope}`);
  return rows.length > 0;
}

/**
 * The open payment reviews of a source's day: those linked to one of its discrepancies, and those
 * opened that day about money of the source (its gateway; for a bank account, VietQR money shown
 * or paid into that account).
 */
function openReviewsOfDay(source: StatementSource, date: string): SQL {
  const { start, end } = businessDayBounds(date);
  const ofSource =
    source.kind === 'gateway'
      ? sql`true`
      : sql`((r.intent_id IS NOT NULL AND EXISTS (SELECT 1 FROM payment_intents i WHERE i.id = r.intent_id AND ${sourceIntentCondition(source)}))
             OR (r.intent_id IS NULL AND regexp_replace(coalesce(r.detail->>'payeeAccount', ''), '[\\s.-]', '', 'g') = ${source.accountNumber}))`;
  return sql`SELECT r.id FROM payment_reviews r
             WHERE r.status <> 'resolved' AND (
               r.id IN (SELECT d.review_id FROM discrepancies d WHERE d.source = ${source.id} AND d.business_date = ${date}::date AND d.review_id IS NOT NULL)
               OR (r.gateway = ${gatewayOfSource(source)} AND r.created_at >= ${start.toISOString()}::timestamptz
                   AND r.created_at < ${end.toISOString()}::timestamptz AND ${ofSource}))`;
}

async function openCounts(ctx: ServiceContext, source: StatementSource, date: string) {
  const [row] = await queryRows<{ discrepancies: string; reviews: string }>(
    executor(ctx),
    sql`SELECT (SELECT count(*) FROM discrepancies d WHERE d.source = ${source.id} AND d.business_date = ${date}::date AND d.status <> 'resolved') AS discrepancies,
               (SELECT count(*) FROM (${openReviewsOfDay(source, date)}) r) AS reviews`,
  );
  return { discrepancies: Number(row?.discrepancies ?? 0), reviews: Number(row?.reviews ?? 0) };
}

interface DayRow {
  id: string;
  source: string;
  business_date: string;
  agency_code: string;
  status: 'open' | 'closed';
  statement_id: string | null;
  runs: number;
  last_run_at: string | Date | null;
  last_run_by: string | null;
  summary: ClassTotals | string | null;
  totals: DayTotals | string | null;
  closed_by: string | null;
  closed_at: string | Date | null;
}

const DAY_COLUMNS = sql`r.id, r.source, to_char(r.business_date, 'YYYY-MM-DD') AS business_date, r.agency_code, r.status, r.statement_id, r.runs,
                        r.last_run_at, r.last_run_by, r.summary, r.totals, r.closed_by, r.closed_at`;

const iso = (value: string | Date | null) => (value === null ? null : new Date(value).toISOString());
const jsonOf = <T>(value: T | string | null): T | null => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

async function view(ctx: ServiceContext, row: DayRow): Promise<ReconciliationView> {
  const source = requireSource(row.source);
  return {
    id: row.id,
    source: row.source,
    date: row.business_date,
    agencyCode: row.agency_code,
    status: row.status,
    statementId: row.statement_id,
    runs: Number(row.runs),
    lastRunAt: iso(row.last_run_at),
    lastRunBy: row.last_run_by,
    summary: jsonOf(row.summary) ?? {},
    open: await openCounts(ctx, source, row.business_date),
    totals: jsonOf(row.totals),
    closedBy: row.closed_by,
    closedAt: iso(row.closed_at),
  };
}

/** Reads a day in scope (404 otherwise), optionally locking it. */
async function dayRow(ctx: ServiceContext, principal: Principal, id: string, lock = false): Promise<DayRow> {
  const scope = scopeCondition(principal, sql`r.agency_code`);
  const [row] = await queryRows<DayRow>(
    executor(ctx),
    sql`SELECT ${DAY_COLUMNS} FROM reconciliations r WHERE r.id = ${id}::uuid ${scope ? sql`AND ${scope}` : sql``} ${lock ? sql`FOR UPDATE` : sql``}`,
  );
  if (!row) throw notFound(`reconciliation ${id}`);
  return row;
}

export async function reconciliationView(ctx: ServiceContext, principal: Principal, id: string): Promise<ReconciliationView> {
  return view(ctx, await dayRow(ctx, principal, id));
}

/** The days in scope, newest first (at most 100), optionally of one source and/or date. */
export async function listReconciliations(
  ctx: ServiceContext,
  principal: Principal,
  filter: { source?: string; date?: string; agency?: string },
): Promise<ReconciliationView[]> {
  const conditions: SQL[] = [];
  const scope = scopeCondition(principal, sql`r.agency_code`);
  if (scope) conditions.push(scope);
  if (filter.agency) conditions.push(scopeCondition(rootedAt(filter.agency), sql`r.agency_code`)!);
  if (filter.source) conditions.push(sql`r.source = ${requireSource(filter.source, 'query.source').id}`);
  if (filter.date) conditions.push(sql`r.business_date = ${filter.date}::date`);
  const rows = await queryRows<DayRow>(
    executor(ctx),
    sql`SELECT ${DAY_COLUMNS} FROM reconciliations r ${conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``}
        ORDER BY r.business_date DESC, r.source LIMIT 100`,
  );
  return Promise.all(rows.map((row) => view(ctx, row)));
}

/** Count and sum of a query's `amount` column. */
async function total(ctx: ServiceContext, query: SQL): Promise<{ count: number; amount: number }> {
  const [row] = await queryRows<{ count: string; amount: string }>(
    executor(ctx),
    sql`SELECT count(*) AS count, coalesce(sum(t.amount), 0) AS amount FROM (${query}) t`,
  );
  return { count: Number(row?.count ?? 0), amount: Number(row?.amount ?? 0) };
}

const statementTotal = (ctx: ServiceContext, statementId: string) =>
  total(ctx, sql`SELECT l.amount FROM statement_lines l WHERE l.statement_id = ${statementId}::uuid AND ${countedLine()}`);

const currentStatementOf = async (ctx: ServiceContext, source: string, date: string) =>
  (
    await queryRows<{ id: string }>(
      executor(ctx),
      sql`SELECT id FROM statements WHERE source = ${source} AND business_date = ${date}::date AND status = 'current'`,
    )
  )[0]?.id ?? null;

/**
 * Closes a day: only when it was matched against its current statement, after the last of its
 * payments arrived, and nothing of it is open (no discrepancy, no payment review), 409
 * `day-not-clean` otherwise with the counts. Records the
 * totals (statement, hub, matched, differences per class, late money booked on this day); a
 * trigger keeps the closed row as it is.
 */
export async function closeDay(ctx: ServiceContext, principal: Principal, id: string): Promise<ReconciliationView> {
  await withTransaction(ctx, async (ctx) => {
    const row = await dayRow(ctx, principal, id, true);
    if (row.status === 'closed') throw dayClosed(row.source, row.business_date);
    const source = requireSource(row.source);
    const date = row.business_date;
    const current = await currentStatementOf(ctx, source.id, date);
    if (Number(row.runs) === 0 || !row.statement_id || row.statement_id !== current) {
      throw new ServiceError(
        'day-not-clean',
        `the day ${date} of ${source.id} was not matched against its current statement: run the matching first`,
        [],
        {
          openDiscrepancies: 0,
          openReviews: 0,
          matchedCurrentStatement: false,
        },
      );
    }
    const open = await openCounts(ctx, source, date);
    if (open.discrepancies > 0 || open.reviews > 0) {
      throw new ServiceError(
        'day-not-clean',
        `the day cannot close: ${open.discrepancies} discrepancies and ${open.reviews} payment reviews of it are open`,
        [],
        { openDiscrepancies: open.discrepancies, openReviews: open.reviews },
      );
    }
    // A payment of the day that came after the last matching (a late callback, a review accepted)
    // is in the hub's total but in no class and no discrepancy: closing now would sign totals that
    // do not explain it. A manual match names its intent in the resolution, so it explains itself.
    const [unmatched] = await queryRows<{ count: string }>(
      executor(ctx),
      sql`SELECT count(*) AS count FROM (${hubPaymentsOfDay(source, date)}) h
          WHERE NOT EXISTS (SELECT 1 FROM reconciliation_results i WHERE i.reconciliation_id = ${id}::uuid AND i.intent_id = h.id
                              AND i.class <> 'duplicate' AND i.hub_amount = h.amount)
            -- Two anti-joins, not one with OR: each is a hash join, where the OR made a nested loop
            -- of every payment by every discrepancy (hours for a million-payment day).
            AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.source = ${source.id} AND d.business_date = ${date}::date AND d.intent_id = h.id)
            AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.source = ${source.id} AND d.business_date = ${date}::date
                              AND d.resolution->>'intentId' = h.id::text)`,
    );
    const unmatchedPayments = Number(unmatched?.count ?? 0);
    if (unmatchedPayments > 0) {
      throw new ServiceError(
        'day-not-clean',
        `${unmatchedPayments} payments of the day ${date} of ${source.id} came after its last matching: run the matching again`,
        [],
        { openDiscrepancies: 0, openReviews: 0, matchedCurrentStatement: false, unmatchedPayments },
      );
    }
    const classes = await queryRows<{ class: string; count: string; amount: string }>(
      executor(ctx),
      sql`SELECT class, count(*) AS count, coalesce(sum(coalesce(statement_amount, hub_amount)), 0) AS amount
          FROM reconciliation_results WHERE reconciliation_id = ${id}::uuid GROUP BY class`,
    );
    const differences: DayTotals['differences'] = {};
    let matched = { count: 0, amount: 0 };
    for (const c of classes) {
      const value = { count: Number(c.count), amount: Number(c.amount) };
      if (c.class === 'matched') matched = value;
      else differences[c.class] = value;
    }
    const totals: DayTotals = {
      statement: await statementTotal(ctx, row.statement_id),
      hub: await total(ctx, hubPaymentsOfDay(source, date)),
      matched,
      differences,
      adjustments: await total(ctx, sql`SELECT amount FROM book_adjustments WHERE source = ${source.id} AND booked_date = ${date}::date`),
    };
    const now = ctx.now().toISOString();
    await executor(ctx).execute(sql`UPDATE reconciliations SET status = 'closed', totals = ${JSON.stringify(totals)}::jsonb,
                                           closed_by = ${actorOf(principal)}, closed_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
                                    WHERE id = ${id}::uuid`);
    await appendAudit(ctx, principal, {
      action: 'reconciliation.close',
      resourceType: 'reconciliation',
      resourceId: id,
      agencyCode: row.agency_code,
      before: { status: 'open' },
      after: { status: 'closed', totals },
    });
  });
  return reconciliationView(ctx, principal, id);
}

export interface ThreeWayRow {
  date: string;
  source: string;
  agencyCode: string;
  /** The hub's payments of the source and day (day-payments.ts). */
  hub: { count: number; amount: number };
  /** The source's current statement of the day (its counted lines); null when none was imported. */
  statement: { count: number; amount: number } | null;
  /** The credits of the account the gateway settles into, from that account's statement; null when unknown or not imported (and for a bank source, whose statement is the bank's). */
  bank: { account: string; count: number; amount: number } | null;
  differences: { statementMinusHub: number | null; bankMinusStatement: number | null };
}

/**
 * The three-way view of a day: per source, the hub's total, the statement's, and the bank credits
 * of the gateway's settlement account, with the differences. One source, or every source in
 * scope (optionally under one agency): the gateways configured, and the agencies' collecting accounts.
 */
export async function threeWay(
  ctx: ServiceContext,
  principal: Principal,
  query: { date: string; source?: string; agency?: string },
): Promise<ThreeWayRow[]> {
  let sources: StatementSource[];
  if (query.source) {
    sources = [requireSource(query.source, 'query.source')];
  } else {
    const gateways = Object.keys(ctx.gateways)
      .map((id) => parseSource(id))
      .filter((s): s is StatementSource => s !== null);
    const accounts = await queryRows<{ account: string }>(
      executor(ctx),
      sql`SELECT DISTINCT regexp_replace(account_number, '[\\s.-]', '', 'g') AS account FROM agencies WHERE account_number IS NOT NULL ORDER BY 1`,
    );
    sources = [...gateways, ...accounts.map((a) => parseSource(`bank:${a.account}`)).filter((s): s is StatementSource => s !== null)];
  }
  const rows: ThreeWayRow[] = [];
  for (const source of sources) {
    let owner: string;
    try {
      owner = await sourceOwner(ctx, source);
    } catch (error) {
      if (query.source) throw error;
      continue;
    }
    if (!(await agencyInScope(ctx, principal, owner)) || (query.agency && !(await agencyInScope(ctx, rootedAt(query.agency), owner)))) {
      if (query.source) throw sourceOutsideScope(source);
      continue;
    }
    const statementId = await currentStatementOf(ctx, source.id, query.date);
    const statement = statementId ? await statementTotal(ctx, statementId) : null;
    const hub = await total(ctx, hubPaymentsOfDay(source, query.date));
    let bank: ThreeWayRow['bank'] = null;
    const account = source.kind === 'gateway' ? settlementAccountOf(ctx, source.gateway) : undefined;
    if (account) {
      const bankStatement = await currentStatementOf(ctx, `bank:${account}`, query.date);
      if (bankStatement) bank = { account, ...(await statementTotal(ctx, bankStatement)) };
    }
    rows.push({
      date: query.date,
      source: source.id,
      agencyCode: owner,
      hub,
      statement,
      bank,
      differences: {
        statementMinusHub: statement ? statement.amount - hub.amount : null,
        bankMinusStatement: bank && statement ? bank.amount - statement.amount : null,
      },
    });
  }
  return rows;
}
