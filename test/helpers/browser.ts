import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Headless Chromium for browser tests, from Debian's package (`apt-get install -y chromium`):
 * no browser is ever downloaded. Where it is missing, browser suites skip with one line, except
 * under CI=true, where they run and fail loudly instead of passing without testing anything.
 *
 *   describe.skipIf(skipWithoutBrowser('docs page'))('docs page', () => { ... launchBrowser() ... });
 */
const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

function hasBrowser(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** True when the suite should be skipped (no Chromium, not CI); says so once on the console. */
export function skipWithoutBrowser(suite: string): boolean {
  if (hasBrowser() || process.env.CI === 'true') return false;
  console.info(`[${suite}] skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium); CI=true makes it required`);
  return true;
}

export async function launchBrowser(): Promise<Browser> {
  if (!hasBrowser()) {
    throw new Error(`browser tests need Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface IsolatedPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors in the page (HTTP error answers excepted). */
  errors: string[];
  /** Requests to anything but the hub under test, which were blocked. */
  external: string[];
}

/**
 * A fresh context and page that may only talk to `baseUrl`'s origin: any other request is
 * aborted and recorded, so a page that quietly depends on a CDN fails its test.
 */
export async function openIsolatedPage(
  browser: Browser,
  baseUrl: string,
  options: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean } = {},
): Promise<IsolatedPage> {
  const origin = new URL(baseUrl).origin;
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScriptEnabled ?? true,
  });
  const errors: string[] = [];
  const external: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    external.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx/5xx answer to fetch as a console error; API errors are expected.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of')) {
      errors.push(`console: ${message.text()}`);
    }
  });
  return { context, page, errors, external };
}

/** Where browser tests leave their screenshots (`test-artifacts/`, kept by CI). */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');

/** A full-page screenshot under `test-artifacts/`. */
export function screenshot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return page.screenshot({ path: resolve(ARTIFACTS, name), fullPage: true });
}

/**
 * Signs in on the dashboard's form with a pasted token, in a fresh isolated page, and waits for
 * the role's home (`landing`); the page is pushed onto `opened` for the suite to close.
 */
export async function signInWithToken(
  browser: Browser,
  base: string,
  token: string,
  landing: string,
  opened: IsolatedPage[],
  options: { viewport?: { width: number; height: number }; javaScriptEnabled?: boolean } = {},
): Promise<IsolatedPage> {
  const isolated = await openIsolatedPage(browser, base, options);
  opened.push(isolated);
  const { page } = isolated;
  await page.goto(`${base}/dashboard`);
  await page.locator('#token').fill(token);
  await Promise.all([page.waitForURL(`${base}${landing}`), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
  await page.locator('h1').waitFor();
  return isolated;
}
