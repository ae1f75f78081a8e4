import { type SQL, sql } from 'drizzle-orm';
import { type DayTotals, lineRules } from '../db/schema/treasury-day.ts';
import { queryRows } from '../db/types.ts';
import { addDays } from '../domain/dates.ts';
import type { ReceiptDue } from './apply-outcome.ts';
import { applyOutcome } from './apply-outcome.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { candidateWindow, countedLine, paidOnDay, sourceIntentCondition } from './day-payments.ts';
import { ServiceError } from './errors.ts';
import { actorOf, type Principal } from './principal.ts';
import { receiptsDue } from './receipt-issuer.ts';
import { dayClosed, gatewayOfSource, reconciliationView, requireAgencyInScope } from './reconciliation-days.ts';
import { businessDayBounds, requireSource, type StatementSource, sourceOutsideScope, sourceOwner } from './sources.ts';

/**
 * Matching a day's statement against the hub (issue 11), set-based: a run is a fixed number of
 * INSERT … SELECT statements over temporary tables, whatever the statement's size; the only loop
 * is over the lines that prove a lost callback (few), each applied through `applyOutcome`.
 *
 * Rules, in order, each line taking the first that finds an intent of the source:
 *   1. transaction_id  the line's gateway transaction id is the intent's;
 *   2. reference       the line's reference column is the intent's hub reference;
 *   3. text_reference  the hub reference appears inside the transfer text (banks strip
 *                      punctuation and diacritics and prepend their words);
 *   4. amount_time     what is left on both sides: same amount, the k-th line with the k-th
 *                      payment in time order within that amount, within the configured window;
 *                      only lines without a transaction id (an id no payment has is other money).
 * A second line naming the same intent (or the same unknown transaction/reference) is a
 * `duplicate`. Lines counted: valid (no `error`), credits, and — in a gateway's file — those it
 * says were paid or later refunded (money collected). Debits and failed/pending lines are not
 * money in: they are counted apart (`summary.ignored`), not classified.
 */

export type ClassTotals = Record<string, { count: number; amount: number }>;

interface HealedPayment {
  intentId: string;
  reference: string;
  lineNo: number;
  /** What applyOutcome made of it: `applied` (paid), `amount_mismatch` / `needs_review` (a review opened). */
  result: string;
  statusBefore: string;
  statusAfter: string;
}

export interface ReconciliationView {
  id: string;
  source: string;
  date: string;
  agencyCode: string;
  status: 'open' | 'closed';
  statementId: string | null;
  runs: number;
  lastRunAt: string | null;
  lastRunBy: string | null;
  summary: ClassTotals;
  open: { discrepancies: number; reviews: number };
  totals: DayTotals | null;
  closedBy: string | null;
  closedAt: string | null;
}

export interface RunResult extends ReconciliationView {
  healed: HealedPayment[];
  /** Discrepancies of this day resolved by this run (no longer found), and of earlier days found in this statement. */
  resolved: { rematch: number; laterStatement: number };
  /** missing_in_statement of earlier days flagged again by this run. */
  flagged: number;
}

/** Advisory-lock namespace of a day's matching runs (the audit chain's is 766_0001, statements' 766_0011). */
const RUN_LOCK = 766_0012;

/** Intents whose money a statement line can prove, through applyOutcome (decide says what it does to each). */
const HEALABLE = ['created', 'pending', 'expired', 'cancelled', 'failed'];

// Vietnamese letters with their diacritics, and the letter each is written as once a bank strips them.
const VN_LETTERS = 'àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ';
const VN_FROM = VN_LETTERS + VN_LETTERS.toUpperCase();
const VN_TO = Array.from(VN_FROM, (c) => (c === 'đ' ? 'd' : c === 'Đ' ? 'D' : c.normalize('NFD').replace(/\p{M}/gu, ''))).join('');
// The hub reference (domain/reference.ts): 'HP' + 10 of the alphabet without I, L, O, U.
const REFERENCE_SQL_PATTERN = '^HP[0-9A-HJKMNP-TV-Z]{10}$';

/** The transfer text as a bank leaves it: upper case, no diacritics, only A-Z and 0-9 (transfer-text.ts, in SQL). */
const normalisedText = (column: SQL) => sql`regexp_replace(upper(translate(${column}, ${VN_FROM}, ${VN_TO})), '[^A-Z0-9]', '', 'g')`;

/**
 * Matches the current statement of (source, date) against the hub's payments of that day.
 * Idempotent: the items are replaced, the discrepancies found again are the same rows, those no
 * longer found are resolved (`rematch`), and a re-run picks up what earlier runs missed.
 */
export async function runReconciliation(
  ctx: ServiceContext,
  principal: Principal,
  input: { source: string; date: string },
): Promise<RunResult> {
  const source = requireSource(input.source);
  const agencyCode = await sourceOwner(ctx, source);
  await requireAgencyInScope(ctx, principal, agencyCode, `source ${source.id}`).catch((error: unknown) => {
    throw error instanceof ServiceError && error.code === 'not-found' ? sourceOutsideScope(source) : error;
  });
  const actor = actorOf(principal);
  const receipts: ReceiptDue[] = [];
  const outcome = await withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    const now = ctx.now().toISOString();
    await db.execute(sql`INSERT INTO reconciliations (id, source, business_date, agency_code, status, created_at, updated_at)
                         VALUES (gen_random_uuid(), ${source.id}, ${input.date}::date, ${agencyCode}, 'open', ${now}::timestamptz, ${now}::timestamptz)
                         ON CONFLICT DO NOTHING`);
    // One run of a day at a time (the advisory lock), and a close waits for it, as it waits for a
    // close (the row lock). FOR SHARE, not FOR UPDATE: healing locks intents, and a callback that
    // holds its intent asks for this row FOR SHARE (late-money.ts) — two share locks never wait on
    // each other, so a run and a callback cannot deadlock. The run's final UPDATE of the row waits
    // for such callbacks to commit; payments they made after the run read the day are caught by the
    // close (reconciliation-days.ts), which asks for another run.
    await db.execute(sql`SELECT pg_advisory_xact_lock(${RUN_LOCK}, hashtext(${`${source.id}|${input.date}`}))`);
    const [day] = await queryRows<{ id: string; status: string }>(
      db,
      sql`SELECT id, status FROM reconciliations WHERE source = ${source.id} AND business_date = ${input.date}::date FOR SHARE`,
    );
    if (day!.status === 'closed') throw dayClosed(source.id, input.date);
    // A run reads and writes up to a million rows per statement: its sorts and hashes stay in
    // memory (the default 4 MB spills them to disk; at 1,000,000 lines the largest sort is ~100 MB
    // in memory), and no statement is JIT-compiled (150-500 ms of compiling each, more than it
    // saves on these plans). Its temporary tables are analysed from a sample of 3,000 rows, not
    // 30,000: the plans need their sizes, not fine histograms. For this transaction only.
    await db.execute(
      sql`SELECT set_config('work_mem', '128MB', true), set_config('jit', 'off', true), set_config('default_statistics_target', '10', true)`,
    );
    const [statement] = await queryRows<StatementFacts & { id: string }>(
      db,
      sql`SELECT id, lines_counted, repeated_transactions, lines_imported, ignored_total FROM statements
          WHERE source = ${source.id} AND business_date = ${input.date}::date AND status = 'current'`,
    );
    if (!statement) throw new ServiceError('no-statement', `no statement was imported for ${source.id} on ${input.date}`);
    const reconciliationId = day!.id;
    const statementId = statement.id;

    // The last run's verdict goes: this run writes its own from the first rule on.
    await db.execute(sql`DELETE FROM reconciliation_items WHERE reconciliation_id = ${reconciliationId}::uuid`);
    await db.execute(sql`DELETE FROM reconciliation_matches WHERE reconciliation_id = ${reconciliationId}::uuid`);
    const bulk = await matchLines(ctx, source, input.date, { reconciliationId, statementId }, statement);
    const healed = await heal(ctx, source, input.date, statementId, actor, receipts);
    if (healed.length > 0)
      await refreshIntents(
        ctx,
        input.date,
        healed.map((h) => h.intentId),
      );
    await matchAmountTime(ctx, input.date, bulk ? reconciliationId : null);
    await writeItems(ctx, reconciliationId, statementId);
    const resolved = await writeDiscrepancies(ctx, { reconciliationId, source, date: input.date, agencyCode, statementId, actor });
    const flagged = await flagStillMissing(ctx, source.id, input.date);
    const summary = await summarise(ctx, reconciliationId, statementId, statement);
    summary.healed = { count: healed.length, amount: healed.reduce((sum, h) => sum + h.amount, 0) };
    await db.execute(sql`UPDATE reconciliations SET statement_id = ${statementId}::uuid, runs = runs + 1, last_run_at = ${now}::timestamptz,
                                last_run_by = ${actor}, summary = ${JSON.stringify(summary)}::jsonb, updated_at = ${now}::timestamptz
                         WHERE id = ${reconciliationId}::uuid`);
    await appendAudit(ctx, principal, {
      action: 'reconciliation.run',
      resourceType: 'reconciliation',
      resourceId: reconciliationId,
      agencyCode,
      after: { statementId, summary, healed: healed.map((h) => h.intentId), resolved, flagged },
    });
    return { reconciliationId, healed: healed.map(({ amount: _, ...h }) => h), resolved, flagged };
  });
  // Receipts of healed payments are numbered once committed (the jobs issue any left waiting).
  for (const agencyCode of new Set(receipts.map((r) => r.agencyCode))) await receiptsDue(ctx, agencyCode);
  const view = await reconciliationView(ctx, principal, outcome.reconciliationId);
  return { ...view, healed: outcome.healed, resolved: outcome.resolved, flagged: outcome.flagged };
}

/** The hub's statuses of a payment taken (money refunded since was still collected). */
const PAID = sql.raw(`('succeeded', 'partially_refunded', 'refunded')`);
/** `lineRules`' positions as rule names, in SQL (a line's `prio` is its rule's position). */
const RULE_NAME = sql.raw(`(ARRAY[${lineRules.map((r) => `'${r}'`).join(', ')}])`);

/** What the import kept of the statement's lines for their matching (statements' columns; null: not known). */
interface StatementFacts {
  lines_counted: number | string | null;
  repeated_transactions: string[] | null;
  lines_imported: number | string;
  ignored_total: number | string | null;
}

/**
 * A rule-1 pair of a line and an intent (`l` the counted line, `c` the intent as matchLines reads
 * it) that can be taken in bulk: a payment of the day, of the line's amount, by a transaction id
 * the statement gives once (recon_repeats holds every id it may give twice: repeats.ts). Such a
 * line is what writeItems calls a plain match, whatever the later rules find: no other line can
 * name its intent by rule 1, and a later rule's line naming it is the duplicate (it comes after).
 */
const bulkMatch = sql`(c.of_day AND l.amount = c.paid_amount AND NOT l.txn IN (SELECT txn FROM recon_repeats))`;

/**
 * Rules 1-3, into temporary tables (dropped at commit) that the rest of the run reads:
 *   recon_lines  the counted lines rule 1 matched and did not take in bulk, with their intent's
 *                numbers;
 *   recon_free   the other counted lines, with what the later rules need of them, and the
 *                intent (with its numbers) rules 2-4 find for them;
 *   recon_named  the hub's payments of the day that no line names (`lines` 0), and the intents
 *                two or more lines name (`lines` > 1: duplicates, see matchAmountTime).
 * When the import said which transaction ids may repeat (and how many lines count), the bulk of
 * a day — lines that are plain matches by rule 1 (`bulkMatch`) — goes straight into the run's
 * chunks (reconciliation_matches), and only the rest is kept line by line. Rule 1 is then one
 * full join of the lines with the source's intents on the transaction id: its one pass gives the
 * lines it matches, the lines it leaves and the day's payments it leaves. Rules 2-3 look the few
 * lines left up in the intents' reference index. Answers whether the bulk was taken.
 */
async function matchLines(
  ctx: ServiceContext,
  source: StatementSource,
  date: string,
  run: { reconciliationId: string; statementId: string },
  facts: StatementFacts,
): Promise<boolean> {
  const db = executor(ctx);
  const { statementId } = run;
  const counted = sql`SELECT line_no, amount, nullif(trim(transaction_id), '') AS txn, ctid AS tid FROM statement_lines l
                      WHERE l.statement_id = ${statementId}::uuid AND ${countedLine()}`;
  const intents = sql`SELECT i.id, i.gateway_transaction_id AS txn, i.status, i.amount, coalesce(i.received_amount, i.amount) AS paid_amount,
                             i.succeeded_at, ${paidOnDay(date)} AS of_day
                      FROM payment_intents i WHERE ${sourceIntentCondition(source)} AND ${candidateWindow(date)}`;
  const bulk = facts.lines_counted !== null && facts.repeated_transactions !== null;
  if (bulk) {
    await db.execute(sql`CREATE TEMP TABLE recon_repeats ON COMMIT DROP AS
      SELECT value AS txn FROM jsonb_array_elements_text(${JSON.stringify(facts.repeated_transactions)}::jsonb)`);
    await db.execute(sql`ANALYZE recon_repeats`);
  }
  // No key and no index: every join on it is a hash join (a key cost seconds to fill).
  // `tid`: where the line is in statement_lines (its ctid), for its other facts later
  // (recon_facts). It stays put: a current statement's lines are never updated or deleted (only an
  // import that did not become a statement is discarded), and this transaction's lock on the table
  // keeps VACUUM FULL and CLUSTER from moving them.
  await db.execute(sql`CREATE TEMP TABLE recon_lines (line_no integer, amount bigint, intent_id uuid, prio smallint, hub_status text,
                                                      hub_amount bigint, hub_paid bigint, of_day boolean, succeeded_at timestamptz,
                                                      tid tid) ON COMMIT DROP`);
  // One pass of the join feeds both, grouped by chunk of lines (a hundred groups, hashed: no sort
  // of a million rows): the bulk as the run's chunks, the rest as arrays unnested into
  // recon_lines (the day's payments no line names are the group of no chunk). No row of the join
  // is kept on its own: a million of them cost 0.7 s to keep and read back.
  await db.execute(sql`SELECT set_config('enable_sort', 'off', true)`);
  const [written] = await queryRows<{ bulk: string; kept: string }>(
    db,
    sql`WITH g AS (
          SELECT j.line_no / 10000 AS chunk,
                 array_agg(j.line_no) FILTER (WHERE j.bulk) AS bulk_lines, array_agg(j.id) FILTER (WHERE j.bulk) AS bulk_intents,
                 array_agg(j.amount) FILTER (WHERE j.bulk) AS bulk_amounts,
                 array_agg(j.line_no) FILTER (WHERE NOT j.bulk) AS line_nos, array_agg(j.amount) FILTER (WHERE NOT j.bulk) AS amounts,
                 array_agg(j.id) FILTER (WHERE NOT j.bulk) AS intent_ids, array_agg(j.status) FILTER (WHERE NOT j.bulk) AS statuses,
                 array_agg(j.hub_amount) FILTER (WHERE NOT j.bulk) AS hub_amounts, array_agg(j.paid_amount) FILTER (WHERE NOT j.bulk) AS hub_paids,
                 array_agg(j.of_day) FILTER (WHERE NOT j.bulk) AS of_days, array_agg(j.succeeded_at) FILTER (WHERE NOT j.bulk) AS succeeded,
                 array_agg(j.tid) FILTER (WHERE NOT j.bulk) AS tids
          -- OFFSET 0 keeps the join a subquery of its own: its bulk flag is worked out once per row, not once per aggregate.
          FROM (SELECT l.line_no, l.amount, c.id, c.status, c.amount AS hub_amount, c.paid_amount, c.of_day, c.succeeded_at, l.tid,
                       ${bulk ? sql`(${bulkMatch}) IS TRUE` : sql`false`} AS bulk
                FROM (${counted}) l FULL JOIN (${intents}) c ON c.txn = l.txn
                WHERE l.line_no IS NOT NULL OR c.of_day
                OFFSET 0) j
          GROUP BY j.line_no / 10000),
        chunks AS (
          INSERT INTO reconciliation_matches (reconciliation_id, chunk, statement_id, line_nos, intent_ids, rules, amounts)
          SELECT ${run.reconciliationId}::uuid, g.chunk, ${statementId}::uuid,
                 g.bulk_lines, g.bulk_intents, array_fill(1::smallint, ARRAY[cardinality(g.bulk_lines)]), g.bulk_amounts
          FROM g WHERE g.bulk_lines IS NOT NULL
          RETURNING cardinality(line_nos) AS n),
        kept AS (
          INSERT INTO recon_lines
          SELECT u.line_no, u.amount, u.intent_id, 1::smallint, u.status, u.hub_amount, u.hub_paid, u.of_day, u.succeeded_at, u.tid
          FROM g CROSS JOIN LATERAL unnest(g.line_nos, g.amounts, g.intent_ids, g.statuses, g.hub_amounts, g.hub_paids, g.of_days, g.succeeded, g.tids)
            AS u(line_no, amount, intent_id, status, hub_amount, hub_paid, of_day, succeeded_at, tid)
          WHERE g.line_nos IS NOT NULL
          RETURNING line_no)
        SELECT (SELECT coalesce(sum(n), 0) FROM chunks) AS bulk, (SELECT count(*) FROM kept WHERE line_no IS NOT NULL) AS kept`,
  );
  await db.execute(sql`SELECT set_config('enable_sort', 'on', true)`);
  // Two intents of a source with one gateway transaction id (a gateway's fault) give their line
  // two rows: found by counting, since deduplicating a million lines every run to catch what
  // almost never happens costs a second.
  const lines = bulk
    ? Number(facts.lines_counted)
    : Number((await queryRows<{ n: string }>(db, sql`SELECT count(*) AS n FROM (${counted}) l`))[0]!.n);
  const pairs = Number(written!.bulk) + Number(written!.kept);
  if (bulk && pairs !== lines) {
    // In bulk such a line may be chunked with one intent and kept with the other: the day is
    // matched again line by line, where the line keeps the first.
    await db.execute(sql`DELETE FROM reconciliation_matches WHERE reconciliation_id = ${run.reconciliationId}::uuid`);
    await db.execute(sql`DROP TABLE recon_lines, recon_repeats`);
    return matchLines(ctx, source, date, run, { ...facts, repeated_transactions: null });
  }
  if (pairs > lines) {
    // The line keeps the first intent, as DISTINCT ON would; the other becomes an intent no line names.
    await db.execute(sql`UPDATE recon_lines r SET line_no = NULL FROM recon_lines o
                         WHERE o.line_no = r.line_no AND o.intent_id < r.intent_id
                           AND r.line_no IN (SELECT line_no FROM recon_lines GROUP BY line_no HAVING count(*) > 1)`);
  }
  // What the later steps read of the lines kept (rules 2-4, the discrepancies' facts), fetched
  // once by their place in the table (a TID scan, in page order): by their key, or joined again
  // with the million lines, it took 0.2-0.46 s for the ~46,000 of a million-line day.
  await db.execute(sql`CREATE TEMP TABLE recon_facts ON COMMIT DROP AS
    SELECT l.line_no, nullif(trim(l.transaction_id), '') AS txn, nullif(upper(trim(l.reference)), '') AS ref, l.occurred_at, l.text
    FROM statement_lines l
    WHERE l.ctid = ANY (ARRAY(SELECT tid FROM recon_lines WHERE tid IS NOT NULL)) AND l.statement_id = ${statementId}::uuid`);
  await db.execute(sql`ANALYZE recon_lines`);
  await db.execute(sql`ANALYZE recon_facts`);
  await db.execute(sql`CREATE TEMP TABLE recon_free ON COMMIT DROP AS
    SELECT r.line_no, l.txn, l.ref, r.amount, l.occurred_at, l.text,
           NULL::uuid AS intent_id, NULL::smallint AS prio, NULL::text AS hub_status, NULL::bigint AS hub_amount, NULL::bigint AS hub_paid,
           NULL::boolean AS of_day, 1::bigint AS nth
    FROM recon_lines r JOIN recon_facts l ON l.line_no = r.line_no
    WHERE r.intent_id IS NULL AND r.line_no IS NOT NULL`);
  await db.execute(sql`CREATE TEMP TABLE recon_named ON COMMIT DROP AS
    SELECT DISTINCT intent_id AS id, hub_paid AS paid_amount, succeeded_at, 0::bigint AS lines FROM recon_lines WHERE line_no IS NULL AND of_day`);
  await db.execute(sql`DELETE FROM recon_lines WHERE intent_id IS NULL OR line_no IS NULL`);
  await db.execute(sql`ANALYZE recon_named`);
  // Temporary tables have no statistics until analysed: without them the planner guesses a few
  // thousand rows and picks merge joins with external sorts for a million.
  await db.execute(sql`ANALYZE recon_lines`);
  await db.execute(sql`ANALYZE recon_free`);
  // The few lines left are looked up one by one in the references' unique index (a LATERAL with
  // LIMIT, which the planner keeps as it is: as a join it read every intent of the source).
  const intentOf = (reference: SQL) =>
    sql`LATERAL (SELECT c.id FROM payment_intents c
                 WHERE c.reference = ${reference} AND ${sourceIntentCondition(source, 'c')} AND ${candidateWindow(date, 'c')}
                 LIMIT 1) c ON true`;
  await matchFree(
    ctx,
    date,
    2,
    sql`SELECT f.line_no, c.id FROM recon_free f JOIN ${intentOf(sql`f.ref`)} WHERE f.intent_id IS NULL AND f.ref IS NOT NULL`,
  );
  // Every 'HP' in the normalised text starts a candidate (overlapping ones included: 'HP' cannot
  // overlap itself); a candidate naming no intent of the source is ignored.
  await matchFree(
    ctx,
    date,
    3,
    sql`SELECT DISTINCT ON (t.line_no) t.line_no, c.id
        FROM (
          SELECT f.line_no, u.k, 'HP' || left(array_to_string(a.parts[u.k:], 'HP'), 10) AS ref
          FROM recon_free f
          CROSS JOIN LATERAL (SELECT string_to_array(${normalisedText(sql`f.text`)}, 'HP') AS parts) a
          CROSS JOIN LATERAL unnest(a.parts) WITH ORDINALITY AS u(piece, k)
          WHERE f.text IS NOT NULL AND u.k > 1 AND f.intent_id IS NULL
        ) t
        JOIN ${intentOf(sql`t.ref`)}
        WHERE t.ref ~ ${REFERENCE_SQL_PATTERN}
        ORDER BY t.line_no, t.k`,
  );
  return bulk;
}

/** Gives the free lines `found` names (line_no, id) their intent by rule `prio`, with its numbers; the intent is named now. */
async function matchFree(ctx: ServiceContext, date: string, prio: number, found: SQL) {
  const db = executor(ctx);
  await db.execute(sql`UPDATE recon_free f
    SET intent_id = c.id, prio = ${prio}, hub_status = c.status, hub_amount = c.amount, hub_paid = coalesce(c.received_amount, c.amount),
        of_day = ${paidOnDay(date, 'c')}
    FROM (${found}) m CROSS JOIN LATERAL (SELECT c.* FROM payment_intents c WHERE c.id = m.id) c
    WHERE f.line_no = m.line_no`);
  await db.execute(sql`DELETE FROM recon_named p USING (SELECT DISTINCT intent_id FROM recon_free WHERE prio = ${prio}) f
                       WHERE p.lines = 0 AND f.intent_id = p.id`);
}

/** After healing, the healed intents' numbers as they are now, in the run's tables. */
async function refreshIntents(ctx: ServiceContext, date: string, ids: string[]) {
  const healed = sql`(SELECT value::uuid FROM jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`;
  for (const table of [sql`recon_lines`, sql`recon_free`]) {
    await executor(ctx).execute(sql`UPDATE ${table} r
      SET hub_status = c.status, hub_amount = c.amount, hub_paid = coalesce(c.received_amount, c.amount), of_day = ${paidOnDay(date, 'c')}
      FROM payment_intents c WHERE c.id = r.intent_id AND c.id IN ${healed}`);
  }
}

/**
 * Every counted line with its intent (if any), the rule that found it, the intent's numbers, and
 * — for a line no rule matched — its place among the lines naming the same unknown transaction or
 * reference (`nth`).
 */
const namedLines = sql`SELECT line_no, intent_id, prio, amount, hub_status, hub_amount, hub_paid, of_day, 1::bigint AS nth FROM recon_lines
                       UNION ALL
                       SELECT line_no, intent_id, prio, amount, hub_status, hub_amount, hub_paid, of_day, nth FROM recon_free`;

/**
 * A line that is a plain match to a payment of the day (`l` a named line, `d` its recon_dup row):
 * what the class below calls `matched`, of the day — said apart so that the million such lines
 * are chunked without classing each (writeItems).
 */
const plainMatch = sql`(l.intent_id IS NOT NULL AND d.line_no IS NULL AND l.hub_status IN ${PAID} AND l.amount = l.hub_paid AND l.of_day) IS TRUE`;

/**
 * The class of each counted line `where` says (writeItems): `duplicate` for a second line naming
 * the same intent (recon_dup) or repeating an unknown transaction or reference (nth > 1).
 */
const classifiedLines = (where: SQL) => sql`
  SELECT l.line_no, l.intent_id, l.prio, l.amount AS statement_amount,
         CASE WHEN l.hub_status IN ${PAID} THEN l.hub_paid ELSE l.hub_amount END AS hub_amount,
         CASE WHEN l.intent_id IS NULL THEN (CASE WHEN l.nth > 1 THEN 'duplicate' ELSE 'missing_in_hub' END)
              WHEN d.line_no IS NOT NULL THEN 'duplicate'
              WHEN l.hub_status NOT IN ${PAID} AND l.amount <> l.hub_amount THEN 'amount_mismatch'
              WHEN l.hub_status NOT IN ${PAID} THEN 'status_mismatch'
              WHEN l.amount <> l.hub_paid THEN 'amount_mismatch'
              ELSE 'matched' END AS class
  FROM (${namedLines}) l LEFT JOIN recon_dup d ON d.line_no = l.line_no
  WHERE ${where}`;

/**
 * A line that proves money for an intent the hub still thinks unpaid (a lost callback) is that
 * outcome, applied on the one path. Pending, created, expired and cancelled intents are paid when
 * their lines are still free; a failed one — the gateway said no, the statement says paid — is
 * applied too, and `decide` sends it to a person (success_after_decline) rather than taking it
 * silently: the statement is evidence, the decision stays in one place.
 */
async function heal(
  ctx: ServiceContext,
  source: StatementSource,
  date: string,
  statementId: string,
  actor: string,
  receipts: ReceiptDue[],
): Promise<Array<HealedPayment & { amount: number }>> {
  const healable = sql.join(
    HEALABLE.map((s) => sql`${s}`),
    sql`, `,
  );
  const rows = await queryRows<{
    intent_id: string;
    reference: string;
    line_no: number;
    txn: string | null;
    amount: string;
    occurred_at: string | Date | null;
    status: string;
  }>(
    executor(ctx),
    sql`SELECT DISTINCT ON (m.intent_id) m.intent_id, c.reference, m.line_no, nullif(trim(l.transaction_id), '') AS txn, l.amount, l.occurred_at, c.status
        FROM (${namedLines}) m
        JOIN payment_intents c ON c.id = m.intent_id
        JOIN statement_lines l ON l.statement_id = ${statementId}::uuid AND l.line_no = m.line_no
        WHERE m.hub_status IN (${healable}) AND c.status IN (${healable})
        ORDER BY m.intent_id, m.prio, m.line_no`,
  );
  const healed: Array<HealedPayment & { amount: number }> = [];
  const dayStart = businessDayBounds(date).start;
  for (const row of rows) {
    const amount = Number(row.amount);
    const applied = await applyOutcome(ctx, {
      intentId: row.intent_id,
      outcome: {
        kind: 'succeeded',
        amount,
        // A line without the gateway's id is still one payment: named by where it was read.
        transactionId: row.txn ?? `statement:${statementId}:${row.line_no}`,
        paidAt: row.occurred_at ? new Date(row.occurred_at) : dayStart,
        ...(source.kind === 'bank' ? { payeeAccount: source.accountNumber } : {}),
        detail: { statementId, lineNo: row.line_no },
      },
      source: 'statement',
      actor,
    });
    if (applied.result === 'unknown_reference') continue;
    if (applied.result === 'applied' && applied.receiptDue) receipts.push(applied.receiptDue);
    if (applied.intent.status === row.status) continue;
    healed.push({
      intentId: row.intent_id,
      reference: row.reference,
      lineNo: row.line_no,
      result: applied.answer,
      statusBefore: row.status,
      statusAfter: applied.intent.status,
      amount,
    });
  }
  return healed;
}

/**
 * The intents two or more lines name (recon_named with `lines` > 1; their later lines are
 * duplicates: recon_dup), from one count of the named lines per intent. Then rule 4, for what is
 * left on both sides: lines that carry no transaction id (an unknown id is another payment), less
 * those repeating an unknown reference. Rule 4 pairs each payment with at most one line, so it
 * makes no duplicate.
 */
async function matchAmountTime(ctx: ServiceContext, date: string, bulkOf: string | null) {
  const db = executor(ctx);
  const windowSeconds = ctx.settings.treasuryDay.amountTimeWindowMinutes * 60;
  // Rules 2-3 (and healing) named intents for the free lines since they were analysed: as
  // analysed, none had one, and the planner scanned them all again for each of a million bulk
  // lines below (470 s at 1,000,000 lines) where it now hashes them once.
  await db.execute(sql`ANALYZE recon_free`);
  // Every line naming an intent: those kept line by line, and — when the bulk of rule 1 was
  // chunked (matchLines) — its lines naming an intent that a later rule's line names too (the
  // later line is the duplicate: rule 1 comes first), found once in the chunks.
  if (bulkOf) {
    // The arrays unnested in the select list, in step (a function scan in FROM copied each
    // chunk's 10,000 pairs into a tuplestore first: 0.33 s against 0.12 s for a million).
    await db.execute(sql`CREATE TEMP TABLE recon_bulk_named ON COMMIT DROP AS
      SELECT u.line_no, u.intent_id, 1::smallint AS prio
      FROM (SELECT unnest(b.line_nos) AS line_no, unnest(b.intent_ids) AS intent_id FROM reconciliation_matches b
            WHERE b.reconciliation_id = ${bulkOf}::uuid) u
      WHERE u.intent_id IN (SELECT intent_id FROM recon_free WHERE intent_id IS NOT NULL)`);
  }
  const naming = sql`SELECT line_no, intent_id, prio FROM (${namedLines}) m
    ${bulkOf ? sql`UNION ALL SELECT line_no, intent_id, prio FROM recon_bulk_named` : sql``}`;
  await db.execute(sql`INSERT INTO recon_named (id, lines)
    SELECT intent_id, count(*) FROM (${naming}) m WHERE intent_id IS NOT NULL GROUP BY intent_id HAVING count(*) > 1`);
  await db.execute(sql`CREATE TEMP TABLE recon_dup ON COMMIT DROP AS
    SELECT line_no FROM (
      SELECT m.line_no, row_number() OVER (PARTITION BY m.intent_id ORDER BY m.prio, m.line_no) AS nth
      FROM (${naming}) m JOIN recon_named d ON d.id = m.intent_id AND d.lines > 1) x
    WHERE nth > 1`);
  await db.execute(sql`ANALYZE recon_dup`);
  // The free lines still unmatched, numbered within what they name (an unknown transaction or
  // reference given twice is one payment and a duplicate).
  await db.execute(sql`UPDATE recon_free f SET nth = u.nth
    FROM (SELECT line_no, row_number() OVER (PARTITION BY coalesce(txn, ref, 'line:' || line_no) ORDER BY line_no) AS nth
          FROM recon_free WHERE intent_id IS NULL) u
    WHERE f.line_no = u.line_no`);
  await matchFree(
    ctx,
    date,
    4,
    sql`SELECT l.line_no, p.id
        FROM (SELECT f.line_no, f.amount, f.occurred_at, row_number() OVER (PARTITION BY f.amount ORDER BY f.occurred_at, f.line_no) AS n
              FROM recon_free f
              -- A line with a transaction id rule 1 did not find is money the hub never saw: every
              -- payment of the day carries its own id, so a line naming another is not that payment.
              WHERE f.intent_id IS NULL AND f.nth = 1 AND f.occurred_at IS NOT NULL AND f.txn IS NULL) l
        JOIN (SELECT p.id, p.paid_amount, p.succeeded_at, row_number() OVER (PARTITION BY p.paid_amount ORDER BY p.succeeded_at, p.id) AS n
              FROM recon_named p WHERE p.lines = 0) p
          ON p.paid_amount = l.amount AND p.n = l.n
        WHERE abs(extract(epoch FROM l.occurred_at - p.succeeded_at)) <= ${windowSeconds}`,
  );
}

/**
 * The run's verdict: every counted line and every payment of the day no line names, in exactly
 * one class. The day's plain matches go to reconciliation_matches, 10,000 to a row; the rest to
 * reconciliation_items — every other class, and matches to a payment of another day (another
 * day's run looks for them by intent). A payment of the day matched by another day's statement
 * (paid just before midnight, say) is `matched` here too, by rule `later_statement`, so its money
 * is counted once.
 */
async function writeItems(ctx: ServiceContext, reconciliationId: string, statementId: string) {
  const db = executor(ctx);
  // Every line but the day's plain matches, classed, as items.
  await db.execute(sql`INSERT INTO reconciliation_items (reconciliation_id, statement_id, line_no, intent_id, class, rule, statement_amount, hub_amount)
    SELECT ${reconciliationId}::uuid, ${statementId}::uuid, l.line_no, l.intent_id, l.class, ${RULE_NAME}[l.prio], l.statement_amount, l.hub_amount
    FROM (${classifiedLines(sql`NOT ${plainMatch}`)}) l`);
  // The day's plain matches among the lines kept one by one (all of them when the bulk was not
  // taken) in chunks, grouped by hashing (the planner, misjudging a union of temporary tables,
  // sorted a million rows for a hundred groups).
  await db.execute(sql`SELECT set_config('enable_sort', 'off', true)`);
  await db.execute(sql`INSERT INTO reconciliation_matches (reconciliation_id, chunk, statement_id, line_nos, intent_ids, rules, amounts)
    SELECT ${reconciliationId}::uuid, l.line_no / 10000, ${statementId}::uuid,
           array_agg(l.line_no), array_agg(l.intent_id), array_agg(l.prio), array_agg(l.amount)
    FROM (${namedLines}) l LEFT JOIN recon_dup d ON d.line_no = l.line_no
    WHERE ${plainMatch}
    GROUP BY l.line_no / 10000
    -- The plain matches of rule 1 are already chunked (matchLines): these join their chunks.
    ON CONFLICT (reconciliation_id, chunk) DO UPDATE
      SET line_nos = reconciliation_matches.line_nos || EXCLUDED.line_nos, intent_ids = reconciliation_matches.intent_ids || EXCLUDED.intent_ids,
          rules = reconciliation_matches.rules || EXCLUDED.rules, amounts = reconciliation_matches.amounts || EXCLUDED.amounts`);
  await db.execute(sql`SELECT set_config('enable_sort', 'on', true)`);
  await db.execute(sql`INSERT INTO reconciliation_items (reconciliation_id, statement_id, line_no, intent_id, class, rule, statement_amount, hub_amount)
    SELECT ${reconciliationId}::uuid, NULL, NULL, c.id,
           CASE WHEN o.statement_amount IS NULL THEN 'missing_in_statement' ELSE 'matched' END,
           CASE WHEN o.statement_amount IS NULL THEN NULL ELSE 'later_statement' END,
           o.statement_amount, c.paid_amount
    FROM recon_named c
    LEFT JOIN LATERAL (SELECT o.statement_amount FROM reconciliation_items o
                       WHERE o.intent_id = c.id AND o.class = 'matched' AND o.line_no IS NOT NULL AND o.reconciliation_id <> ${reconciliationId}::uuid
                       LIMIT 1) o ON true
    WHERE c.lines = 0`);
}

/**
 * One discrepancy per (source, day, class, subject) for every item that is not `matched`: found
 * again by a re-run (its facts refreshed while it is open; a resolved one never changes), linked to
 * the open payment review about the same gateway transaction. Those of the day no longer found are
 * resolved (`rematch`); missing_in_statement of other days whose payment this statement holds are
 * resolved (`later_statement`).
 */
async function writeDiscrepancies(
  ctx: ServiceContext,
  day: { reconciliationId: string; source: StatementSource; date: string; agencyCode: string; statementId: string; actor: string },
): Promise<RunResult['resolved']> {
  const db = executor(ctx);
  const now = ctx.now().toISOString();
  const gateway = gatewayOfSource(day.source);
  await db.execute(sql`CREATE TEMP TABLE recon_found ON COMMIT DROP AS
    SELECT i.class, i.line_no, i.intent_id, i.statement_amount, i.hub_amount, l.txn, l.ref, l.occurred_at, l.text,
           CASE WHEN i.class IN ('missing_in_hub') THEN coalesce('txn:' || l.txn, 'ref:' || l.ref, 'line:' || i.line_no)
                WHEN i.class = 'duplicate' THEN 'line:' || i.line_no
                ELSE 'intent:' || i.intent_id END AS subject,
           coalesce(l.txn, c.txn) AS money_txn
    FROM reconciliation_items i
    -- Every line an item names is a line rule 1 did not take in bulk, whose facts matchLines kept.
    LEFT JOIN recon_facts l ON l.line_no = i.line_no
    LEFT JOIN LATERAL (SELECT c.gateway_transaction_id AS txn FROM payment_intents c WHERE c.id = i.intent_id) c ON true
    WHERE i.reconciliation_id = ${day.reconciliationId}::uuid AND i.class <> 'matched'`);
  // The "no longer found" check below looks each open discrepancy of the day up here. The day's
  // discrepancies were just written, so their statistics say "a few" and the planner nests loops:
  // without this index that was every open discrepancy × every one found (quadratic: 102 s for
  // 26,200 at 1,000,000 lines); with it, one index probe each.
  await db.execute(sql`CREATE INDEX ON recon_found (class, subject)`);
  await db.execute(sql`ANALYZE recon_found`);
  const detail = sql`jsonb_strip_nulls(jsonb_build_object('transactionId', f.txn, 'reference', f.ref, 'occurredAt', f.occurred_at, 'text', left(f.text, 500)))`;
  await db.execute(sql`INSERT INTO discrepancies (id, reconciliation_id, source, business_date, agency_code, class, subject, status, statement_id,
                                                  line_no, intent_id, review_id, statement_amount, hub_amount, detail, created_at, updated_at)
    SELECT gen_random_uuid(), ${day.reconciliationId}::uuid, ${day.source.id}, ${day.date}::date, ${day.agencyCode}, f.class, f.subject, 'open',
           CASE WHEN f.line_no IS NULL THEN NULL ELSE ${day.statementId}::uuid END, f.line_no, f.intent_id,
           coalesce(
             (SELECT r.id FROM payment_reviews r WHERE f.intent_id IS NOT NULL AND r.intent_id = f.intent_id
                AND r.gateway_transaction_id = f.money_txn AND r.status <> 'resolved' ORDER BY r.created_at LIMIT 1),
             (SELECT r.id FROM payment_reviews r WHERE r.intent_id IS NULL AND r.gateway = ${gateway}
                AND r.gateway_transaction_id = f.money_txn AND r.status <> 'resolved' LIMIT 1)),
           f.statement_amount, f.hub_amount, ${detail}, ${now}::timestamptz, ${now}::timestamptz
    FROM recon_found f
    ON CONFLICT (source, business_date, class, subject) DO UPDATE
      SET reconciliation_id = EXCLUDED.reconciliation_id, statement_id = EXCLUDED.statement_id, line_no = EXCLUDED.line_no,
          intent_id = EXCLUDED.intent_id, review_id = coalesce(discrepancies.review_id, EXCLUDED.review_id),
          statement_amount = EXCLUDED.statement_amount, hub_amount = EXCLUDED.hub_amount, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at
      WHERE discrepancies.status <> 'resolved'`);
  const resolution = (by: 'rematch' | 'later_statement', note: string) =>
    sql`jsonb_build_object('resolution', 'auto', 'note', ${note}::text, 'by', ${by}::text, 'decidedBy', ${day.actor}::text, 'decidedAt', ${now}::text)`;
  const rematched = await queryRows<{ id: string }>(
    db,
    sql`UPDATE discrepancies d SET status = 'resolved', resolution = ${resolution('rematch', 'no longer found when the day was matched again')},
               decided_by = ${day.actor}, resolved_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
        WHERE d.source = ${day.source.id} AND d.business_date = ${day.date}::date AND d.status <> 'resolved'
          AND NOT EXISTS (SELECT 1 FROM recon_found f WHERE f.class = d.class AND f.subject = d.subject)
        RETURNING d.id`,
  );
  const later = await queryRows<{ id: string }>(
    db,
    sql`UPDATE discrepancies d SET status = 'resolved',
               resolution = ${resolution('later_statement', `found in the statement of ${day.date}`)} || jsonb_build_object('lineId', ${`${day.statementId}:`}::text || i.line_no),
               decided_by = ${day.actor}, resolved_at = ${now}::timestamptz, updated_at = ${now}::timestamptz
        -- This run's matches to payments of other days (writeItems keeps them as items, by
        -- intent): the column says again what the subject says (a missing_in_statement's subject
        -- is its intent), so each of the few open ones is one probe of the items' index.
        FROM reconciliation_items i
        WHERE i.reconciliation_id = ${day.reconciliationId}::uuid AND i.class = 'matched' AND i.line_no IS NOT NULL
          AND d.source = ${day.source.id} AND d.class = 'missing_in_statement' AND d.subject = 'intent:' || i.intent_id
          AND i.intent_id = d.intent_id
          AND d.business_date <> ${day.date}::date AND d.status <> 'resolved'
        RETURNING d.id`,
  );
  return { rematch: rematched.length, laterStatement: later.length };
}

/** missing_in_statement of days at least N days before this one, still open: flagged again, once per day reconciled. */
async function flagStillMissing(ctx: ServiceContext, source: string, date: string): Promise<number> {
  const now = ctx.now().toISOString();
  const rows = await queryRows<{ id: string }>(
    executor(ctx),
    sql`UPDATE discrepancies d SET flagged_at = ${now}::timestamptz, flag_count = d.flag_count + 1,
               detail = coalesce(d.detail, '{}'::jsonb) || jsonb_build_object('flaggedOn', ${date}::text), updated_at = ${now}::timestamptz
        WHERE d.source = ${source} AND d.class = 'missing_in_statement' AND d.status = 'open'
          AND d.business_date <= ${addDays(date, -ctx.settings.treasuryDay.missingFlagDays)}::date
          AND coalesce(d.detail->>'flaggedOn', '') < ${date}
        RETURNING d.id`,
  );
  return rows.length;
}

async function summarise(ctx: ServiceContext, reconciliationId: string, statementId: string, facts: StatementFacts): Promise<ClassTotals> {
  // The lines not counted, as the import summed them (or, for a statement imported before it did, summed here).
  const ignored =
    facts.lines_counted !== null && facts.ignored_total !== null
      ? sql`SELECT 'ignored', ${Number(facts.lines_imported) - Number(facts.lines_counted)}::bigint, ${Number(facts.ignored_total)}::bigint`
      : sql`SELECT 'ignored', count(*), coalesce(sum(l.amount), 0) FROM statement_lines l
            WHERE l.statement_id = ${statementId}::uuid AND l.error IS NULL AND NOT ${countedLine()}`;
  const rows = await queryRows<{ class: string; count: string; amount: string }>(
    executor(ctx),
    sql`SELECT class, sum(count) AS count, sum(amount) AS amount FROM (
          SELECT class, count(*) AS count, coalesce(sum(coalesce(statement_amount, hub_amount)), 0) AS amount
          FROM reconciliation_items WHERE reconciliation_id = ${reconciliationId}::uuid GROUP BY class
          UNION ALL
          SELECT 'matched', coalesce(sum(cardinality(line_nos)), 0), coalesce(sum((SELECT sum(a) FROM unnest(amounts) a)), 0)
          FROM reconciliation_matches WHERE reconciliation_id = ${reconciliationId}::uuid
          UNION ALL
          ${ignored}
        ) c GROUP BY class HAVING sum(count) > 0 OR class = 'ignored'`,
  );
  const summary: ClassTotals = {};
  for (const row of rows) summary[row.class] = { count: Number(row.count), amount: Number(row.amount) };
  return summary;
}
