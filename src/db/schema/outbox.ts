import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, customType, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { agencies } from './agencies.ts';
import { createdAt, instant, updatedAt } from './columns.ts';

/** The events a dossier system may subscribe to (issue 13); each is written with the change that causes it. */
export const eventTypes = [
  'obligation.paid',
  'dossier.paid',
  'payment.failed',
  'payment.expired',
  'payment.cancelled',
  'payment.needs_review',
  'payment.review_resolved',
  'payment.refunded',
  'receipt.issued',
  'receipt.adjusted',
  'receipt.replaced',
  'offline_payment.recorded',
] as const;
export type EventType = (typeof eventTypes)[number];

export const deliveryStates = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryState = (typeof deliveryStates)[number];

/** PostgreSQL's 64-bit transaction id (13+), read and written as its decimal text. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * A dossier system's endpoint, registered by an admin for an agency's subtree. The secrets sign
 * every delivery (all of them while rotating); the hub needs them in clear to sign, and never
 * shows them again. Deleting keeps the row (its deliveries' history) with `deletedAt`.
 */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid().primaryKey(),
    url: text().notNull(),
    agencyCode: text()
      .notNull()
      .references(() => agencies.code),
    events: text().array().notNull(),
    secrets: text().array().notNull(),
    description: text(),
    active: boolean().notNull().default(true),
    createdBy: text().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    deletedAt: instant(),
  },
  (t) => [index('webhook_endpoints_agency_idx').on(t.agencyCode)],
);

/**
 * The transactional outbox: one row per event, written by the transaction that makes the change
 * (a payment, a review's decision, a refund, a receipt), so neither exists without the other.
 * `txid` is the writing transaction's id: the catch-up feed orders by (txid, seq) and serves
 * only transactions older than every one still running, so a page never passes over an event
 * that commits later (a sequence alone is taken in one order and committed in another).
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    id: uuid().primaryKey(),
    seq: bigserial({ mode: 'number' }).notNull().unique(),
    txid: xid8().notNull().default(sql`pg_current_xact_id()`),
    type: text({ enum: eventTypes }).notNull(),
    dossierCode: text().notNull(),
    agencyCode: text().notNull(),
    occurredAt: instant().notNull(),
    /** The event as delivered: the same bytes' content every time it is sent or served. */
    payload: jsonb().$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('outbox_events_feed_idx').on(t.txid, t.seq),
    index('outbox_events_dossier_idx').on(t.dossierCode, t.seq),
    index('outbox_events_occurred_idx').on(t.occurredAt),
  ],
);

/**
 * One event to one endpoint. Only the earliest pending delivery of an (endpoint, dossier) is
 * sent: a later event of a dossier waits until the earlier one succeeded or finally failed.
 * `leaseId` / `leasedUntil`: a worker is sending it; a worker that dies leaves the lease to
 * expire, and the delivery is sent again (at least once).
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid().primaryKey(),
    eventId: uuid()
      .notNull()
      .references(() => outboxEvents.id, { onDelete: 'cascade' }),
    eventSeq: bigint({ mode: 'number' }).notNull(),
    endpointId: uuid()
      .notNull()
      .references(() => webhookEndpoints.id),
    dossierCode: text().notNull(),
    state: text({ enum: deliveryStates }).notNull().default('pending'),
    /** Every attempt ever made; `roundAttempts` since it was created or last re-sent by hand (the retry schedule's step). */
    attempts: integer().notNull().default(0),
    roundAttempts: integer().notNull().default(0),
    nextAttemptAt: instant().notNull(),
    leaseId: uuid(),
    leasedUntil: instant(),
    lastStatus: integer(),
    lastError: text(),
    completedAt: instant(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event_endpoint_key').on(t.eventId, t.endpointId),
    index('webhook_deliveries_queue_idx').on(t.endpointId, t.dossierCode, t.eventSeq).where(sql`state = 'pending'`),
    // Claims walk the pending deliveries oldest event first and stop at the first heads they find.
    index('webhook_deliveries_pending_seq_idx').on(t.eventSeq).where(sql`state = 'pending'`),
    index('webhook_deliveries_recent_idx').on(t.endpointId, t.createdAt),
    // The deliveries in flight (a few per endpoint): what a claim counts against each endpoint's share.
    index('webhook_deliveries_leased_idx').on(t.endpointId, t.leasedUntil).where(sql`state = 'pending' AND leased_until IS NOT NULL`),
  ],
);

/** Every attempt of a delivery, as it went: the receiver's status code, the time it took, the error. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    deliveryId: uuid()
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attemptedAt: instant().notNull(),
    latencyMs: integer().notNull(),
    statusCode: integer(),
    error: text(),
    succeeded: boolean().notNull(),
  },
  (t) => [index('webhook_attempts_delivery_idx').on(t.deliveryId, t.attemptedAt)],
);
