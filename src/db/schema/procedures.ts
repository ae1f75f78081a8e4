import { boolean, date, index, integer, jsonb, numeric, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import type { FeeAdjustment, FeeFormula, RoundingRule } from '../../domain/fees.ts';
import { agencyLevels } from './agencies.ts';
import { createdAt, updatedAt } from './columns.ts';

export const dataConfidence = ['confirmed', 'secondary', 'unconfirmed'] as const;

/** An administrative procedure (TTHC) as the national procedure database identifies it. */
export const procedures = pgTable('procedures', {
  code: text().primaryKey(),
  name: text().notNull(),
  field: text().notNull(),
  level: text().notNull(),
  /** Integrated for online payment on the national portal (766 indicator b). */
  integratedOnlinePayment: boolean().notNull().default(false),
  /**
   * Who receives it (766 indicator b counts, for a unit, only the procedures the unit can
   * receive): every agency of these levels (`commune`, `department`, …), and these agencies with
   * the units under them. Both empty: not said, so every unit (the catalogue before it said).
   */
  receivingLevels: text({ enum: agencyLevels }).array().notNull().default([]),
  receivingUnits: text().array().notNull().default([]),
  /** How sure we are of the catalogue facts (domain/procedures.md: C, S, M). */
  dataConfidence: text({ enum: dataConfidence }).notNull().default('confirmed'),
  note: text(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const feeKinds = ['phi', 'le_phi'] as const;

/**
 * One fee line of a procedure, valid over [validFrom, validTo] (receipt dates, inclusive).
 * Amounts change over time, so a procedure may have several rules with the same fee code over
 * disjoint periods; the dossier's receipt date picks one.
 */
export const feeRules = pgTable(
  'fee_rules',
  {
    id: uuid().primaryKey().defaultRandom(),
    procedureCode: text()
      .notNull()
      .references(() => procedures.code),
    kind: text({ enum: feeKinds }).notNull(),
    feeCode: text().notNull(),
    name: text().notNull(),
    lineNo: integer().notNull().default(1),
    formula: jsonb().$type<FeeFormula>().notNull(),
    adjustments: jsonb().$type<FeeAdjustment[]>().notNull().default([]),
    rounding: jsonb().$type<RoundingRule>().notNull().default({ mode: 'half_up', unit: 1 }),
    validFrom: date({ mode: 'string' }).notNull(),
    validTo: date({ mode: 'string' }),
    legalBasis: text().notNull(),
    /** Where the money goes: treasury (state budget) or the agency's own collection account. */
    collectionAccount: text(),
    /**
     * Budget classification (mục lục ngân sách, Circular 324/2016/TT-BTC): the chapter (mã chương),
     * the sub-item (tiểu mục), the budget account (7111 or a temporary-collection account), and for
     * a phí the share (percent) the collecting agency keeps; a lệ phí goes wholly to the budget.
     * Data each province's finance office maintains; `budgetCodesDemo` marks the demo's invented ones.
     */
    budgetChapter: text(),
    budgetSubItem: text(),
    budgetAccount: text(),
    retainedPercent: numeric({ precision: 5, scale: 2 }),
    budgetCodesDemo: boolean().notNull().default(false),
    /** Amount set by the provincial People's Council rather than a national circular. */
    setByProvince: boolean().notNull().default(false),
    /** The rule can ask for a non-zero amount (domain/fees.ts canCharge): 766's "fee-bearing". */
    canCharge: boolean().notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('fee_rules_procedure_idx').on(t.procedureCode, t.validFrom)],
);
