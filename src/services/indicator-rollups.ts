import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../db/types.ts';
import type { DateRange } from '../domain/indicators.ts';

/**
 * Operators' checks of the 766 roll-ups (`npm run indicators -- verify | rebuild`): recount them
 * from the dossiers, and the dossiers' fee lists from their obligations, and say where they
 * differ; or set them right in place. The triggers keep them right; these exist for the day
 * somebody loaded rows with the triggers off.
 */

export interface RollupDrift {
  receivedDate: string;
  agencyCode: string;
  procedureCode: string;
  /** dossiers, filed online, priced all zero, charged, paid online, paid through the platform. */
  stored: number[];
  counted: number[];
}

const COUNTS = ['dossiers', 'online_submitted', 'zero_fee', 'charged', 'paid_online', 'paid_platform'] as const;

const inRange = (column: string, range?: DateRange) =>
  range ? sql`${sql.raw(column)} BETWEEN ${range.from}::date AND ${range.to}::date` : sql`true`;

/** Roll-up rows that differ from a recount of the dossiers (at most `limit`). */
export async function rollupDrift(db: Executor, range?: DateRange, limit = 100): Promise<RollupDrift[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`
    WITH counted AS (
      SELECT d.received_date, d.agency_code, d.procedure_code, count(*)::int AS dossiers, sum(c.online_submitted)::int AS online_submitted,
             sum(c.zero_fee)::int AS zero_fee, sum(c.charged)::int AS charged, sum(c.paid_online)::int AS paid_online,
             sum(c.paid_platform)::int AS paid_platform
      FROM dossiers d CROSS JOIN LATERAL indicator_counts(d) c
      WHERE ${inRange('d.received_date', range)}
      GROUP BY 1, 2, 3
    ), stored AS (
      SELECT * FROM indicator_daily WHERE ${inRange('received_date', range)}
    )
    SELECT to_char(coalesce(s.received_date, c.received_date), 'YYYY-MM-DD') AS received_date,
           coalesce(s.agency_code, c.agency_code) AS agency_code, coalesce(s.procedure_code, c.procedure_code) AS procedure_code,
           ${sql.raw(COUNTS.map((k) => `coalesce(s.${k}, 0) AS s_${k}, coalesce(c.${k}, 0) AS c_${k}`).join(', '))}
    FROM stored s FULL JOIN counted c USING (received_date, agency_code, procedure_code)
    WHERE ${sql.raw(COUNTS.map((k) => `coalesce(s.${k}, 0) <> coalesce(c.${k}, 0)`).join(' OR '))}
    ORDER BY 1, 2, 3
    LIMIT ${limit}`,
  );
  return rows.map((r) => ({
    receivedDate: String(r.received_date),
    agencyCode: String(r.agency_code),
    procedureCode: String(r.procedure_code),
    stored: COUNTS.map((k) => Number(r[`s_${k}`])),
    counted: COUNTS.map((k) => Number(r[`c_${k}`])),
  }));
}

/** Dossiers whose recorded fee list disagrees with their obligations (at most `limit`). */
export async function feeListDrift(
  db: Executor,
  range?: DateRange,
  limit = 100,
): Promise<Array<{ code: string; recorded: string; obligations: string }>> {
  return queryRows(
    db,
    sql`SELECT d.code, d.fee_list AS recorded, dossier_fee_list(d.code) AS obligations FROM dossiers d
        WHERE ${inRange('d.received_date', range)} AND d.fee_list <> dossier_fee_list(d.code)
        ORDER BY d.code LIMIT ${limit}`,
  );
}

/**
 * Sets every fee list from the obligations, then recounts the roll-ups of the range, in one
 * function (indicator_daily_rebuild) under one lock: dossier writes wait meanwhile.
 */
export async function rebuildRollups(db: Executor, range?: DateRange): Promise<{ feeListsFixed: number; rows: number }> {
  const [rebuilt] = await queryRows<{ fee_lists_fixed: string; rows: string }>(
    db,
    sql`SELECT fee_lists_fixed::text, rows::text FROM indicator_daily_rebuild(${range?.from ?? null}::date, ${range?.to ?? null}::date)`,
  );
  return { feeListsFixed: Number(rebuilt?.fee_lists_fixed ?? 0), rows: Number(rebuilt?.rows ?? 0) };
}
