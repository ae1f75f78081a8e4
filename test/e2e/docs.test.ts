import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DOSSIER_CODE } from '../../src/http/schemas.ts';
import { seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, mintToken, type Harness } from '../helpers/harness.ts';
import { launchBrowser, openIsolatedPage, skipWithoutBrowser, type IsolatedPage } from '../helpers/browser.ts';

/**
 * /docs in a real (headless) Chromium against the hub on a real port: the reference renders
 * from /openapi.json, and "Try it" calls the hub with the pasted token.
 */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');

describe.skipIf(skipWithoutBrowser('e2e/docs'))('the /docs page in a browser', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let operationCount: number;
  const opened: IsolatedPage[] = [];

  beforeAll(async () => {
    h = await createHarness();
    base = await h.listen();
    await seedAgencyTree(h.ctx);
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    operationCount = Object.values(spec.paths).reduce((n, item) => n + Object.keys(item).filter((k) => k !== 'parameters').length, 0);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const p of opened) await p.context.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  async function openDocs() {
    const isolated = await openIsolatedPage(browser, base);
    opened.push(isolated);
    await isolated.page.goto(`${base}/docs`);
    await isolated.page.locator('html.docs-ready').waitFor();
    return isolated;
  }

  it('renders the API, every operation grouped by tag, and schemas', async () => {
    const { page, errors, external } = await openDocs();
    expect(await page.locator('h1').innerText()).toBe('Fee-payment hub');
    expect(await page.locator('#api-info').innerText()).toContain('Version 0.1.0');
    expect(await page.locator('article.op').count()).toBe(operationCount);
    for (const tag of ['Catalogue', 'Dossiers', 'Payment intents']) {
      expect(await page.getByRole('heading', { level: 2, name: tag, exact: true }).isVisible(), tag).toBe(true);
    }
    const create = page.locator('#op-createPaymentIntent');
    expect(await create.locator('h3').innerText()).toMatch(/^POST\s+\/v1\/payment-intents$/);
    const meta = await create.locator('dl.meta').innerText();
    expect(meta).toContain('createPaymentIntent');
    expect(meta).toContain('bearerAuth');
    expect(await create.locator('table.params').innerText()).toMatch(/idempotency-key\s+header\s+string\s+required/i);
    // The request body schema is resolved from its $ref into a property list.
    expect(await create.locator('.schema').first().innerText()).toContain('Schema CreatePaymentIntent');
    expect(await create.locator('li.prop', { hasText: 'dossierCode' }).first().innerText()).toContain('required');
    expect(await create.locator('li.prop', { hasText: 'gateway' }).first().innerText()).toContain('"sandbox"');
    expect(await create.locator('details.response summary', { hasText: '401' }).innerText()).toContain('Unauthorized');
    // Idempotency-Key is prefilled with a random value; the body with an example from the schema.
    await create.locator('details.try > summary').click();
    const key = await create.getByLabel(/idempotency-key/i).inputValue();
    expect(key).toMatch(/^docs-[0-9a-f]{24}$/);
    const body = JSON.parse(await create.locator('textarea').inputValue());
    expect(body).toMatchObject({ dossierCode: EXAMPLE_DOSSIER_CODE, gateway: 'sandbox' });
    expect(await page.getByRole('heading', { level: 2, name: 'Authentication' }).isVisible()).toBe(true);
    expect(await page.locator('#schema-Problem').count()).toBe(1);
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  });

  it('sends GET /v1/agencies with the pasted token and shows the answer', async () => {
    const { page, errors, external } = await openDocs();
    const token = await mintToken({ role: 'admin' });
    await page.getByLabel('Bearer token (JWT)').fill(token);
    const storage = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
    expect(storage).toEqual({ session: 1, local: 0 });

    const op = page.locator('#op-listAgencies');
    await op.locator('details.try > summary').click();
    await op.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => op.locator('.result-status').innerText()).toMatch(/^200 OK/);
    expect(await op.locator('.request-id').innerText()).toMatch(/^[0-9a-f-]{36}$/);
    const shown = JSON.parse(await op.locator('pre.response-body').innerText());
    expect(shown.items.length).toBeGreaterThan(0);
    expect(shown.items[0]).toHaveProperty('code');

    mkdirSync(ARTIFACTS, { recursive: true });
    // The operation's "Try it" panel with its answer; the page top goes in a second picture.
    await op.locator('details.try').evaluate((panel) => panel.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: resolve(ARTIFACTS, 'docs.png') });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: resolve(ARTIFACTS, 'docs-top.png') });
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  });

  it('keeps the token for the tab, and shows problem+json when there is none', async () => {
    const { page, errors } = await openDocs();
    const token = await mintToken({ role: 'admin' });
    await page.getByLabel('Bearer token (JWT)').fill(token);
    await page.reload();
    await page.locator('html.docs-ready').waitFor();
    expect(await page.getByLabel('Bearer token (JWT)').inputValue()).toBe(token);

    await page.getByRole('button', { name: 'Forget token' }).click();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    const op = page.locator('#op-listAgencies');
    await op.locator('details.try > summary').click();
    // Keyboard only: focus the Send button and press Enter.
    await op.getByRole('button', { name: 'Send' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => op.locator('.result-status').innerText()).toMatch(/^401 Unauthorized/);
    expect(await op.locator('.problem').innerText()).toContain('unauthenticated');
    expect(JSON.parse(await op.locator('pre.response-body').innerText())).toMatchObject({ status: 401, code: 'unauthenticated' });
    expect(await op.locator('.res-headers').innerText()).toContain('application/problem+json');
    expect(errors).toEqual([]);
  });

  it('fills path parameters and refuses a body that is not JSON', async () => {
    const { page, errors } = await openDocs();
    await page.getByLabel('Bearer token (JWT)').fill(await mintToken({ role: 'admin' }));
    const op = page.locator('#op-getProcedure');
    await op.locator('details.try > summary').click();
    await op.getByLabel(/^code/).fill('9.999999');
    await op.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => op.locator('.result-status').innerText()).toMatch(/^404 Not Found — GET \/v1\/procedures\/9\.999999 in \d+ ms$/);

    const put = page.locator('#op-putProcedure');
    await put.locator('details.try > summary').click();
    await put.getByLabel(/^code/).fill('9.999998');
    await put.locator('textarea').fill('{ not json');
    await put.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => put.locator('.result-status').innerText()).toContain('not valid JSON');
    expect(errors).toEqual([]);
  });
});
