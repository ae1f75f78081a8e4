import { sql } from 'drizzle-orm';
import { bigint, check, customType, date, index, integer, numeric, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { agencies } from './agencies.ts';
import { createdAt, updatedAt } from './columns.ts';

/**
 * Daily roll-ups of the 766 online-payment indicators, per (receipt date, receiving agency,
 * procedure): how many dossiers, how many filed online, how many with a fee list priced all zero
 * or with a charged line, and how many paid online (of them through the national platform).
 *
 * Kept by a trigger on `dossiers` (migration 0010), in the transaction that changes the dossier:
 * a registration, a fee recomputation, the payment that sets the 766 flag. A payment arriving
 * today for a dossier received last month moves last month's row, as the portal counts it. An
 * indicator query reads days × units × procedures of these rows, never the dossiers; agencies and
 * the fee-bearing flag of procedures are joined at query time, so a scope is any subtree and a
 * catalogue change counts at once. Keyed by the receiving agency only, never its ancestors: a
 * province-wide row would make every payment in the province wait on one row lock.
 */
export const indicatorDaily = pgTable(
  'indicator_daily',
  {
    receivedDate: date({ mode: 'string' }).notNull(),
    agencyCode: text().notNull(),
    procedureCode: text().notNull(),
    dossiers: integer().notNull().default(0),
    /** KenhThucHien 2: filed online (the related online-submission indicator). */
    onlineSubmitted: integer().notNull().default(0),
    /** Every fee line priced 0: out of indicator c's denominator. */
    zeroFee: integer().notNull().default(0),
    /** Some fee line charged: synchronised fee data that is non-zero (indicator b, by dossiers). */
    charged: integer().notNull().default(0),
    /** DuocThanhToanTrucTuyen 1 or 2 (and not priced all zero): indicator c's numerator. */
    paidOnline: integer().notNull().default(0),
    /** DuocThanhToanTrucTuyen 1: through the national portal's payment platform. */
    paidPlatform: integer().notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.receivedDate, t.agencyCode, t.procedureCode] }),
    index('indicator_daily_agency_idx').on(t.agencyCode, t.receivedDate),
  ],
);

/**
 * A campaign to raise the online-payment indicators of an agency's subtree (e.g. Đồng Nai's
 * 30-day campaign, document 15984/UBND-HCC): its days, the window it is compared with, and the
 * rate it aims at for each indicator (null: no target set). Progress is computed from the
 * roll-ups, never stored.
 */
export const campaigns = pgTable(
  'campaigns',
  {
    id: uuid().primaryKey(),
    name: text().notNull(),
    agencyCode: text()
      .notNull()
      .references(() => agencies.code),
    startDate: date({ mode: 'string' }).notNull(),
    days: integer().notNull(),
    baselineFrom: date({ mode: 'string' }).notNull(),
    baselineTo: date({ mode: 'string' }).notNull(),
    targetProcedureOnlinePayment: numeric({ precision: 5, scale: 4 }),
    targetProcedureIntegration: numeric({ precision: 5, scale: 4 }),
    targetDossierOnlinePayment: numeric({ precision: 5, scale: 4 }),
    createdBy: text().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('campaigns_agency_idx').on(t.agencyCode, t.startDate),
    check('campaigns_days', sql`${t.days} BETWEEN 1 AND 366`),
    check('campaigns_baseline', sql`${t.baselineFrom} <= ${t.baselineTo}`),
  ],
);

/** PostgreSQL's 64-bit transaction id and snapshot types (PostgreSQL 13+), which drizzle has no builder for. */
const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' });
const pgSnapshot = customType<{ data: string }>({ dataType: () => 'pg_snapshot' });

/**
 * Every change to the roll-ups, as it is made: the counts `indicator_daily_apply` adds to a row
 * (negative to take a dossier away), with the transaction that made it. Written by the same
 * function in the dossier's transaction (an INSERT: no row is shared, nothing queues). A campaign
 * summary is exact at a snapshot; what changed after it is read here (migration 0026), and rows
 * every summary already counts are deleted by the summaries' refresh and the jobs.
 */
export const indicatorDeltas = pgTable('indicator_deltas', {
  id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  xid: xid8().notNull().default(sql`pg_current_xact_id()`),
  receivedDate: date({ mode: 'string' }).notNull(),
  agencyCode: text().notNull(),
  procedureCode: text().notNull(),
  dossiers: integer().notNull(),
  zeroFee: integer().notNull(),
  charged: integer().notNull(),
  paidOnline: integer().notNull(),
});

/**
 * A campaign's progress summed ahead (services/campaign-summaries.ts): the roll-ups of its
 * agency's subtree reduced to what progress reads, as they stood at `snapshot`, for `day` (the
 * Vietnamese date its campaign window runs to). Progress adds the deltas `snapshot` does not see.
 * Deleted by any change to the catalogue, the agencies or the campaign, and by a roll-up rebuild.
 */
export const campaignSummaries = pgTable('campaign_summaries', {
  campaignId: uuid()
    .primaryKey()
    .references(() => campaigns.id, { onDelete: 'cascade' }),
  snapshot: pgSnapshot().notNull(),
  day: date({ mode: 'string' }).notNull(),
  refreshedAt: timestamp({ withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * The summary's cells: per campaign day and procedure (`day`), per window, child unit and
 * procedure (`child`), per receiving unit over the campaign days (`unit`, procedure ''), fee-bearing
 * procedures only, as campaigns.ts's progress query reduces the roll-ups.
 */
export const campaignSummaryCells = pgTable(
  'campaign_summary_cells',
  {
    campaignId: uuid()
      .notNull()
      .references(() => campaignSummaries.campaignId, { onDelete: 'cascade' }),
    kind: text().notNull(),
    win: text().notNull(),
    key: text().notNull(),
    procedureCode: text().notNull(),
    dossiers: integer().notNull(),
    feeDossiers: integer().notNull(),
    paidOnline: integer().notNull(),
    charged: integer().notNull(),
  },
  (t) => [index('campaign_summary_cells_campaign_idx').on(t.campaignId, t.kind)],
);
