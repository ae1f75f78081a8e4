import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { describeError, pgError } from '../db/errors.ts';
import { dossiers, paymentIntents, paymentReviews, type RefundStatus, refunds } from '../db/schema/index.ts';
import { COUNTER_CHANNEL, type Gateway, type RefundResult } from '../gateways/types.ts';
import { applyOutcome, type IntentRow, intentSnapshot, type Outcome } from './apply-outcome.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import { actorOf, dossierScopeCondition, type Principal } from './principal.ts';
import { adjustForRefund, type ReceiptRow, signReceipt } from './receipts.ts';

type RefundRow = typeof refunds.$inferSelect;

export interface CreateRefundInput {
  amount: number;
  /** What the caller believes may still be refunded; refused if the hub computes otherwise. */
  expectedRefundable: number;
  reason: string;
}

export interface RefundView {
  id: string;
  intentId: string;
  amount: number;
  currency: 'VND';
  full: boolean;
  reason: string;
  status: RefundStatus;
  requestedBy: string;
  approvedBy: string | null;
  gatewayRefundId: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** Set when a person closed the refund from the gateway's portal or statement. */
  resolution: RefundResolution | null;
  /** The payment review this refund was decided in, if any. */
  reviewId: string | null;
  /** `manual`: the money went back outside the hub (a bank transfer), recorded with its evidence. */
  method: 'gateway' | 'manual';
  /** The gateway transaction given back, when it is not the intent's own (a second payment). */
  gatewayTransactionId: string | null;
}

interface RefundResolution {
  outcome: 'succeeded' | 'failed';
  note: string;
  resolvedBy: string;
  resolvedAt: string;
}

export interface ResolveRefundInput {
  outcome: 'succeeded' | 'failed';
  /** The evidence: where the person saw the refund done or refused. */
  note: string;
  gatewayRefundId?: string;
}

/**
 * How long after an attempt a refund may still be on its way to the gateway: longer than the
 * longest GATEWAY_TIMEOUT_MS (120 s). Neither the resend job nor a person touches it meanwhile.
 */
export const REFUND_SEND_WINDOW_MS = 150_000;

/** Refunds that may still take money back: they count against what is refundable. */
const OPEN_STATUSES: RefundStatus[] = ['awaiting_approval', 'submitted'];

/** The same person whatever role the token carries: a second pair of eyes is another subject. */
const isRequester = (row: RefundRow, principal: Principal) => row.requestedBy.split(':').slice(1).join(':') === principal.subject;

export function refundView(row: RefundRow): RefundView {
  return {
    id: row.id,
    intentId: row.intentId,
    amount: row.amount,
    currency: 'VND',
    full: row.full,
    reason: row.reason,
    status: row.status,
    requestedBy: row.requestedBy,
    approvedBy: row.approvedBy,
    gatewayRefundId: row.gatewayRefundId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    completedAt: row.completedAt?.toISOString() ?? null,
    resolution: (row.detail?.resolution as RefundResolution | undefined) ?? null,
    reviewId: row.reviewId,
    method: row.method,
    gatewayTransactionId: row.gatewayTransactionId,
  };
}

async function intentInScope(ctx: ServiceContext, principal: Principal, intentId: string, lock: boolean): Promise<IntentRow> {
  const scope = dossierScopeCondition(principal, paymentIntents.dossierCode);
  const query = executor(ctx)
    .select()
    .from(paymentIntents)
    .where(scope ? and(eq(paymentIntents.id, intentId), scope) : eq(paymentIntents.id, intentId));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound(`payment intent ${intentId}`);
  return row;
}

function refundingGateway(ctx: ServiceContext, intent: IntentRow): Gateway & Required<Pick<Gateway, 'refund'>> {
  if (intent.gateway === COUNTER_CHANNEL) {
    throw new ServiceError('gateway-capability-missing', 'a counter payment is refunded by hand at the counter, not through the hub');
  }
  const gateway = ctx.gateways[intent.gateway as keyof typeof ctx.gateways];
  if (!gateway?.refund || !gateway.capabilities.refund) {
    throw new ServiceError('gateway-capability-missing', `gateway "${intent.gateway}" cannot refund; return the money outside the hub`);
  }
  return gateway as Gateway & Required<Pick<Gateway, 'refund'>>;
}

/** What the intent took: the amount asked, or what treasury accepted instead (an underpayment, say). */
const paidAmount = (intent: IntentRow) => intent.receivedAmount ?? intent.amount;

/**
 * What may still be refunded: the amount paid, less what was refunded and what open refunds may
 * still take back. Read with the intent locked, so two refunds cannot both count the same money.
 */
async function refundable(ctx: ServiceContext, intent: IntentRow): Promise<number> {
  const [open] = await executor(ctx)
    .select({ sum: sql<string>`coalesce(sum(${refunds.amount}), 0)` })
    .from(refunds)
    // A refund decided in a review gives back that review's money, not the intent's payment.
    .where(and(eq(refunds.intentId, intent.id), inArray(refunds.status, OPEN_STATUSES), isNull(refunds.reviewId)));
  return paidAmount(intent) - intent.refundedAmount - Number(open!.sum);
}

/**
 * Asks for a refund (treasury). The request states the refundable amount it believes in: when
 * the hub computes another (a refund happened meanwhile), 409 — optimistic concurrency on money.
 * When this intent's refunds, this one included, add up to more than the configured amount, the
 * refund waits for a second treasury user's approval; otherwise it is sent to the gateway at
 * once, after its row is committed.
 */
export async function createRefund(
  ctx: ServiceContext,
  principal: Principal,
  intentId: string,
  input: CreateRefundInput,
  idempotencyKey: string,
): Promise<{ status: number; body: RefundView }> {
  const owner = actorOf(principal);
  const fingerprint = requestFingerprint(`POST /v1/payment-intents/${intentId}/refunds`, input);
  const created = await withTransaction(ctx, async (ctx): Promise<{ replay?: string; row?: RefundRow }> => {
    const intent = await intentInScope(ctx, principal, intentId, true);
    // The key is read under the intent's lock, so a concurrent retry waits and then replays.
    const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint);
    if (stored) return { replay: (stored.body as { id: string }).id };
    refundingGateway(ctx, intent); // refused here, before anything is written
    if (intent.status !== 'succeeded' && intent.status !== 'partially_refunded') {
      throw new ServiceError('not-refundable', `a ${intent.status} payment intent has nothing to refund`, [], {
        intentStatus: intent.status,
      });
    }
    const available = await refundable(ctx, intent);
    if (input.expectedRefundable !== available) {
      throw new ServiceError('refundable-changed', `${available} VND may be refunded, not ${input.expectedRefundable}`, [], {
        refundable: available,
      });
    }
    if (input.amount > available) {
      throw new ServiceError(
        'refund-too-large',
        `at most ${available} VND may be refunded`,
        [{ path: 'amount', message: `above ${available}` }],
        {
          refundable: available,
        },
      );
    }
    const now = ctx.now();
    // Compared with everything this intent has refunded or may still refund, so splitting a
    // large refund into small ones cannot avoid the second treasury user.
    const alreadyTaken = paidAmount(intent) - available;
    const needsApproval = alreadyTaken + input.amount > ctx.settings.refundApprovalThreshold;
    const [row] = await executor(ctx)
      .insert(refunds)
      .values({
        id: crypto.randomUUID(),
        intentId: intent.id,
        amount: input.amount,
        // VNPay's "full" (02) returns the whole transaction: only right when nothing else was or
        // may be refunded. The rest after a partial refund is itself a partial refund (03).
        full: input.amount === paidAmount(intent) && alreadyTaken === 0,
        reason: input.reason,
        status: needsApproval ? 'awaiting_approval' : 'submitted',
        requestedBy: owner,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await rememberResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint, { status: 201, body: { id: row!.id } });
    await appendAudit(ctx, principal, {
      action: 'refund.request',
      resourceType: 'refund',
      resourceId: row!.id,
      agencyCode: await intentAgency(ctx, intent.id),
      reason: input.reason,
      before: null,
      after: { intentId: intent.id, amount: row!.amount, status: row!.status },
    });
    return { row: row! };
  }).catch(async (error: unknown) => {
    // The same key used at the same moment for another intent's refund: whichever committed
    // first owns it, and this request is compared with it.
    if (pgError(error).code !== '23505') throw error;
    const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint);
    if (!stored) throw error;
    return { replay: (stored.body as { id: string }).id } as { replay?: string; row?: RefundRow };
  });
  if (created.replay !== undefined) return { status: 201, body: refundView(await refundRow(ctx, created.replay)) };
  const row = created.row!.status === 'submitted' ? await sendRefund(ctx, created.row!.id) : created.row!;
  return { status: 201, body: refundView(row) };
}

async function refundRow(ctx: ServiceContext, id: string): Promise<RefundRow> {
  const [row] = await executor(ctx).select().from(refunds).where(eq(refunds.id, id));
  if (!row) throw notFound(`refund ${id}`);
  return row;
}

async function refundInScope(ctx: ServiceContext, principal: Principal, id: string, lock = false): Promise<RefundRow> {
  const scope = dossierScopeCondition(principal, sql`(SELECT i.dossier_code FROM payment_intents i WHERE i.id = ${refunds.intentId})`);
  const query = executor(ctx)
    .select()
    .from(refunds)
    .where(scope ? and(eq(refunds.id, id), scope) : eq(refunds.id, id));
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw notFound(`refund ${id}`);
  return row;
}

export async function getRefund(ctx: ServiceContext, principal: Principal, id: string): Promise<RefundView> {
  return refundView(await refundInScope(ctx, principal, id));
}

export async function listRefunds(ctx: ServiceContext, principal: Principal, intentId: string): Promise<RefundView[]> {
  await intentInScope(ctx, principal, intentId, false);
  const rows = await executor(ctx).select().from(refunds).where(eq(refunds.intentId, intentId)).orderBy(asc(refunds.createdAt));
  return rows.map(refundView);
}

/** A second treasury user approves (or rejects) a refund above the threshold; never its requester. */
export async function decideRefund(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  decision: 'approve' | 'reject',
): Promise<RefundView> {
  const decided = await withTransaction(ctx, async (ctx) => {
    const row = await refundInScope(ctx, principal, id, true);
    if (row.status !== 'awaiting_approval') {
      throw new ServiceError('approval-not-pending', `this refund is ${row.status}, not awaiting approval`, [], {
        refundStatus: row.status,
      });
    }
    if (isRequester(row, principal)) {
      throw new ServiceError('approver-must-differ', 'a refund is approved by a treasury user other than the one who asked for it');
    }
    if (decision === 'approve') {
      // Refused while still awaiting approval, rather than approved into a refund nobody can send.
      const [intent] = await executor(ctx).select().from(paymentIntents).where(eq(paymentIntents.id, row.intentId));
      refundingGateway(ctx, intent!);
    }
    const [updated] = await executor(ctx)
      .update(refunds)
      .set({ status: decision === 'approve' ? 'submitted' : 'rejected', approvedBy: actorOf(principal), updatedAt: ctx.now() })
      .where(eq(refunds.id, id))
      .returning();
    await appendAudit(ctx, principal, {
      action: `refund.${decision}`,
      resourceType: 'refund',
      resourceId: id,
      agencyCode: await intentAgency(ctx, row.intentId),
      before: { status: row.status },
      after: { status: updated!.status },
    });
    return updated!;
  });
  return refundView(decided.status === 'submitted' ? await sendRefund(ctx, decided.id) : decided);
}

/**
 * A person closes a `submitted` refund the gateway never confirmed (no answer, an answer the hub
 * could not read, or the resend job gave up), from what the gateway's portal or statement shows.
 * `succeeded` moves the intent exactly as the gateway's confirmation would; `failed` frees the
 * amount. Like an approval, never by the requester: one person cannot both ask and confirm.
 */
export async function resolveRefund(ctx: ServiceContext, principal: Principal, id: string, input: ResolveRefundInput): Promise<RefundView> {
  let adjusting: ReceiptRow | null = null;
  const resolved = await withTransaction(ctx, async (ctx) => {
    const row = await refundInScope(ctx, principal, id, true);
    if (row.status !== 'submitted') {
      throw new ServiceError('refund-not-open', `this refund is ${row.status}; only a submitted refund is resolved by hand`, [], {
        refundStatus: row.status,
      });
    }
    if (isRequester(row, principal)) {
      throw new ServiceError('approver-must-differ', 'a refund is resolved by a treasury user other than the one who asked for it');
    }
    const now = ctx.now();
    if (row.attempts > 0 && now.getTime() - row.updatedAt.getTime() < REFUND_SEND_WINDOW_MS) {
      // An attempt may still be on its way to the gateway: a resolution now could contradict
      // what the gateway is about to do with the money.
      throw new ServiceError('refund-not-open', 'this refund was sent to the gateway moments ago; resolve it once its answer is in', [], {
        refundStatus: row.status,
        retryAfterSeconds: Math.ceil((REFUND_SEND_WINDOW_MS - (now.getTime() - row.updatedAt.getTime())) / 1000),
      });
    }
    const actor = actorOf(principal);
    if (input.outcome === 'succeeded') {
      const applied = await applyOutcome(ctx, { intentId: row.intentId, outcome: confirmedOutcome(row), source: 'manual', actor });
      if (applied.result !== 'applied') {
        throw new ServiceError('invalid-transition', `the payment intent cannot take this refund (${applied.result})`);
      }
      adjusting = await adjustReceipt(ctx, row);
    } else {
      await disputeReviewRefund(ctx, row, `refund resolved by hand as failed: ${input.note}`);
    }
    const resolution: RefundResolution = { outcome: input.outcome, note: input.note, resolvedBy: actor, resolvedAt: now.toISOString() };
    const [updated] = await executor(ctx)
      .update(refunds)
      .set({
        status: input.outcome,
        gatewayRefundId: input.gatewayRefundId ?? row.gatewayRefundId,
        detail: { ...row.detail, resolution },
        completedAt: now,
        updatedAt: now,
      })
      .where(eq(refunds.id, id))
      .returning();
    await appendAudit(ctx, principal, {
      action: 'refund.resolve',
      resourceType: 'refund',
      resourceId: id,
      agencyCode: await intentAgency(ctx, row.intentId),
      reason: input.note,
      before: { status: row.status },
      after: { status: updated!.status, gatewayRefundId: updated!.gatewayRefundId },
    });
    return updated!;
  });
  ctx.log.info('refund resolved by hand', { refundId: id, outcome: input.outcome, resolvedBy: actorOf(principal) });
  await signAdjusting(ctx, adjusting);
  return refundView(resolved);
}

/**
 * Sends a submitted refund to its gateway, outside any transaction (no lock is held across an
 * HTTP call), then records what the gateway said. "Unknown" (timeout, 5xx, an answer that does
 * not verify) leaves the refund `submitted`: it still counts against what is refundable, and the
 * resend job (jobs/resend-refunds.ts) sends it again later. That is safe only because every
 * attempt carries the same refund id, which the gateway treats as the same refund.
 *
 * Each attempt is claimed by one conditional UPDATE (still `submitted`, and for the job not
 * touched since `staleBefore`), so a refund closed meanwhile is not sent, and two job runs do not
 * send the same refund at once.
 */
export async function sendRefund(ctx: ServiceContext, id: string, options: { staleBefore?: Date } = {}): Promise<RefundRow> {
  const claim = [eq(refunds.id, id), eq(refunds.status, 'submitted')];
  if (options.staleBefore) claim.push(lte(refunds.updatedAt, options.staleBefore));
  const [row] = await executor(ctx)
    .update(refunds)
    .set({ attempts: sql`${refunds.attempts} + 1`, updatedAt: ctx.now() })
    .where(and(...claim))
    .returning();
  if (!row) return refundRow(ctx, id);
  const [intent] = await executor(ctx).select().from(paymentIntents).where(eq(paymentIntents.id, row.intentId));
  let result: RefundResult;
  try {
    // Inside the try: a gateway no longer configured is "not sent this time", not a dead end.
    result = await refundingGateway(ctx, intent!).refund({
      refundId: row.id,
      // A review's refund gives back that review's transaction (a second payment, say), not the intent's.
      intent: { ...intentSnapshot(intent!), gatewayTransactionId: row.gatewayTransactionId ?? intent!.gatewayTransactionId },
      amount: row.amount,
      full: row.full,
      requestedBy: row.requestedBy,
      reason: row.reason,
      now: ctx.now(),
    });
  } catch (error) {
    result = { kind: 'unknown', reason: describeError(error) };
  }
  if (result.kind === 'failed' && row.attempts > 1) {
    // An earlier attempt went unanswered and may have gone through: a refusal now (VNPay's 95
    // once the money is back, say) does not prove the money is still here. A person decides.
    result = { kind: 'unknown', reason: `refused after an unanswered attempt: ${result.reason}` };
  }
  if (result.kind === 'unknown') {
    ctx.log.warn('refund outcome unknown', { refundId: id, gateway: intent!.gateway, attempts: row.attempts, reason: result.reason });
    await executor(ctx)
      .update(refunds)
      .set({ detail: { ...row.detail, lastAnswer: 'unknown', reason: result.reason }, updatedAt: ctx.now() })
      .where(and(eq(refunds.id, id), eq(refunds.status, 'submitted')));
    return refundRow(ctx, id);
  }
  let adjusting: ReceiptRow | null = null;
  const recorded = await withTransaction(ctx, async (ctx) => {
    const [locked] = await executor(ctx).select().from(refunds).where(eq(refunds.id, id)).for('update');
    if (locked!.status !== 'submitted') {
      // Closed by a person while this attempt was on its way: the resolution stands, but a
      // gateway that says otherwise means money and records disagree, and someone must look.
      if ((locked!.status === 'succeeded') !== (result.kind === 'succeeded')) {
        ctx.log.error('refund answer contradicts its resolution', { refundId: id, status: locked!.status, gatewayAnswer: result.kind });
        await openRefundDispute(ctx, row, `refund resolved by hand as ${locked!.status}, but the gateway answered ${result.kind}`, {
          gatewayAnswer: result,
        });
      }
      return locked!;
    }
    const now = ctx.now();
    if (result.kind === 'succeeded') {
      await applyOutcome(ctx, {
        intentId: row.intentId,
        outcome: confirmedOutcome(row),
        source: 'manual',
        actor: row.approvedBy ?? row.requestedBy,
      });
      adjusting = await adjustReceipt(ctx, row);
    } else {
      await disputeReviewRefund(ctx, row, `the gateway refused the refund: ${result.reason}`);
    }
    const [updated] = await executor(ctx)
      .update(refunds)
      .set({
        status: result.kind === 'succeeded' ? 'succeeded' : 'failed',
        gatewayRefundId: result.kind === 'succeeded' ? (result.gatewayRefundId ?? null) : null,
        detail: result.kind === 'failed' ? { reason: result.reason, ...result.detail } : (result.detail ?? null),
        completedAt: now,
        updatedAt: now,
      })
      .where(eq(refunds.id, id))
      .returning();
    return updated!;
  });
  await signAdjusting(ctx, adjusting);
  return recorded;
}

/**
 * The intent's own money given back is an adjusting receipt of its receipt (receipts.ts); a
 * review's refund gives back money no receipt of the intent was issued for (a second payment).
 */
function adjustReceipt(ctx: ServiceContext, row: RefundRow): Promise<ReceiptRow | null> {
  return row.reviewId ? Promise.resolve(null) : adjustForRefund(ctx, { id: row.id, intentId: row.intentId, amount: row.amount });
}

/** Signed once the refund is committed, like every receipt (the jobs sign it if this fails). */
async function signAdjusting(ctx: ServiceContext, receipt: ReceiptRow | null) {
  if (!receipt) return;
  try {
    const [intent] = await executor(ctx)
      .select({ reference: paymentIntents.reference })
      .from(paymentIntents)
      .where(eq(paymentIntents.id, receipt.intentId));
    await signReceipt(ctx, receipt, intent!.reference);
  } catch (error) {
    ctx.log.warn('adjusting receipt left unsigned for the jobs', { receiptId: receipt.id, error: describeError(error) });
  }
}

/**
 * What a confirmed refund is to its intent: the intent's own refund, or, for a refund decided in a
 * review, that review's money given back (which moves the intent only if it was the money that put
 * it in review: domain/decide.ts rule 7).
 */
function confirmedOutcome(row: RefundRow): Outcome {
  if (!row.reviewId) return { kind: 'refunded', amount: row.amount, refundId: row.id };
  return {
    kind: 'review_decided',
    action: 'refunded',
    reviewId: row.reviewId,
    money: { gatewayTransactionId: row.gatewayTransactionId ?? '', amount: row.amount },
  };
}

/**
 * A refund decided in a review that did not happen: the money is still here, and the decision
 * cannot be rewritten, so a new review about the same money puts the case back on treasury's desk.
 */
async function disputeReviewRefund(ctx: ServiceContext, row: RefundRow, reason: string) {
  if (!row.reviewId) return;
  // The money it was to give back is named, and a decision on this case is a decision on that money.
  await openRefundDispute(
    ctx,
    row,
    `the refund decided in review ${row.reviewId} did not happen (${reason}); the money is still to be decided`,
    {
      reviewId: row.reviewId,
      moneyTransactionId: row.gatewayTransactionId ?? '',
    },
  );
}

/** A `refund_disputed` review, one per refund (a second refund that did not happen is a second case). */
async function openRefundDispute(ctx: ServiceContext, row: RefundRow, reason: string, detail: Record<string, unknown>) {
  await executor(ctx)
    .insert(paymentReviews)
    .values({
      id: crypto.randomUUID(),
      intentId: row.intentId,
      gateway: sql`(SELECT gateway FROM payment_intents WHERE id = ${row.intentId}::uuid)`,
      kind: 'refund_disputed',
      gatewayTransactionId: `refund:${row.id}`,
      amount: row.amount,
      proposedAction: 'decide',
      reason: reason.slice(0, 500),
      detail: { refundId: row.id, ...detail },
      createdAt: ctx.now(),
    })
    .onConflictDoNothing();
}

/** The agency an intent's dossier belongs to now: whose scope an audit row about it is in. */
async function intentAgency(ctx: ServiceContext, intentId: string): Promise<string | null> {
  const [row] = await executor(ctx)
    .select({ agencyCode: dossiers.agencyCode })
    .from(paymentIntents)
    .innerJoin(dossiers, eq(dossiers.code, paymentIntents.dossierCode))
    .where(eq(paymentIntents.id, intentId));
  return row?.agencyCode ?? null;
}
