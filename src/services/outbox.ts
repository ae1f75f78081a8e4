import { sql } from 'drizzle-orm';
import type { NumberedReceipt } from '../db/statements/issue-receipts.ts';
import { type NewEvent, recordEvents } from '../db/statements/record-events.ts';
import { queryRows } from '../db/types.ts';
import type { IntentEvent } from '../domain/payment-states.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';
import { dossierScopeCondition, type Principal } from './principal.ts';

/**
 * The events dossier systems subscribe to, made where the change is made and written in its
 * transaction (db/statements/record-events.ts). What each carries beside the dossier's own facts
 * is in `data`: the payment (intent id, reference, transaction), the fee line, the receipt, the
 * review.
 */

/** The intent, as every payment event names it. */
export interface PaymentFacts {
  id: string;
  reference: string;
  gateway: string;
  dossierCode: string;
  amount: number;
  status: string;
  gatewayTransactionId: string | null;
}

/** A receipt, as the receipt events name it (a number and look-up the portal can print or link). */
export interface ReceiptFacts extends NumberedReceipt {
  kind: 'original' | 'adjusting' | 'replacing';
  originalId: string | null;
  issuedAt: Date;
}

const payment = (intent: PaymentFacts) => ({
  intentId: intent.id,
  reference: intent.reference,
  status: intent.status,
  paymentAmount: intent.amount,
  gatewayTransactionId: intent.gatewayTransactionId,
});

function event(ctx: ServiceContext, e: Omit<NewEvent, 'id' | 'occurredAt'> & { occurredAt?: Date }): NewEvent {
  return { id: crypto.randomUUID(), occurredAt: e.occurredAt ?? ctx.now(), ...e };
}

/** A payment's fee lines paid, and the dossier when none is left unpaid (its receipt follows when numbered: receipt-issuer.ts). */
export function paidEvents(
  ctx: ServiceContext,
  intent: PaymentFacts,
  paid: { lines: Array<{ obligationId: string; kind: string; feeCode: string; name: string; amount: number }>; dossierPaid: boolean },
): NewEvent[] {
  const common = { dossierCode: intent.dossierCode, gateway: intent.gateway };
  const events = paid.lines.map((line) =>
    event(ctx, {
      ...common,
      type: 'obligation.paid',
      amount: line.amount,
      data: { ...payment(intent), obligation: { id: line.obligationId, kind: line.kind, feeCode: line.feeCode, name: line.name } },
    }),
  );
  if (paid.dossierPaid) events.push(event(ctx, { ...common, type: 'dossier.paid', amount: null, data: payment(intent) }));
  return events;
}

/** receipt.issued / .adjusted / .replaced, with what a portal prints or links: series, number, look-up URL. */
export function receiptEvent(ctx: ServiceContext, receipt: ReceiptFacts): NewEvent {
  const type = receipt.kind === 'original' ? 'receipt.issued' : receipt.kind === 'adjusting' ? 'receipt.adjusted' : 'receipt.replaced';
  return event(ctx, {
    type,
    dossierCode: receipt.dossierCode,
    gateway: receipt.gateway,
    amount: receipt.total,
    data: {
      intentId: receipt.intentId,
      receipt: {
        id: receipt.id,
        kind: receipt.kind,
        originalId: receipt.originalId,
        formSymbol: receipt.formSymbol,
        seriesSymbol: receipt.seriesSymbol,
        number: receipt.number,
        issuedAt: receipt.issuedAt.toISOString(),
        lookupCode: receipt.lookupCode,
        lookupUrl: `${ctx.settings.publicBaseUrl}/receipts/lookup?code=${receipt.lookupCode}`,
      },
    },
  });
}

/** Which named intent moves are told to dossier systems, and as what. */
const MOVE_EVENTS: Partial<Record<IntentEvent, NewEvent['type']>> = {
  handover_failed: 'payment.failed',
  payment_declined: 'payment.failed',
  review_resolved_failed: 'payment.failed',
  expired: 'payment.expired',
  cancelled: 'payment.cancelled',
  amount_mismatch: 'payment.needs_review',
  suspected_fraud: 'payment.needs_review',
  late_payment_needs_review: 'payment.needs_review',
  refund_partial: 'payment.refunded',
  refund_full: 'payment.refunded',
  review_resolved_refunded: 'payment.refunded',
  review_money_refunded: 'payment.refunded',
};

/**
 * The event of a decision that pays nothing: a failure, an expiry, a cancellation, money given
 * back, or money a person must decide on (a review opened, with or without the intent moving).
 */
export function decisionEvents(
  ctx: ServiceContext,
  intent: PaymentFacts,
  change: {
    event: IntentEvent | null;
    moved: boolean;
    /** Money given back by this decision. */
    refunded: number;
    review: { id: string; kind: string; reason: string; amount: number | null } | null;
  },
): NewEvent[] {
  const named = change.event ? MOVE_EVENTS[change.event] : undefined;
  // A fact recorded beside the intent (review_money_refunded) counts without a move; others only when it moved.
  const told = named && (change.moved || named === 'payment.refunded') ? named : undefined;
  const common = { dossierCode: intent.dossierCode, gateway: intent.gateway };
  if (change.review && (told === undefined || told === 'payment.needs_review')) {
    const { review } = change;
    return [
      event(ctx, {
        ...common,
        type: 'payment.needs_review',
        amount: review.amount ?? intent.amount,
        data: { ...payment(intent), review: { id: review.id, kind: review.kind, reason: review.reason } },
      }),
    ];
  }
  if (!told || told === 'payment.needs_review') return [];
  const amount = told === 'payment.refunded' ? change.refunded : intent.amount;
  if (told === 'payment.refunded' && amount <= 0) return [];
  return [event(ctx, { ...common, type: told, amount, data: payment(intent) })];
}

/** Money collected at the counter (cash, card, transfer to the agency), recorded by a person. */
export function offlinePaymentEvent(
  ctx: ServiceContext,
  intent: PaymentFacts,
  recorded: {
    method: string;
    collector: string;
    paperReceiptNumber: string | null;
    collectedAt: Date;
    recordedBy: string;
    eReceipt: boolean;
  },
): NewEvent {
  return event(ctx, {
    type: 'offline_payment.recorded',
    dossierCode: intent.dossierCode,
    gateway: intent.gateway,
    amount: intent.amount,
    data: { ...payment(intent), offlinePayment: { ...recorded, collectedAt: recorded.collectedAt.toISOString() } },
  });
}

/** A person's final decision on a review of money of a dossier. */
export function reviewResolvedEvent(
  ctx: ServiceContext,
  review: { id: string; kind: string; gateway: string; amount: number | null },
  dossierCode: string,
  decision: { action: string; decidedBy: string },
  outcome: Record<string, unknown>,
  resolvedBy: string,
): NewEvent {
  return event(ctx, {
    type: 'payment.review_resolved',
    dossierCode,
    gateway: review.gateway,
    amount: review.amount,
    data: { review: { id: review.id, kind: review.kind, action: decision.action, decidedBy: decision.decidedBy, resolvedBy, outcome } },
  });
}

/** Writes events in the caller's transaction (before its audit row: that lock is always the last). */
export async function emitEvents(ctx: ServiceContext, events: readonly NewEvent[]): Promise<void> {
  if (!ctx.tx) throw new Error('events are written inside the transaction of the change they tell');
  await recordEvents(executor(ctx), events, ctx.now());
}

// ---------------------------------------------------------------------------------------------
// The catch-up feed: GET /v1/events
// ---------------------------------------------------------------------------------------------

/** A position in the feed: after the event of transaction `txid` and sequence `seq`. */
interface FeedPosition {
  txid: string;
  seq: number;
}

/** The cursor a page ends with: opaque to clients (base64url of "txid.seq"). */
function encodeCursor(position: FeedPosition): string {
  return btoa(`${position.txid}.${position.seq}`).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): FeedPosition {
  let text: string;
  try {
    text = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'));
  } catch {
    text = '';
  }
  const match = /^(\d{1,20})\.(\d{1,18})$/.exec(text);
  if (!match)
    throw new ServiceError('validation-failed', 'since: not a cursor this feed gave', [{ path: 'since', message: 'unknown cursor' }]);
  return { txid: match[1]!, seq: Number(match[2]) };
}

export interface FeedPage {
  data: Array<Record<string, unknown>>;
  /** Where the next page starts; the same cursor again when nothing new has settled yet. */
  next: string;
}

/**
 * Events in commit-safe order, in the caller's scope, within the retention window: ordered by
 * (writing transaction, sequence), and only those whose transaction is older than every
 * transaction of this database still running when the page is asked for. A later page can then
 * never hold an event that sorts before one already served: across pages, every event once.
 * (A sequence alone is taken in one order and committed in another.) Within a dossier, `seq`
 * in each event is the order its changes were made.
 */
export async function listEvents(
  ctx: ServiceContext,
  principal: Principal,
  query: { since?: string; dossier?: string; type?: string; limit?: number },
): Promise<FeedPage> {
  const after = query.since ? decodeCursor(query.since) : { txid: '0', seq: 0 };
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
  const db = executor(ctx);
  // First the horizon, then the page, in a later snapshot: every transaction of this database
  // that was running when the horizon was read has an id at or above it, and any transaction
  // below it had ended, so the page's snapshot sees all it wrote.
  const [horizon] = await queryRows<{ horizon: string }>(
    db,
    // pg_stat_activity gives 32-bit ids: each is widened by its signed 32-bit distance from the
    // snapshot's xmax. A running transaction's id may be at or ABOVE xmax (xmax is the last
    // completed id + 1, not the next id to be given), so "above xmax's low half" does not mean
    // "before a wraparound": read so, the horizon went negative, which ::xid8 takes as 2^64 − n,
    // and pages passed over transactions still running.
    sql`WITH next AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS id)
        SELECT least(next.id, (
                 SELECT min(next.id + (a.xid - (next.id & 4294967295) + 6442450944) % 4294967296 - 2147483648)
                 FROM (SELECT backend_xid::text::bigint AS xid FROM pg_stat_activity
                       WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()) a
               ))::text AS horizon
        FROM next`,
  );
  const since = new Date(ctx.now().getTime() - ctx.settings.webhooks.retentionDays * 86_400_000).toISOString();
  const scope = dossierScopeCondition(principal, sql`e.dossier_code`);
  const rows = await queryRows<{ txid: string; seq: number | string; payload: unknown }>(
    db,
    sql`SELECT e.txid::text AS txid, e.seq, e.payload FROM outbox_events e
        WHERE (e.txid, e.seq) > (${after.txid}::xid8, ${after.seq}::bigint)
          AND e.txid < ${horizon!.horizon}::xid8
          AND e.occurred_at >= ${since}::timestamptz
          ${query.dossier ? sql`AND e.dossier_code = ${query.dossier}` : sql``}
          ${query.type ? sql`AND e.type = ${query.type}` : sql``}
          ${scope ? sql`AND ${scope}` : sql``}
        ORDER BY e.txid, e.seq
        LIMIT ${limit}`,
  );
  const last = rows.at(-1);
  return {
    data: rows.map((r) => ({ ...((typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as object), seq: Number(r.seq) })),
    next: last ? encodeCursor({ txid: last.txid, seq: Number(last.seq) }) : (query.since ?? encodeCursor(after)),
  };
}

/** Events past the retention window go, with their deliveries and attempts. */
export async function purgeOldEvents(ctx: ServiceContext, options: { limit?: number } = {}): Promise<number> {
  const before = new Date(ctx.now().getTime() - ctx.settings.webhooks.retentionDays * 86_400_000).toISOString();
  const rows = await queryRows<{ id: string }>(
    ctx.db,
    sql`DELETE FROM outbox_events WHERE id IN (
          SELECT id FROM outbox_events WHERE occurred_at < ${before}::timestamptz ORDER BY occurred_at LIMIT ${options.limit ?? 10_000})
        RETURNING id`,
  );
  return rows.length;
}
