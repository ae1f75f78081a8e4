import { sql } from 'drizzle-orm';
import { queryRows } from '../db/types.ts';
import { addDays } from '../domain/dates.ts';
import type { DateRange } from '../domain/indicators.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { feeBearingCells, PER_PROCEDURE_SUMS, type Scope, SUMMARY_SQL } from './indicators.ts';

/**
 * A campaign's progress summed ahead, so that it costs the same on a province of 20 units as on
 * one of 2,000: the roll-ups of the campaign's days and baseline reduced once to what progress
 * reads (per campaign day and procedure, per window, child and procedure, per receiving unit), as
 * they stood at a snapshot, and kept with that snapshot (migrations 0025-0026).
 *
 * Exact at every read, not "as of the last refresh": every change to the roll-ups is also written
 * as a delta with its transaction id (indicator_daily_apply, in the dossier's own transaction: an
 * INSERT, so no payment waits on a shared row), and a read adds to the summary the deltas its
 * snapshot does not see (`pg_visible_in_snapshot`), in one statement. A transaction still running
 * when the summary was made is not in it, and its deltas are counted once it commits.
 *
 * Made by the first progress request that finds none for today, and again by the jobs every
 * minute (so that few deltas are read); dropped by any change to the catalogue, the agencies or
 * the campaign (triggers), and by a roll-up rebuild. Refreshes and the deltas' purge take one
 * advisory lock: a purge deletes only deltas every summary's snapshot sees, so none is lost
 * between a summary's snapshot and its commit.
 */

/** The summaries' advisory lock (the audit chain's is 766_0001). */
const SUMMARIES_LOCK = 766_0014;

/** Deltas a read may add before the request makes the summary again first. */
const PENDING_BEFORE_REFRESH = 20_000;

export interface ProgressWindows {
  scope: Scope;
  baseline: DateRange;
  /** The campaign's days so far (null before it starts). */
  counted: DateRange | null;
  today: string;
}

const startOf = (w: ProgressWindows) => w.counted?.from ?? addDays(w.baseline.to, 1);
const rangesOf = (w: ProgressWindows) => (w.counted ? [w.baseline, w.counted] : [w.baseline]);
const windowOf = (w: ProgressWindows) => sql`CASE WHEN received_date >= ${startOf(w)}::date THEN 'campaign' ELSE 'baseline' END`;

/**
 * Makes the campaign's summary for `w.today`, and purges the deltas every summary sees. False when
 * another refresh or purge holds the lock (its result serves as well).
 */
export async function refreshCampaignSummary(ctx: ServiceContext, campaignId: string, w: ProgressWindows): Promise<boolean> {
  return withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    const [locked] = await queryRows<{ ok: boolean }>(db, sql`SELECT pg_try_advisory_xact_lock(${SUMMARIES_LOCK}) AS ok`);
    if (!locked?.ok) return false;
    await db.execute(sql`DELETE FROM campaign_summaries WHERE campaign_id = ${campaignId}::uuid`);
    // One statement, so one snapshot: the one recorded is the one the cells are counted at.
    const start = startOf(w);
    await db.execute(sql`
      WITH state AS (
        INSERT INTO campaign_summaries (campaign_id, snapshot, day, refreshed_at)
        VALUES (${campaignId}::uuid, pg_current_snapshot(), ${w.today}::date, ${ctx.now().toISOString()}::timestamptz)
        RETURNING campaign_id),
      cells AS (${feeBearingCells(w.scope, rangesOf(w), w.today)})
      INSERT INTO campaign_summary_cells (campaign_id, kind, win, key, procedure_code, dossiers, fee_dossiers, paid_online, charged)
      SELECT (SELECT campaign_id FROM state), 'day', 'campaign', to_char(received_date, 'YYYY-MM-DD'), procedure_code, ${PER_PROCEDURE_SUMS}
      FROM cells WHERE received_date >= ${start}::date GROUP BY received_date, procedure_code
      UNION ALL
      SELECT (SELECT campaign_id FROM state), 'child', ${windowOf(w)}, child, procedure_code, ${PER_PROCEDURE_SUMS}
      FROM cells GROUP BY 3, child, procedure_code
      UNION ALL
      SELECT (SELECT campaign_id FROM state), 'unit', 'campaign', agency_code, '', ${PER_PROCEDURE_SUMS}
      FROM cells WHERE received_date >= ${start}::date GROUP BY agency_code`);
    // Statistics for the planner: without them it takes the summary for a few rows and sorts
    // twelve thousand text keys (12 ms) where a hash aggregate takes a few.
    await db.execute(sql`ANALYZE campaign_summary_cells`);
    await purge(ctx);
    return true;
  });
}

/** Deletes the deltas every summary's snapshot already counts (all of them when there is no summary). Under the lock. */
async function purge(ctx: ServiceContext): Promise<number> {
  const [gone] = await queryRows<{ n: number }>(
    executor(ctx),
    sql`WITH gone AS (
          DELETE FROM indicator_deltas d
          WHERE NOT EXISTS (SELECT 1 FROM campaign_summaries s WHERE NOT pg_visible_in_snapshot(d.xid, s.snapshot))
          RETURNING 1)
        SELECT count(*)::int AS n FROM gone`,
  );
  return gone?.n ?? 0;
}

/** The jobs' purge, when no summary is refreshed: under the same lock, skipped if a refresh holds it. */
export async function purgeCountedDeltas(ctx: ServiceContext): Promise<number> {
  return withTransaction(ctx, async (ctx) => {
    const [locked] = await queryRows<{ ok: boolean }>(executor(ctx), sql`SELECT pg_try_advisory_xact_lock(${SUMMARIES_LOCK}) AS ok`);
    return locked?.ok ? purge(ctx) : 0;
  });
}

/** The campaigns that have a summary: the ones whose progress somebody has asked for. */
export async function summarisedCampaigns(ctx: ServiceContext): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(executor(ctx), sql`SELECT campaign_id::text AS id FROM campaign_summaries`);
  return rows.map((r) => r.id);
}

/**
 * The rows of the live progress statement (campaigns.ts), made from the summary and the deltas it
 * does not see, in one statement; null when the campaign has no summary for `w.today`. `pending`:
 * the deltas read.
 */
export async function summedProgressRows(
  ctx: ServiceContext,
  campaignId: string,
  w: ProgressWindows,
): Promise<{ rows: Array<Record<string, unknown>>; pending: number } | null> {
  const start = startOf(w);
  const id = sql`${campaignId}::uuid`;
  const firstDay = (condition: string) => sql`to_char(min(received_date) FILTER (WHERE ${sql.raw(condition)}), 'YYYY-MM-DD')`;
  const rows = await queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    WITH st AS (SELECT snapshot FROM campaign_summaries WHERE campaign_id = ${id} AND day = ${w.today}::date),
    unseen AS MATERIALIZED (SELECT d.* FROM indicator_deltas d, st WHERE NOT pg_visible_in_snapshot(d.xid, st.snapshot)),
    delta AS (${feeBearingCells(w.scope, rangesOf(w), w.today, undefined, sql`unseen`)}),
    per_day AS (
      SELECT received_date, procedure_code, ${PER_PROCEDURE_SUMS} FROM (
        SELECT key::date AS received_date, procedure_code, dossiers, fee_dossiers, paid_online, charged FROM campaign_summary_cells WHERE campaign_id = ${id} AND kind = 'day'
        UNION ALL
        SELECT received_date, procedure_code, dossiers, fee_dossiers, paid_online, charged FROM delta WHERE received_date >= ${start}::date
      ) day_cells GROUP BY 1, 2),
    per_child AS (
      SELECT win, child, procedure_code, ${PER_PROCEDURE_SUMS} FROM (
        SELECT win, key AS child, procedure_code, dossiers, fee_dossiers, paid_online, charged FROM campaign_summary_cells WHERE campaign_id = ${id} AND kind = 'child'
        UNION ALL
        SELECT ${windowOf(w)}, child, procedure_code, dossiers, fee_dossiers, paid_online, charged FROM delta
      ) child_cells GROUP BY 1, 2, 3),
    firsts AS (
      SELECT procedure_code, ${firstDay('dossiers > 0')} AS first_filed, ${firstDay('paid_online > 0')} AS first_paid,
             ${firstDay('charged > 0')} AS first_charged
      FROM per_day GROUP BY 1)
    SELECT 'state' AS kind, NULL::text AS key, NULL::text AS win, NULL::int8 AS with_dossiers, NULL::int8 AS with_payment,
           NULL::int8 AS with_charge, (SELECT count(*) FROM unseen)::int8 AS paid,
           NULL::int8 AS fee_dossiers, NULL::int8 AS dossiers, NULL::int8 AS charged, NULL::text AS first_filed, NULL::text AS first_paid,
           NULL::text AS first_charged
    FROM st
    UNION ALL
    SELECT 'day', to_char(received_date, 'YYYY-MM-DD'), NULL, ${SUMMARY_SQL}, NULL, NULL, NULL, NULL, NULL
    FROM per_day GROUP BY received_date
    UNION ALL
    SELECT 'child', child, win, ${SUMMARY_SQL}, NULL, NULL, NULL, NULL, NULL FROM per_child GROUP BY win, child
    UNION ALL
    SELECT 'procedure', p.procedure_code, p.win, NULL, NULL, NULL, p.paid, p.fee_dossiers, p.dossiers, p.charged,
           CASE WHEN p.win = 'campaign' THEN f.first_filed END, CASE WHEN p.win = 'campaign' THEN f.first_paid END,
           CASE WHEN p.win = 'campaign' THEN f.first_charged END
    FROM (SELECT win, procedure_code, sum(paid_online)::int8 AS paid, sum(fee_dossiers)::int8 AS fee_dossiers, sum(dossiers)::int8 AS dossiers,
                 sum(charged)::int8 AS charged
          FROM per_child GROUP BY 1, 2) p
    LEFT JOIN firsts f USING (procedure_code)
    UNION ALL
    SELECT 'unit', agency_code, 'campaign', NULL, NULL, NULL, sum(paid_online)::int8, sum(fee_dossiers)::int8, NULL, NULL, NULL, NULL, NULL
    FROM (
      SELECT key AS agency_code, paid_online, fee_dossiers FROM campaign_summary_cells WHERE campaign_id = ${id} AND kind = 'unit'
      UNION ALL
      SELECT agency_code, paid_online, fee_dossiers FROM delta WHERE received_date >= ${start}::date
    ) unit_cells GROUP BY agency_code`,
  );
  const state = rows.find((r) => r.kind === 'state');
  if (!state) return null;
  return { rows: rows.filter((r) => r !== state), pending: Number(state.paid) };
}

/**
 * The campaign's progress rows from its summary: made first when there is none for today (or it
 * has many deltas to add), unless another request is making it or this is a replica; null then,
 * and the caller counts from the roll-ups.
 */
export async function campaignProgressRows(
  ctx: ServiceContext,
  campaignId: string,
  w: ProgressWindows,
): Promise<Array<Record<string, unknown>> | null> {
  const summed = await summedProgressRows(ctx, campaignId, w);
  if (summed && summed.pending <= PENDING_BEFORE_REFRESH) return summed.rows;
  // A replica takes no writes: it answers from the summary the primary's jobs keep (exact with
  // any number of deltas), or, with none for today, the caller counts from the roll-ups.
  if (ctx.readingReplica) return summed?.rows ?? null;
  if (!(await refreshCampaignSummary(ctx, campaignId, w))) return summed?.rows ?? null;
  return (await summedProgressRows(ctx, campaignId, w))?.rows ?? null;
}
