import { sql } from 'drizzle-orm';
import { boolean, check, date, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { createdAt, updatedAt } from './columns.ts';

export const agencyLevels = ['province', 'department', 'district', 'commune', 'unit'] as const;
export type AgencyLevel = (typeof agencyLevels)[number];

/**
 * The agency tree (province → department / district → commune, any depth). Codes are the
 * electronic identifiers of Decision 20/2020/QĐ-TTg: data, not computable. `path` is the
 * materialised chain of codes from the root ("/000.00.00.H19/000.00.32.H19/") so that an
 * authorisation scope, which is a subtree, is a prefix test.
 */
export const agencies = pgTable(
  'agencies',
  {
    code: text().primaryKey(),
    name: text().notNull(),
    level: text({ enum: agencyLevels }).notNull(),
    parentCode: text(),
    path: text().notNull(),
    depth: integer().notNull(),
    /** Agencies are closed or merged with a date (1 July 2025 reform); old dossiers keep them. */
    validFrom: date({ mode: 'string' }),
    validTo: date({ mode: 'string' }),
    mergedInto: text(),
    /** Collection account fees of this agency are paid into (bank BIN, account, name). */
    bankBin: text(),
    accountNumber: text(),
    accountName: text(),
    /**
     * What every receipt of a collecting organisation must print (Decree 254/2026/NĐ-CP Art. 23):
     * its address and tax code (mã số thuế).
     */
    address: text(),
    taxCode: text(),
    /**
     * The written delegation under which the hub issues this agency's receipts with the hub's key
     * (a service provider issuing on its behalf): its reference, printed as the issuer's basis.
     * Irrelevant once the agency signs with a key of its own (RECEIPT_AGENCY_KEYS).
     */
    receiptDelegation: text(),
    /**
     * Receipt form symbol (ký hiệu mẫu) and series symbol (ký hiệu biên lai). A series symbol that
     * starts with two digits carries its year there (`26THP`): a receipt of 2027 prints `27THP`.
     */
    receiptFormSymbol: text(),
    receiptSeriesSymbol: text(),
    /** Counter payments get an e-receipt from the hub; otherwise the paper receipt's number is kept. */
    issuesCounterReceipts: boolean().notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('agencies_parent_idx').on(t.parentCode),
    index('agencies_path_idx').on(t.path.op('text_pattern_ops')),
    check('agencies_path_ends_with_code', sql`${t.path} LIKE '%/' || ${t.code} || '/'`),
  ],
);
