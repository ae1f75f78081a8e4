import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obligations, paymentEvents, refunds, sandboxRefunds } from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, json, mintToken, type Harness } from '../helpers/harness.ts';
import { expectProblem } from '../helpers/problems.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';

/**
 * Refunds through the gateway (the sandbox's refund API over real HTTP): the caller states the
 * refundable amount it believes in, large refunds need a second treasury user, and no sequence
 * of requests refunds more than was paid.
 */
let h: Harness;
let portal: string;
let treasury: string;
let otherTreasury: string;
let outsider: string;
let procedure: string;

const THRESHOLD = 500_000;

beforeAll(async () => {
  h = await createHarness({ refundApprovalThreshold: THRESHOLD });
  await h.listen();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
  otherTreasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-binh' });
  outsider = await mintToken({ role: 'treasury', agencies: [AGENCIES.otherProvince], subject: 'thu-quy-khac' });
  procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 900_000 } })]);
});
afterAll(() => h.close());

async function paidIntent() {
  const dossier = await registerDossier(h, portal, procedure);
  const intent = await json(await createIntent(h, portal, dossier.code));
  const paid = await chooseOnCheckout(intent.nextAction.url, 'pay');
  expect(paid.status).toBe(303);
  const after = await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }));
  expect(after.status).toBe('succeeded');
  return { dossier, intent: after };
}

const refund = (intentId: string, body: Record<string, unknown>, token = treasury, key = idempotencyKey()) =>
  h.request('POST', `/v1/payment-intents/${intentId}/refunds`, { token, body, headers: { 'idempotency-key': key } });

const intentOf = async (id: string) => json(await h.request('GET', `/v1/payment-intents/${id}`, { token: portal }));

describe(`refunds on ${databaseLabel}`, () => {
  it('refunds part, then the rest, and marks the fee lines refunded only when all is returned', async () => {
    const { dossier, intent } = await paidIntent();
    const first = await refund(intent.id, { amount: 300_000, expectedRefundable: 900_000, reason: 'Hồ sơ bị từ chối một phần' });
    expect(first.status).toBe(201);
    expect(await json(first)).toMatchObject({ status: 'succeeded', amount: 300_000, full: false, requestedBy: 'treasury:thu-quy-an' });
    expect(await intentOf(intent.id)).toMatchObject({ status: 'partially_refunded' });
    const lines = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossier.code));
    expect(lines.every((l) => l.status === 'paid')).toBe(true);

    const rest = await refund(intent.id, { amount: 600_000, expectedRefundable: 600_000, reason: 'Hoàn phần còn lại' }, otherTreasury);
    // 600.000 đ is above the threshold: it waits for someone other than its requester.
    const body = await json(rest);
    expect(body).toMatchObject({ status: 'awaiting_approval', full: true });
    await expectProblem(await h.request('POST', `/v1/refunds/${body.id}/approve`, { token: otherTreasury }), 403, 'approver-must-differ');
    const approved = await h.request('POST', `/v1/refunds/${body.id}/approve`, { token: treasury });
    expect(await json(approved)).toMatchObject({ status: 'succeeded', approvedBy: 'treasury:thu-quy-an' });
    expect(await intentOf(intent.id)).toMatchObject({ status: 'refunded' });
    const after = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossier.code));
    expect(after.every((l) => l.status === 'refunded')).toBe(true);
    const ledger = await h.db.db.select().from(sandboxRefunds).where(eq(sandboxRefunds.reference, intent.reference));
    expect(ledger.reduce((sum, r) => sum + r.amount, 0)).toBe(900_000);
    const events = await h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, intent.id));
    expect(events.filter((e) => e.accepted).map((e) => e.event)).toEqual(['created', 'handed_over', 'payment_succeeded', 'refund_partial', 'refund_full']);
  });

  it('refuses a stale expectedRefundable with 409 and the amount the hub computes', async () => {
    const { intent } = await paidIntent();
    expect((await refund(intent.id, { amount: 100_000, expectedRefundable: 900_000, reason: 'Lần một' })).status).toBe(201);
    const stale = await refund(intent.id, { amount: 100_000, expectedRefundable: 900_000, reason: 'Lần hai' });
    const problem = await expectProblem(stale, 409, 'refundable-changed');
    expect(problem.refundable).toBe(800_000);
    await expectProblem(await refund(intent.id, { amount: 800_001, expectedRefundable: 800_000, reason: 'Quá số tiền' }), 422, 'refund-too-large');
  });

  it('counts refunds awaiting approval against what may be refunded, and a rejected one frees it', async () => {
    const { intent } = await paidIntent();
    const waiting = await json(await refund(intent.id, { amount: 700_000, expectedRefundable: 900_000, reason: 'Chờ duyệt' }));
    expect(waiting.status).toBe('awaiting_approval');
    await expectProblem(await refund(intent.id, { amount: 100_000, expectedRefundable: 900_000, reason: 'Trùng' }), 409, 'refundable-changed');
    const rejected = await h.request('POST', `/v1/refunds/${waiting.id}/reject`, { token: otherTreasury });
    expect(await json(rejected)).toMatchObject({ status: 'rejected', approvedBy: 'treasury:thu-quy-binh' });
    await expectProblem(await h.request('POST', `/v1/refunds/${waiting.id}/approve`, { token: otherTreasury }), 409, 'approval-not-pending');
    expect((await refund(intent.id, { amount: 100_000, expectedRefundable: 900_000, reason: 'Sau khi từ chối' })).status).toBe(201);
    expect(await intentOf(intent.id)).toMatchObject({ status: 'partially_refunded' });
  });

  it('replays a repeated Idempotency-Key instead of refunding twice', async () => {
    const { intent } = await paidIntent();
    const key = idempotencyKey();
    const first = await json(await refund(intent.id, { amount: 50_000, expectedRefundable: 900_000, reason: 'Một lần' }, treasury, key));
    const again = await json(await refund(intent.id, { amount: 50_000, expectedRefundable: 900_000, reason: 'Một lần' }, treasury, key));
    expect(again.id).toBe(first.id);
    await expectProblem(await refund(intent.id, { amount: 60_000, expectedRefundable: 900_000, reason: 'Một lần' }, treasury, key), 409, 'idempotency-key-reused');
    const rows = await h.db.db.select().from(refunds).where(eq(refunds.intentId, intent.id));
    expect(rows).toHaveLength(1);
  });

  it('never refunds more than was paid, however many refunds race', async () => {
    const { intent } = await paidIntent();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => refund(intent.id, { amount: 200_000, expectedRefundable: 900_000, reason: `Song song ${i}` })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const ledger = await h.db.db.select().from(sandboxRefunds).where(eq(sandboxRefunds.reference, intent.reference));
    expect(ledger.reduce((sum, r) => sum + r.amount, 0)).toBe(200_000);
    expect((await intentOf(intent.id)).status).toBe('partially_refunded');
  });

  it('refuses what cannot be refunded: unpaid intents, other agencies, other roles', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const pending = await json(await createIntent(h, portal, dossier.code));
    await expectProblem(await refund(pending.id, { amount: 1, expectedRefundable: 0, reason: 'Chưa trả' }), 409, 'not-refundable');
    const { intent } = await paidIntent();
    await expectProblem(await refund(intent.id, { amount: 1, expectedRefundable: 900_000, reason: 'Ngoài phạm vi' }, outsider), 404, 'not-found');
    await expectProblem(await refund(intent.id, { amount: 1, expectedRefundable: 900_000, reason: 'Cổng' }, portal), 403, 'forbidden');
    await expectProblem(await refund(intent.id, { amount: 0, expectedRefundable: 900_000, reason: 'Không đồng' }), 400, 'validation-failed');
    await expectProblem(
      await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, { token: treasury, body: { amount: 1, expectedRefundable: 900_000, reason: 'Thiếu khoá' } }),
      400,
      'idempotency-key-required',
    );
    const list = await json(await h.request('GET', `/v1/payment-intents/${intent.id}/refunds`, { token: treasury }));
    expect(list.items).toEqual([]);
  });
});

describe(`a refund the gateway does not answer, on ${databaseLabel}`, () => {
  it('stays submitted, still counts against the refundable amount, and is not re-sent', async () => {
    let refundCalls = 0;
    const flaky = await createHarness({
      fetch: async (input, init) => {
        if (String(input).endsWith('/refunds')) {
          refundCalls++;
          return new Response('upstream timeout', { status: 504 });
        }
        return fetch(input, init);
      },
    });
    try {
      await flaky.listen();
      await seedAgencyTree(flaky.ctx);
      const code = await createProcedure(flaky.ctx, [rule({ formula: { type: 'fixed', amount: 90_000 } })]);
      const dossier = await registerDossier(flaky, portal, code);
      const intent = await json(await createIntent(flaky, portal, dossier.code));
      expect((await chooseOnCheckout(intent.nextAction.url, 'pay')).status).toBe(303);
      const sent = await flaky.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
        token: treasury,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { amount: 90_000, expectedRefundable: 90_000, reason: 'Cổng không trả lời' },
      });
      expect(await json(sent)).toMatchObject({ status: 'submitted' });
      expect(refundCalls).toBe(1);
      const again = await flaky.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
        token: treasury,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { amount: 1, expectedRefundable: 90_000, reason: 'Thử lại' },
      });
      expect((await expectProblem(again, 409, 'refundable-changed')).refundable).toBe(0);
      expect(refundCalls).toBe(1);
      const state = await json(await flaky.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }));
      expect(state.status).toBe('succeeded');
    } finally {
      await flaky.close();
    }
  });
});
