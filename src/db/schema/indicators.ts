import { sql } from 'drizzle-orm';
import { check, date, index, integer, numeric, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
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
