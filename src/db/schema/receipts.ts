import { sql } from 'drizzle-orm';
import { date, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, instant, vnd } from './columns.ts';
import { paymentIntents } from './payments.ts';

/**
 * Receipt numbering per (agency, form symbol, series symbol, year). The counter row is locked and
 * incremented inside the transaction that issues the receipt, so a rolled-back payment leaves
 * no gap (Decree 254/2026 Art. 23: numbers are sequential without gaps within a series, and a
 * series carries its year: numbering starts again at 1 with each year, even under a symbol an
 * agency configured without a year in it).
 */
export const receiptSeries = pgTable(
  'receipt_series',
  {
    agencyCode: text().notNull(),
    formSymbol: text().notNull(),
    seriesSymbol: text().notNull(),
    year: integer().notNull(),
    lastNumber: integer().notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.agencyCode, t.formSymbol, t.seriesSymbol, t.year] })],
);

export interface ReceiptLine {
  obligationId: string;
  kind: 'phi' | 'le_phi';
  feeCode: string;
  name: string;
  amount: number;
}

/** Who issued a receipt on the collecting organisation's behalf (the hub's operator), and under which delegation. */
export interface ReceiptIssuer {
  name: string;
  address: string;
  taxCode: string | null;
  delegation: string | null;
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
    /** The collecting organisation's address and tax code as they were when the receipt was issued. */
    collectorAddress: text(),
    collectorTaxCode: text(),
    /** Set when the hub issued (and signed) the receipt on the organisation's behalf. */
    issuer: jsonb().$type<ReceiptIssuer>(),
    /** The citizen's look-up code (mã tra cứu): random, unguessable, printed with its QR. */
    lookupCode: text().notNull(),
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
    /** The key that signed it (its RFC 7638 thumbprint): the agency's own or the hub's. */
    signingKid: text(),
    /** The receipt as the tax authority's XML structure, with its enveloped XML signature (written with `signature`). */
    xml: text(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('receipts_intent_idx').on(t.intentId),
    uniqueIndex('receipts_series_number_idx').on(
      t.agencyCode,
      t.formSymbol,
      t.seriesSymbol,
      sql`(extract(year FROM ${t.issuedDate})::integer)`,
      t.number,
    ),
    uniqueIndex('receipts_lookup_code_idx').on(t.lookupCode),
    index('receipts_unsigned_idx').on(t.createdAt).where(sql`${t.signature} IS NULL`),
  ],
);
