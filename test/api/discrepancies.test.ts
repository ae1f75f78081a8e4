import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, discrepancies, paymentIntents, paymentReviews, receipts } from '../../src/db/schema/index.ts';
import { verifyAuditChain } from '../../src/services/audit.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { insertStatement } from '../helpers/statements.ts';
import { bankCredit, bankTransactionId, COMMUNE_A_ACCOUNT, giveCommuneAnAccount, vietqrGateway } from '../helpers/vietqr.ts';

/**
 * Working the discrepancy list (issue 11): a statement line and the payment review about the same
 * money are one case (deciding either resolves both, the money counted once), four eyes above the
 * threshold, and two people resolving at once end in one resolution.
 */
const FEE = 135_000;
const THRESHOLD = 140_000;
const SOURCE = `bank:${COMMUNE_A_ACCOUNT.accountNumber}`;
let h: Harness;
let portal: string;
let treasury: string;
let colleague: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({ reviewApprovalThreshold: THRESHOLD, gateways: vietqrGateway });
  await seedAgencyTree(h.ctx);
  await giveCommuneAnAccount(h);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-an' });
  colleague = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-binh' });
  procedure = await createProcedure(h.ctx);
});
afterAll(() => h.close());

const at = (date: string, minutes = 0) => new Date(new Date(`${date}T03:00:00Z`).getTime() + minutes * 60_000);

async function vietqrIntent(): Promise<{ id: string; reference: string; amount: number }> {
  const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
  return expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
}

const run = (date: string) => h.request('POST', '/v1/reconciliations', { token: treasury, body: { source: SOURCE, date } });
const resolve = (id: string, body: Record<string, unknown>, token = treasury, key = idempotencyKey()) =>
  h.request('POST', `/v1/discrepancies/${id}/resolution`, { token, body, headers: { 'idempotency-key': key } });
const discrepancyOf = async (date: string, cls: string) =>
  (
    await h.db.db
      .select()
      .from(discrepancies)
      .where(and(eq(discrepancies.source, SOURCE), eq(discrepancies.businessDate, date), eq(discrepancies.class, cls as 'missing_in_hub')))
  )[0]!;
const reviewRow = async (id: string) => (await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.id, id)))[0]!;

describe(`a discrepancy and its payment review (${databaseLabel})`, () => {
  it('resolving the missing_in_hub line as a manual match assigns the unmatched credit: one payment, one receipt, both resolved', async () => {
    const date = '2026-12-08';
    h.clock.now = at(date, 0);
    const intent = await vietqrIntent();
    const txn = bankTransactionId();
    // The payer wrote no reference: the hub keeps the credit for a person.
    await bankCredit(h, { transactionId: txn, amount: FEE, description: 'NGUYEN VAN AN nop le phi', time: at(date, 5).toISOString() });
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.gatewayTransactionId, txn));
    expect(review).toMatchObject({ kind: 'unmatched_credit', status: 'open', intentId: null });
    await insertStatement(h, {
      source: SOURCE,
      date,
      lines: [{ transactionId: txn, amount: FEE, occurredAt: at(date, 5), text: 'NGUYEN VAN AN nop le phi' }],
    });
    h.clock.now = at(date, 60);
    await expectJson(await run(date), 200);
    const missing = await discrepancyOf(date, 'missing_in_hub');
    expect(missing).toMatchObject({ subject: `txn:${txn}`, reviewId: review!.id, status: 'open', statementAmount: FEE });

    const resolved = await expectJson(
      await resolve(missing.id, { resolution: 'matched_manually', intentId: intent.id, note: 'Người nộp xác nhận qua điện thoại' }),
      200,
    );
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolution: { resolution: 'matched_manually', by: 'review', intentId: intent.id },
    });
    expect(await reviewRow(review!.id)).toMatchObject({ status: 'resolved', outcome: { result: 'assigned', intentId: intent.id } });
    const [paid] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(paid).toMatchObject({ status: 'succeeded', gatewayTransactionId: txn });
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, intent.id))).toHaveLength(1);

    // Money counted once: matched again, the line is now the intent's payment; nothing new opens.
    const again = await expectJson(await run(date), 200);
    expect(again.summary).toMatchObject({ matched: { count: 1, amount: FEE } });
    expect(again.summary.missing_in_hub).toBeUndefined();
    expect(again.open).toEqual({ discrepancies: 0, reviews: 0 });
    await expectProblem(await resolve(missing.id, { resolution: 'write_off', note: 'again' }), 409, 'discrepancy-not-open');
  });

  it('deciding the review resolves the discrepancy the same way', async () => {
    const date = '2026-12-09';
    h.clock.now = at(date, 0);
    const txn = bankTransactionId();
    await bankCredit(h, { transactionId: txn, amount: 60_000, description: 'chuyen khoan', time: at(date, 5).toISOString() });
    await insertStatement(h, {
      source: SOURCE,
      date,
      lines: [{ transactionId: txn, amount: 60_000, occurredAt: at(date, 5), text: 'chuyen khoan' }],
    });
    await expectJson(await run(date), 200);
    const missing = await discrepancyOf(date, 'missing_in_hub');
    expect(missing.reviewId).not.toBeNull();
    const decided = await h.request('POST', `/v1/payment-reviews/${missing.reviewId}/decision`, {
      token: treasury,
      body: { action: 'refund', note: 'Hoàn lại cho người chuyển nhầm', evidence: 'FT26343000123' },
      headers: { 'idempotency-key': idempotencyKey() },
    });
    expect(decided.status).toBe(200);
    const after = await expectJson(await h.request('GET', `/v1/discrepancies/${missing.id}`, { token: treasury }), 200);
    expect(after).toMatchObject({ status: 'resolved', resolution: { resolution: 'refund', by: 'review' } });
    expect(after.audit.map((a: { action: string }) => a.action)).toContain('discrepancy.follow_review');
  });
});

describe(`four eyes and races (${databaseLabel})`, () => {
  it('a write-off above the threshold waits for another treasury user; approve and decline are audited', async () => {
    const date = '2026-12-10';
    h.clock.now = at(date, 0);
    await insertStatement(h, {
      source: SOURCE,
      date,
      lines: [
        { transactionId: 'BIG-1', amount: 150_000, occurredAt: at(date, 1), text: 'phi ngan hang' },
        { transactionId: 'BIG-2', amount: 150_000, occurredAt: at(date, 2), text: 'phi ngan hang' },
      ],
    });
    await expectJson(await run(date), 200);
    const list = await expectJson(
      await h.request('GET', `/v1/discrepancies?source=${SOURCE}&date=${date}&class=missing_in_hub&limit=1`, { token: treasury }),
      200,
    );
    expect(list.items).toHaveLength(1);
    expect(list.nextCursor).not.toBeNull();
    const rest = await expectJson(
      await h.request('GET', `/v1/discrepancies?source=${SOURCE}&date=${date}&limit=1&cursor=${list.nextCursor}`, { token: treasury }),
      200,
    );
    expect(rest.items).toHaveLength(1);
    const [first, second] = [list.items[0].id as string, rest.items[0].id as string];

    const pending = await expectJson(await resolve(first, { resolution: 'write_off', note: 'Ngân hàng thu phí nhầm' }), 200);
    expect(pending.status).toBe('awaiting_approval');
    await expectProblem(
      await h.request('POST', `/v1/discrepancies/${first}/approve`, { token: treasury, body: {} }),
      403,
      'approver-must-differ',
    );
    const approved = await expectJson(
      await h.request('POST', `/v1/discrepancies/${first}/approve`, { token: colleague, body: { note: 'Đồng ý' } }),
      200,
    );
    expect(approved).toMatchObject({ status: 'resolved', decidedBy: 'treasury:ke-toan-an', approvedBy: 'treasury:ke-toan-binh' });

    await expectJson(await resolve(second, { resolution: 'write_off', note: 'Phí' }), 200);
    const declined = await expectJson(
      await h.request('POST', `/v1/discrepancies/${second}/decline`, { token: colleague, body: { note: 'Cần chứng từ' } }),
      200,
    );
    expect(declined).toMatchObject({ status: 'open', resolution: null });
    expect(declined.audit.map((a: { action: string }) => a.action)).toEqual(['discrepancy.resolve', 'discrepancy.decline']);

    await expectJson(
      await h.request('PATCH', `/v1/discrepancies/${second}`, { token: treasury, body: { assignee: 'treasury:ke-toan-binh' } }),
      200,
    );
    const commented = await expectJson(
      await h.request('POST', `/v1/discrepancies/${second}/comments`, { token: colleague, body: { body: 'Đã gọi ngân hàng' } }),
      201,
    );
    expect(commented).toMatchObject({
      assignee: 'treasury:ke-toan-binh',
      comments: [{ author: 'treasury:ke-toan-binh', body: 'Đã gọi ngân hàng' }],
    });
    expect((await verifyAuditChain(h.ctx)).ok).toBe(true);
    const rows = await h.db.db.select().from(auditLog).where(eq(auditLog.resourceId, first));
    expect(rows.map((r) => r.action)).toEqual(['discrepancy.resolve', 'discrepancy.approve']);
  });

  it('two people resolving at once: one wins, the other is told it is no longer open', async () => {
    const date = '2026-12-11';
    h.clock.now = at(date, 0);
    await insertStatement(h, { source: SOURCE, date, lines: [{ transactionId: 'RACE-1', amount: 10_000, occurredAt: at(date, 1) }] });
    await expectJson(await run(date), 200);
    const missing = await discrepancyOf(date, 'missing_in_hub');
    const answers = await Promise.all([
      resolve(missing.id, { resolution: 'bank_error', note: 'Ngân hàng ghi nhầm' }, treasury),
      resolve(missing.id, { resolution: 'write_off', note: 'Xoá sổ' }, colleague),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    const loser = answers.find((a) => a.status === 409)!;
    expect((await loser.json()).code).toBe('discrepancy-not-open');
    const [row] = await h.db.db.select().from(discrepancies).where(eq(discrepancies.id, missing.id));
    expect(row!.status).toBe('resolved');
    expect(await h.db.db.select().from(auditLog).where(eq(auditLog.resourceId, missing.id))).toHaveLength(1);
  });
});
