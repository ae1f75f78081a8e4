import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, instant, vnd } from './columns.ts';
import { paymentIntents } from './payments.ts';

/**
 * Receipt numbering per (agency, form symbol, series symbol, year). The counter row is locked and
 * incremented inside the transaction that issues receipts (the issuer's, a batch at a time; a correction's), so a rolled-back issue leaves
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

/**
 * A receipt is never edited (Circular 91/2026): an `original` is corrected by a new receipt that
 * refers to it — `adjusting` (a refund: the money given back, as negative amounts) or `replacing`
 * (a wrong receipt, issued again right; the intent's current receipt is then the replacement).
 */
export const receiptKinds = ['original', 'adjusting', 'replacing'] as const;
export type ReceiptKind = (typeof receiptKinds)[number];

export const receipts = pgTable(
  'receipts',
  {
    id: uuid().primaryKey(),
    intentId: uuid()
      .notNull()
      .references(() => paymentIntents.id),
    dossierCode: text().notNull(),
    kind: text({ enum: receiptKinds }).notNull().default('original'),
    /** The receipt an adjusting or replacing one corrects. */
    originalId: uuid().references((): AnyPgColumn => receipts.id),
    /** Why a correction was issued (a refund, what was wrong). */
    reason: text(),
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
     * Written just after the issuer's numbering commits (signing inside it would hold the
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
    // One original per intent; its corrections share the intent.
    uniqueIndex('receipts_intent_idx').on(t.intentId).where(sql`${t.kind} = 'original'`),
    index('receipts_original_idx').on(t.originalId),
    check('receipts_correction_refers', sql`(${t.kind} = 'original') = (${t.originalId} IS NULL)`),
    check('receipts_kind_known', sql`${t.kind} IN ('original', 'adjusting', 'replacing')`),
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

/**
 * A payment's receipt waiting for its number. The paying transaction writes it (what the receipt
 * will say: lines, total, look-up code) and does not touch the series' counter, so payments of one
 * agency never wait on each other's commits; the receipt issuer (services/receipt-issuer.ts) then
 * numbers the requests of a series in one short transaction, in the order they were written
 * (`seq`), dated at issue, and deletes them: a request and its receipt never exist together, and a
 * rolled-back issue leaves the requests and the counter as they were, so numbers stay gapless.
 */
export const receiptRequests = pgTable(
  'receipt_requests',
  {
    /** The receipt's id, chosen when paid: signatures, events and look-ups name it from then on. */
    id: uuid().primaryKey(),
    seq: bigint({ mode: 'number' }).generatedAlwaysAsIdentity().notNull(),
    intentId: uuid()
      .notNull()
      .references(() => paymentIntents.id),
    dossierCode: text().notNull(),
    /** The collecting agency: its series numbers the receipt. */
    agencyCode: text().notNull(),
    lookupCode: text().notNull(),
    lines: jsonb().$type<ReceiptLine[]>().notNull(),
    total: vnd().notNull(),
    totalInWords: text().notNull(),
    gateway: text().notNull(),
    gatewayTransactionId: text(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('receipt_requests_intent_idx').on(t.intentId), index('receipt_requests_agency_idx').on(t.agencyCode, t.seq)],
);
