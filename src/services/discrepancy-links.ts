import { sql } from 'drizzle-orm';
import type { DiscrepancyResolution, ReviewDecisionRecord, ReviewOutcomeRecord } from '../db/schema/index.ts';
import { queryRows } from '../db/types.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext } from './context.ts';
import type { Principal } from './principal.ts';

/**
 * A discrepancy and the open payment review about the same money (the same gateway transaction)
 * are one case: the review's decision is THE decision, and the discrepancy follows it. Called by
 * services/reviews.ts inside the transaction of each step on a review, so both change together:
 * decided (at once, or awaiting approval), approved, declined.
 */

/** What a review's outcome means for the statement's line. */
function resolutionOf(outcome: ReviewOutcomeRecord | null, decision: ReviewDecisionRecord): DiscrepancyResolution {
  switch (outcome?.result ?? decision.action) {
    case 'refunded':
    case 'refund_submitted':
    case 'refund':
      return 'refund';
    case 'rejected':
    case 'failed':
    case 'reject':
      // No money came, whatever the statement says.
      return 'bank_error';
    default:
      return 'matched_manually';
  }
}

export async function followReview(
  ctx: ServiceContext,
  principal: Principal,
  review: {
    id: string;
    status: 'open' | 'awaiting_approval' | 'resolved';
    decision: ReviewDecisionRecord | null;
    outcome: ReviewOutcomeRecord | null;
  },
): Promise<void> {
  const db = executor(ctx);
  const now = ctx.now().toISOString();
  const decision = review.decision;
  let rows: Array<{ id: string; agency_code: string; status: string }>;
  if (review.status === 'resolved' && decision) {
    const record = {
      resolution: resolutionOf(review.outcome, decision),
      note: decision.note,
      ...(decision.intentId ? { intentId: decision.intentId } : {}),
      decidedBy: decision.decidedBy,
      decidedAt: decision.decidedAt,
      by: 'review',
    };
    rows = await queryRows(
      db,
      sql`UPDATE discrepancies SET status = 'resolved', resolution = ${JSON.stringify(record)}::jsonb, decided_by = ${decision.decidedBy},
                 approved_by = (SELECT approved_by FROM payment_reviews WHERE id = ${review.id}::uuid), resolved_at = ${now}::timestamptz,
                 updated_at = ${now}::timestamptz
          WHERE review_id = ${review.id}::uuid AND status <> 'resolved'
          RETURNING id, agency_code, status`,
    );
  } else if (review.status === 'awaiting_approval' && decision) {
    rows = await queryRows(
      db,
      sql`UPDATE discrepancies SET status = 'awaiting_approval', decided_by = ${decision.decidedBy}, updated_at = ${now}::timestamptz
          WHERE review_id = ${review.id}::uuid AND status = 'open'
          RETURNING id, agency_code, status`,
    );
  } else {
    rows = await queryRows(
      db,
      sql`UPDATE discrepancies SET status = 'open', decided_by = NULL, updated_at = ${now}::timestamptz
          WHERE review_id = ${review.id}::uuid AND status = 'awaiting_approval'
          RETURNING id, agency_code, status`,
    );
  }
  for (const row of rows) {
    await appendAudit(ctx, principal, {
      action: 'discrepancy.follow_review',
      resourceType: 'discrepancy',
      resourceId: row.id,
      agencyCode: row.agency_code,
      reason: decision?.note ?? null,
      after: { status: row.status, reviewId: review.id, outcome: review.outcome },
    });
  }
}
