import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from '../../src/jobs/delivery-worker.ts';
import { type IsolatedPage, launchBrowser, screenshot, signInWithToken, skipWithoutBrowser } from '../helpers/browser.ts';
import { AGENCIES, seedAgencyTree } from '../helpers/factories.ts';
import { closedPort, makeFailedDelivery, receiverOn } from '../helpers/failed-delivery.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';

/**
 * The admin's webhooks page in a real headless Chromium (Debian's), at 1280 px and at 390 px:
 * an admin signs in, opens the page from the navigation, finds the delivery that failed for good
 * (highlighted, in the "Thất bại" filter, its attempts in an expandable log), brings the receiver
 * up, presses "Gửi lại", comes back to the page with a notice and, once the worker has run, sees
 * the delivery succeeded.
 */
const SHOTS = '/tmp/shots';

describe.skipIf(skipWithoutBrowser('e2e/webhooks-page'))('the webhooks page in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let admin: string;
  const opened: IsolatedPage[] = [];
  const receivers: Server[] = [];
  const failed: Array<{ port: number; delivery: Awaited<ReturnType<typeof makeFailedDelivery>>['delivery'] }> = [];

  beforeAll(async () => {
    h = await createHarness();
    await seedAgencyTree(h.ctx);
    base = await h.listen();
    admin = await mintToken({ role: 'admin', expiresIn: '24h' });
    const portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province], expiresIn: '24h' });
    for (let i = 0; i < 2; i++) {
      const port = await closedPort();
      const made = await makeFailedDelivery(h, { admin, portal }, port);
      failed.push({ port, delivery: made.delivery });
    }
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  }, 180_000);

  afterAll(async () => {
    for (const p of opened) await p.context.close().catch(() => undefined);
    for (const r of receivers) r.close();
    await browser?.close();
    await h?.close();
  });

  async function openWebhooks(viewport: { width: number; height: number }) {
    const isolated = await signInWithToken(browser, base, admin, '/dashboard/campaigns', opened, { viewport });
    const { page } = isolated;
    await page.getByRole('navigation', { name: 'Điều hướng' }).getByRole('link', { name: 'Webhook' }).click();
    await page.waitForURL(`${base}/dashboard/webhooks`);
    return isolated;
  }

  /** Presses "Gửi lại" on the delivery with the receiver now up; the worker runs; the page, reloaded, says it succeeded. */
  async function resend(page: Page, target: (typeof failed)[number]) {
    const up = await receiverOn(target.port);
    receivers.push(up.server);
    const row = page.locator(`#d-${target.delivery.id}`);
    await Promise.all([page.waitForURL(/notice=resent/), row.getByRole('button', { name: /^Gửi lại/ }).click()]);
    expect(new URL(page.url()).hash).toBe(`#d-${target.delivery.id}`);
    expect(await page.getByTestId('notice').innerText()).toContain('xếp lại để gửi ngay');
    expect(await page.locator(`#d-${target.delivery.id}`).getAttribute('data-state')).toBe('pending');
    expect(await deliverDue(h.ctx)).toMatchObject({ sent: 1, succeeded: 1 });
    expect(up.bodies).toHaveLength(1);
    await page.goto(`${base}/dashboard/webhooks`);
    const done = page.locator(`#d-${target.delivery.id}`);
    expect(await done.getAttribute('data-state')).toBe('succeeded');
    expect(await done.getByTestId('state').innerText()).toBe('Đã gửi thành công');
    expect(await done.getByRole('button', { name: /^Gửi lại/ }).count()).toBe(0);
    await done.locator('summary').click();
    expect(await done.locator('ol.attempts li').count()).toBe(5);
    expect(await done.locator('ol.attempts li').last().innerText()).toContain('HTTP 200');
  }

  it('at 1280 px: finds the failed delivery, filters, reads its attempts, re-sends it and sees it succeeded', async () => {
    const { page, errors, external } = await openWebhooks({ width: 1280, height: 900 });
    const target = failed[0]!;
    expect(await page.locator('h1').innerText()).toContain('webhook');
    expect(await page.getByTestId('endpoint').count()).toBe(2);
    const row = page.locator(`#d-${target.delivery.id}`);
    expect(await row.getAttribute('data-state')).toBe('failed');
    expect(await row.getByTestId('state').innerText()).toBe('Thất bại');
    // Highlighted: the failed row's cells are tinted.
    const tint = await row
      .locator('td')
      .first()
      .evaluate((td) => getComputedStyle(td).backgroundColor);
    expect(tint).not.toBe('rgba(0, 0, 0, 0)');

    await page.getByRole('link', { name: /^Thất bại/ }).click();
    await page.waitForURL(`${base}/dashboard/webhooks?state=failed`);
    // Both endpoints hear of the province's dossiers: the second dossier failed at the first endpoint too.
    expect(await page.locator('[data-testid="delivery"]').count()).toBe(3);
    expect(await page.locator('[data-testid="delivery"][data-state="failed"]').count()).toBe(3);

    const log = page.locator(`#d-${target.delivery.id} details`);
    expect(await log.locator('ol.attempts').isVisible()).toBe(false);
    await log.locator('summary').click();
    expect(await log.locator('ol.attempts li').count()).toBe(4);
    await page.screenshot({ path: `${SHOTS}/webhooks-1280.png`, fullPage: true });

    await resend(page, target);
    await screenshot(page, 'webhooks-1280-resent.png');
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  });

  it('at 390 px: readable without sideways scrolling, and the re-send works the same', async () => {
    const { page, errors } = await openWebhooks({ width: 390, height: 844 });
    const target = failed[1]!;
    const row = page.locator(`#d-${target.delivery.id}`);
    expect(await row.getAttribute('data-state')).toBe('failed');
    await row.locator('summary').click();
    expect(await row.locator('ol.attempts li').count()).toBe(4);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const button = row.getByRole('button', { name: /^Gửi lại/ });
    const box = (await button.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${SHOTS}/webhooks-390.png`, fullPage: true });

    await resend(page, target);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, 'webhooks-390-resent.png');
    expect(errors).toEqual([]);
  });
});
