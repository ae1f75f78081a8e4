import { and, asc, eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, obligations, paymentIntents, paymentReviews, refunds } from '../../src/db/schema/index.ts';
import { type IsolatedPage, launchBrowser, screenshot, signInWithToken, skipWithoutBrowser } from '../helpers/browser.ts';
import { AGENCIES, createIntent, createProcedure, idempotencyKey, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';
import { bankTransactionId, bankCredit as creditNotification, giveCommuneAnAccount, vietqrGateway } from '../helpers/vietqr.ts';

/**
 * The treasury's desk in Debian's Chromium, against the hub on a real port: a VietQR
 * underpayment, a bank credit naming no intent and a refund waiting for a second person are each
 * decided through the pages, by people signed in with their own tokens; the intent, its fee lines
 * and the audit log are then what the decisions say. Screenshots at 1280 and 390 px are kept.
 */

describe.skipIf(skipWithoutBrowser('e2e/treasury-desk'))('the treasury desk in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let portal: string;
  let thuQuyAn: string;
  let thuQuyBinh: string;
  let procedure: string;
  let smallFee: string;
  const opened: IsolatedPage[] = [];

  beforeAll(async () => {
    h = await createHarness({
      refundApprovalThreshold: 100_000,
      gateways: vietqrGateway,
    });
    base = await h.listen();
    await seedAgencyTree(h.ctx);
    await giveCommuneAnAccount(h);
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    thuQuyAn = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
    thuQuyBinh = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-binh' });
    procedure = await createProcedure(h.ctx);
    smallFee = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 50_000 } })]);
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    for (const p of opened) await p.context.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  const signIn = (token: string, viewport = { width: 1280, height: 900 }) =>
    signInWithToken(browser, base, token, '/dashboard/treasury', opened, { viewport });

  const bankCredit = (body: Record<string, unknown>) => creditNotification(h, { time: '2026-12-03T10:15:42+07:00', ...body });

  const intentRow = async (id: string) => (await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id)))[0]!;
  const auditOf = (type: string, id: string) =>
    h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, type), eq(auditLog.resourceId, id)))
      .orderBy(asc(auditLog.id));

  it('accepts a VietQR underpayment through the case page, with the amount and a note; Back returns to the filtered queue', async () => {
    const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
    const intent = await expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
    await bankCredit({ amount: 100_000, description: `NGUYEN VAN AN chuyen tien ${intent.reference}` });
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id));

    const { page, errors } = await signIn(thuQuyAn);
    // The queue, filtered by a header count: the filter is in the URL.
    await page
      .getByRole('link', { name: /Sai số tiền/ })
      .first()
      .click();
    await page.waitForURL(/kind=amount_mismatch/);
    const queueUrl = page.url();
    await screenshot(page, 'treasury-desk-queue.png');
    await page.locator(`a[href="/dashboard/treasury/reviews/${review!.id}"]`).first().click();
    await page.waitForURL(`${base}/dashboard/treasury/reviews/${review!.id}`);
    // What was asked beside what the gateway said, and the raw message.
    const body = await page.locator('main').innerText();
    expect(body).toContain(intent.reference);
    expect(body).toContain('135.000');
    expect(body).toContain('100.000');
    expect(await page.locator('pre').first().innerText()).toContain(intent.reference);
    await screenshot(page, 'treasury-desk-case.png');

    // Accept without the amount: refused, the note kept.
    await page.locator('input[name="action"][value="accept"]').check();
    await page.locator('#d-note').fill('Sao kê Vietcombank 03/12: nhận 100.000 đ, phí chuyển do ngân hàng trừ');
    await page.locator('#d-amount').fill('');
    await page.getByRole('button', { name: 'Ghi quyết định' }).click();
    await page.locator('[role="alert"]').first().waitFor();
    expect(await page.locator('#d-note').inputValue()).toContain('Sao kê Vietcombank');
    expect((await intentRow(intent.id)).status).toBe('needs_review');
    // Then with it.
    await page.locator('input[name="action"][value="accept"]').check();
    await page.locator('#d-amount').fill('100.000');
    await page.getByRole('button', { name: 'Ghi quyết định' }).click();
    await page.locator('[role="status"]').first().waitFor();
    expect(await page.locator('main').innerText()).toMatch(/35\.000/);
    expect(await intentRow(intent.id)).toMatchObject({ status: 'succeeded', receivedAmount: 100_000 });
    const lines = await h.db.db.select().from(obligations).where(eq(obligations.dossierCode, dossier.code));
    expect(lines.map((l) => l.status)).toEqual(['paid']);
    expect((await auditOf('payment_review', review!.id)).map((r) => [r.action, r.actor])).toEqual([
      ['review.decide', 'treasury:thu-quy-an'],
    ]);
    await screenshot(page, 'treasury-desk-case-resolved.png');

    await page.goBack();
    await page.goBack();
    await page.goBack();
    expect(page.url()).toBe(queueUrl);
    expect(errors).toEqual([]);
  });

  it('assigns a bank credit that names no intent to the dossier it pays, at 390 px', async () => {
    const dossier = await registerDossier(h, portal, smallFee, { agencyCode: AGENCIES.communeA });
    const intent = await expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
    const transactionId = bankTransactionId();
    await bankCredit({ amount: 50_000, transactionId, description: 'NGUYEN THI BINH nop tien' });
    const [review] = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.gatewayTransactionId, transactionId));
    expect(review).toMatchObject({ kind: 'unmatched_credit', intentId: null });

    const { page, context, errors } = await signIn(thuQuyBinh, { width: 390, height: 844 });
    // A case opened in a new tab by its address: the session is the browser's.
    const tab = await context.newPage();
    await tab.goto(`${base}/dashboard/treasury/reviews/${review!.id}`);
    await tab.locator('input[name="action"][value="assign"]').check();
    await tab.locator('#d-dossierCode').fill(dossier.code);
    await tab.locator('#d-note').fill('Người nộp gọi điện xác nhận chuyển khoản cho hồ sơ này');
    const overflow = await tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(tab, 'treasury-desk-unmatched-390.png');
    await tab.getByRole('button', { name: 'Ghi quyết định' }).click();
    await tab.locator('[role="status"]').first().waitFor();
    expect((await intentRow(intent.id)).status).toBe('succeeded');
    const resolved = (await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.id, review!.id)))[0]!;
    expect(resolved.outcome).toMatchObject({ result: 'assigned', intentId: intent.id, assignedResult: 'applied' });
    await screenshot(tab, 'treasury-desk-unmatched-resolved-390.png');
    expect(page.url()).toBe(`${base}/dashboard/treasury`);
    expect(errors).toEqual([]);
  });

  it('approves a refund awaiting a second person from the refunds page; its requester is not offered the buttons', async () => {
    const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
    const created = await json(await createIntent(h, portal, dossier.code));
    expect((await chooseOnCheckout(created.nextAction.url, 'pay')).status).toBe(303);
    const refund = await expectJson(
      await h.request('POST', `/v1/payment-intents/${created.id}/refunds`, {
        token: thuQuyAn,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { amount: 135_000, expectedRefundable: 135_000, reason: 'Hồ sơ bị từ chối, hoàn lệ phí' },
      }),
      201,
    );
    expect(refund.status).toBe('awaiting_approval');

    const requester = await signIn(thuQuyAn);
    await requester.page.goto(`${base}/dashboard/treasury/refunds?status=awaiting_approval`);
    expect(await requester.page.getByRole('button', { name: `Phê duyệt hoàn tiền ${created.reference}` }).count()).toBe(0);

    const { page, errors } = await signIn(thuQuyBinh);
    await page.getByRole('link', { name: 'Hoàn tiền' }).first().click();
    await page.waitForURL(/\/dashboard\/treasury\/refunds/);
    await page.goto(`${base}/dashboard/treasury/refunds?status=awaiting_approval`);
    await screenshot(page, 'treasury-desk-refunds.png');
    await page.getByRole('button', { name: `Phê duyệt hoàn tiền ${created.reference}` }).click();
    await page.locator('[role="status"]').first().waitFor();
    const [row] = await h.db.db.select().from(refunds).where(eq(refunds.id, refund.id));
    expect(row).toMatchObject({ status: 'succeeded', approvedBy: 'treasury:thu-quy-binh' });
    expect((await intentRow(created.id)).status).toBe('refunded');
    expect((await auditOf('refund', refund.id)).map((r) => [r.action, r.actor])).toEqual([
      ['refund.request', 'treasury:thu-quy-an'],
      ['refund.approve', 'treasury:thu-quy-binh'],
    ]);
    await screenshot(page, 'treasury-desk-refund-approved.png');
    expect(errors).toEqual([]);
  });
});
