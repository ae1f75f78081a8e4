import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { page as layout } from '../../src/web/layout.ts';
import { renderIntentList, renderRefundList, renderReviewCase, renderReviewQueue, TREASURY_CSS } from '../../src/web/treasury/pages.ts';
import { launchBrowser, skipWithoutBrowser } from '../helpers/browser.ts';
import {
  awaitingApprovalCase,
  caseModel,
  intentsModel,
  queueModel,
  refundsModel,
  resolvedCase,
  unmatchedCreditCase,
} from '../helpers/treasury-fixtures.ts';

/**
 * The desk's pages from fixture models, in Debian's Chromium at a desktop width and at 390 px:
 * no server, no JavaScript (the pages need none). Each is kept as a screenshot under
 * test-artifacts/ for a person to look at, and checked for the one thing a screenshot hides
 * too easily: nothing may be wider than the phone's screen.
 */
const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');

const pages: [string, () => HtmlEscapedString][] = [
  ['queue', () => renderReviewQueue(queueModel())],
  ['queue-empty', () => renderReviewQueue(queueModel({ reviews: [], nextCursor: null, filters: {} }))],
  ['case-underpayment', () => renderReviewCase(caseModel())],
  [
    'case-error',
    () =>
      renderReviewCase(
        caseModel({
          error: {
            title: 'Thiếu số tiền chấp nhận',
            detail: '100.000 đ đã đến cho 135.000 đ yêu cầu.',
            fields: [{ path: 'amount', message: 'Ghi số tiền chấp nhận: 100000' }],
          },
          values: { action: 'accept', note: 'Người nộp xác nhận', amount: '' },
        }),
      ),
  ],
  ['case-unmatched-credit', () => renderReviewCase(unmatchedCreditCase())],
  ['case-awaiting-approval', () => renderReviewCase(awaitingApprovalCase(true))],
  ['case-own-decision', () => renderReviewCase(awaitingApprovalCase(false))],
  ['case-resolved', () => renderReviewCase(resolvedCase())],
  ['intents', () => renderIntentList(intentsModel())],
  ['refunds', () => renderRefundList(refundsModel())],
];

/** The shared dashboard shell is another module's; a plain page with the desk's styles stands in. */
const document = (body: HtmlEscapedString) =>
  String(layout('Bàn làm việc kho bạc', body, `main { max-width: 80rem; padding: 1rem; } ${TREASURY_CSS}`));

describe.skipIf(skipWithoutBrowser('e2e/treasury-pages'))('the treasury desk pages in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  for (const width of [1280, 390]) {
    it(`renders every page at ${width} px without anything wider than the screen`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
      try {
        const page = await context.newPage();
        for (const [name, render] of pages) {
          await page.setContent(document(render()), { waitUntil: 'load' });
          await page.screenshot({ path: resolve(ARTIFACTS, `treasury-${name}-${width}.png`), fullPage: true });
          const scrollWidth = await page.evaluate('document.documentElement.scrollWidth');
          expect(scrollWidth, `${name} at ${width} px`).toBeLessThanOrEqual(width);
          // The hostile raw body is text inside its <pre>, never markup.
          expect(await page.locator('script').count(), name).toBe(0);
        }
      } finally {
        await context.close();
      }
    }, 120_000);
  }
});
