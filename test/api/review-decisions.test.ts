import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, obligations, paymentEvents, paymentIntents, paymentReviews, receipts, refunds } from '../../src/db/schema/index.ts';
import { sandboxTransactions } from '../../src/emulators/schema.ts';
import { applyOutcome } from '../../src/services/apply-outcome.ts';
import { verifyAuditChain } from '../../src/services/audit.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout, deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { bankTransactionId, bankCredit as creditNotification, giveCommuneAnAccount, vietqrGateway } from '../helpers/vietqr.ts';

/**
 * Every review kind the hub opens, decided through the API: the intent's state, its fee lines
 * and the audit rows each decision leaves; four eyes above the threshold; races end in one
 * outcome. Money arrives by the real paths (signed callbacks, the sandbox's checkout).
 */
/** 135.000 đ (the default fee) is under it, 270.000 đ is above. */
const THRESHOLD = 200_000;

let h: Harness;
let portal: string;
let treasury: string;
let otherTreasury: string;
let outsider: string;
let procedure: string;
let doubleFee: string;

beforeAll(async () => {
  h = await createHarness({
    reviewApprovalThreshold: THRESHOLD,
    gateways: vietqrGateway,
  });
  await h.listen();
  await seedAgencyTree(h.ctx);
  await giveCommuneAnAccount(h);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-an' });
  otherTreasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeA], subject: 'ke-toan-binh' });
  outsider = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince], subject: 'ke-toan-khac' });
  procedure = await createProcedure(h.ctx);
  doubleFee = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 270_000 } })]);
});
afterAll(() => h.close());

interface Intent {
  id: string;
  reference: string;
  amount: number;
  dossierCode: string;
  obligationIds: string[];
  status: string;
}

const decide = (id: string, body: Record<string, unknown>, token = treasury, key = idempotencyKey()) =>
  h.request('POST', `/v1/payment-reviews/${id}/decision`, { token, body, headers: { 'idempotency-key': key } });
const approve = (id: string, token: string, note?: string) =>
  h.request('POST', `/v1/payment-reviews/${id}/approve`, { token, body: note ? { note } : {} });
const decline = (id: string, token: string, note: string) =>
  h.request('POST', `/v1/payment-reviews/${id}/decline`, { token, body: { note } });

const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
const reviewRow = async (id: string) => (await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.id, id)))[0]!;
const linesOf = (intent: Intent) => h.db.db.select().from(obligations).where(inArray(obligations.id, intent.obligationIds));
const reviewsOf = (intentId: string) =>
  h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intentId)).orderBy(asc(paymentReviews.createdAt));
const auditOf = (id: string) =>
  h.db.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.resourceType, 'payment_review'), eq(auditLog.resourceId, id)))
    .orderBy(asc(auditLog.id));
const eventsOf = async (intentId: string) =>
  (await h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intentId)).orderBy(asc(paymentEvents.id))).map(
    (e) => `${e.event}:${e.accepted ? e.toStatus : 'refused'}`,
  );

async function sandboxIntent(code = procedure, agencyCode: string = AGENCIES.communeA): Promise<Intent> {
  const dossier = await registerDossier(h, portal, code, { agencyCode });
  return expectJson(await createIntent(h, portal, dossier.code), 201);
}

async function vietqrIntent(): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  return expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
}

const bankCredit = (body: Record<string, unknown>) => creditNotification(h, { time: '2026-12-03T10:15:42+07:00', ...body });

/** A VietQR transfer of 100.000 đ against a 135.000 đ bill: the intent in review, its lines held. */
async function underpaid() {
  const intent = await vietqrIntent();
  await bankCredit({ amount: 100_000, description: `NGUYEN VAN AN chuyen tien ${intent.reference}` });
  const [review] = await reviewsOf(intent.id);
  expect(review).toMatchObject({ kind: 'amount_mismatch', amount: 100_000, status: 'open' });
  expect((await intentRow(intent.id)).status).toBe('needs_review');
  return { intent, review: review! };
}

async function paidThroughCheckout(code = procedure): Promise<Intent> {
  const intent = await sandboxIntent(code);
  const created = await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }));
  expect((await chooseOnCheckout(created.nextAction.url, 'pay')).status).toBe(303);
  expect((await intentRow(intent.id)).status).toBe('succeeded');
  return intent;
}

describe(`deciding reviews on ${databaseLabel}`, () => {
  it('accepts an underpayment only with the amount stated; the intent is paid and the difference stays visible', async () => {
    const { intent, review } = await underpaid();
    await expectProblem(await decide(review.id, { action: 'accept', note: 'Chấp nhận' }), 422, 'review-action-not-allowed');
    await expectProblem(
      await decide(review.id, { action: 'accept', amount: 135_000, note: 'Chấp nhận' }),
      422,
      'review-action-not-allowed',
    );
    const answer = await expectJson(
      await decide(review.id, {
        action: 'accept',
        amount: 100_000,
        note: 'Sao kê 03/12: nhận 100.000 đ; phí chuyển khoản do ngân hàng trừ',
      }),
      200,
    );
    expect(answer.review).toMatchObject({ id: review.id, status: 'resolved' });
    const resolved = await reviewRow(review.id);
    expect(resolved.outcome).toMatchObject({ result: 'paid', acceptedAmount: 100_000, difference: 35_000, intentStatusAfter: 'succeeded' });
    expect(resolved.resolvedBy).toBe('treasury:ke-toan-an');
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', receivedAmount: 100_000 });
    expect((await linesOf(intent)).map((l) => l.status)).toEqual(['paid']);
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toHaveLength(1);
    expect(await eventsOf(intent.id)).toContain('review_resolved_succeeded:succeeded');
    const audit = await auditOf(review.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'treasury:ke-toan-an', action: 'review.decide', agencyCode: AGENCIES.communeA });
    expect(audit[0]!.before).toMatchObject({ status: 'open' });
    expect(audit[0]!.after).toMatchObject({ status: 'resolved', outcome: { result: 'paid' } });
    // Decided once: nobody decides it again, and the row itself refuses to change.
    await expectProblem(await decide(review.id, { action: 'reject', note: 'Thử lại' }, otherTreasury), 409, 'review-not-open');
    await expect(h.db.db.update(paymentReviews).set({ reason: 'rewritten' }).where(eq(paymentReviews.id, review.id))).rejects.toThrow();
  });

  it('an accepted underpayment refunds what was taken, not the amount asked', async () => {
    const intent = await sandboxIntent();
    await h.db.db
      .insert(sandboxTransactions)
      .values({ reference: intent.reference, transactionId: `SBX${intent.reference}`, amount: 100_000, status: 'succeeded' });
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 100_000 }));
    const [review] = await reviewsOf(intent.id);
    await expectJson(await decide(review!.id, { action: 'accept', amount: 100_000, note: 'Chấp nhận số đã nhận' }), 200);
    const refund = (body: Record<string, unknown>) =>
      h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
        token: treasury,
        headers: { 'idempotency-key': idempotencyKey() },
        body,
      });
    const stale = await expectProblem(
      await refund({ amount: 135_000, expectedRefundable: 135_000, reason: 'Hồ sơ bị từ chối' }),
      409,
      'refundable-changed',
    );
    expect(stale.refundable).toBe(100_000);
    expect((await expectJson(await refund({ amount: 100_000, expectedRefundable: 100_000, reason: 'Hồ sơ bị từ chối' }), 201)).status).toBe(
      'succeeded',
    );
    expect(await intentRow(intent.id)).toMatchObject({ status: 'refunded', refundedAmount: 100_000 });
    expect((await linesOf(intent)).map((l) => l.status)).toEqual(['refunded']);
  });

  it('refunds a VietQR underpayment by hand, with the transfer as evidence: the lines are free to pay again', async () => {
    const { intent, review } = await underpaid();
    await expectProblem(await decide(review.id, { action: 'refund', note: 'Trả lại tiền' }), 422, 'review-action-not-allowed');
    await expectJson(
      await decide(review.id, { action: 'refund', note: 'Trả lại người nộp', evidence: 'FT26338912345 Vietcombank 04/12/2026' }),
      200,
    );
    expect(await intentRow(intent.id)).toMatchObject({ status: 'refunded', refundedAmount: 100_000 });
    expect((await linesOf(intent)).map((l) => [l.status, l.liveIntentId])).toEqual([['unpaid', null]]);
    const [refund] = await h.db.db.select().from(refunds).where(eq(refunds.reviewId, review.id));
    expect(refund).toMatchObject({
      method: 'manual',
      status: 'succeeded',
      amount: 100_000,
      gatewayRefundId: 'FT26338912345 Vietcombank 04/12/2026',
    });
    expect((await reviewRow(review.id)).outcome).toMatchObject({ result: 'refunded', refundId: refund!.id });
    // The citizen can pay again.
    expect((await createIntent(h, portal, intent.dossierCode, { gateway: 'vietqr' })).status).toBe(201);
  });

  it('rejects money that never arrived (a fraud hold the gateway reversed): the intent fails, its lines are free', async () => {
    const intent = await sandboxIntent();
    await applyOutcome(h.ctx, {
      intentId: intent.id,
      outcome: { kind: 'needs_review', reason: 'VNPay 07', transactionId: `HOLD${intent.reference}` },
      source: 'callback',
    });
    const [review] = await reviewsOf(intent.id);
    expect(review).toMatchObject({ kind: 'suspected_fraud' });
    await expectJson(await decide(review!.id, { action: 'reject', note: 'Ngân hàng xác nhận đã hoàn giao dịch' }), 200);
    expect((await intentRow(intent.id)).status).toBe('failed');
    expect((await linesOf(intent)).map((l) => [l.status, l.liveIntentId])).toEqual([['unpaid', null]]);
    expect((await reviewRow(review!.id)).outcome).toMatchObject({
      result: 'failed',
      intentStatusBefore: 'needs_review',
      intentStatusAfter: 'failed',
    });
    expect(await eventsOf(intent.id)).toContain('review_resolved_failed:failed');
  });

  it("refunds an amount mismatch through the gateway's refund API; the intent is refunded when the gateway confirms", async () => {
    const intent = await sandboxIntent();
    // The sandbox's own ledger holds the 100.000 đ payment (the outside world, arranged by the test).
    await h.db.db
      .insert(sandboxTransactions)
      .values({ reference: intent.reference, transactionId: `SBX${intent.reference}`, amount: 100_000, status: 'succeeded' });
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 100_000 }));
    const [review] = await reviewsOf(intent.id);
    await expectJson(await decide(review!.id, { action: 'refund', note: 'Hoàn tiền qua cổng' }), 200);
    const [refund] = await h.db.db.select().from(refunds).where(eq(refunds.reviewId, review!.id));
    expect(refund).toMatchObject({ method: 'gateway', status: 'succeeded', amount: 100_000 });
    expect((await reviewRow(review!.id)).outcome).toMatchObject({ result: 'refund_submitted', refundId: refund!.id });
    expect(await intentRow(intent.id)).toMatchObject({ status: 'refunded', refundedAmount: 100_000 });
    expect((await linesOf(intent)).map((l) => [l.status, l.liveIntentId])).toEqual([['unpaid', null]]);
  });

  it('puts a refund the gateway refuses back on the desk as a refund_disputed review of the same money', async () => {
    const intent = await sandboxIntent();
    // No ledger row: the sandbox refuses to refund a payment it never took.
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 90_000 }));
    const [review] = await reviewsOf(intent.id);
    await expectJson(await decide(review!.id, { action: 'refund', note: 'Hoàn tiền qua cổng' }), 200);
    expect((await intentRow(intent.id)).status).toBe('needs_review');
    const reviews = await reviewsOf(intent.id);
    expect(reviews.map((r) => [r.kind, r.status])).toEqual([
      ['amount_mismatch', 'resolved'],
      ['refund_disputed', 'open'],
    ]);
    expect(reviews[1]!.gatewayTransactionId).toMatch(/^refund:/);
    // Through the gateway again, refused again: a second case, never money left with no case open.
    await expectJson(await decide(reviews[1]!.id, { action: 'refund', note: 'Thử hoàn lại qua cổng' }), 200);
    const again = await reviewsOf(intent.id);
    expect(again.map((r) => [r.kind, r.status])).toEqual([
      ['amount_mismatch', 'resolved'],
      ['refund_disputed', 'resolved'],
      ['refund_disputed', 'open'],
    ]);
    expect((await intentRow(intent.id)).status).toBe('needs_review');
    // Decided again, by hand this time: the intent ends refunded and its line is free.
    await expectJson(await decide(again[2]!.id, { action: 'refund', note: 'Chuyển khoản trả lại', evidence: 'FT26338000111' }), 200);
    expect((await intentRow(intent.id)).status).toBe('refunded');
    expect((await linesOf(intent)).map((l) => [l.status, l.liveIntentId])).toEqual([['unpaid', null]]);
  });

  it("refunds a second payment of a paid intent without touching the intent's own payment", async () => {
    const intent = await paidThroughCheckout();
    await deliverSandboxCallback(h, sandboxEvent(intent, { transactionId: `SECOND${intent.reference}` }));
    const [review] = await reviewsOf(intent.id);
    expect(review).toMatchObject({ kind: 'second_payment', proposedAction: 'refund' });
    await expectJson(await decide(review!.id, { action: 'refund', note: 'Nộp trùng, hoàn lần hai' }), 200);
    const [refund] = await h.db.db.select().from(refunds).where(eq(refunds.reviewId, review!.id));
    expect(refund).toMatchObject({ status: 'succeeded', gatewayTransactionId: `SECOND${intent.reference}` });
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', refundedAmount: 0 });
    expect((await linesOf(intent)).map((l) => l.status)).toEqual(['paid']);
    expect(await eventsOf(intent.id)).toContain('review_money_refunded:succeeded');
    // The intent's own payment can still be refunded in full.
    const own = await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
      token: treasury,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { amount: 135_000, expectedRefundable: 135_000, reason: 'Hồ sơ bị từ chối' },
    });
    expect(own.status).toBe(201);
  });

  it('keeps a second payment when accepted, and moves nothing', async () => {
    const intent = await paidThroughCheckout();
    await deliverSandboxCallback(h, sandboxEvent(intent, { transactionId: `KEEP${intent.reference}` }));
    const [review] = await reviewsOf(intent.id);
    await expectJson(await decide(review!.id, { action: 'accept', note: 'Khoản nộp cho hồ sơ bổ sung' }), 200);
    expect((await reviewRow(review!.id)).outcome).toMatchObject({ result: 'kept', intentStatusAfter: 'succeeded' });
    expect(await eventsOf(intent.id)).toContain('review_money_kept:succeeded');
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toHaveLength(1);
  });

  it('will not keep money beside an intent that is not paid: its own review first, or a refund', async () => {
    const intent = await sandboxIntent();
    await applyOutcome(h.ctx, {
      intentId: intent.id,
      outcome: { kind: 'needs_review', reason: 'VNPay 07', transactionId: `HOLD${intent.reference}` },
      source: 'callback',
    });
    await deliverSandboxCallback(h, sandboxEvent(intent, { transactionId: `OTHER${intent.reference}` }));
    const [hold, beside] = await reviewsOf(intent.id);
    expect([hold!.kind, beside!.kind]).toEqual(['suspected_fraud', 'second_payment']);
    await expectProblem(await decide(beside!.id, { action: 'accept', note: 'Giữ lại' }), 422, 'review-action-not-allowed');
    await expectJson(await decide(hold!.id, { action: 'reject', note: 'Ngân hàng đã hoàn khoản bị giữ' }), 200);
    expect((await intentRow(intent.id)).status).toBe('failed');
    await expectProblem(await decide(beside!.id, { action: 'accept', note: 'Giữ lại' }), 422, 'review-action-not-allowed');
    await expectJson(await decide(beside!.id, { action: 'refund', note: 'Trả lại', evidence: 'FT26338000222' }), 200);
    expect(await intentRow(intent.id)).toMatchObject({ status: 'failed', refundedAmount: 0 });
  });

  it('will not accept late money whose fee lines another intent paid meanwhile (409), and refunds it instead', async () => {
    const late = await sandboxIntent();
    await applyOutcome(h.ctx, { intentId: late.id, outcome: { kind: 'cancelled', reason: 'portal' }, source: 'portal' });
    const other = await json(await createIntent(h, portal, late.dossierCode));
    await deliverSandboxCallback(h, sandboxEvent(other));
    await deliverSandboxCallback(h, sandboxEvent(late));
    const [review] = await reviewsOf(late.id);
    expect(review).toMatchObject({ kind: 'late_payment', proposedAction: 'refund' });
    await expectProblem(await decide(review!.id, { action: 'accept', note: 'Chấp nhận' }), 409, 'obligation-unavailable');
    expect((await reviewRow(review!.id)).status).toBe('open');
    expect(await auditOf(review!.id)).toHaveLength(0);
    await h.db.db
      .insert(sandboxTransactions)
      .values({ reference: late.reference, transactionId: `SBX${late.reference}`, amount: 135_000, status: 'succeeded' });
    await expectJson(await decide(review!.id, { action: 'refund', note: 'Nộp sau khi đã hủy' }), 200);
    expect((await intentRow(late.id)).status).toBe('refunded');
    expect((await intentRow(other.id)).status).toBe('succeeded');
  });

  it('accepts late money when its fee lines are still free', async () => {
    const late = await sandboxIntent();
    await applyOutcome(h.ctx, {
      intentId: late.id,
      outcome: { kind: 'payment_declined' as never, reason: 'x' } as never,
      source: 'callback',
    }).catch(() => undefined);
    await deliverSandboxCallback(h, sandboxEvent(late, { type: 'payment.declined' }));
    await deliverSandboxCallback(h, sandboxEvent(late));
    const [review] = await reviewsOf(late.id);
    expect(review).toMatchObject({ kind: 'success_after_decline' });
    await expectJson(await decide(review!.id, { action: 'accept', note: 'Ngân hàng xác nhận đã trừ tiền' }), 200);
    expect((await intentRow(late.id)).status).toBe('succeeded');
    expect((await linesOf(late)).map((l) => l.status)).toEqual(['paid']);
  });
});

describe(`money that names no intent, on ${databaseLabel}`, () => {
  it('an unmatched credit is assigned to a dossier: it pays its intent with every check a callback gets', async () => {
    const intent = await vietqrIntent();
    await bankCredit({ amount: 135_000, description: 'NGUYEN VAN AN nop le phi ho so' });
    const [review] = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.kind, 'unmatched_credit'), eq(paymentReviews.status, 'open')))
      .orderBy(asc(paymentReviews.createdAt));
    // The commune owns the account it reached: its case, not the province's only.
    expect(review).toMatchObject({ intentId: null, agencyCode: AGENCIES.communeA, amount: 135_000 });
    await expectProblem(await decide(review!.id, { action: 'accept', note: 'Chấp nhận' }), 422, 'review-action-not-allowed');
    await expectProblem(await decide(review!.id, { action: 'assign', note: 'Gán' }), 422, 'review-action-not-allowed');
    await expectJson(
      await decide(review!.id, { action: 'assign', dossierCode: intent.dossierCode, note: 'Người nộp gọi điện xác nhận' }, otherTreasury),
      200,
    );
    expect((await reviewRow(review!.id)).outcome).toMatchObject({ result: 'assigned', intentId: intent.id, assignedResult: 'applied' });
    expect((await intentRow(intent.id)).status).toBe('succeeded');
    expect((await linesOf(intent)).map((l) => l.status)).toEqual(['paid']);
  });

  it('an unmatched credit of the wrong amount, assigned, puts the intent in review like any callback would', async () => {
    const intent = await vietqrIntent();
    await bankCredit({ amount: 50_000, description: 'chuyen tien khong ro noi dung' });
    const [review] = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.kind, 'unmatched_credit'), eq(paymentReviews.amount, 50_000), eq(paymentReviews.status, 'open')));
    await expectJson(await decide(review!.id, { action: 'assign', intentId: intent.id, note: 'Đúng người nộp' }), 200);
    expect((await reviewRow(review!.id)).outcome).toMatchObject({ result: 'assigned', assignedResult: 'amount_mismatch' });
    expect((await intentRow(intent.id)).status).toBe('needs_review');
    expect((await reviewsOf(intent.id)).map((r) => r.kind)).toEqual(['amount_mismatch']);
  });

  it("assigns only to an intent in the decider's own scope, checked when deciding, not when approving", async () => {
    await upsertAgency(h.ctx, {
      code: AGENCIES.communeB,
      name: 'UBND xã Long Thành',
      level: 'commune',
      parentCode: AGENCIES.province,
      bankBin: '970436',
      accountNumber: '0071000777777',
      accountName: 'UBND XA LONG THANH',
    });
    const elsewhere = await registerDossier(h, portal, doubleFee, { agencyCode: AGENCIES.communeB });
    const target = await expectJson<Intent>(await createIntent(h, portal, elsewhere.code, { gateway: 'vietqr' }), 201);
    const transactionId = bankTransactionId();
    await bankCredit({ amount: 270_000, transactionId, description: 'nop tien' });
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.gatewayTransactionId, transactionId));
    // A commune A clerk sees the credit (it reached commune A's account) but not commune B's intent.
    const refused = await expectProblem(
      await decide(review!.id, { action: 'assign', intentId: target.id, note: 'Gán cho hồ sơ xã bên' }, otherTreasury),
      422,
      'review-action-not-allowed',
    );
    expect(refused.errors).toEqual([expect.objectContaining({ path: 'intentId' })]);
    expect((await reviewRow(review!.id)).status).toBe('open');
    // The province's clerk may: above the threshold it waits, naming the intent it found.
    await expectJson(await decide(review!.id, { action: 'assign', dossierCode: elsewhere.code, note: 'Đúng hồ sơ' }), 200);
    expect((await reviewRow(review!.id)).decision).toMatchObject({ action: 'assign', intentId: target.id });
    // An approver who cannot see that intent cannot carry the assignment out either.
    await expectProblem(await approve(review!.id, otherTreasury), 422, 'review-action-not-allowed');
    expect((await reviewRow(review!.id)).status).toBe('awaiting_approval');
    const provinceClerk = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-chi' });
    await expectJson(await approve(review!.id, provinceClerk), 200);
    // Carried out with every check a callback gets: the money reached commune A's account, not the
    // one commune B's payer was shown, so the intent goes to review rather than being paid.
    expect((await reviewRow(review!.id)).outcome).toMatchObject({
      result: 'assigned',
      intentId: target.id,
      assignedResult: 'amount_mismatch',
    });
    expect((await intentRow(target.id)).status).toBe('needs_review');
  });

  it('an unreadable signed message needs its amount to be assigned, and can be rejected', async () => {
    await deliverSandboxCallback(h, `{"type":"payment.succeeded","reference":"${randomUUID()}"`);
    const [review] = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.kind, 'unreadable_message'), eq(paymentReviews.status, 'open')));
    expect(review).toMatchObject({ intentId: null, agencyCode: AGENCIES.province });
    const intent = await sandboxIntent();
    await expectProblem(await decide(review!.id, { action: 'assign', intentId: intent.id, note: 'Gán' }), 422, 'review-action-not-allowed');
    await expectProblem(await decide(review!.id, { action: 'refund', note: 'Trả lại', amount: 10_000 }), 422, 'review-action-not-allowed');
    await expectJson(await decide(review!.id, { action: 'reject', note: 'Tin nhắn thử của cổng, không có tiền' }), 200);
    expect((await reviewRow(review!.id)).outcome).toMatchObject({ result: 'rejected' });
    expect((await intentRow(intent.id)).status).toBe('pending');
  });
});

describe(`four eyes above ${THRESHOLD} VND, on ${databaseLabel}`, () => {
  it('waits for another treasury user; a decline reopens the case with the decline on the record; an approval carries it out', async () => {
    const intent = await sandboxIntent(doubleFee);
    await applyOutcome(h.ctx, {
      intentId: intent.id,
      outcome: { kind: 'needs_review', reason: 'VNPay 07', transactionId: `HOLD${intent.reference}` },
      source: 'callback',
    });
    const [review] = await reviewsOf(intent.id);
    const pending = await expectJson(await decide(review!.id, { action: 'accept', note: 'Ngân hàng đã gỡ phong tỏa' }), 200);
    expect(pending.review.status).toBe('awaiting_approval');
    expect(pending.allowedActions).toEqual([]);
    expect((await intentRow(intent.id)).status).toBe('needs_review');
    await expectProblem(await decide(review!.id, { action: 'reject', note: 'Khác' }, otherTreasury), 409, 'review-not-open');
    await expectProblem(await approve(review!.id, treasury), 403, 'approver-must-differ');
    await expectProblem(await decline(review!.id, treasury, 'Tự từ chối'), 403, 'approver-must-differ');
    await expectJson(await decline(review!.id, otherTreasury, 'Chưa có xác nhận của ngân hàng'), 200);
    expect(await reviewRow(review!.id)).toMatchObject({ status: 'open', decision: null });
    await expectProblem(await approve(review!.id, otherTreasury), 409, 'approval-not-pending');

    await expectJson(await decide(review!.id, { action: 'accept', note: 'Đã có công văn ngân hàng' }), 200);
    await expectJson(await approve(review!.id, otherTreasury, 'Đã xem công văn'), 200);
    expect(await reviewRow(review!.id)).toMatchObject({
      status: 'resolved',
      approvedBy: 'treasury:ke-toan-binh',
      resolvedBy: 'treasury:ke-toan-binh',
    });
    expect((await intentRow(intent.id)).status).toBe('succeeded');
    const history = await auditOf(review!.id);
    expect(history.map((r) => [r.action, r.actor, r.reason])).toEqual([
      ['review.decide', 'treasury:ke-toan-an', 'Ngân hàng đã gỡ phong tỏa'],
      ['review.decline', 'treasury:ke-toan-binh', 'Chưa có xác nhận của ngân hàng'],
      ['review.decide', 'treasury:ke-toan-an', 'Đã có công văn ngân hàng'],
      ['review.approve', 'treasury:ke-toan-binh', 'Đã xem công văn'],
    ]);
    expect(history.map((r) => (r.after as { status: string }).status)).toEqual([
      'awaiting_approval',
      'open',
      'awaiting_approval',
      'resolved',
    ]);
  });

  it('rejecting needs no second person: no money moves', async () => {
    const intent = await sandboxIntent(doubleFee);
    await applyOutcome(h.ctx, { intentId: intent.id, outcome: { kind: 'needs_review', reason: 'VNPay 07' }, source: 'callback' });
    const [review] = await reviewsOf(intent.id);
    expect((await expectJson(await decide(review!.id, { action: 'reject', note: 'Giao dịch bị hủy' }), 200)).review.status).toBe(
      'resolved',
    );
  });
});

describe(`who may decide, and retries, on ${databaseLabel}`, () => {
  it('is treasury within scope; a retry with the same key replays, another body with it is refused', async () => {
    const { intent, review } = await underpaid();
    await expectProblem(await decide(review.id, { action: 'reject', note: 'Từ chối' }, portal), 403, 'forbidden');
    await expectProblem(await decide(review.id, { action: 'reject', note: 'Từ chối' }, outsider), 404, 'not-found');
    await expectProblem(await decide(review.id, { action: 'dance', note: 'x' }), 400, 'validation-failed');
    await expectProblem(
      await h.request('POST', `/v1/payment-reviews/${review.id}/decision`, {
        token: treasury,
        body: { action: 'reject', note: 'Từ chối' },
      }),
      400,
      'idempotency-key-required',
    );
    const key = idempotencyKey();
    const first = await expectJson(await decide(review.id, { action: 'reject', note: 'Không nhận được tiền' }, treasury, key), 200);
    const again = await expectJson(await decide(review.id, { action: 'reject', note: 'Không nhận được tiền' }, treasury, key), 200);
    expect(again).toEqual(first);
    await expectProblem(
      await decide(review.id, { action: 'refund', note: 'Khác', evidence: 'FT1' }, treasury, key),
      409,
      'idempotency-key-reused',
    );
    expect(await auditOf(review.id)).toHaveLength(1);
    expect((await intentRow(intent.id)).status).toBe('failed');
  });
});

describe(`races, on ${databaseLabel}`, () => {
  it('two people deciding one case at once: exactly one decision, the other gets 409', async () => {
    for (let round = 0; round < 5; round++) {
      const { intent, review } = await underpaid();
      const answers = await Promise.all([
        decide(review.id, { action: 'accept', amount: 100_000, note: 'Chấp nhận' }),
        decide(review.id, { action: 'refund', note: 'Hoàn lại', evidence: 'FT26338999' }, otherTreasury),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
      const status = (await intentRow(intent.id)).status;
      expect(['succeeded', 'refunded']).toContain(status);
      expect(await auditOf(review.id)).toHaveLength(1);
      expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toHaveLength(status === 'succeeded' ? 1 : 0);
    }
  });

  it('a decision racing a late callback for the same intent ends in one consistent outcome', async () => {
    for (let round = 0; round < 5; round++) {
      const intent = await sandboxIntent();
      await applyOutcome(h.ctx, {
        intentId: intent.id,
        outcome: { kind: 'needs_review', reason: 'VNPay 07', transactionId: `SBX${intent.reference}` },
        source: 'callback',
      });
      const [review] = await reviewsOf(intent.id);
      const [decided, callback] = await Promise.all([
        decide(review!.id, { action: 'accept', note: 'Ngân hàng xác nhận' }),
        deliverSandboxCallback(h, sandboxEvent(intent, { transactionId: `LATE${intent.reference}` })),
      ]);
      expect(decided.status).toBe(200);
      expect(callback.status).toBe(200);
      expect((await intentRow(intent.id)).status).toBe('succeeded');
      expect((await linesOf(intent)).map((l) => l.status)).toEqual(['paid']);
      expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toHaveLength(1);
      // The late payment is its own money: one review of it, open, whichever came first.
      expect((await reviewsOf(intent.id)).filter((r) => r.kind === 'second_payment' && r.status === 'open')).toHaveLength(1);
    }
  });

  it('leaves the audit chain whole after all of the above', async () => {
    const check = await verifyAuditChain(h.ctx);
    expect(check).toMatchObject({ ok: true, firstBroken: null });
    expect(check.checked).toBeGreaterThan(10);
  });
});

/** Opens one review of each kind the hub opens, by the path that opens it; returns it with its intent (if any). */
const openers: Record<string, () => Promise<{ reviewId: string; intent: Intent | null }>> = {
  amount_mismatch: async () => {
    const intent = await sandboxIntent();
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 150_000 }));
    return { reviewId: (await reviewsOf(intent.id))[0]!.id, intent };
  },
  suspected_fraud: async () => {
    const intent = await sandboxIntent();
    await applyOutcome(h.ctx, {
      intentId: intent.id,
      outcome: { kind: 'needs_review', reason: 'VNPay 07', transactionId: `HOLD${intent.reference}` },
      source: 'callback',
    });
    return { reviewId: (await reviewsOf(intent.id))[0]!.id, intent };
  },
  late_payment: async () => {
    const intent = await sandboxIntent();
    await applyOutcome(h.ctx, { intentId: intent.id, outcome: { kind: 'expired', reason: 'deadline' }, source: 'expiry' });
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 150_000 }));
    return { reviewId: (await reviewsOf(intent.id))[0]!.id, intent };
  },
  success_after_decline: async () => {
    const intent = await sandboxIntent();
    await deliverSandboxCallback(h, sandboxEvent(intent, { type: 'payment.declined' }));
    await deliverSandboxCallback(h, sandboxEvent(intent));
    return { reviewId: (await reviewsOf(intent.id))[0]!.id, intent };
  },
  second_payment: async () => {
    const intent = await paidThroughCheckout();
    await deliverSandboxCallback(h, sandboxEvent(intent, { transactionId: `TWICE${intent.reference}` }));
    return { reviewId: (await reviewsOf(intent.id))[0]!.id, intent };
  },
  refund_disputed: async () => {
    const intent = await sandboxIntent();
    await deliverSandboxCallback(h, sandboxEvent(intent, { amount: 150_000 }));
    await expectJson(await decide((await reviewsOf(intent.id))[0]!.id, { action: 'refund', note: 'Hoàn qua cổng' }), 200);
    const disputed = (await reviewsOf(intent.id)).find((r) => r.kind === 'refund_disputed');
    return { reviewId: disputed!.id, intent };
  },
  unmatched_credit: async () => {
    const transactionId = bankTransactionId();
    await bankCredit({ amount: 135_000, transactionId, description: 'nop tien khong ghi ma' });
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.gatewayTransactionId, transactionId));
    return { reviewId: review!.id, intent: null };
  },
  unreadable_message: async () => {
    await deliverSandboxCallback(h, `{"type":"payment.succeeded","amount":135000,"reference":"${randomUUID()}"`);
    const [review] = await h.db.db
      .select()
      .from(paymentReviews)
      .where(and(eq(paymentReviews.kind, 'unreadable_message'), eq(paymentReviews.status, 'open')));
    return { reviewId: review!.id, intent: null };
  },
};

/** kind · action → the intent's status, its fee lines, and what the review says was done. */
const OWN = { accept: ['succeeded', 'paid', 'paid'], reject: ['failed', 'unpaid', 'failed'], refund: ['refunded', 'unpaid', 'refunded'] };
const matrix: Array<[string, string, [string, string, string] | [string, string, string]]> = [
  ...['amount_mismatch', 'suspected_fraud', 'late_payment', 'success_after_decline', 'refund_disputed'].flatMap((kind) =>
    Object.entries(OWN).map(
      ([action, expected]) => [kind, action, expected as [string, string, string]] as [string, string, [string, string, string]],
    ),
  ),
  ['second_payment', 'accept', ['succeeded', 'paid', 'kept']],
  ['second_payment', 'reject', ['succeeded', 'paid', 'rejected']],
  ['second_payment', 'refund', ['succeeded', 'paid', 'refunded']],
  ...['unmatched_credit', 'unreadable_message'].flatMap((kind) => [
    [kind, 'assign', ['succeeded', 'paid', 'assigned']] as [string, string, [string, string, string]],
    [kind, 'refund', ['-', '-', 'refunded']] as [string, string, [string, string, string]],
    [kind, 'reject', ['-', '-', 'rejected']] as [string, string, [string, string, string]],
  ]),
];

describe(`every review kind × every decision, on ${databaseLabel}`, () => {
  it('covers every kind the hub opens', () => {
    expect(new Set(matrix.map(([kind]) => kind))).toEqual(new Set(Object.keys(openers)));
  });

  it.each(matrix)('%s, %s', async (kind, action, [intentStatus, lineStatus, result]) => {
    const { reviewId, intent } = await openers[kind]!();
    expect((await reviewRow(reviewId)).kind).toBe(kind);
    const target = action === 'assign' ? await sandboxIntent() : null;
    const body: Record<string, unknown> = { action, note: `Quyết định ${action} cho ${kind}` };
    if (action === 'refund') body.evidence = 'FT26338123456 Vietcombank';
    if (action === 'assign') body.intentId = target!.id;
    if (kind === 'unmatched_credit' && action === 'assign') {
      // A bank credit goes to an intent of its own channel.
      const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
      const vietqr = await expectJson<Intent>(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
      body.intentId = vietqr.id;
    }
    if (kind === 'unreadable_message' && action !== 'reject') body.amount = 135_000;
    const answer = await expectJson(await decide(reviewId, body), 200);
    expect(answer.review).toMatchObject({ id: reviewId, status: 'resolved' });
    const review = await reviewRow(reviewId);
    expect(review.outcome?.result).toBe(result);
    const affected = (body.intentId as string | undefined) ?? intent?.id;
    if (intentStatus !== '-') {
      const row = await intentRow(affected!);
      expect(row.status).toBe(intentStatus);
      const lines = await h.db.db
        .select()
        .from(obligations)
        .where(
          inArray(
            obligations.id,
            (await linesOfId(affected!)).map((l) => l.id),
          ),
        );
      expect(lines.map((l) => l.status)).toEqual([lineStatus]);
      if (lineStatus === 'unpaid') expect(lines[0]!.liveIntentId).toBeNull();
    }
    const audit = await auditOf(reviewId);
    expect(audit.map((r) => [r.action, r.reason])).toEqual([['review.decide', body.note]]);
    expect(audit[0]!.after).toMatchObject({ status: 'resolved', outcome: { result } });
  });
});

async function linesOfId(intentId: string) {
  const row = await intentRow(intentId);
  return h.db.db.select().from(obligations).where(eq(obligations.dossierCode, row.dossierCode));
}
