import { sql } from 'drizzle-orm';
import { date, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, instant, vnd } from './columns.ts';
import { paymentIntents } from './payments.ts';

/**
 * Receipt numbering per (agency, form symbol, series symbol). The counter row is locked and
 * incremented inside the transaction that issues the receipt, so a rolled-back payment leaves
 * no gap (Decree 123/2020: numbers are sequential without gaps within a series).
 */
export const receiptSeries = pgTable(
  'receipt_series',
  {
    agencyCode: text().notNull(),
    formSymbol: text().notNull(),
    seriesSymbol: text().notNull(),
    lastNumber: integer().notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.agencyCode, t.formSymbol, t.seriesSymbol] })],
);

export interface ReceiptLine {
  obligationId: string;
  kind: 'phi' | 'le_phi';
  feeCode: string;
  name: string;
  amount: number;
}

export const receipts = pgTable(
  'receipts',
  {
    id: uuid().primaryKey(),
    intentId: uuid()
      .notNull()
      .references(() => paymentIntents.id),
    dossierCode: text().notNull(),
    agencyCode: text().notNull(),
    agencyName: text().notNull(),
    formSymbol: text().notNull(),
    seriesSymbol: text().notNull(),
    number: integer().notNull(),
    issuedAt: instant().notNull(),
    issuedDate: date({ mode: 'string' }).notNull(),
    payerName: text(),
    payerAddress: text(),
    lines: jsonb().$type<ReceiptLine[]>().notNull(),
    total: vnd().notNull(),
    totalInWords: text().notNull(),
    gateway: text().notNull(),
    gatewayTransactionId: text(),
    /**
     * Compact JWS over the receipt's canonical JSON, verifiable with /.well-known/jwks.json.
     * Written just after the paying transaction commits (signing inside it would hold the
     * series' row lock across a crypto call); null only until then, or until the job or the
     * first read signs a receipt whose signer was interrupted.
     */
    signature: text(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('receipts_intent_idx').on(t.intentId),
    uniqueIndex('receipts_series_number_idx').on(t.agencyCode, t.formSymbol, t.seriesSymbol, t.number),
    index('receipts_unsigned_idx').on(t.createdAt).where(sql`${t.signature} IS NULL`),
  ],
);
