import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  dossiers,
  indicatorDaily,
  obligations,
  offlinePayments,
  paymentEvents,
  paymentIntents,
  receipts,
} from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';

/**
 * Payments at the counter (issue 11): an intent of the `counter` channel that succeeds at once
 * through applyOutcome; 766 flag 0; an e-receipt only when the agency issues them, else the paper
 * receipt's number is kept.
 */
let h: Harness;
let portal: string;
let treasury: string;
let admin: string;
let outsider: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'mot-cua' });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
  admin = await mintToken({ role: 'admin' });
  outsider = await mintToken({ role: 'portal', agencies: [AGENCIES.otherProvince] });
  procedure = await createProcedure(h.ctx, [
    rule({ feeCode: 'LP01', lineNo: 1, formula: { type: 'fixed', amount: 135_000 } }),
    rule({ kind: 'phi', feeCode: 'P02', name: 'Phí thẩm định', lineNo: 2, formula: { type: 'fixed', amount: 50_000 } }),
  ]);
});
afterAll(() => h.close());

const record = (code: string, body: Record<string, unknown>, token = portal, key = idempotencyKey()) =>
  h.request('POST', `/v1/dossiers/${code}/offline-payments`, { token, body, headers: { 'idempotency-key': key } });

const linesOf = (code: string) => h.db.db.select().from(obligations).where(eq(obligations.dossierCode, code)).orderBy(obligations.lineNo);
const intentsOf = (code: string) => h.db.db.select().from(paymentIntents).where(eq(paymentIntents.dossierCode, code));
const dossierRow = async (code: string) => (await h.db.db.select().from(dossiers).where(eq(dossiers.code, code)))[0]!;

describe(`counter payments on ${databaseLabel}`, () => {
  it('pays the lines at once with the paper receipt kept when the agency issues no e-receipt, flag 0', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const body = await expectJson(
      await record(dossier.code, {
        lines: [1, dossier.obligations[1].id],
        method: 'cash',
        collector: 'Nguyễn Thị Lan',
        paperReceiptNumber: '0001234',
        collectedAt: '2026-11-20T09:45:00+07:00',
      }),
      201,
    );
    expect(body).toMatchObject({
      method: 'cash',
      collector: 'Nguyễn Thị Lan',
      paperReceiptNumber: '0001234',
      collectedAt: '2026-11-20T02:45:00.000Z',
      recordedBy: 'portal:mot-cua',
      receipt: null,
      intent: { status: 'succeeded', gateway: 'counter', amount: 185_000, succeededAt: '2026-11-20T02:45:00.000Z', nextAction: null },
    });
    expect((await linesOf(dossier.code)).map((l) => [l.status, l.paidIntentId, l.liveIntentId])).toEqual([
      ['paid', body.intent.id, null],
      ['paid', body.intent.id, null],
    ]);
    const [intent] = await intentsOf(dossier.code);
    expect(intent).toMatchObject({ onlinePaymentFlag: 0, status: 'succeeded', gatewayReference: '0001234' });
    const row = await dossierRow(dossier.code);
    expect(row.onlinePaymentFlag).toBe(0);
    expect(row.paidAt?.toISOString()).toBe('2026-11-20T02:45:00.000Z');
    // No e-receipt and no number taken from the agency's series.
    expect(await h.db.db.select().from(receipts).where(eq(receipts.intentId, body.intent.id))).toEqual([]);
    await expectProblem(
      await h.request('GET', `/v1/payment-intents/${body.intent.id}/receipt`, { token: portal }),
      409,
      'receipt-not-issued',
    );
    const [offline] = await h.db.db.select().from(offlinePayments).where(eq(offlinePayments.intentId, body.intent.id));
    expect(offline).toMatchObject({ method: 'cash', collector: 'Nguyễn Thị Lan', paperReceiptNumber: '0001234', eReceipt: false });
    // Who collected it is in the payment's history and in the audit log.
    const events = await h.db.db.select().from(paymentEvents).where(eq(paymentEvents.intentId, body.intent.id)).orderBy(paymentEvents.id);
    expect(events.map((e) => e.event)).toEqual(['created', 'handed_over', 'payment_succeeded']);
    const succeeded = events[2]!;
    expect(succeeded).toMatchObject({ source: 'counter', actor: 'portal:mot-cua', toStatus: 'succeeded' });
    expect(JSON.stringify(succeeded.detail)).toContain('Nguyễn Thị Lan');
    const [audit] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'offline_payment.record'), eq(auditLog.resourceId, body.intent.id)));
    expect(audit).toMatchObject({ actor: 'portal:mot-cua', agencyCode: AGENCIES.communeA });
    expect(audit!.after).toMatchObject({ collector: 'Nguyễn Thị Lan', amount: 185_000, method: 'cash' });
  });

  it("issues a signed e-receipt when the agency's setting says so (set by an admin)", async () => {
    const settings = await expectJson(
      await h.request('PATCH', `/v1/agencies/${AGENCIES.communeB}`, { token: admin, body: { issuesCounterReceipts: true } }),
      200,
    );
    expect(settings).toMatchObject({ code: AGENCIES.communeB, issuesCounterReceipts: true });
    const listed = await expectJson(await h.request('GET', '/v1/agencies', { token: admin }), 200);
    expect(listed.items.find((a: { code: string }) => a.code === AGENCIES.communeB).issuesCounterReceipts).toBe(true);
    await expectProblem(
      await h.request('PATCH', `/v1/agencies/${AGENCIES.communeB}`, { token: treasury, body: { issuesCounterReceipts: false } }),
      403,
    );

    const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeB });
    const body = await expectJson(await record(dossier.code, { lines: [2], method: 'pos', collector: 'Trần Văn Bình' }, treasury), 201);
    expect(body.receipt).toMatchObject({ number: expect.any(Number), seriesSymbol: expect.any(String) });
    expect(body.paperReceiptNumber).toBeNull();
    const receipt = await expectJson(await h.request('GET', `/v1/payment-intents/${body.intent.id}/receipt`, { token: portal }), 200);
    expect(receipt).toMatchObject({ total: 50_000, gateway: 'counter', collectingAgency: { code: AGENCIES.communeB } });
    expect(receipt.signature).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(receipt.lines).toHaveLength(1);
    const lines = await linesOf(dossier.code);
    expect(lines.map((l) => l.status)).toEqual(['unpaid', 'paid']);
    // Not every line is paid: the dossier is not paid at all yet.
    expect((await dossierRow(dossier.code)).paidAt).toBeNull();
  });

  it('never counts a dossier paid partly at the counter as paid online (766), whichever payment comes last', async () => {
    const online = await registerDossier(h, portal, procedure, { receivedAt: '2026-10-03T09:00:00+07:00' });
    const intent = await expectJson(await createIntent(h, portal, online.code), 201);
    await expectJson(await deliverSandboxCallback(h, sandboxEvent(intent)), 200);
    expect((await dossierRow(online.code)).onlinePaymentFlag).toBe(2);

    // Counter first, then the gateway for the last line: the dossier stays "not paid online".
    const mixed = await registerDossier(h, portal, procedure, { receivedAt: '2026-10-03T10:00:00+07:00' });
    await expectJson(await record(mixed.code, { lines: [1], method: 'bank_transfer', collector: 'Lê Thị Cúc' }), 201);
    const rest = await expectJson(await createIntent(h, portal, mixed.code), 201);
    expect(rest.obligationIds).toEqual([mixed.obligations[1].id]);
    await expectJson(await deliverSandboxCallback(h, sandboxEvent(rest)), 200);
    expect((await linesOf(mixed.code)).every((l) => l.status === 'paid')).toBe(true);
    expect((await dossierRow(mixed.code)).onlinePaymentFlag).toBe(0);

    const counterOnly = await registerDossier(h, portal, procedure, { receivedAt: '2026-10-03T11:00:00+07:00' });
    await expectJson(await record(counterOnly.code, { lines: [1, 2], method: 'cash', collector: 'Lê Thị Cúc' }), 201);
    expect((await dossierRow(counterOnly.code)).onlinePaymentFlag).toBe(0);

    // The roll-up the indicators read: three dossiers that day, one paid online.
    const [day] = await h.db.db
      .select()
      .from(indicatorDaily)
      .where(
        and(
          eq(indicatorDaily.receivedDate, '2026-10-03'),
          eq(indicatorDaily.agencyCode, AGENCIES.communeA),
          eq(indicatorDaily.procedureCode, procedure),
        ),
      );
    expect(day).toMatchObject({ dossiers: 3, paidOnline: 1 });
    const indicators = await expectJson(
      await h.request('GET', `/v1/indicators/online-payment?agency=${AGENCIES.communeA}&from=2026-10-03&to=2026-10-03`, { token: admin }),
      200,
    );
    expect(indicators.dossierOnlinePayment).toMatchObject({ numerator: 1, denominator: 3 });
  });

  it('answers a repeat with the same key with the first answer, and refuses the key with another body', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const key = idempotencyKey();
    const body = { lines: [1, 2], method: 'cash', collector: 'Nguyễn Thị Lan', paperReceiptNumber: 'BL-77' };
    const first = await expectJson(await record(dossier.code, body, portal, key), 201);
    const again = await expectJson(await record(dossier.code, body, portal, key), 201);
    expect(again).toEqual(first);
    expect(await intentsOf(dossier.code)).toHaveLength(1);
    await expectProblem(await record(dossier.code, { ...body, paperReceiptNumber: 'BL-78' }, portal, key), 409, 'idempotency-key-reused');
    // Another key for the same lines: they are paid now.
    await expectProblem(await record(dossier.code, body), 409, 'obligation-unavailable');
    expect(await intentsOf(dossier.code)).toHaveLength(1);
  });

  it('of two counters recording the same line at once, exactly one wins; the same key sent twice at once records once', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const body = { lines: [1], method: 'cash', collector: 'An' };
    const racing = await Promise.all([record(dossier.code, body), record(dossier.code, body, treasury)]);
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409]);
    const key = idempotencyKey();
    const twice = await Promise.all([
      record(dossier.code, { ...body, lines: [2] }, portal, key),
      record(dossier.code, { ...body, lines: [2] }, portal, key),
    ]);
    expect(twice.map((r) => r.status)).toEqual([201, 201]);
    const [a, b] = await Promise.all(twice.map((r) => r.json()));
    expect(a.intent.id).toBe(b.intent.id);
    expect(await intentsOf(dossier.code)).toHaveLength(2);
    expect((await linesOf(dossier.code)).map((l) => l.status)).toEqual(['paid', 'paid']);
  });

  it('refuses lines held by a live intent or already paid, and unknown lines, writing nothing', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const live = await expectJson(await createIntent(h, portal, dossier.code, { obligationIds: [dossier.obligations[0].id] }), 201);
    const before = await h.db.db.select().from(offlinePayments);
    const held = await expectProblem(
      await record(dossier.code, { lines: [1, 2], method: 'cash', collector: 'An' }),
      409,
      'obligation-unavailable',
    );
    expect(held.obligationIds).toEqual([dossier.obligations[0].id]);
    await expectProblem(await record(dossier.code, { lines: [3], method: 'cash', collector: 'An' }), 400, 'validation-failed');
    await expectProblem(
      await record(dossier.code, { lines: ['00000000-0000-4000-8000-000000000000'], method: 'cash', collector: 'An' }),
      400,
      'validation-failed',
    );
    await expectProblem(await record(dossier.code, { lines: [2], method: 'cheque', collector: 'An' }), 400, 'validation-failed');
    await expectProblem(
      await record(dossier.code, { lines: [2], method: 'cash', collector: 'An', collectedAt: '2099-01-01T00:00:00Z' }),
      400,
      'validation-failed',
    );
    await expectProblem(
      await h.request('POST', `/v1/dossiers/${dossier.code}/offline-payments`, {
        token: portal,
        body: { lines: [2], method: 'cash', collector: 'An' },
      }),
      400,
      'idempotency-key-required',
    );
    expect(await intentsOf(dossier.code)).toHaveLength(1);
    expect(await h.db.db.select().from(offlinePayments)).toHaveLength(before.length);
    expect((await linesOf(dossier.code)).map((l) => l.status)).toEqual(['unpaid', 'unpaid']);

    await expectJson(await deliverSandboxCallback(h, sandboxEvent(live)), 200);
    await expectProblem(await record(dossier.code, { lines: [1], method: 'cash', collector: 'An' }), 409, 'obligation-unavailable');
  });

  it('hides dossiers of other agencies, and a counter payment is refunded by hand, not through the hub', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    await expectProblem(await record(dossier.code, { lines: [1], method: 'cash', collector: 'An' }, outsider), 404, 'not-found');
    const campaign = await mintToken({ role: 'campaign', agencies: [AGENCIES.province] });
    await expectProblem(await record(dossier.code, { lines: [1], method: 'cash', collector: 'An' }, campaign), 403);
    const paid = await expectJson(await record(dossier.code, { lines: [1, 2], method: 'cash', collector: 'An' }), 201);
    const refused = await h.request('POST', `/v1/payment-intents/${paid.intent.id}/refunds`, {
      token: treasury,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { amount: 1_000, expectedRefundable: 185_000, reason: 'Thu thừa' },
    });
    const problem = await expectProblem(refused, 422, 'gateway-capability-missing');
    expect(problem.detail).toContain('by hand');
  });
});
