import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCALAR_BUNDLE_PATH } from '../../src/http/routes/docs.ts';
import { demoExampleDossier, seedDemo } from '../../src/seed/index.ts';
import { type IsolatedPage, launchBrowser, openIsolatedPage, skipWithoutBrowser } from '../helpers/browser.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';

/**
 * /docs in a real (headless) Chromium against the hub on a real port, over the demo data: Scalar's
 * reference renders every operation of /openapi.json with nothing fetched from anywhere but the
 * hub, and its "Test Request" calls the hub with the pasted token, on the demo dossier the
 * examples name.
 */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
const NOW = new Date('2026-11-22T10:00:00+07:00');

describe.skipIf(skipWithoutBrowser('e2e/docs'))('the /docs page in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let example: string;
  let summaries: string[];
  const opened: IsolatedPage[] = [];

  beforeAll(async () => {
    h = await createHarness({ exampleDossier: true });
    h.clock.now = NOW;
    await seedDemo(h.ctx, { now: NOW, dossiers: 40 });
    example = (await demoExampleDossier(h.ctx))!;
    expect(example).toMatch(/-\d{6}-\d{4}$/);
    base = await h.listen();
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    summaries = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const p of opened) await p.context.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  /** The page with every request it makes recorded (the isolated context also blocks other origins). */
  async function openDocs(): Promise<IsolatedPage & { requests: Request[] }> {
    const isolated = await openIsolatedPage(browser, base);
    opened.push(isolated);
    const requests: Request[] = [];
    isolated.page.on('request', (request) => requests.push(request));
    await isolated.page.goto(`${base}/docs`);
    await isolated.page.getByRole('heading', { level: 1, name: 'Fee-payment hub' }).waitFor();
    return { ...isolated, requests };
  }

  /** Opens an operation's "Test Request" client from the sidebar and sends it; the hub's answer. */
  async function testRequest(page: Page, group: string, summary: string, method: string, path: string) {
    const closed = page.getByRole('button', { name: `Open Group - ${group}` });
    if ((await closed.count()) > 0) await closed.click();
    await page.getByText(summary, { exact: true }).first().click();
    await page.locator('button', { hasText: new RegExp(`^Test Request\\(${method} ${path.replace(/[{}/]/g, '\\$&')}\\)$`) }).click();
    const answered = page.waitForResponse(
      (r) => new URL(r.url()).pathname.startsWith(path.split('{')[0]!) && r.request().method() === method.toUpperCase(),
    );
    await page.getByRole('button', { name: /^Send/ }).first().click();
    return answered;
  }

  it('renders every operation of /openapi.json, fetching nothing but the hub', async () => {
    const { page, errors, external, requests } = await openDocs();
    const closedGroup = page.getByRole('button', { name: /^Open Group - / });
    for (let opened = 0; (await closedGroup.count()) > 0 && opened < 20; opened++) await closedGroup.first().click();
    const text = await page.locator('body').innerText();
    for (const summary of summaries) expect(text, summary).toContain(summary);
    for (const tag of ['Catalogue', 'Dossiers', 'Payment intents', 'Refunds', 'Indicators', 'Campaigns', 'National portal']) {
      expect(text).toContain(tag);
    }

    const origins = new Set(requests.map((r) => new URL(r.url()).origin));
    expect([...origins]).toEqual([new URL(base).origin]);
    expect(external).toEqual([]);
    const paths = requests.map((r) => new URL(r.url()).pathname);
    expect(paths).toEqual(expect.arrayContaining(['/docs', SCALAR_BUNDLE_PATH, '/openapi.json']));
    const bundle = await requests.find((r) => new URL(r.url()).pathname === SCALAR_BUNDLE_PATH)!.response();
    expect(bundle?.status()).toBe(200);
    expect(bundle?.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(errors).toEqual([]);
  });

  it('reads the demo dossier the examples name, with the pasted token', async () => {
    const { page, errors, external, requests } = await openDocs();
    const token = await mintToken({ role: 'admin' });
    await page.getByPlaceholder('Token').first().fill(token);

    const answer = await testRequest(page, 'Dossiers', 'Read a dossier with its obligations', 'get', '/v1/dossiers/{code}');
    expect(new URL(answer.url()).pathname).toBe(`/v1/dossiers/${example}`);
    expect(answer.request().headers().authorization).toBe(`Bearer ${token}`);
    expect(answer.status()).toBe(200);
    expect(((await answer.json()) as { code: string }).code).toBe(example);
    await page.getByText('200 OK').first().waitFor();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: resolve(ARTIFACTS, 'docs.png') });
    expect(requests.every((r) => r.url().startsWith(`${base}/`))).toBe(true);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('starts paying that dossier from the example body', async () => {
    const { page, errors, requests } = await openDocs();
    await page
      .getByPlaceholder('Token')
      .first()
      .fill(await mintToken({ role: 'portal', agencies: ['000.00.00.H19'] }));

    const answer = await testRequest(
      page,
      'Payment intents',
      'Start paying obligations of a dossier through a gateway',
      'post',
      '/v1/payment-intents',
    );
    expect(answer.request().headers()['idempotency-key']).toBeTruthy();
    expect(answer.request().postDataJSON()).toMatchObject({ dossierCode: example, gateway: 'sandbox' });
    expect(answer.status()).toBe(201);
    expect(await answer.json()).toMatchObject({ dossierCode: example, status: 'pending', nextAction: { type: 'redirect' } });
    await page.getByText('201 Created').first().waitFor();
    expect(requests.every((r) => r.url().startsWith(`${base}/`))).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows the problem+json answer of a request without a token', async () => {
    const { page, errors } = await openDocs();
    const answer = await testRequest(
      page,
      'Catalogue',
      'The agencies of your scope (the whole tree for an admin), parents first',
      'get',
      '/v1/agencies',
    );
    expect(answer.status()).toBe(401);
    expect(answer.headers()['content-type']).toBe('application/problem+json');
    await page.getByText('401 Unauthorized').first().waitFor();
    await page.getByText('"unauthenticated"').first().waitFor();
    expect(errors).toEqual([]);
  });
});
