import { mkdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openIsolatedPage, skipWithoutBrowser } from '../helpers/browser.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * A person pays on the sandbox's hosted checkout page in a real browser: the page shows the
 * amount the Vietnamese way, the "Thanh toán" button makes the sandbox call the hub back, and the
 * browser lands on the portal's return URL; then the printable receipt is rendered.
 */
describe.skipIf(skipWithoutBrowser('sandbox checkout'))('sandbox checkout in Chromium', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let portal: string;

  beforeAll(async () => {
    h = await createHarness();
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

  it('pays with one click and lands on the return URL with the status', async () => {
    const procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 2_010_000 } })]);
    const dossier = await registerDossier(h, portal, procedure);
    // The portal's result page: here the hub's own health route stands in for it.
    const intent = await json(await createIntent(h, portal, dossier.code, { returnUrl: `${base}/healthz?from=portal` }));
    const { page, errors, external, context } = await openIsolatedPage(browser, base);
    await page.goto(intent.nextAction.url);
    await expect(page.getByTestId('amount').textContent()).resolves.toContain('2.010.000 đ');
    await expect(page.getByTestId('reference').textContent()).resolves.toBe(intent.reference);
    await page.screenshot({ path: 'test-artifacts/sandbox-checkout.png', fullPage: true });
    await Promise.all([page.waitForURL(/\/healthz\?/), page.getByRole('button', { name: 'Thanh toán' }).click()]);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('status')).toBe('succeeded');
    expect(landed.searchParams.get('reference')).toBe(intent.reference);
    expect((await json(await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }))).status).toBe('succeeded');

    // Opening the same checkout link again shows the decision, not a second payment.
    await page.goto(intent.nextAction.url);
    await expect(page.locator('h1').textContent()).resolves.toBe('Giao dịch đã xử lý');

    const receiptHtml = await (
      await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal, headers: { accept: 'text/html' } })
    ).text();
    await page.setContent(receiptHtml);
    await expect(page.locator('body').textContent()).resolves.toContain('Hai triệu không trăm mười nghìn đồng');
    await page.screenshot({ path: 'test-artifacts/receipt.png', fullPage: true });
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
    await context.close();
  });

  it("the citizen's look-up page shows the checked receipt, readable on a phone", async () => {
    const procedure = await createProcedure(h.ctx, [rule({ formula: { type: 'fixed', amount: 135_000 } })]);
    const dossier = await registerDossier(h, portal, procedure);
    const intent = await json(await createIntent(h, portal, dossier.code, { returnUrl: `${base}/healthz?from=portal` }));
    const checkout = await openIsolatedPage(browser, base);
    await checkout.page.goto(intent.nextAction.url);
    await Promise.all([checkout.page.waitForURL(/\/healthz\?/), checkout.page.getByRole('button', { name: 'Thanh toán' }).click()]);
    await checkout.context.close();
    const receipt = await json(await h.request('GET', `/v1/payment-intents/${intent.id}/receipt`, { token: portal }));
    for (const [name, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['390', { width: 390, height: 844 }],
    ] as const) {
      // No token: the look-up code is all the citizen has.
      const { page, errors, external, context } = await openIsolatedPage(browser, base, { viewport });
      await page.goto(receipt.lookupUrl);
      await expect(page.getByText('Chữ ký số hợp lệ').isVisible()).resolves.toBe(true);
      await expect(page.locator('svg').count()).resolves.toBe(1);
      await expect(page.locator('body').textContent()).resolves.toContain('Một trăm ba mươi lăm nghìn đồng');
      // Nothing wider than the screen: no sideways scrolling on a phone.
      await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: `test-artifacts/receipt-lookup-${name}.png`, fullPage: true });
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await context.close();
    }
  });
});
