import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CAMPAIGN_STARTED_DAYS_AGO } from '../../src/seed/dossiers.ts';
import { DEMO_CAMPAIGN, seedDemo } from '../../src/seed/index.ts';
import { formatDecimal, formatPercent } from '../../src/web/format.ts';
import { type IsolatedPage, launchBrowser, openIsolatedPage, skipWithoutBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * The campaign dashboard in a real headless Chromium (Debian's), against the hub on a real port
 * with the demo data and its seeded campaign: the numbers on the page are the API's, the chart
 * has a point per day of the campaign so far, a unit can be drilled into, the token survives a
 * reload of the tab and goes with signing out, and the page works with JavaScript off.
 */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
const NOW = new Date('2026-11-20T10:00:00+07:00');

describe.skipIf(skipWithoutBrowser('e2e/dashboard'))('the campaign dashboard in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let token: string;
  let progress: any;
  const opened: IsolatedPage[] = [];

  beforeAll(async () => {
    h = await createHarness();
    h.clock.now = NOW;
    base = await h.listen();
    const report = await seedDemo(h.ctx, { now: NOW });
    token = await mintToken({ role: 'campaign', agencies: ['000.00.00.H19'] });
    progress = await json(await h.request('GET', `/v1/campaigns/${report.campaignId}/progress`, { token }));
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    for (const p of opened) await p.context.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  async function signIn(options: { javaScriptEnabled?: boolean } = {}) {
    const isolated = await openIsolatedPage(browser, base, options);
    opened.push(isolated);
    const { page } = isolated;
    await page.goto(`${base}/dashboard`);
    await page.locator('#token').fill(token);
    await Promise.all([page.waitForURL(`${base}/dashboard`), page.getByRole('button', { name: 'Xem bảng theo dõi' }).click()]);
    await page.locator('h1').waitFor();
    return isolated;
  }

  it("shows the seeded campaign with the API's numbers, as the portal scores them", async () => {
    const { page, errors, external } = await signIn();
    expect(await page.locator('h1').innerText()).toBe(DEMO_CAMPAIGN.name);
    expect(progress.status).toBe('running');
    expect(await page.getByTestId('day').innerText()).toBe(String(DEMO_CAMPAIGN_STARTED_DAYS_AGO + 1));
    for (const key of ['procedureOnlinePayment', 'procedureIntegration', 'dossierOnlinePayment']) {
      const value = progress.current[key];
      expect(await page.getByTestId(`rate-${key}`).innerText()).toBe(formatPercent(value.rate));
      expect(await page.getByTestId(`points-${key}`).innerText()).toBe(
        `${formatDecimal(value.points)} / ${formatDecimal(value.maxPoints)}`,
      );
    }
    expect(await page.getByTestId('points-total').innerText()).toBe(formatDecimal(progress.current.points));
    // Vietnamese formats: a comma for decimals, dd/mm/yyyy dates.
    expect(await page.getByTestId('rate-dossierOnlinePayment').innerText()).toMatch(/^\d{1,3},\d{2}%$/);
    expect(await page.getByTestId('campaign-line').innerText()).toMatch(/từ \d{2}\/\d{2}\/2026 đến \d{2}\/\d{2}\/2026/);

    // The burn-up chart: server-drawn SVG, a point per day so far, with a title and a description.
    const chart = page.locator('svg.burn-up');
    expect(await chart.getAttribute('role')).toBe('img');
    expect(await chart.locator('title#burn-up-title').textContent()).toContain('Tỷ lệ hồ sơ thanh toán trực tuyến');
    expect(await chart.locator('desc').textContent()).toContain(`Mục tiêu ${formatPercent(DEMO_CAMPAIGN.targets.dossierOnlinePayment)}`);
    expect(await chart.locator('circle.point').count()).toBe(progress.series.length);
    expect(progress.series.length).toBe(DEMO_CAMPAIGN_STARTED_DAYS_AGO + 1);
    expect(await chart.locator('line.target').count()).toBe(1);
    expect(await chart.locator('line.projection').count()).toBe(1);
    const last = progress.series.at(-1).cumulative.dossierOnlinePayment;
    expect(await chart.locator(`circle.point[data-day="${progress.series.length}"] title`).textContent()).toContain(
      formatPercent(last.rate),
    );

    expect(await page.getByTestId('leaderboard').locator('tbody tr').count()).toBe(progress.leaderboard.length);
    expect(await page.getByTestId('action-c').locator('li').count()).toBe(Math.min(15, progress.actions.unitsByDossierRate.length));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  });

  it('drills into a unit and into a procedure, and back', async () => {
    const { page, errors } = await signIn();
    const unit = progress.leaderboard.find((r: any) => !r.agency.direct && r.current.dossierOnlinePayment.denominator > 0);
    await page.getByTestId('leaderboard').getByRole('button', { name: unit.agency.name, exact: true }).click();
    await page.getByTestId('campaign-line').getByText(unit.agency.name).waitFor();
    const unitProgress = await json(
      await h.request('GET', `/v1/campaigns/${progress.campaign.id}/progress?agency=${unit.agency.code}`, { token }),
    );
    expect(await page.getByTestId('rate-dossierOnlinePayment').innerText()).toBe(
      formatPercent(unitProgress.current.dossierOnlinePayment.rate),
    );

    // The demo's procedures that are not integrated are never paid online: there is always one to click.
    const procedure = progress.actions.proceduresWithoutOnlinePayment[0];
    expect(procedure).toBeDefined();
    await page.getByRole('button', { name: `← ${progress.campaign.agency.name}` }).click();
    await page.locator('svg.burn-up').waitFor();
    await page
      .getByRole('button', { name: new RegExp(`^${procedure.code.replaceAll('.', '\\.')} — `) })
      .first()
      .click();
    await page.getByTestId('procedure-view').waitFor();
    expect(await page.getByTestId('procedure-view').locator('h2').innerText()).toContain(procedure.code);
    expect(errors).toEqual([]);
  });

  it('keeps the token for the tab only: a new visit signs in again by itself, signing out forgets it', async () => {
    const { page, context } = await signIn();
    await page.goto(`${base}/dashboard`);
    await page.locator('svg.burn-up').waitFor();
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.locator('#token').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.goto(`${base}/dashboard`);
    await page.locator('#token').waitFor();
    expect(await page.locator('h1').innerText()).toBe('Bảng theo dõi thanh toán trực tuyến');
    // Another tab of the same browser knows nothing of it.
    const other = await context.newPage();
    await other.goto(`${base}/dashboard`);
    expect(await other.locator('#token').inputValue()).toBe('');
  });

  it('works with JavaScript off: the form signs in and the chart is there', async () => {
    const { page } = await signIn({ javaScriptEnabled: false });
    expect(await page.locator('circle.point').count()).toBe(progress.series.length);
    expect(await page.getByTestId('rate-dossierOnlinePayment').innerText()).toBe(formatPercent(progress.current.dossierOnlinePayment.rate));
  });
});
