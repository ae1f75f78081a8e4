import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { reviewKinds } from '../../domain/decide.ts';
import { createdAt, instant, vnd } from './columns.ts';
import { paymentIntents } from './payments.ts';

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
    status: text({ enum: ['open', 'resolved'] })
      .notNull()
      .default('open'),
    detail: jsonb().$type<Record<string, unknown>>(),
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
