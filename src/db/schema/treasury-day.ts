import { sql } from 'drizzle-orm';
import { boolean, date, index, integer, jsonb, pgTable, pgView, primaryKey, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, instant, updatedAt, vnd } from './columns.ts';
import { paymentIntents } from './payments.ts';

/**
 * The treasury's day (issue 11): statements imported per source (a gateway id such as `vnpay`,
 * or `bank:<account number>`) and business date (Asia/Ho_Chi_Minh), matched against the hub's
 * payments, every difference a discrepancy a person resolves, the day closed with its totals.
 */

export const statementStatuses = ['importing', 'current', 'superseded', 'failed'] as const;
export type StatementStatus = (typeof statementStatuses)[number];

/** Column headers naming each normalised field in a generic CSV/XLSX file; absent ones are unknown. */
export interface StatementMapping {
  transactionId?: string;
  reference?: string;
  amount?: string;
  time?: string;
  text?: string;
  direction?: string;
}

/**
 * One uploaded statement file. The same content (hash) for the same source and day is a repeat and
 * changes nothing; a different file for the same source and day replaces the current one while the
 * day is open, and the earlier one stays (`superseded`, pointing at its successor).
 */
export const statements = pgTable(
  'statements',
  {
    id: uuid().primaryKey(),
    source: text().notNull(),
    businessDate: date({ mode: 'string' }).notNull(),
    /** The agency owning the source: the collecting account's, or the merchant configuration's. */
    agencyCode: text().notNull(),
    /** The parser used: an adapter's own format (`vnpay`, `dvcqg`, `bank`, `sandbox`) or `csv` / `xlsx` with `mapping`. */
    format: text().notNull(),
    fileName: text(),
    /** SHA-256 (hex) of the file's bytes. */
    contentHash: text().notNull(),
    mapping: jsonb().$type<StatementMapping>(),
    status: text({ enum: statementStatuses }).notNull(),
    linesTotal: integer().notNull().default(0),
    linesImported: integer().notNull().default(0),
    linesRejected: integer().notNull().default(0),
    /** Sums of the valid lines, integer VND. */
    creditTotal: vnd().notNull().default(0),
    debitTotal: vnd().notNull().default(0),
    /**
     * What the import already knows of the lines for their matching (reconciliation.ts): how many
     * it counts (countedLine), the sum of the valid lines it does not (its summary's `ignored`),
     * and the transaction ids that may be on more than one line (every one that is, now and then
     * one that is not: repeats.ts). Null: not known (imported before they were kept, or too many
     * repeats to list) — the matching then finds them itself.
     */
    linesCounted: integer(),
    ignoredTotal: vnd(),
    repeatedTransactions: jsonb().$type<string[]>(),
    supersededBy: uuid(),
    uploadedBy: text().notNull(),
    createdAt: createdAt(),
    completedAt: instant(),
  },
  (t) => [
    uniqueIndex('statements_content_idx').on(t.source, t.businessDate, t.contentHash),
    uniqueIndex('statements_current_idx').on(t.source, t.businessDate).where(sql`${t.status} = 'current'`),
    index('statements_agency_date_idx').on(t.agencyCode, t.businessDate),
  ],
);

export const statementDirections = ['credit', 'debit'] as const;
/** What the statement says happened to the payment (a gateway's file); null for a bank line. */
export const statementLineStatuses = ['paid', 'failed', 'refunded', 'pending'] as const;

/**
 * One line of a statement, numbered as in the file (the header is line 1 of a CSV). A line that
 * could not be read is kept with its `error` and never matched: nothing is silently dropped.
 */
export const statementLines = pgTable(
  'statement_lines',
  {
    /**
     * The statement: checked once per INSERT, not once per line as a foreign key would (3 of a
     * million-line import's seconds) — a statement-level trigger with the inserted rows as a
     * transition table, and one on `statements` refusing to delete a statement that has lines
     * (drizzle/0013_set_level_keys.sql).
     */
    statementId: uuid().notNull(),
    lineNo: integer().notNull(),
    transactionId: text(),
    reference: text(),
    amount: vnd(),
    occurredAt: instant(),
    text: text(),
    direction: text({ enum: statementDirections }),
    status: text({ enum: statementLineStatuses }),
    /** Why the line was rejected; null for a valid line. */
    error: text(),
  },
  // Only the key: matching reads a whole statement and hash-joins it, and every further index
  // would slow the import of a million-line file.
  (t) => [primaryKey({ columns: [t.statementId, t.lineNo] })],
);

export const reconciliationStatuses = ['open', 'closed'] as const;

/** Per source and business day totals recorded when the day is closed. */
export interface DayTotals {
  statement: { count: number; amount: number };
  hub: { count: number; amount: number };
  matched: { count: number; amount: number };
  /** Per discrepancy class: count and amount. */
  differences: Record<string, { count: number; amount: number }>;
  /** Late money for earlier closed days booked into this one. */
  adjustments: { count: number; amount: number };
}

/** One (source, business day): matched as often as asked, closed once. */
export const reconciliations = pgTable(
  'reconciliations',
  {
    id: uuid().primaryKey(),
    source: text().notNull(),
    businessDate: date({ mode: 'string' }).notNull(),
    agencyCode: text().notNull(),
    status: text({ enum: reconciliationStatuses }).notNull().default('open'),
    /** The statement the last run matched. */
    statementId: uuid().references(() => statements.id),
    runs: integer().notNull().default(0),
    lastRunAt: instant(),
    lastRunBy: text(),
    /** The last run's counts per class. */
    summary: jsonb().$type<Record<string, { count: number; amount: number }>>(),
    totals: jsonb().$type<DayTotals>(),
    closedBy: text(),
    closedAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('reconciliations_day_idx').on(t.source, t.businessDate),
    index('reconciliations_agency_idx').on(t.agencyCode, t.businessDate),
  ],
);

export const matchClasses = [
  'matched',
  'missing_in_hub',
  'missing_in_statement',
  'amount_mismatch',
  'status_mismatch',
  'duplicate',
] as const;
export type MatchClass = (typeof matchClasses)[number];
export const matchRules = ['transaction_id', 'reference', 'text_reference', 'amount_time', 'manual', 'later_statement'] as const;
export type MatchRule = (typeof matchRules)[number];

/** A line's or a payment's verdict in a run: the columns of `reconciliation_items` and of the view `reconciliation_results`. */
const resultColumns = () => ({
  /**
   * The day matched: checked once per INSERT by a statement-level trigger, not once per item as a
   * foreign key would (4 of the 8 s of writing a million-line day's items), and no serial key of
   * their own (1 s more): items are read by day, class and intent, never one by one
   * (drizzle/0013_set_level_keys.sql).
   */
  reconciliationId: uuid().notNull(),
  statementId: uuid(),
  lineNo: integer(),
  intentId: uuid(),
  class: text({ enum: matchClasses }).notNull(),
  /** The rule that matched the line to the payment (null when nothing matched). */
  rule: text({ enum: matchRules }),
  statementAmount: vnd(),
  hubAmount: vnd(),
});

/**
 * The last run's verdict on every statement line and every hub payment of the day that is not a
 * plain match: every line or payment in a class other than `matched`, and the matches that cross
 * days — a line matched to a payment of another business day (another day's run looks for it
 * here, by intent, to count that money once: rule `later_statement`). The day's own matches — a
 * million for a gateway's busy day — are kept compactly in `reconciliation_matches`; the view
 * `reconciliation_results` reads both as one row per line and per payment. Derived (a run
 * replaces them); what people decide lives in `discrepancies`.
 */
export const reconciliationItems = pgTable('reconciliation_items', resultColumns(), (t) => [
  index('reconciliation_items_run_idx').on(t.reconciliationId, t.class),
  index('reconciliation_items_intent_idx').on(t.intentId).where(sql`${t.intentId} IS NOT NULL`),
]);

/**
 * The rules of `reconciliation_matches.rules`, by position (1 = transaction_id …): the rules a run
 * applies to a line, in order. Said again in the view `reconciliation_results`
 * (drizzle/0014_compact_matches.sql).
 */
export const lineRules = ['transaction_id', 'reference', 'text_reference', 'amount_time'] as const satisfies readonly MatchRule[];

/**
 * A run's lines matched to payments of the day itself, 10,000 to a row, as parallel arrays: the
 * line, the payment, the rule (a position in `lineRules`) and the amount (the same on both sides:
 * that is what `matched` means). A busy day is a million matches: as one row each they were a
 * million-row write per run (8 of its 20 s); as arrays they are a hundred rows.
 */
export const reconciliationMatches = pgTable(
  'reconciliation_matches',
  {
    reconciliationId: uuid()
      .notNull()
      .references(() => reconciliations.id),
    /** line_no / 10,000 of the chunk's lines. */
    chunk: integer().notNull(),
    statementId: uuid().notNull(),
    lineNos: integer().array().notNull(),
    intentIds: uuid().array().notNull(),
    rules: smallint().array().notNull(),
    amounts: vnd().array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.reconciliationId, t.chunk] })],
);

/** Every line and payment of a run, matched or not: `reconciliation_items` and the unnested matches. */
export const reconciliationResults = pgView('reconciliation_results', resultColumns()).existing();

export const discrepancyClasses = ['missing_in_hub', 'missing_in_statement', 'amount_mismatch', 'status_mismatch', 'duplicate'] as const;
export type DiscrepancyClass = (typeof discrepancyClasses)[number];
export const discrepancyStatuses = ['open', 'awaiting_approval', 'resolved'] as const;
export const discrepancyResolutions = ['matched_manually', 'refund', 'write_off', 'bank_error'] as const;
export type DiscrepancyResolution = (typeof discrepancyResolutions)[number];

export interface DiscrepancyResolutionRecord {
  resolution: DiscrepancyResolution | 'auto';
  note: string;
  intentId?: string;
  lineId?: string;
  decidedBy: string;
  decidedAt: string;
  /** Resolved by the run that found the money later, or by deciding the linked review. */
  by?: 'later_statement' | 'review' | 'rematch';
}

/**
 * A difference a person must explain. One per (source, day, class, subject) — the subject is the
 * money it is about (`txn:<id>`, `ref:<reference>`, `line:<n>`, `intent:<id>`) — so re-running
 * the match finds the same row instead of adding another. Linked to the open payment review about
 * the same money, if any: deciding one resolves the other.
 */
export const discrepancies = pgTable(
  'discrepancies',
  {
    id: uuid().primaryKey(),
    /**
     * The day, the payment and the review a discrepancy names are checked once per INSERT or
     * UPDATE by statement-level triggers (the written rows as a transition table, the parents
     * locked FOR KEY SHARE as a key locks them), not once per row as foreign keys would: a
     * million-line day writes 26,000 discrepancies at once, and their three per-row keys cost
     * 0.42 of the 0.68 s (drizzle/0017_discrepancy_keys.sql). Triggers on the three parents
     * refuse to delete a row a discrepancy names.
     */
    reconciliationId: uuid().notNull(),
    source: text().notNull(),
    businessDate: date({ mode: 'string' }).notNull(),
    agencyCode: text().notNull(),
    class: text({ enum: discrepancyClasses }).notNull(),
    subject: text().notNull(),
    status: text({ enum: discrepancyStatuses }).notNull().default('open'),
    statementId: uuid(),
    lineNo: integer(),
    intentId: uuid(),
    reviewId: uuid(),
    statementAmount: vnd(),
    hubAmount: vnd(),
    detail: jsonb().$type<Record<string, unknown>>(),
    assignee: text(),
    /** missing_in_statement: flagged again each time it is still missing after N days. */
    flaggedAt: instant(),
    flagCount: integer().notNull().default(0),
    resolution: jsonb().$type<DiscrepancyResolutionRecord>(),
    decidedBy: text(),
    approvedBy: text(),
    resolvedAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('discrepancies_subject_idx').on(t.source, t.businessDate, t.class, t.subject),
    index('discrepancies_open_idx').on(t.status, t.businessDate),
    index('discrepancies_review_idx').on(t.reviewId).where(sql`${t.reviewId} IS NOT NULL`),
  ],
);

export const discrepancyComments = pgTable(
  'discrepancy_comments',
  {
    id: uuid().primaryKey(),
    discrepancyId: uuid()
      .notNull()
      .references(() => discrepancies.id),
    author: text().notNull(),
    body: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('discrepancy_comments_idx').on(t.discrepancyId, t.createdAt)],
);

/**
 * Money for a day already closed (a late callback, a late statement line): applied to the
 * citizen's fee lines at once, and booked on the next open day of that source as an adjustment.
 */
export const bookAdjustments = pgTable(
  'book_adjustments',
  {
    id: uuid().primaryKey(),
    source: text().notNull(),
    /** The closed day the money belongs to. */
    businessDate: date({ mode: 'string' }).notNull(),
    /** The open day it is booked on. */
    bookedDate: date({ mode: 'string' }).notNull(),
    agencyCode: text().notNull(),
    intentId: uuid().references(() => paymentIntents.id),
    amount: vnd().notNull(),
    reason: text().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('book_adjustments_booked_idx').on(t.source, t.bookedDate),
    uniqueIndex('book_adjustments_once_idx').on(t.intentId, t.businessDate).where(sql`${t.intentId} IS NOT NULL`),
  ],
);

export const offlineMethods = ['cash', 'pos', 'bank_transfer'] as const;
export type OfflineMethod = (typeof offlineMethods)[number];

/** A payment made at the counter (the `counter` channel's intent): how, who collected it, the paper receipt. */
export const offlinePayments = pgTable('offline_payments', {
  intentId: uuid()
    .primaryKey()
    .references(() => paymentIntents.id),
  method: text({ enum: offlineMethods }).notNull(),
  collector: text().notNull(),
  paperReceiptNumber: text(),
  collectedAt: instant().notNull(),
  recordedBy: text().notNull(),
  /** The e-receipt was issued (the agency's `issuesCounterReceipts`), rather than only the paper one. */
  eReceipt: boolean().notNull().default(false),
  createdAt: createdAt(),
});
