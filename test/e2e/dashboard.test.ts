import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CAMPAIGN_STARTED_DAYS_AGO } from '../../src/seed/dossiers.ts';
import { DEMO_CAMPAIGN, seedDemo } from '../../src/seed/index.ts';
import { formatDecimal, formatPercent } from '../../src/web/format.ts';
import { type IsolatedPage, launchBrowser, openIsolatedPage, skipWithoutBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * The campaign dashboard in a real headless Chromium (Debian's), against the hub on a real port
 * with the demo data and its seeded campaign: the numbers on the page are the API's, the chart
 * has a point per day of the campaign so far, drill-downs are links that open in a new tab of the
 * same browser without signing in again, Back works, signing out ends the session everywhere,
 * the page works with JavaScript off and at 390 px, and an admin creates a campaign by its form.
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

  async function signIn(options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number }; as?: string } = {}) {
    const isolated = await openIsolatedPage(browser, base, options);
    opened.push(isolated);
    const { page } = isolated;
    await page.goto(`${base}/dashboard`);
    await page.locator('#token').fill(options.as ?? token);
    await Promise.all([page.waitForURL(`${base}/dashboard/campaigns`), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
    await page.locator('h1').waitFor();
    return isolated;
  }

  const screenshot = (page: Page, name: string) => {
    mkdirSync(ARTIFACTS, { recursive: true });
    return page.screenshot({ path: resolve(ARTIFACTS, name), fullPage: true });
  };

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
    await screenshot(page, 'dashboard.png');
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  });

  it('drills into a unit by a link, opens a procedure in a new tab without signing in again, and goes Back', async () => {
    const { page, context, errors } = await signIn();
    const unit = progress.leaderboard.find((r: any) => !r.agency.direct && r.current.dossierOnlinePayment.denominator > 0);
    await page.getByTestId('leaderboard').getByRole('link', { name: unit.agency.name, exact: true }).click();
    await page.getByTestId('campaign-line').getByText(unit.agency.name).waitFor();
    expect(new URL(page.url()).searchParams.get('agency')).toBe(unit.agency.code);
    const unitProgress = await json(
      await h.request('GET', `/v1/campaigns/${progress.campaign.id}/progress?agency=${unit.agency.code}`, { token }),
    );
    expect(await page.getByTestId('rate-dossierOnlinePayment').innerText()).toBe(
      formatPercent(unitProgress.current.dossierOnlinePayment.rate),
    );

    // Back to the campaign's level by its crumb; then a procedure, opened in a new tab of the same browser.
    await page.getByRole('link', { name: `← ${progress.campaign.agency.name}` }).click();
    await page.locator('svg.burn-up').waitFor();
    // The demo's procedures that are not integrated are never paid online: there is always one to click.
    const procedure = progress.actions.proceduresWithoutOnlinePayment[0];
    expect(procedure).toBeDefined();
    const link = page.getByRole('link', { name: new RegExp(`^${procedure.code.replaceAll('.', '\\.')} — `) }).first();
    const [tab] = await Promise.all([context.waitForEvent('page'), link.click({ modifiers: ['Control'] })]);
    await tab!.waitForLoadState();
    await tab!.getByTestId('procedure-view').waitFor();
    expect(new URL(tab!.url()).pathname).toBe('/dashboard/campaigns');
    expect(new URL(tab!.url()).searchParams.get('procedure')).toBe(procedure.code);
    expect(await tab!.getByTestId('procedure-view').locator('h2').innerText()).toContain(procedure.code);
    // The same address typed into another new tab: the session is the browser's, not the tab's.
    const typed = await context.newPage();
    await typed.goto(tab!.url());
    await typed.getByTestId('procedure-view').waitFor();
    await screenshot(typed, 'dashboard-procedure.png');

    // Back, twice: the campaign's level, then the unit, as they were.
    await page.goBack();
    await page.getByTestId('campaign-line').getByText(unit.agency.name).waitFor();
    expect(new URL(page.url()).searchParams.get('agency')).toBe(unit.agency.code);
    await page.goForward();
    await page.locator('svg.burn-up').waitFor();
    expect(new URL(page.url()).searchParams.get('agency')).toBe(progress.campaign.agency.code);
    expect(errors).toEqual([]);
  });

  it('keeps the session in an HttpOnly cookie no script reads; signing out ends it for every tab', async () => {
    const { page, context } = await signIn();
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'hub-session', httpOnly: true, sameSite: 'Strict', path: '/dashboard' });
    const other = await context.newPage();
    await other.goto(`${base}/dashboard/campaigns`);
    await other.locator('svg.burn-up').waitFor();

    await Promise.all([page.waitForURL(`${base}/dashboard`), page.getByRole('button', { name: 'Đăng xuất' }).click()]);
    await page.locator('#token').waitFor();
    expect(await context.cookies()).toEqual([]);
    await other.reload();
    await other.locator('#token').waitFor();
    expect(new URL(other.url()).searchParams.get('next')).toBe('/dashboard/campaigns');
  });

  it('works with JavaScript off: the form signs in and the chart is there', async () => {
    const { page } = await signIn({ javaScriptEnabled: false });
    expect(await page.locator('circle.point').count()).toBe(progress.series.length);
    expect(await page.getByTestId('rate-dossierOnlinePayment').innerText()).toBe(formatPercent(progress.current.dossierOnlinePayment.rate));
  });

  it('fits a 390 px screen: nothing wider than the screen but the tables, which scroll in their box', async () => {
    const { page, errors } = await signIn({ viewport: { width: 390, height: 844 } });
    await page.locator('svg.burn-up').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.getByRole('button', { name: 'Đăng xuất' }).isVisible()).toBe(true);
    await screenshot(page, 'dashboard-390.png');
    expect(errors).toEqual([]);
  });

  it('lets an admin create a campaign through its form, in Vietnamese, and shows it', async () => {
    const admin = await mintToken({ role: 'admin' });
    const { page, errors } = await signIn({ as: admin, viewport: { width: 390, height: 844 } });
    await page.getByRole('link', { name: 'Tạo chiến dịch' }).click();
    await page.locator('#name').fill('Chiến dịch thử trên trình duyệt');
    await page.locator('#agencyCode').selectOption('000.00.00.H19');
    await page.locator('#startDate').fill('2026-12-01');
    await page.locator('#targetDossierOnlinePayment').fill('150');
    await page.getByRole('button', { name: 'Tạo chiến dịch' }).click();
    await page.getByTestId('form-errors').waitFor();
    expect(await page.locator('#targetDossierOnlinePayment-error').innerText()).toContain('từ 0 đến 100');
    expect(await page.locator('#name').inputValue()).toBe('Chiến dịch thử trên trình duyệt');
    await screenshot(page, 'dashboard-campaign-form-390.png');
    await page.locator('#targetDossierOnlinePayment').fill('80,5');
    await page.getByRole('button', { name: 'Tạo chiến dịch' }).click();
    await page.waitForURL(/\/dashboard\/campaigns\?campaign=/);
    expect(await page.locator('h1').innerText()).toBe('Chiến dịch thử trên trình duyệt');
    expect(await page.getByTestId('campaign-line').innerText()).toContain('chưa bắt đầu');
    expect(errors).toEqual([]);
  });
});
