import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { pgError } from '../db/errors.ts';
import {
  auditLog,
  type DiscrepancyResolution,
  type DiscrepancyResolutionRecord,
  discrepancies,
  discrepancyComments,
  paymentReviews,
} from '../db/schema/index.ts';
import { applyOutcome } from './apply-outcome.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import { actorOf, type Principal, scopeCondition } from './principal.ts';
import { receiptsDue } from './receipt-issuer.ts';
import { approveReview, type DecideReviewInput, decideReview, declineReview } from './reviews.ts';
import { afterCursor, cutPage, type Page, type PageRequest, positionOf, present, rootedAt } from './treasury-lists.ts';

/**
 * The treasury's discrepancies (issue 11): listed, commented, given to a colleague, resolved.
 * A person's resolution is audited in its own transaction and never rewritten (a trigger refuses
 * it). Write-offs and manual matches above REVIEW_APPROVAL_THRESHOLD_VND wait for a second
 * treasury user. A discrepancy linked to an open payment review is resolved BY that review: the
 * resolution is translated into the review's decision (reviews.ts, which applies its own four
 * eyes), and the discrepancy follows it (discrepancy-links.ts), so the money is decided once.
 */

type DiscrepancyRow = typeof discrepancies.$inferSelect;

export interface ResolveDiscrepancyInput {
  resolution: DiscrepancyResolution;
  note: string;
  intentId?: string;
  /** `<statementId>:<lineNo>`. */
  lineId?: string;
  /** A manual refund's bank transfer reference (a linked review's refund needs it when the gateway cannot refund). */
  evidence?: string;
}

export interface DiscrepancyFilter {
  class?: DiscrepancyRow['class'];
  status?: DiscrepancyRow['status'];
  source?: string;
  date?: string;
  agency?: string;
}

const subjectOf = (actor: string) => actor.split(':').slice(1).join(':');
const scopeOf = (principal: Principal) => scopeCondition(principal, discrepancies.agencyCode);

const notOpen = (row: DiscrepancyRow) =>
  new ServiceError('discrepancy-not-open', `this discrepancy is ${row.status.replace('_', ' ')}; it is no longer open`, [], {
    discrepancyStatus: row.status,
  });

export type DiscrepancyView = Omit<DiscrepancyRow, 'createdAt' | 'updatedAt' | 'flaggedAt' | 'resolvedAt'> & {
  amount: number | null;
  createdAt: string;
  updatedAt: string;
  flaggedAt: string | null;
  resolvedAt: string | null;
};

const view = (row: DiscrepancyRow): DiscrepancyView => ({
  ...row,
  amount: row.statementAmount ?? row.hubAmount,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
  flaggedAt: row.flaggedAt?.toISOString() ?? null,
  resolvedAt: row.resolvedAt?.toISOString() ?? null,
});

export async function listDiscrepancies(
  ctx: ServiceContext,
  principal: Principal,
  filter: DiscrepancyFilter,
  page: PageRequest,
): Promise<Page<DiscrepancyView>> {
  const conditions: Array<SQL | undefined> = [
    scopeOf(principal),
    filter.agency ? scopeCondition(rootedAt(filter.agency), discrepancies.agencyCode) : undefined,
    filter.class ? eq(discrepancies.class, filter.class) : undefined,
    filter.status ? eq(discrepancies.status, filter.status) : undefined,
    filter.source ? eq(discrepancies.source, filter.source) : undefined,
    filter.date ? eq(discrepancies.businessDate, filter.date) : undefined,
    afterCursor(page.cursor, discrepancies.createdAt, discrepancies.id),
  ];
  const rows = await executor(ctx)
    .select({ row: discrepancies, position: positionOf(discrepancies.createdAt), id: discrepancies.id })
    .from(discrepancies)
    .where(present(conditions))
    .orderBy(desc(discrepancies.createdAt), desc(discrepancies.id))
    .limit(page.limit + 1);
  const { kept, nextCursor } = cutPage(rows, page.limit);
  return { items: kept.map((r) => view(r.row)), nextCursor };
}

async function readInScope(ctx: ServiceContext, principal: Principal, id: string, lock = false): Promise<DiscrepancyRow> {
  const scope = scopeOf(principal);
  const query = executor(ctx)
    .select()
    .from(discrepancies)
    .where(scope ? and(eq(discrepancies.id, id), scope) : eq(discrepancies.id, id));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound(`discrepancy ${id}`);
  return row;
}

export async function getDiscrepancy(ctx: ServiceContext, principal: Principal, id: string) {
  const row = await readInScope(ctx, principal, id);
  const comments = await executor(ctx)
    .select()
    .from(discrepancyComments)
    .where(eq(discrepancyComments.discrepancyId, id))
    .orderBy(asc(discrepancyComments.createdAt));
  const trail = await executor(ctx)
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.resourceType, 'discrepancy'), eq(auditLog.resourceId, id)))
    .orderBy(asc(auditLog.id));
  return {
    ...view(row),
    comments: comments.map((c) => ({ id: c.id, author: c.author, body: c.body, createdAt: c.createdAt.toISOString() })),
    audit: trail.map((a) => ({ at: a.at.toISOString(), actor: a.actor, action: a.action, reason: a.reason, after: a.after })),
  };
}

const audit = (
  ctx: ServiceContext,
  principal: Principal,
  row: DiscrepancyRow,
  action: string,
  reason: string | null,
  after: Record<string, unknown>,
) =>
  appendAudit(ctx, principal, {
    action,
    resourceType: 'discrepancy',
    resourceId: row.id,
    agencyCode: row.agencyCode,
    reason,
    before: { status: row.status, assignee: row.assignee },
    after,
  });

export async function commentDiscrepancy(ctx: ServiceContext, principal: Principal, id: string, body: string) {
  await withTransaction(ctx, async (ctx) => {
    const row = await readInScope(ctx, principal, id);
    const commentId = crypto.randomUUID();
    await executor(ctx)
      .insert(discrepancyComments)
      .values({ id: commentId, discrepancyId: id, author: actorOf(principal), body, createdAt: ctx.now() });
    await audit(ctx, principal, row, 'discrepancy.comment', null, { commentId, body });
  });
  return getDiscrepancy(ctx, principal, id);
}

export async function assignDiscrepancy(ctx: ServiceContext, principal: Principal, id: string, assignee: string | null) {
  await withTransaction(ctx, async (ctx) => {
    const row = await readInScope(ctx, principal, id, true);
    if (row.status === 'resolved') throw notOpen(row);
    await executor(ctx).update(discrepancies).set({ assignee, updatedAt: ctx.now() }).where(eq(discrepancies.id, id));
    await audit(ctx, principal, row, 'discrepancy.assign', null, { assignee });
  });
  return getDiscrepancy(ctx, principal, id);
}

/** The open review this discrepancy is the same case as, if any. */
async function linkedReview(ctx: ServiceContext, row: DiscrepancyRow) {
  if (!row.reviewId) return null;
  const [review] = await executor(ctx).select().from(paymentReviews).where(eq(paymentReviews.id, row.reviewId));
  return review && review.status !== 'resolved' ? review : null;
}

/** The resolution as the linked review's decision. */
function asReviewDecision(input: ResolveDiscrepancyInput, review: typeof paymentReviews.$inferSelect): DecideReviewInput {
  switch (input.resolution) {
    case 'matched_manually':
      if (review.intentId) return { action: 'accept', note: input.note };
      if (!input.intentId) throw refuse('name the intent this money pays (intentId)', 'intentId');
      return { action: 'assign', note: input.note, intentId: input.intentId };
    case 'refund':
      return { action: 'refund', note: input.note, ...(input.evidence ? { evidence: input.evidence } : {}) };
    case 'bank_error':
      return { action: 'reject', note: input.note };
    case 'write_off':
      throw refuse(
        'this money is a payment review too: decide it (accept, assign, refund, or bank_error when none came), not a write-off',
        'resolution',
      );
  }
}

const refuse = (message: string, path: string) => new ServiceError('validation-failed', message, [{ path, message }]);

const LINE_ID = /^([0-9a-f-]{36}):(\d{1,9})$/;

/** Checks the resolution's own fields against the discrepancy. */
async function checkResolution(ctx: ServiceContext, row: DiscrepancyRow, input: ResolveDiscrepancyInput) {
  if (input.resolution !== 'matched_manually') return;
  if ((input.intentId === undefined) === (input.lineId === undefined)) {
    throw refuse('a manual match names either the intent (intentId) or the statement line (lineId) it matches', 'intentId');
  }
  if (input.lineId) {
    const match = LINE_ID.exec(input.lineId);
    if (!match) throw refuse('lineId is <statementId>:<lineNo>', 'lineId');
    const rows = await executor(ctx).execute(
      sql`SELECT 1 FROM statement_lines l JOIN statements s ON s.id = l.statement_id
          WHERE l.statement_id = ${match[1]}::uuid AND l.line_no = ${Number(match[2])} AND l.error IS NULL AND s.source = ${row.source}`,
    );
    const found = Array.isArray(rows) ? rows.length : ((rows as { rows?: unknown[] }).rows?.length ?? 0);
    if (found === 0) throw refuse(`no valid line ${input.lineId} in a statement of ${row.source}`, 'lineId');
  }
}

/**
 * Carries out a resolution. A manual match of a statement line's money to an intent the hub has
 * not seen paid applies that payment (the one path, applyOutcome, with all its checks); anything
 * else only records what the person established.
 */
async function carryOut(ctx: ServiceContext, row: DiscrepancyRow, record: DiscrepancyResolutionRecord, actor: string) {
  if (record.resolution !== 'matched_manually' || !record.intentId || row.statementAmount === null || row.lineNo === null) return null;
  const detail = row.detail ?? {};
  const transactionId = typeof detail.transactionId === 'string' ? detail.transactionId : `statement:${row.statementId}:${row.lineNo}`;
  const applied = await applyOutcome(ctx, {
    intentId: record.intentId,
    outcome: {
      kind: 'succeeded',
      amount: row.statementAmount,
      transactionId,
      ...(typeof detail.occurredAt === 'string' ? { paidAt: new Date(detail.occurredAt) } : {}),
      detail: { discrepancyId: row.id },
    },
    source: 'manual',
    actor,
  });
  if (applied.result === 'unknown_reference') throw refuse(`payment intent ${record.intentId} does not exist`, 'intentId');
  return applied.result === 'applied' ? (applied.receiptDue ?? null) : null;
}

/**
 * Resolves a discrepancy (Idempotency-Key). Two people at once: the second finds it no longer
 * open (409 `discrepancy-not-open`).
 */
export async function resolveDiscrepancy(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  input: ResolveDiscrepancyInput,
  idempotencyKey: string,
) {
  const owner = actorOf(principal);
  const peek = await readInScope(ctx, principal, id);
  const review = await linkedReview(ctx, peek);
  if (review) {
    if (peek.status !== 'open') throw notOpen(peek);
    try {
      await decideReview(ctx, principal, review.id, asReviewDecision(input, review), `discrepancy:${idempotencyKey}`);
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'review-not-open') throw notOpen({ ...peek, status: 'resolved' });
      throw error;
    }
    return getDiscrepancy(ctx, principal, id);
  }
  const fingerprint = requestFingerprint(`POST /v1/discrepancies/${id}/resolution`, input);
  const receipt = await withTransaction(ctx, async (ctx) => {
    const row = await readInScope(ctx, principal, id, true);
    if (await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint)) return null;
    if (row.status !== 'open') throw notOpen(row);
    await checkResolution(ctx, row, input);
    const now = ctx.now();
    const record: DiscrepancyResolutionRecord = {
      resolution: input.resolution,
      note: input.note,
      ...(input.intentId ? { intentId: input.intentId } : {}),
      ...(input.lineId ? { lineId: input.lineId } : {}),
      decidedBy: owner,
      decidedAt: now.toISOString(),
    };
    await rememberResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint, { status: 200, body: { id } });
    const atStake = row.statementAmount ?? row.hubAmount ?? 0;
    const fourEyes =
      (input.resolution === 'write_off' || input.resolution === 'matched_manually') && atStake > ctx.settings.reviewApprovalThreshold;
    if (fourEyes) {
      await executor(ctx)
        .update(discrepancies)
        .set({ status: 'awaiting_approval', resolution: record, decidedBy: owner, updatedAt: now })
        .where(eq(discrepancies.id, id));
      await audit(ctx, principal, row, 'discrepancy.resolve', input.note, { status: 'awaiting_approval', resolution: record });
      return null;
    }
    const receipt = await carryOut(ctx, row, record, owner);
    await executor(ctx)
      .update(discrepancies)
      .set({ status: 'resolved', resolution: record, decidedBy: owner, resolvedAt: now, updatedAt: now })
      .where(eq(discrepancies.id, id));
    await audit(ctx, principal, row, 'discrepancy.resolve', input.note, { status: 'resolved', resolution: record });
    return receipt;
  }).catch(async (error: unknown) => {
    if (pgError(error).code !== '23505' || !(await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint)))
      throw error;
    return null;
  });
  // Committed: the payment's receipt is numbered now.
  if (receipt) await receiptsDue(ctx, receipt.agencyCode);
  return getDiscrepancy(ctx, principal, id);
}

function pendingResolution(row: DiscrepancyRow, principal: Principal): DiscrepancyResolutionRecord {
  if (row.status !== 'awaiting_approval' || !row.decidedBy) {
    throw new ServiceError('approval-not-pending', `this discrepancy is ${row.status}, not awaiting approval`, [], {
      discrepancyStatus: row.status,
    });
  }
  if (subjectOf(row.decidedBy) === principal.subject) {
    throw new ServiceError(
      'approver-must-differ',
      'a resolution is approved or declined by a treasury user other than the one who made it',
    );
  }
  return row.resolution!;
}

/** A second treasury user approves a resolution awaiting approval (a linked one: the review's decision). */
export async function approveDiscrepancy(ctx: ServiceContext, principal: Principal, id: string, note: string | undefined) {
  const peek = await readInScope(ctx, principal, id);
  const review = await linkedReview(ctx, peek);
  if (review) {
    await approveReview(ctx, principal, review.id, note);
    return getDiscrepancy(ctx, principal, id);
  }
  const receipt = await withTransaction(ctx, async (ctx) => {
    const row = await readInScope(ctx, principal, id, true);
    const record = pendingResolution(row, principal);
    const approver = actorOf(principal);
    const receipt = await carryOut(ctx, row, record, approver);
    const now = ctx.now();
    await executor(ctx)
      .update(discrepancies)
      .set({ status: 'resolved', approvedBy: approver, resolvedAt: now, updatedAt: now })
      .where(eq(discrepancies.id, id));
    await audit(ctx, principal, row, 'discrepancy.approve', note ?? null, { status: 'resolved', resolution: record });
    return receipt;
  });
  // Committed: the payment's receipt is numbered now.
  if (receipt) await receiptsDue(ctx, receipt.agencyCode);
  return getDiscrepancy(ctx, principal, id);
}

/** A second treasury user declines it: open again, the decline on the record. */
export async function declineDiscrepancy(ctx: ServiceContext, principal: Principal, id: string, note: string) {
  const peek = await readInScope(ctx, principal, id);
  const review = await linkedReview(ctx, peek);
  if (review) {
    await declineReview(ctx, principal, review.id, note);
    return getDiscrepancy(ctx, principal, id);
  }
  await withTransaction(ctx, async (ctx) => {
    const row = await readInScope(ctx, principal, id, true);
    pendingResolution(row, principal);
    await executor(ctx)
      .update(discrepancies)
      .set({ status: 'open', resolution: null, decidedBy: null, updatedAt: ctx.now() })
      .where(eq(discrepancies.id, id));
    await audit(ctx, principal, row, 'discrepancy.decline', note, { status: 'open' });
  });
  return getDiscrepancy(ctx, principal, id);
}
