import { sql } from 'drizzle-orm';
import { boolean, date, index, integer, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { channels, vehicleRegistrations } from '../../domain/fees.ts';
import { agencies } from './agencies.ts';
import { createdAt, instant, updatedAt, vnd } from './columns.ts';
import { feeKinds, feeRules, procedures } from './procedures.ts';

export const feeListStates = ['none', 'zero', 'charged'] as const;

/**
 * A dossier (hồ sơ) as the dossier system issued it. The hub does not issue dossier codes.
 * `receivedDate` is the receipt date in Asia/Ho_Chi_Minh, the date fees and 766 periods use.
 */
export const dossiers = pgTable(
  'dossiers',
  {
    code: text().primaryKey(),
    procedureCode: text()
      .notNull()
      .references(() => procedures.code),
    agencyCode: text()
      .notNull()
      .references(() => agencies.code),
    channel: text({ enum: channels }).notNull(),
    receivedAt: instant().notNull(),
    receivedDate: date({ mode: 'string' }).notNull(),
    /** Personal data (Decree 13/2023): printed on the receipt, never logged. */
    applicantName: text(),
    applicantAddress: text(),
    declaredValue: vnd(),
    quantity: integer(),
    /** Copies asked for, where a fee is per copy (certified copies); null: one. */
    copies: integer(),
    /**
     * The payer's categories (student, child, vneid_level2…), sorted, each once: reductions and
     * exemptions by category take the most favourable (domain/fees.ts computeFee).
     */
    payerCategories: text().array().notNull().default([]),
    /** Lệ phí trước bạ of vehicles (Decree 10/2022 Art. 8): first registration or a later one, and the urban area. */
    vehicleRegistration: text({ enum: vehicleRegistrations }),
    urbanArea: boolean(),
    /**
     * DuocThanhToanTrucTuyen as the portal counts it: 0 not paid online, 1 through the national
     * portal's payment platform, 2 through the province's own gateway.
     */
    onlinePaymentFlag: smallint().notNull().default(0),
    paidAt: instant(),
    /**
     * The fee list (DanhSachLePhi) the portal sees for this dossier: `none` (no line), `zero`
     * (every line priced 0: the dossier leaves indicator c's denominator) or `charged` (some line
     * asks for money). Kept from the obligations by their trigger (migration 0010), whoever writes
     * them, so the 766 roll-ups can be kept from the dossier row alone.
     */
    feeList: text({ enum: feeListStates }).notNull().default('none'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('dossiers_agency_date_idx').on(t.agencyCode, t.receivedDate),
    index('dossiers_procedure_date_idx').on(t.procedureCode, t.receivedDate),
  ],
);

/**
 * `waived`: a zero-priced line (exempt), kept because the portal counts zero-priced lines.
 * `void`: superseded when the dossier's fee inputs changed before anything was paid; kept, not
 * deleted, because past intents refer to it.
 */
export const obligationStatuses = ['unpaid', 'paid', 'refunded', 'waived', 'void'] as const;
export type ObligationStatus = (typeof obligationStatuses)[number];

/**
 * One fee line of a dossier. `liveIntentId` is the one live payment intent holding it: an
 * obligation is reserved by a conditional UPDATE (… WHERE live_intent_id IS NULL), so two intents
 * racing for it cannot both win.
 */
export const obligations = pgTable(
  'obligations',
  {
    id: uuid().primaryKey(),
    dossierCode: text()
      .notNull()
      .references(() => dossiers.code),
    feeRuleId: uuid().references(() => feeRules.id),
    lineNo: integer().notNull(),
    kind: text({ enum: feeKinds }).notNull(),
    feeCode: text().notNull(),
    name: text().notNull(),
    amount: vnd().notNull(),
    adjustment: text(),
    status: text({ enum: obligationStatuses }).notNull(),
    liveIntentId: uuid(),
    paidIntentId: uuid(),
    paidAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('obligations_dossier_line_idx').on(t.dossierCode, t.lineNo).where(sql`${t.status} <> 'void'`),
    index('obligations_dossier_idx').on(t.dossierCode),
    index('obligations_live_intent_idx').on(t.liveIntentId).where(sql`${t.liveIntentId} IS NOT NULL`),
  ],
);
