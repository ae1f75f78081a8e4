import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paymentReviews, refunds } from '../../src/db/schema/index.ts';
import { appendAudit } from '../../src/services/audit.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { withTransaction } from '../../src/services/context.ts';
import { allowedReviewActions } from '../../src/services/reviews.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { bankCredit, bankTransactionId, COMMUNE_A_ACCOUNT, giveCommuneAnAccount, vietqrGateway } from '../helpers/vietqr.ts';

/**
 * What treasury can see: the review queue, a review's case, the desk's counts, and the lists of
 * intents and refunds, seeded through the real paths (a sandbox callback with a wrong amount,
 * VietQR credits too small, repeated or naming no intent) in two communes and the province,
 * on three Vietnamese dates.
 */

const PROVINCE_ACCOUNT = { bankBin: '970418', accountNumber: '31210000123456', accountName: 'UBND TINH DONG NAI' };

/** Three Vietnamese days; the last starts at 00:30 in Vietnam, still the 21st in UTC. */
const DAY_1 = new Date('2026-11-20T10:00:00+07:00');
const DAY_2 = new Date('2026-11-21T15:00:00+07:00');
const DAY_3 = new Date('2026-11-22T00:30:00+07:00');
/** Each seeded case a minute after the one before it on its day: a frozen clock would tie them, and ties go by id. */
let minute = 0;
const onDay = (day: Date) => {
  h.clock.now = new Date(day.getTime() + ++minute * 60_000);
};

let h: Harness;
let portal: string;
let province: string;
let procedure: string;
const seeded = {
  sandboxMismatchA: { review: '', intent: '', reference: '', dossier: '', body: '' },
  vietqrMismatchA: { review: '', intent: '' },
  secondPaymentA: { review: '', intent: '' },
  unmatchedA: { review: '', inboxBody: '' },
  sandboxMismatchB: { review: '', intent: '' },
  unmatchedProvince: { review: '' },
  paidA: { intent: '', awaitingRefund: '', manualRefund: '' },
};

const get = async (path: string, token = province) => expectJson(await h.request('GET', path, { token }), 200);
const ids = (page: { items: Array<{ id: string }> }) => page.items.map((i) => i.id);

const notifyVietqr = (body: Record<string, unknown>) => bankCredit(h, body);

const credit = (reference: string, amount: number, account = COMMUNE_A_ACCOUNT.accountNumber) => ({
  accountNumber: account,
  amount,
  transactionId: bankTransactionId(),
  time: h.ctx.now().toISOString(),
  description: `MBVCB.1187654321.084512.NGUYEN VAN AN chuyen tien ${reference} thanh toan`,
});

async function pendingIntent(agencyCode: string, gateway: 'sandbox' | 'vietqr' = 'sandbox') {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode });
  return expectJson(await createIntent(h, portal, dossier.code, { gateway }), 201);
}

async function reviewOf(intentId: string) {
  const [row] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intentId));
  return row!;
}

async function reviewByTransaction(transactionId: string) {
  const [row] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.gatewayTransactionId, transactionId));
  return row!;
}

beforeAll(async () => {
  h = await createHarness({
    refundApprovalThreshold: 100_000,
    gateways: vietqrGateway,
  });
  await seedAgencyTree(h.ctx);
  await upsertAgency(h.ctx, {
    code: AGENCIES.province,
    name: 'UBND tỉnh Đồng Nai',
    level: 'province',
    parentCode: null,
    ...PROVINCE_ACCOUNT,
  });
  await giveCommuneAnAccount(h);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  province = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-tinh' });
  procedure = await createProcedure(h.ctx);

  // Day 1: a sandbox payment of the wrong amount (commune A), and an underpaid VietQR transfer (commune A).
  {
    onDay(DAY_1);
    const intent = await pendingIntent(AGENCIES.communeA);
    const body = JSON.stringify(sandboxEvent(intent, { amount: intent.amount - 35_000, occurredAt: DAY_1.toISOString() }));
    expect(await expectJson(await deliverSandboxCallback(h, body), 200)).toEqual({ received: true, result: 'amount_mismatch' });
    const review = await reviewOf(intent.id);
    seeded.sandboxMismatchA = { review: review.id, intent: intent.id, reference: intent.reference, dossier: intent.dossierCode, body };
  }
  {
    onDay(DAY_1);
    const intent = await pendingIntent(AGENCIES.communeA, 'vietqr');
    expect((await notifyVietqr(credit(intent.reference, 100_000))).answer).toMatchObject({ result: 'amount_mismatch' });
    seeded.vietqrMismatchA = { review: (await reviewOf(intent.id)).id, intent: intent.id };
  }

  // Day 2: a VietQR intent paid twice (commune A); a credit naming no intent to commune A's account;
  // a paid sandbox intent with refunds.
  {
    onDay(DAY_2);
    const intent = await pendingIntent(AGENCIES.communeA, 'vietqr');
    expect((await notifyVietqr(credit(intent.reference, intent.amount))).answer).toMatchObject({ result: 'applied' });
    onDay(DAY_2);
    expect((await notifyVietqr(credit(intent.reference, intent.amount))).answer).toMatchObject({ result: 'already_final' });
    seeded.secondPaymentA = { review: (await reviewOf(intent.id)).id, intent: intent.id };
  }
  {
    onDay(DAY_2);
    const unknown = credit('HPZZZZZZZZZZ', 50_000);
    const { raw } = await notifyVietqr(unknown);
    seeded.unmatchedA = { review: (await reviewByTransaction(unknown.transactionId)).id, inboxBody: raw };
  }
  {
    onDay(DAY_2);
    const intent = await pendingIntent(AGENCIES.communeA);
    await expectJson(await deliverSandboxCallback(h, sandboxEvent(intent, { occurredAt: DAY_2.toISOString() })), 200);
    const requester = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeA], subject: 'ke-toan-phuong' });
    const refund = await expectJson(
      await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
        token: requester,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { amount: intent.amount, expectedRefundable: intent.amount, reason: 'Hồ sơ bị trả lại' },
      }),
      201,
    );
    expect(refund.status).toBe('awaiting_approval');
    seeded.paidA = { intent: intent.id, awaitingRefund: refund.id, manualRefund: '' };
  }

  // Day 3 (00:30 in Vietnam): commune B's wrong amount, and a credit to the province's account.
  {
    onDay(DAY_3);
    const intent = await pendingIntent(AGENCIES.communeB);
    const body = sandboxEvent(intent, { amount: intent.amount + 5_000, occurredAt: DAY_3.toISOString() });
    expect(await expectJson(await deliverSandboxCallback(h, body), 200)).toEqual({ received: true, result: 'amount_mismatch' });
    seeded.sandboxMismatchB = { review: (await reviewOf(intent.id)).id, intent: intent.id };
  }
  {
    onDay(DAY_3);
    const unknown = credit('', 2_500_000, PROVINCE_ACCOUNT.accountNumber);
    await notifyVietqr({ ...unknown, description: 'CHUYEN TIEN LE PHI' });
    seeded.unmatchedProvince = { review: (await reviewByTransaction(unknown.transactionId)).id };
  }
  h.clock.now = null;

  // A second payment given back by hand in its review (the decision path is services/reviews.ts's;
  // only the refund row it leaves is needed here) and the review's audit row.
  seeded.paidA.manualRefund = randomUUID();
  await h.db.db.insert(refunds).values({
    id: seeded.paidA.manualRefund,
    intentId: seeded.secondPaymentA.intent,
    amount: 135_000,
    full: false,
    reason: 'Hoàn khoản chuyển lần hai',
    status: 'succeeded',
    requestedBy: 'treasury:ke-toan-phuong',
    reviewId: seeded.secondPaymentA.review,
    method: 'manual',
    gatewayTransactionId: 'FT-SECOND',
    createdAt: new Date(DAY_3.getTime() + 3_600_000),
  });
  await withTransaction(h.ctx, (tx) =>
    appendAudit(tx, 'treasury:ke-toan-phuong', {
      action: 'decide',
      resourceType: 'payment_review',
      resourceId: seeded.secondPaymentA.review,
      agencyCode: AGENCIES.communeA,
      reason: 'Công dân chuyển hai lần',
      before: { status: 'open' },
      after: { status: 'resolved', action: 'refund' },
    }),
  );
}, 120_000);
afterAll(() => h?.close());

describe('GET /v1/payment-reviews', () => {
  it('lists every review in scope, newest first, with its intent and whose case it is', async () => {
    const page = await get('/v1/payment-reviews');
    expect(ids(page)).toEqual([
      seeded.unmatchedProvince.review,
      seeded.sandboxMismatchB.review,
      seeded.unmatchedA.review,
      seeded.secondPaymentA.review,
      seeded.vietqrMismatchA.review,
      seeded.sandboxMismatchA.review,
    ]);
    expect(page.nextCursor).toBeNull();
    const byId = Object.fromEntries(page.items.map((r: { id: string }) => [r.id, r]));
    expect(byId[seeded.sandboxMismatchA.review]).toMatchObject({
      kind: 'amount_mismatch',
      status: 'open',
      gateway: 'sandbox',
      amount: 100_000,
      currency: 'VND',
      intentId: seeded.sandboxMismatchA.intent,
      intentReference: seeded.sandboxMismatchA.reference,
      dossierCode: seeded.sandboxMismatchA.dossier,
      agencyCode: AGENCIES.communeA,
      decision: null,
    });
    expect(byId[seeded.unmatchedA.review]).toMatchObject({ kind: 'unmatched_credit', intentId: null, agencyCode: AGENCIES.communeA });
    expect(byId[seeded.unmatchedProvince.review]).toMatchObject({
      kind: 'unmatched_credit',
      amount: 2_500_000,
      agencyCode: AGENCIES.province,
    });
  });

  it('filters by kind, status, gateway, agency subtree, Vietnamese creation dates and amount', async () => {
    const list = async (query: string) => ids(await get(`/v1/payment-reviews?${query}`));
    expect(await list('kind=unmatched_credit')).toEqual([seeded.unmatchedProvince.review, seeded.unmatchedA.review]);
    expect(await list('kind=second_payment&gateway=vietqr')).toEqual([seeded.secondPaymentA.review]);
    expect(await list('status=resolved')).toEqual([]);
    expect((await list('status=open')).length).toBe(6);
    expect(await list('gateway=sandbox')).toEqual([seeded.sandboxMismatchB.review, seeded.sandboxMismatchA.review]);
    expect(await list(`agency=${AGENCIES.communeB}`)).toEqual([seeded.sandboxMismatchB.review]);
    // The province's own case (no intent) is the province's, not a commune's.
    expect(await list(`agency=${AGENCIES.communeA}`)).toEqual([
      seeded.unmatchedA.review,
      seeded.secondPaymentA.review,
      seeded.vietqrMismatchA.review,
      seeded.sandboxMismatchA.review,
    ]);
    expect((await list(`agency=${AGENCIES.province}`)).length).toBe(6);
    expect(await list(`agency=${AGENCIES.otherProvince}`)).toEqual([]);
    expect(await list('createdFrom=2026-11-20&createdTo=2026-11-20')).toEqual([
      seeded.vietqrMismatchA.review,
      seeded.sandboxMismatchA.review,
    ]);
    // 00:30 on the 22nd in Vietnam is the 21st in UTC: it is a review of the 22nd.
    expect(await list('createdFrom=2026-11-22')).toEqual([seeded.unmatchedProvince.review, seeded.sandboxMismatchB.review]);
    expect(await list('createdTo=2026-11-21')).toHaveLength(4);
    expect(await list('minAmount=1000000')).toEqual([seeded.unmatchedProvince.review]);
    expect(await list('minAmount=100000&maxAmount=100000')).toEqual([seeded.vietqrMismatchA.review, seeded.sandboxMismatchA.review]);
    expect(await list('maxAmount=50000')).toEqual([seeded.unmatchedA.review]);
  });

  it('pages through the queue with the cursor: every review once, in order, whatever the page size', async () => {
    const all = ids(await get('/v1/payment-reviews'));
    for (const limit of [1, 2, 4, 5]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { items: Array<{ id: string }>; nextCursor: string | null } = await get(
          `/v1/payment-reviews?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...ids(page));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(seen).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / limit));
    }
    // A filter holds across pages.
    const first = await get('/v1/payment-reviews?kind=amount_mismatch&limit=2');
    const second = await get(`/v1/payment-reviews?kind=amount_mismatch&limit=2&cursor=${first.nextCursor}`);
    expect([...ids(first), ...ids(second)]).toEqual([
      seeded.sandboxMismatchB.review,
      seeded.vietqrMismatchA.review,
      seeded.sandboxMismatchA.review,
    ]);
    expect(second.nextCursor).toBeNull();
  });

  it("shows each treasury only its subtree: a commune sees its own, another province's nothing", async () => {
    const communeB = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] });
    expect(ids(await get('/v1/payment-reviews', communeB))).toEqual([seeded.sandboxMismatchB.review]);
    const other = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] });
    expect(await get('/v1/payment-reviews', other)).toEqual({ items: [], nextCursor: null });
    // An agency filter outside the caller's scope narrows to nothing; it never widens.
    expect(await get(`/v1/payment-reviews?agency=${AGENCIES.communeA}`, communeB)).toEqual({ items: [], nextCursor: null });
    const admin = await mintToken({ role: 'admin' });
    expect(ids(await get('/v1/payment-reviews', admin))).toHaveLength(6);
  });

  it.each([
    ['kind=nope', 'query.kind'],
    ['status=closed', 'query.status'],
    ['gateway=paypal', 'query.gateway'],
    ['agency=not%20a%20code', 'query.agency'],
    ['createdFrom=2026-13-01', 'query.createdFrom'],
    ['createdFrom=2026-11-22&createdTo=2026-11-20', 'query.createdTo'],
    ['minAmount=-1', 'query.minAmount'],
    ['minAmount=1.5', 'query.minAmount'],
    ['maxAmount=abc', 'query.maxAmount'],
    ['limit=0', 'query.limit'],
    ['limit=201', 'query.limit'],
    ['cursor=not-a-cursor', 'query.cursor'],
    [`cursor=${Buffer.from(JSON.stringify({ t: "2026-11-20'; DROP TABLE x", id: 'x' })).toString('base64url')}`, 'query.cursor'],
  ])('refuses %s with 400', async (query, path) => {
    const problem = await expectProblem(
      await h.request('GET', `/v1/payment-reviews?${query}`, { token: province }),
      400,
      'validation-failed',
    );
    expect(problem.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('is for treasury and admins only', async () => {
    await expectProblem(await h.request('GET', '/v1/payment-reviews', { token: portal }), 403, 'forbidden');
  });
});

describe('GET /v1/payment-reviews/summary', () => {
  it('counts per status, per kind and per both, with the money still open', async () => {
    const summary = await get('/v1/payment-reviews/summary');
    expect(summary.byStatus).toEqual({ open: 6, awaiting_approval: 0, resolved: 0 });
    expect(summary.byKind).toMatchObject({ amount_mismatch: 3, second_payment: 1, unmatched_credit: 2, suspected_fraud: 0 });
    expect(summary.byStatusAndKind).toEqual(
      expect.arrayContaining([
        { status: 'open', kind: 'amount_mismatch', count: 3, amount: 100_000 + 100_000 + 140_000 },
        { status: 'open', kind: 'unmatched_credit', count: 2, amount: 2_550_000 },
      ]),
    );
    expect(summary.openAmount).toBe(100_000 + 100_000 + 140_000 + 135_000 + 50_000 + 2_500_000);
  });

  it('in scope, and for an agency subtree', async () => {
    const communeB = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] });
    const mine = await get('/v1/payment-reviews/summary', communeB);
    expect(mine.byStatus.open).toBe(1);
    expect(mine.openAmount).toBe(140_000);
    const narrowed = await get(`/v1/payment-reviews/summary?agency=${AGENCIES.communeA}`);
    expect(narrowed.byStatus.open).toBe(4);
    const other = await get('/v1/payment-reviews/summary', await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] }));
    expect(other.byStatus).toEqual({ open: 0, awaiting_approval: 0, resolved: 0 });
    expect(other.byStatusAndKind).toEqual([]);
    expect(other.openAmount).toBe(0);
  });
});

describe('GET /v1/payment-reviews/{id}', () => {
  it('offers assign only for money naming no intent, accept never for it, keeps money only beside a paid intent, and nothing once decided', () => {
    const review = (kind: string, status = 'open', gatewayTransactionId = 'TX-1') =>
      ({ kind, status, gatewayTransactionId, detail: null }) as Parameters<typeof allowedReviewActions>[0];
    const inReview = { status: 'needs_review', gatewayTransactionId: 'TX-1' } as const;
    const paid = { status: 'succeeded', gatewayTransactionId: 'TX-0' } as const;
    const failed = { status: 'failed', gatewayTransactionId: 'TX-0' } as const;
    expect(allowedReviewActions(review('amount_mismatch'), inReview)).toEqual(['accept', 'refund', 'reject']);
    expect(allowedReviewActions(review('second_payment'), paid)).toEqual(['accept', 'refund', 'reject']);
    expect(allowedReviewActions(review('second_payment', 'open', 'TX-2'), inReview)).toEqual(['refund', 'reject']);
    expect(allowedReviewActions(review('second_payment'), failed)).toEqual(['refund', 'reject']);
    expect(allowedReviewActions(review('unmatched_credit'), null)).toEqual(['refund', 'assign', 'reject']);
    expect(allowedReviewActions(review('unreadable_message'), null)).toEqual(['refund', 'assign', 'reject']);
    expect(allowedReviewActions(review('amount_mismatch', 'awaiting_approval'), inReview)).toEqual([]);
    expect(allowedReviewActions(review('unmatched_credit', 'resolved'), null)).toEqual([]);
  });

  it('shows the case: review, intent, dossier, fee lines, the raw message, the events and what may be decided', async () => {
    const { review, intent, reference, dossier, body } = seeded.sandboxMismatchA;
    const detail = await get(`/v1/payment-reviews/${review}`);
    expect(detail.review).toMatchObject({ id: review, kind: 'amount_mismatch', status: 'open', amount: 100_000, proposedAction: 'decide' });
    expect(detail.intent).toMatchObject({
      id: intent,
      status: 'needs_review',
      amount: 135_000,
      receivedAmount: null,
      reference,
      gateway: 'sandbox',
      nextAction: null,
    });
    expect(detail.dossier).toMatchObject({
      code: dossier,
      agencyCode: AGENCIES.communeA,
      agencyName: 'UBND phường Trấn Biên',
      applicant: { name: 'Nguyễn Văn An' },
    });
    expect(detail.dossier.procedureName).toContain('Thủ tục thử nghiệm');
    expect(detail.feeLines).toEqual([expect.objectContaining({ lineNo: 1, name: 'Lệ phí cấp giấy', amount: 135_000, status: 'unpaid' })]);
    expect(detail.messages).toHaveLength(1);
    expect(detail.messages[0]).toMatchObject({
      gateway: 'sandbox',
      method: 'POST',
      url: '/v1/callbacks/sandbox',
      rawBody: body,
      signatureValid: 'valid',
      result: 'amount_mismatch',
    });
    expect(detail.messages[0].headers['sandbox-signature']).toMatch(/^t=\d+,v1=/);
    expect(detail.events.map((e: { event: string }) => e.event)).toEqual(['created', 'handed_over', 'amount_mismatch']);
    expect(detail.refunds).toEqual([]);
    expect(detail.history).toEqual([]);
    expect(detail.allowedActions).toEqual(['accept', 'refund', 'reject']);
  });

  it('shows a credit naming no intent with the message that brought it, and assign among the actions', async () => {
    const detail = await get(`/v1/payment-reviews/${seeded.unmatchedA.review}`);
    expect(detail).toMatchObject({ intent: null, dossier: null, feeLines: [], events: [], refunds: [] });
    expect(detail.messages.map((m: { rawBody: string; result: string }) => [m.rawBody, m.result])).toEqual([
      [seeded.unmatchedA.inboxBody, 'unknown_reference'],
    ]);
    expect(detail.allowedActions).toEqual(['refund', 'assign', 'reject']);
  });

  it("shows a second payment with both messages, the refund decided in it and the review's audit history", async () => {
    const detail = await get(`/v1/payment-reviews/${seeded.secondPaymentA.review}`);
    expect(detail.review.kind).toBe('second_payment');
    expect(detail.intent.status).toBe('succeeded');
    expect(detail.messages.map((m: { result: string }) => m.result)).toEqual(['applied', 'already_final']);
    expect(detail.refunds).toEqual([
      expect.objectContaining({
        id: seeded.paidA.manualRefund,
        reviewId: seeded.secondPaymentA.review,
        method: 'manual',
        gatewayTransactionId: 'FT-SECOND',
      }),
    ]);
    expect(detail.history).toEqual([
      expect.objectContaining({
        actor: 'treasury:ke-toan-phuong',
        action: 'decide',
        resourceType: 'payment_review',
        resourceId: seeded.secondPaymentA.review,
        reason: 'Công dân chuyển hai lần',
        before: { status: 'open' },
        after: { status: 'resolved', action: 'refund' },
      }),
    ]);
  });

  it("answers 404 outside the caller's scope, as for a review that does not exist", async () => {
    const other = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] });
    const communeB = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] });
    await expectProblem(
      await h.request('GET', `/v1/payment-reviews/${seeded.sandboxMismatchA.review}`, { token: other }),
      404,
      'not-found',
    );
    await expectProblem(
      await h.request('GET', `/v1/payment-reviews/${seeded.unmatchedProvince.review}`, { token: communeB }),
      404,
      'not-found',
    );
    await expectProblem(await h.request('GET', `/v1/payment-reviews/${randomUUID()}`, { token: province }), 404, 'not-found');
    await expectProblem(await h.request('GET', '/v1/payment-reviews/not-a-uuid', { token: province }), 400, 'validation-failed');
    expect((await get(`/v1/payment-reviews/${seeded.sandboxMismatchB.review}`, communeB)).review.agencyCode).toBe(AGENCIES.communeB);
  });
});

describe('GET /v1/payment-intents', () => {
  it('lists intents newest first, as GET /v1/payment-intents/{id} shows them', async () => {
    const page = await get('/v1/payment-intents');
    expect(page.items).toHaveLength(5);
    const one = await get(`/v1/payment-intents/${seeded.sandboxMismatchA.intent}`);
    expect(page.items.find((i: { id: string }) => i.id === one.id)).toEqual(one);
    expect(ids(page)[0]).toBe(seeded.sandboxMismatchB.intent);
  });

  it('filters by status, gateway, agency, dossier, reference, created and paid dates', async () => {
    const list = async (query: string, token = province) => ids(await get(`/v1/payment-intents?${query}`, token));
    expect(await list('status=needs_review')).toEqual([
      seeded.sandboxMismatchB.intent,
      seeded.vietqrMismatchA.intent,
      seeded.sandboxMismatchA.intent,
    ]);
    expect(await list('gateway=vietqr')).toEqual([seeded.secondPaymentA.intent, seeded.vietqrMismatchA.intent]);
    expect(await list(`agency=${AGENCIES.communeB}`)).toEqual([seeded.sandboxMismatchB.intent]);
    expect(await list(`dossier=${seeded.sandboxMismatchA.dossier}`)).toEqual([seeded.sandboxMismatchA.intent]);
    expect(await list(`reference=${seeded.sandboxMismatchA.reference.toLowerCase()}`)).toEqual([seeded.sandboxMismatchA.intent]);
    expect(await list('createdFrom=2026-11-21&createdTo=2026-11-21')).toEqual([seeded.paidA.intent, seeded.secondPaymentA.intent]);
    expect(await list('paidFrom=2026-11-21&paidTo=2026-11-21')).toEqual([seeded.paidA.intent, seeded.secondPaymentA.intent]);
    expect(await list('paidFrom=2026-11-22')).toEqual([]);
    // The portal sees its own scope; another province's portal nothing.
    expect((await list('', portal)).length).toBe(5);
    expect(await list('', await mintToken({ role: 'portal', agencies: [AGENCIES.otherProvince] }))).toEqual([]);
    expect(await list('', await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] }))).toEqual([seeded.sandboxMismatchB.intent]);
  });

  it('pages with the cursor, without duplicates or gaps', async () => {
    const all = ids(await get('/v1/payment-intents'));
    const first = await get('/v1/payment-intents?limit=3');
    const second = await get(`/v1/payment-intents?limit=3&cursor=${first.nextCursor}`);
    expect([...ids(first), ...ids(second)]).toEqual(all);
    expect(second.nextCursor).toBeNull();
  });

  it.each(['status=paid', 'paidFrom=2026-11-22&paidTo=2026-11-01', 'reference=HP-1', 'dossier=nope', 'limit=x'])(
    'refuses %s with 400',
    async (query) => {
      await expectProblem(await h.request('GET', `/v1/payment-intents?${query}`, { token: province }), 400, 'validation-failed');
    },
  );
});

describe('GET /v1/refunds', () => {
  it('lists refunds with their review and method, filtered, in scope', async () => {
    const list = async (query: string, token = province) => ids(await get(`/v1/refunds?${query}`, token));
    expect(await list('')).toEqual([seeded.paidA.manualRefund, seeded.paidA.awaitingRefund]);
    expect(await list('status=awaiting_approval')).toEqual([seeded.paidA.awaitingRefund]);
    expect(await list('method=manual')).toEqual([seeded.paidA.manualRefund]);
    expect(await list(`review=${seeded.secondPaymentA.review}`)).toEqual([seeded.paidA.manualRefund]);
    expect(await list(`intent=${seeded.paidA.intent}`)).toEqual([seeded.paidA.awaitingRefund]);
    expect(await list('gateway=vietqr')).toEqual([seeded.paidA.manualRefund]);
    expect(await list(`agency=${AGENCIES.communeB}`)).toEqual([]);
    expect(await list('createdFrom=2026-11-22')).toEqual([seeded.paidA.manualRefund]);
    expect(await list('', portal)).toHaveLength(2);
    expect(await list('', await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince] }))).toEqual([]);
    const page = await get('/v1/refunds?limit=1');
    expect(page.items[0]).toMatchObject({ id: seeded.paidA.manualRefund, reviewId: seeded.secondPaymentA.review, method: 'manual' });
    const next = await get(`/v1/refunds?limit=1&cursor=${page.nextCursor}`);
    expect(next.items[0]).toMatchObject({
      id: seeded.paidA.awaitingRefund,
      status: 'awaiting_approval',
      reviewId: null,
      method: 'gateway',
    });
    expect(next.nextCursor).toBeNull();
  });

  it('still reads one refund by id beside the list', async () => {
    expect((await get(`/v1/refunds/${seeded.paidA.awaitingRefund}`)).status).toBe('awaiting_approval');
  });

  it.each(['status=pending', 'method=cash', 'intent=123', 'review=x', 'createdTo=2026-02-30'])('refuses %s with 400', async (query) => {
    await expectProblem(await h.request('GET', `/v1/refunds?${query}`, { token: province }), 400, 'validation-failed');
  });
});
