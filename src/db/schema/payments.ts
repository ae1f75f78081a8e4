import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { intentStatuses } from '../../domain/payment-states.ts';
import { createdAt, instant, updatedAt, vnd } from './columns.ts';
import { dossiers, obligations } from './dossiers.ts';

export const paymentIntents = pgTable(
  'payment_intents',
  {
    id: uuid().primaryKey(),
    /** The hub's own short upper-case reference, unique forever (VNPay TxnRef, VietQR text…). */
    reference: text().notNull(),
    /** Scope follows the dossier's agency (a join), so no agency is copied here to go stale. */
    dossierCode: text()
      .notNull()
      .references(() => dossiers.code),
    gateway: text().notNull(),
    amount: vnd().notNull(),
    currency: text().notNull().default('VND'),
    status: text({ enum: intentStatuses }).notNull(),
    returnUrl: text().notNull(),
    expiresAt: instant().notNull(),
    nextAction: jsonb().$type<Record<string, unknown>>(),
    gatewayReference: text(),
    gatewayTransactionId: text(),
    /** 766 flag this payment gives its dossier when it succeeds (1 national platform, 2 province). */
    onlinePaymentFlag: smallint().notNull(),
    succeededAt: instant(),
    refundedAmount: vnd().notNull().default(0),
    /** Set when treasury accepted another amount than the one asked: what was taken. */
    receivedAmount: vnd(),
    reviewReason: text(),
    principal: text().notNull(),
    /** The poller's bookkeeping: status queries made so far, and when the next one is due. */
    pollAttempts: integer().notNull().default(0),
    nextPollAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('payment_intents_reference_idx').on(t.reference),
    index('payment_intents_dossier_idx').on(t.dossierCode),
    index('payment_intents_listing_idx').on(t.createdAt, t.id),
    index('payment_intents_live_expiry_idx').on(t.status, t.expiresAt),
    index('payment_intents_poll_idx').on(t.nextPollAt).where(sql`${t.status} IN ('created', 'pending')`),
  ],
);

export const refundStatuses = ['awaiting_approval', 'submitted', 'succeeded', 'failed', 'rejected'] as const;
export type RefundStatus = (typeof refundStatuses)[number];

/**
 * A refund of (part of) a paid intent. `submitted` means sent to the gateway and not yet known
 * to be done: a timeout leaves it there, and it counts against what may still be refunded until
 * the gateway says otherwise. Above the configured amount it first waits for a second treasury
 * user's approval (`awaiting_approval`); `rejected` is that approval refused.
 */
export const refunds = pgTable(
  'refunds',
  {
    id: uuid().primaryKey(),
    intentId: uuid()
      .notNull()
      .references(() => paymentIntents.id),
    amount: vnd().notNull(),
    /** Returns everything not yet refunded (VNPay 02) rather than part of it (03). */
    full: boolean().notNull(),
    reason: text().notNull(),
    status: text({ enum: refundStatuses }).notNull(),
    requestedBy: text().notNull(),
    approvedBy: text(),
    gatewayRefundId: text(),
    /** The payment review this refund was decided in, if any. */
    reviewId: uuid(),
    /** The gateway transaction given back, when it is not the intent's own (a second payment). */
    gatewayTransactionId: text(),
    /** `manual`: returned outside the hub (a bank transfer), recorded with its evidence. */
    method: text({ enum: ['gateway', 'manual'] })
      .notNull()
      .default('gateway'),
    attempts: integer().notNull().default(0),
    detail: jsonb().$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: instant(),
  },
  (t) => [
    index('refunds_intent_idx').on(t.intentId),
    index('refunds_open_idx').on(t.status).where(sql`${t.status} = 'submitted'`),
    index('refunds_review_idx').on(t.reviewId).where(sql`${t.reviewId} IS NOT NULL`),
    index('refunds_listing_idx').on(t.status, t.createdAt),
  ],
);

export const intentObligations = pgTable(
  'intent_obligations',
  {
    intentId: uuid()
      .notNull()
      .references(() => paymentIntents.id),
    obligationId: uuid()
      .notNull()
      .references(() => obligations.id),
    amount: vnd().notNull(),
  },
  (t) => [primaryKey({ columns: [t.intentId, t.obligationId] }), index('intent_obligations_obligation_idx').on(t.obligationId)],
);

/** Append-only history of every intent, refused transitions included (a principal's repeated refusal is counted on its first row). */
export const paymentEvents = pgTable(
  'payment_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    intentId: uuid()
      .notNull()
      .references(() => paymentIntents.id),
    event: text().notNull(),
    fromStatus: text(),
    toStatus: text(),
    accepted: boolean().notNull(),
    source: text().notNull(),
    actor: text(),
    detail: jsonb().$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    /**
     * A refusal (`accepted` false) said again by the same principal, identically, is not a new
     * row: this counts how many times it was said (the row's own facts, its first time included,
     * never change), and `lastRepeatedAt` says when it was last. 1 and null for every other row.
     */
    repeats: integer().notNull().default(1),
    lastRepeatedAt: instant(),
  },
  (t) => [index('payment_events_intent_idx').on(t.intentId, t.id)],
);

/**
 * Idempotency-Key records, per principal: written by the same statement that creates the
 * resource, with the answer that every later request with the same key and body replays.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    principal: text().notNull(),
    key: text().notNull(),
    /** The request itself as canonical JSON: compared exactly, no hashing on the hot path. */
    requestFingerprint: text().notNull(),
    status: text({ enum: ['done'] }).notNull(),
    responseStatus: integer(),
    responseBody: jsonb().$type<unknown>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    expiresAt: instant().notNull(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] })],
);
