import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { buildGateways } from '../../src/gateways/configure.ts';
import { launchBrowser, openIsolatedPage, skipWithoutBrowser } from '../helpers/browser.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * A person pays through the demo's VNPay emulator in a real browser: VNPay's page shows the
 * amount the Vietnamese way, "Thanh toán" makes the emulator send the IPN, and the browser comes
 * back to the hub's return page, which shows the recorded payment.
 */
describe.skipIf(skipWithoutBrowser('VNPay emulator'))('VNPay emulator in Chromium', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let portal: string;

  const vnpay = (baseUrl: string) =>
    parseConfig({
      PUBLIC_BASE_URL: baseUrl,
      VNPAY_TMN_CODE: 'DEMOV210',
      VNPAY_HASH_SECRET: 'VNPAYDEMOSECRET0123456789ABCDEFG',
      VNPAY_PAYMENT_URL: `${baseUrl}/sandbox/vnpay/paymentv2/vpcpay.html`,
      VNPAY_API_URL: `${baseUrl}/sandbox/vnpay/merchant_webapi/api/transaction`,
    }).gateways;

  beforeAll(async () => {
    h = await createHarness({
      gateways: (env) =>
        buildGateways(vnpay(env.baseUrl), { publicBaseUrl: env.baseUrl, fetch: env.fetch, now: env.now, callbackToleranceSeconds: 300 }),
      emulators: (env) => vnpay(env.baseUrl),
    });
    base = await h.listen();
    await seedAgencyTree(h.ctx);
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    browser = await launchBrowser();
    mkdirSync('test-artifacts', { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it("pays with one click and lands on the hub's return page with the payment recorded", async () => {
    const procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 2_010_000 } })]);
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await json(await createIntent(h, portal, dossier.code, { gateway: 'vnpay', returnUrl: `${base}/healthz?from=portal` }));
    const { page, errors, external, context } = await openIsolatedPage(browser, base);
    await page.goto(intent.nextAction.url);
    await expect(page.getByTestId('amount').textContent()).resolves.toContain('2.010.000 đ');
    await expect(page.getByTestId('reference').textContent()).resolves.toBe(intent.reference);
    await page.screenshot({ path: 'test-artifacts/vnpay-emulator.png', fullPage: true });
    await Promise.all([page.waitForURL(/\/v1\/returns\/vnpay\?/), page.getByRole('button', { name: 'Thanh toán' }).click()]);
    await expect(page.locator('body').textContent()).resolves.toContain('Đã ghi nhận thanh toán');
    expect((await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }))).status).toBe('succeeded');
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await context.close();
  });
});
