import type { HtmlEscapedString } from 'hono/utils/html';
import type { ObligationStatus } from '../../db/schema/dossiers.ts';
import type { RefundStatus } from '../../db/schema/payments.ts';
import type { ReviewAction, ReviewDecisionRecord, ReviewOutcomeRecord, ReviewStatus } from '../../db/schema/reviews.ts';
import type { ReviewKind } from '../../domain/decide.ts';
import type { IntentStatus } from '../../domain/payment-states.ts';

/**
 * What each page of the treasury's desk is given: plain data (strings, integer VND, ISO 8601
 * instants, YYYY-MM-DD dates), so the renderers stay pure and the services stay free of HTML.
 * Gateways are plain strings (a row may name a gateway the code no longer has); filters are the
 * strings from the URL, exactly as typed, so a form re-renders what the person wrote.
 */

/** The result of a POST, shown above the page: a notice after a 303, or an error on a re-render. */
export interface FormError {
  title: string;
  detail?: string;
  /** The fields at fault (the problem+json `errors`), by form field name. */
  fields?: { path: string; message: string }[];
}

/** What every page takes: the session's hidden CSRF input for its forms, and the flash area. */
export interface DeskPageContext {
  csrf: HtmlEscapedString;
  notice?: string;
  error?: FormError;
}

// ---------------------------------------------------------------- queue

export interface ReviewFilters {
  kind?: string;
  status?: string;
  gateway?: string;
  agency?: string;
  /** YYYY-MM-DD, Vietnamese calendar dates. */
  from?: string;
  to?: string;
  minAmount?: string;
  maxAmount?: string;
}

export interface ReviewSummary {
  /** Reviews per kind (kinds with none may be left out). */
  byKind: Partial<Record<ReviewKind, number>>;
  byStatus: Record<ReviewStatus, number>;
  /** The money of the reviews still open (open + awaiting approval), VND. */
  openAmount: number;
}

export interface ReviewListItem {
  id: string;
  createdAt: string;
  kind: ReviewKind;
  gateway: string;
  /** Null: the gateway's message named no amount. */
  amount: number | null;
  intentReference: string | null;
  dossierCode: string | null;
  reason: string;
  status: ReviewStatus;
  proposedAction: 'refund' | 'decide';
}

export interface QueuePageModel extends DeskPageContext {
  filters: ReviewFilters;
  summary: ReviewSummary;
  reviews: ReviewListItem[];
  /** The cursor of the next page, or null on the last one. */
  nextCursor: string | null;
}

// ---------------------------------------------------------------- case

export interface CaseReview {
  id: string;
  kind: ReviewKind;
  status: ReviewStatus;
  gateway: string;
  /** '' when the gateway gave none. */
  gatewayTransactionId: string;
  amount: number | null;
  reason: string;
  proposedAction: 'refund' | 'decide';
  createdAt: string;
  agencyCode: string | null;
}

export interface CaseIntent {
  id: string;
  reference: string;
  gateway: string;
  /** The amount asked. */
  amount: number;
  status: IntentStatus;
  createdAt: string;
  paidAt: string | null;
}

export interface CaseDossier {
  code: string;
  procedureCode: string;
  procedureName: string;
  agencyCode: string;
  agencyName: string;
  applicantName: string | null;
}

export interface CaseFeeLine {
  name: string;
  feeCode: string;
  amount: number;
  status: ObligationStatus;
}

/** One inbound gateway message behind the case, as received (callback_inbox). */
export interface GatewayMessage {
  id: string;
  receivedAt: string;
  method: string;
  url: string;
  signatureValid: 'valid' | 'invalid' | 'unchecked';
  /** What the hub made of it: applied, duplicate, amount_mismatch, refused… */
  result: string | null;
  rawBody: string;
}

export interface IntentEventItem {
  at: string;
  /** An IntentEvent, or another name the history keeps (created, refund_requested…). */
  event: string;
  fromStatus: string | null;
  toStatus: string | null;
  accepted: boolean;
  source: string;
  actor: string | null;
  /** A refusal said again by its principal: how many times in all, and when last. */
  repeats: number;
  lastRepeatedAt: string | null;
}

/** One row of the audit log about this review. */
export interface AuditItem {
  at: string;
  actor: string;
  action: string;
  reason: string | null;
}

/** What the person typed, kept when the form is shown again with an error. */
export interface DecisionFormValues {
  action?: string;
  note?: string;
  amount?: string;
  intentId?: string;
  dossierCode?: string;
  evidence?: string;
}

export interface CasePageModel extends DeskPageContext {
  review: CaseReview;
  /** Null for a review without an intent (an unmatched credit, an unreadable message). */
  intent: CaseIntent | null;
  dossier: CaseDossier | null;
  feeLines: CaseFeeLine[];
  messages: GatewayMessage[];
  intentEvents: IntentEventItem[];
  /** The review's audit rows. */
  history: AuditItem[];
  /** Pending while awaiting approval, final once resolved. */
  decision: ReviewDecisionRecord | null;
  outcome: ReviewOutcomeRecord | null;
  approvedBy: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  /** The actions this case can take (the decision form offers only these). */
  allowedActions: ReviewAction[];
  /** Actions for which the amount must be stated: an underpayment's accept, or any action on a message that named no amount. */
  amountRequiredFor: ReviewAction[];
  /** The amount to put in the amount field (what arrived, for an underpayment). */
  suggestedAmount: number | null;
  /** A refund is returned by hand (no gateway refund): evidence is required. */
  manualRefund: boolean;
  /** Decisions above this amount wait for a second treasury user. */
  approvalThreshold: number;
  /** An idempotency key generated per render, sent back with the decision. */
  idempotencyKey: string;
  /** False when the viewer made the pending decision (nobody approves their own). */
  canApprove: boolean;
  values?: DecisionFormValues;
}

// ---------------------------------------------------------------- intents

export interface IntentFilters {
  status?: string;
  gateway?: string;
  agency?: string;
  dossier?: string;
  reference?: string;
  createdFrom?: string;
  createdTo?: string;
  paidFrom?: string;
  paidTo?: string;
}

export interface IntentListItem {
  id: string;
  reference: string;
  dossierCode: string;
  gateway: string;
  amount: number;
  /** What the gateway reported when it differs from the amount asked, else null. */
  receivedAmount: number | null;
  status: IntentStatus;
  createdAt: string;
  paidAt: string | null;
}

export interface IntentsPageModel extends DeskPageContext {
  filters: IntentFilters;
  intents: IntentListItem[];
  nextCursor: string | null;
}

// ---------------------------------------------------------------- refunds

export interface RefundFilters {
  status?: string;
  gateway?: string;
  agency?: string;
  from?: string;
  to?: string;
}

export interface RefundListItem {
  id: string;
  createdAt: string;
  intentReference: string;
  gateway: string;
  amount: number;
  method: 'gateway' | 'manual';
  status: RefundStatus;
  requestedBy: string;
  approvedBy: string | null;
  reason: string;
  /** Awaiting approval and asked by someone else than the viewer. */
  canApprove: boolean;
}

export interface RefundsPageModel extends DeskPageContext {
  filters: RefundFilters;
  refunds: RefundListItem[];
  nextCursor: string | null;
}
