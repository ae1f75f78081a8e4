import { sql } from 'drizzle-orm';
import { bigserial, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { reviewKinds } from '../../domain/decide.ts';
import { createdAt, instant, vnd } from './columns.ts';
import { paymentIntents } from './payments.ts';

export const reviewStatuses = ['open', 'awaiting_approval', 'resolved'] as const;
export type ReviewStatus = (typeof reviewStatuses)[number];

export const reviewActions = ['accept', 'refund', 'assign', 'reject'] as const;
export type ReviewAction = (typeof reviewActions)[number];

/** A treasury user's decision on a review, as made (services/reviews.ts). */
export interface ReviewDecisionRecord {
  action: ReviewAction;
  note: string;
  /** The amount accepted (an underpayment) or given back (a manual refund); VND. */
  amount?: number;
  /** Where `assign` sends the money. */
  intentId?: string;
  dossierCode?: string;
  /** The bank transfer's reference of a manual refund, or other proof. */
  evidence?: string;
  decidedBy: string;
  decidedAt: string;
}

/** What a resolved decision did to the money and the intent. */
export interface ReviewOutcomeRecord {
  /** paid: the intent took the money; failed: no money (the intent failed); refunded / refund_submitted: given back; assigned: moved to another intent; kept: recorded, nothing moved. */
  result: 'paid' | 'failed' | 'refunded' | 'refund_submitted' | 'assigned' | 'kept' | 'rejected';
  intentId?: string;
  intentStatusBefore?: string;
  intentStatusAfter?: string;
  refundId?: string;
  /** accept of another amount: what was accepted, and what was asked less what was accepted. */
  acceptedAmount?: number;
  difference?: number;
  /** assign: what the named intent's own checks made of the money. */
  assignedResult?: string;
}

/**
 * Money the hub received but could not decide about alone (DESIGN.md `needs_review`): an amount
 * that differs from the one asked, a payment held as suspected fraud, money after the hub gave up
 * whose obligations were taken, or a second successful payment of something already paid. Each is
 * one row per (intent, kind, gateway transaction), so a gateway repeating itself adds nothing;
 * `proposedAction` says what treasury is expected to do. Money that names no intent at all (a
 * bank credit whose transfer text matches no reference) is an `unmatched_credit` with no intent,
 * one per (gateway, transaction). A message the gateway's signature vouches for but the hub
 * cannot read (a bank's changed layout, say) may be money too: `unreadable_message`, one per
 * inbox message.
 */
export const paymentReviews = pgTable(
  'payment_reviews',
  {
    id: uuid().primaryKey(),
    /** Null only for an `unmatched_credit`. */
    intentId: uuid().references(() => paymentIntents.id),
    gateway: text().notNull(),
    kind: text({ enum: reviewKinds }).notNull(),
    /** '' when the gateway gave none. */
    gatewayTransactionId: text().notNull().default(''),
    amount: vnd(),
    proposedAction: text({ enum: ['refund', 'decide'] }).notNull(),
    reason: text().notNull(),
    status: text({ enum: reviewStatuses }).notNull().default('open'),
    detail: jsonb().$type<Record<string, unknown>>(),
    /**
     * Whose the case is when it has no intent: the agency owning the collecting account the money
     * reached, else the province root. A review of an intent follows its dossier's agency instead.
     */
    agencyCode: text(),
    /** The decision as a person made it (pending while `awaiting_approval`, final once `resolved`). */
    decision: jsonb().$type<ReviewDecisionRecord>(),
    /** What the decision did to the money, once resolved. */
    outcome: jsonb().$type<ReviewOutcomeRecord>(),
    decidedBy: text(),
    decidedAt: instant(),
    approvedBy: text(),
    createdAt: createdAt(),
    resolvedAt: instant(),
    resolvedBy: text(),
  },
  (t) => [
    uniqueIndex('payment_reviews_once_idx').on(t.intentId, t.kind, t.gatewayTransactionId),
    uniqueIndex('payment_reviews_unmatched_once_idx').on(t.gateway, t.gatewayTransactionId).where(sql`${t.intentId} IS NULL`),
    index('payment_reviews_open_idx').on(t.status, t.createdAt),
  ],
);

/**
 * Every action of a person on money, append-only and hash-chained (services/audit.ts): each row's
 * `hash` is SHA-256 over its content and the previous row's hash, so an edited, removed or
 * inserted row breaks the chain from there on. A trigger refuses UPDATE, DELETE and TRUNCATE.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    at: timestamp({ withTimezone: true, mode: 'date' }).notNull(),
    /** role:subject of the person (services/principal.ts actorOf). */
    actor: text().notNull(),
    /** decide, approve, decline, refund.request, refund.approve, refund.reject, refund.resolve… */
    action: text().notNull(),
    resourceType: text().notNull(),
    resourceId: text().notNull(),
    /** The agency whose scope the resource is in, as it was when acted on (null: the whole province). */
    agencyCode: text(),
    reason: text(),
    before: jsonb().$type<Record<string, unknown>>(),
    after: jsonb().$type<Record<string, unknown>>(),
    prevHash: text().notNull(),
    hash: text().notNull(),
  },
  (t) => [
    uniqueIndex('audit_log_hash_idx').on(t.hash),
    index('audit_log_resource_idx').on(t.resourceType, t.resourceId, t.id),
    index('audit_log_actor_idx').on(t.actor, t.id),
  ],
);
