import type { DiscrepancyClass, DiscrepancyResolution, MatchClass } from '../../db/schema/treasury-day.ts';
import type { AuditItem, DeskPageContext } from './models.ts';

/**
 * What the pages of the treasury's day are given (issue 11): plain data, integer VND, ISO
 * instants and YYYY-MM-DD business dates, as for the desk (models.ts).
 */

export interface Money {
  count: number;
  amount: number;
}

export interface DayStatement {
  id: string;
  fileName: string | null;
  format: string;
  linesTotal: number;
  linesImported: number;
  linesRejected: number;
  creditTotal: number;
  debitTotal: number;
  uploadedBy: string;
  createdAt: string;
  /** Earlier files of the same source and day this one replaced. */
  replacedCount: number;
}

interface DayReconciliation {
  id: string;
  status: 'open' | 'closed';
  runs: number;
  lastRunAt: string | null;
  /** The last run: per class, count and amount. */
  classes: Partial<Record<MatchClass, Money>>;
  openDiscrepancies: number;
  openReviews: number;
  closedBy: string | null;
  closedAt: string | null;
  /** The totals recorded at close. */
  totals: { statement: Money; hub: Money; matched: Money; adjustments: Money } | null;
}

interface ThreeWay {
  hub: number;
  statement: number | null;
  /** The credits on the account the gateway settles into, from that account's statement. */
  bank: number | null;
  settlementAccount: string | null;
}

/** One source on the day: its statement, its matching, its three totals. */
export interface DaySource {
  source: string;
  label: string;
  agencyCode: string;
  statement: DayStatement | null;
  reconciliation: DayReconciliation | null;
  threeWay: ThreeWay | null;
  /** Payments the hub took for this source on the day (whether or not a statement came). */
  hub: Money;
}

export interface ImportResult {
  statementId: string;
  source: string;
  repeat: boolean;
  linesTotal: number;
  linesImported: number;
  linesRejected: number;
  rejected: { line: number; reason: string }[];
  replaced: string | null;
}

export interface DayPageModel extends DeskPageContext {
  date: string;
  /** The sources the person may upload for: gateway ids and `bank:<account>` of their agencies. */
  sourceOptions: { value: string; label: string }[];
  sources: DaySource[];
  /** Shown after an upload (the statement named in the address). */
  imported: ImportResult | null;
  /** Open payment reviews in scope, per kind, with the link to the queue. */
  openReviewsByKind: { kind: string; label: string; count: number }[];
  /** A fresh key for each form that changes money (the upload, run, close). */
  idempotencyKey: string;
  reports: { label: string; href: string }[];
}

interface DiscrepancyFilters {
  class?: string;
  status?: string;
  source?: string;
  date?: string;
  agency?: string;
}

export interface DiscrepancyListItem {
  id: string;
  businessDate: string;
  source: string;
  class: DiscrepancyClass;
  status: 'open' | 'awaiting_approval' | 'resolved';
  subject: string;
  statementAmount: number | null;
  hubAmount: number | null;
  assignee: string | null;
  flagCount: number;
  reviewId: string | null;
}

export interface DiscrepanciesPageModel extends DeskPageContext {
  filters: DiscrepancyFilters;
  items: DiscrepancyListItem[];
  counts: Partial<Record<DiscrepancyClass, number>>;
  nextCursor: string | null;
}

interface StatementLineView {
  statementId: string;
  lineNo: number;
  transactionId: string | null;
  reference: string | null;
  amount: number | null;
  occurredAt: string | null;
  text: string | null;
  direction: string | null;
  status: string | null;
}

interface DiscrepancyIntentView {
  id: string;
  reference: string;
  gateway: string;
  amount: number;
  status: string;
  dossierCode: string;
  paidAt: string | null;
}

export interface ResolutionFormValues {
  resolution?: string;
  note?: string;
  intentId?: string;
  lineId?: string;
}

export interface DiscrepancyCaseModel extends DeskPageContext {
  item: DiscrepancyListItem & {
    agencyCode: string;
    reconciliationId: string;
    createdAt: string;
    flaggedAt: string | null;
    detail: Record<string, unknown> | null;
    resolution: {
      resolution: DiscrepancyResolution | 'auto';
      note: string;
      intentId?: string;
      lineId?: string;
      decidedBy: string;
      decidedAt: string;
      by?: string;
    } | null;
    decidedBy: string | null;
    approvedBy: string | null;
    resolvedAt: string | null;
  };
  line: StatementLineView | null;
  intent: DiscrepancyIntentView | null;
  comments: { author: string; body: string; at: string }[];
  history: AuditItem[];
  /** The signed-in person decided it and may not approve it too. */
  ownDecision: boolean;
  approvalThreshold: number;
  values?: ResolutionFormValues;
  idempotencyKey: string;
}
