import { and, asc, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import {
  auditLog,
  callbackInbox,
  dossiers,
  intentObligations,
  obligations,
  paymentEvents,
  paymentIntents,
  paymentReviews,
  type ReviewAction,
  type ReviewDecisionRecord,
  type ReviewOutcomeRecord,
  type ReviewStatus,
  refunds,
  reviewStatuses,
} from '../db/schema/index.ts';
import { type ReviewKind, reviewKinds } from '../domain/decide.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound } from './errors.ts';
import { intentViews, type PaymentIntentView, readDossierBill } from './payment-intents.ts';
import type { Principal } from './principal.ts';
import { type RefundView, refundView } from './refunds.ts';
import { reviewScopeCondition } from './review-scope.ts';
import { allowedReviewActions } from './reviews.ts';
import {
  type AuditEntryView,
  afterCursor,
  auditEntryView,
  cutPage,
  type DateRange,
  dateRange,
  type Page,
  type PageRequest,
  positionOf,
  present,
  rootedAt,
} from './treasury-lists.ts';

/**
 * What treasury reads of the payment reviews: the desk's queue (filtered, scoped, newest first,
 * a page at a time), the counts of its header, and one case with everything needed to decide it.
 * The decisions themselves are services/reviews.ts's; their answer is `getReviewDetail`.
 */

type ReviewRow = typeof paymentReviews.$inferSelect;

export interface PaymentReviewView {
  id: string;
  kind: ReviewKind;
  status: ReviewStatus;
  gateway: string;
  /** '' when the gateway named none. */
  gatewayTransactionId: string;
  /** What the gateway said was paid (VND); null when the message named no amount. */
  amount: number | null;
  currency: 'VND';
  reason: string;
  proposedAction: 'refund' | 'decide';
  intentId: string | null;
  intentReference: string | null;
  dossierCode: string | null;
  /** Whose case it is: the intent's dossier's agency, else the agency stored on the review. */
  agencyCode: string | null;
  /** What opened it, as the hub recorded it (the inbox message's id, the payee account…). */
  detail: Record<string, unknown> | null;
  decision: ReviewDecisionRecord | null;
  outcome: ReviewOutcomeRecord | null;
  decidedBy: string | null;
  decidedAt: string | null;
  approvedBy: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

/** A gateway message as it arrived, with what the hub made of it. */
interface GatewayMessageView {
  id: string;
  gateway: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  rawBody: string;
  signatureValid: 'valid' | 'invalid' | 'unchecked';
  status: string;
  result: string | null;
  reference: string | null;
  receivedAt: string;
  processedAt: string | null;
}

interface PaymentEventView {
  id: number;
  event: string;
  fromStatus: string | null;
  toStatus: string | null;
  accepted: boolean;
  source: string;
  actor: string | null;
  detail: Record<string, unknown> | null;
  at: string;
  /** How many times this refusal was said by its principal (1 for every other line), and when last. */
  repeats: number;
  lastRepeatedAt: string | null;
}

interface ReviewFeeLineView {
  obligationId: string;
  lineNo: number;
  kind: 'phi' | 'le_phi';
  feeCode: string;
  name: string;
  /** What this intent pays for the line (VND). */
  amount: number;
  status: string;
}

interface ReviewDossierView {
  code: string;
  procedureCode: string;
  procedureName: string;
  agencyCode: string;
  agencyName: string;
  applicant: { name: string | null; address: string | null };
}

export interface ReviewDetailView {
  review: PaymentReviewView;
  intent: PaymentIntentView | null;
  dossier: ReviewDossierView | null;
  feeLines: ReviewFeeLineView[];
  /** The gateway messages behind the case, oldest first: the intent's, and the one that opened the review. */
  messages: GatewayMessageView[];
  /** The intent's history, oldest first, refused transitions included. */
  events: PaymentEventView[];
  /** Refunds of the intent, and any decided in this review. */
  refunds: RefundView[];
  /** This review's own record in the audit log, oldest first. */
  history: AuditEntryView[];
  allowedActions: ReviewAction[];
}

export interface ReviewSummaryView {
  byStatus: Record<ReviewStatus, number>;
  byKind: Record<ReviewKind, number>;
  byStatusAndKind: Array<{ status: ReviewStatus; kind: ReviewKind; count: number; amount: number }>;
  /** The money of the open reviews (VND; a review naming no amount counts 0). */
  openAmount: number;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function reviewView(row: ReviewRow, intent: { reference: string | null; dossierCode: string | null; agencyCode: string | null }) {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    gateway: row.gateway,
    gatewayTransactionId: row.gatewayTransactionId,
    amount: row.amount,
    currency: 'VND',
    reason: row.reason,
    proposedAction: row.proposedAction,
    intentId: row.intentId,
    intentReference: intent.reference,
    dossierCode: intent.dossierCode,
    agencyCode: intent.agencyCode ?? row.agencyCode,
    detail: row.detail,
    decision: row.decision,
    outcome: row.outcome,
    decidedBy: row.decidedBy,
    decidedAt: iso(row.decidedAt),
    approvedBy: row.approvedBy,
    resolvedBy: row.resolvedBy,
    resolvedAt: iso(row.resolvedAt),
    createdAt: row.createdAt.toISOString(),
  } satisfies PaymentReviewView;
}

/** Reviews with their intent's reference and dossier (none for money that names no intent). */
const reviewsWithIntent = (ctx: ServiceContext) =>
  executor(ctx)
    .select({
      review: paymentReviews,
      reference: paymentIntents.reference,
      dossierCode: paymentIntents.dossierCode,
      agencyCode: dossiers.agencyCode,
      position: positionOf(paymentReviews.createdAt),
    })
    .from(paymentReviews)
    .leftJoin(paymentIntents, eq(paymentIntents.id, paymentReviews.intentId))
    .leftJoin(dossiers, eq(dossiers.code, paymentIntents.dossierCode));

export interface ReviewFilter {
  kind?: ReviewKind;
  status?: ReviewStatus;
  gateway?: string;
  agency?: string;
  created: DateRange;
  minAmount?: number;
  maxAmount?: number;
}

function filterConditions(principal: Principal, filter: Pick<ReviewFilter, 'agency'> & Partial<ReviewFilter>): Array<SQL | undefined> {
  return [
    reviewScopeCondition(principal),
    filter.agency ? reviewScopeCondition(rootedAt(filter.agency)) : undefined,
    filter.kind ? eq(paymentReviews.kind, filter.kind) : undefined,
    filter.status ? eq(paymentReviews.status, filter.status) : undefined,
    filter.gateway ? eq(paymentReviews.gateway, filter.gateway) : undefined,
    filter.minAmount !== undefined ? sql`${paymentReviews.amount} >= ${filter.minAmount}` : undefined,
    filter.maxAmount !== undefined ? sql`${paymentReviews.amount} <= ${filter.maxAmount}` : undefined,
    ...(filter.created ? dateRange(paymentReviews.createdAt, filter.created, { from: 'createdFrom', to: 'createdTo' }) : []),
  ];
}

/** The desk's queue, newest first. An amount range leaves out reviews that name no amount. */
export async function listReviews(
  ctx: ServiceContext,
  principal: Principal,
  filter: ReviewFilter,
  page: PageRequest,
): Promise<Page<PaymentReviewView>> {
  const rows = await reviewsWithIntent(ctx)
    .where(present([...filterConditions(principal, filter), afterCursor(page.cursor, paymentReviews.createdAt, paymentReviews.id)]))
    .orderBy(desc(paymentReviews.createdAt), desc(paymentReviews.id))
    .limit(page.limit + 1);
  const { kept, nextCursor } = cutPage(
    rows.map((r) => ({ ...r, id: r.review.id })),
    page.limit,
  );
  return { items: kept.map((r) => reviewView(r.review, r)), nextCursor };
}

/** Counts for the desk's header, in the caller's scope (and an agency's subtree, if asked). */
export async function reviewSummary(
  ctx: ServiceContext,
  principal: Principal,
  filter: { agency?: string } = {},
): Promise<ReviewSummaryView> {
  const rows = await executor(ctx)
    .select({
      status: paymentReviews.status,
      kind: paymentReviews.kind,
      count: sql<number>`count(*)::int`,
      amount: sql<string>`coalesce(sum(${paymentReviews.amount}), 0)::text`,
    })
    .from(paymentReviews)
    .where(present(filterConditions(principal, filter)))
    .groupBy(paymentReviews.status, paymentReviews.kind)
    .orderBy(asc(paymentReviews.status), asc(paymentReviews.kind));
  const byStatus = Object.fromEntries(reviewStatuses.map((s) => [s, 0])) as Record<ReviewStatus, number>;
  const byKind = Object.fromEntries(reviewKinds.map((k) => [k, 0])) as Record<ReviewKind, number>;
  let openAmount = 0;
  const byStatusAndKind = rows.map((r) => {
    const count = Number(r.count);
    const amount = Number(r.amount);
    byStatus[r.status] += count;
    byKind[r.kind] += count;
    if (r.status === 'open') openAmount += amount;
    return { status: r.status, kind: r.kind, count, amount };
  });
  return { byStatus, byKind, byStatusAndKind, openAmount };
}

/** At most this many gateway messages and events per case: a gateway repeating itself is not news. */
const CASE_ROWS = 200;

/** One case with everything needed to decide it; 404 outside the caller's scope, as for none. */
export async function getReviewDetail(ctx: ServiceContext, principal: Principal, id: string): Promise<ReviewDetailView> {
  const [found] = await reviewsWithIntent(ctx).where(present([eq(paymentReviews.id, id), reviewScopeCondition(principal)]));
  if (!found) throw notFound(`payment review ${id}`);
  const row = found.review;
  const db = executor(ctx);
  const inboxId = typeof row.detail?.inboxId === 'string' && /^[0-9a-f-]{36}$/.test(row.detail.inboxId) ? row.detail.inboxId : undefined;

  const [intentRows, feeLines, messages, events, refundRows, history] = await Promise.all([
    row.intentId ? db.select().from(paymentIntents).where(eq(paymentIntents.id, row.intentId)) : [],
    row.intentId
      ? db
          .select({
            obligationId: obligations.id,
            lineNo: obligations.lineNo,
            kind: obligations.kind,
            feeCode: obligations.feeCode,
            name: obligations.name,
            amount: intentObligations.amount,
            status: obligations.status,
          })
          .from(intentObligations)
          .innerJoin(obligations, eq(obligations.id, intentObligations.obligationId))
          .where(eq(intentObligations.intentId, row.intentId))
          .orderBy(asc(obligations.lineNo))
      : [],
    row.intentId || inboxId
      ? db
          .select()
          .from(callbackInbox)
          .where(
            or(row.intentId ? eq(callbackInbox.intentId, row.intentId) : undefined, inboxId ? eq(callbackInbox.id, inboxId) : undefined),
          )
          .orderBy(asc(callbackInbox.receivedAt), asc(callbackInbox.id))
          .limit(CASE_ROWS)
      : [],
    row.intentId
      ? db.select().from(paymentEvents).where(eq(paymentEvents.intentId, row.intentId)).orderBy(asc(paymentEvents.id)).limit(CASE_ROWS)
      : [],
    db
      .select()
      .from(refunds)
      .where(row.intentId ? or(eq(refunds.intentId, row.intentId), eq(refunds.reviewId, row.id)) : eq(refunds.reviewId, row.id))
      .orderBy(asc(refunds.createdAt), asc(refunds.id)),
    db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'payment_review'), eq(auditLog.resourceId, row.id)))
      .orderBy(asc(auditLog.id)),
  ]);
  const [intent] = await intentViews(ctx, intentRows);
  const bill = found.dossierCode ? await readDossierBill(ctx, principal, found.dossierCode) : undefined;

  return {
    review: reviewView(row, found),
    intent: intent ?? null,
    dossier: bill
      ? {
          code: bill.dossier.code,
          procedureCode: bill.dossier.procedureCode,
          procedureName: bill.dossier.procedureName,
          agencyCode: bill.dossier.agencyCode,
          agencyName: bill.dossier.agencyName,
          applicant: { name: bill.dossier.applicantName, address: bill.dossier.applicantAddress },
        }
      : null,
    feeLines,
    messages: messages.map((m) => ({
      id: m.id,
      gateway: m.gateway,
      method: m.method,
      url: m.url,
      headers: m.headers,
      rawBody: m.rawBody,
      signatureValid: m.signatureValid,
      status: m.status,
      result: m.result,
      reference: m.reference,
      receivedAt: m.receivedAt.toISOString(),
      processedAt: iso(m.processedAt),
    })),
    events: events.map((e) => ({
      id: e.id,
      event: e.event,
      fromStatus: e.fromStatus,
      toStatus: e.toStatus,
      accepted: e.accepted,
      source: e.source,
      actor: e.actor,
      detail: e.detail,
      at: e.createdAt.toISOString(),
      repeats: e.repeats,
      lastRepeatedAt: iso(e.lastRepeatedAt),
    })),
    refunds: refundRows.map(refundView),
    history: history.map(auditEntryView),
    allowedActions: allowedReviewActions(row, intentRows[0] ?? null),
  };
}
