import { and, asc, eq } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, discrepancies, paymentIntents, reconciliations, statements } from '../../src/db/schema/index.ts';
import { vnCompactTimestamp, vnDate } from '../../src/domain/dates.ts';
import { type IsolatedPage, launchBrowser, screenshot, signInWithToken, skipWithoutBrowser } from '../helpers/browser.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { bankCredit, COMMUNE_A_ACCOUNT, giveCommuneAnAccount, vietqrGateway } from '../helpers/vietqr.ts';

/**
 * The treasury's day in Debian's Chromium, against the hub on a real port: commune A's bank
 * statement is uploaded through the page (a bad line kept and shown), matched (a lost bank
 * notification healed, an unknown credit and a payment missing from the statement found), both
 * differences resolved on their pages, and the day closed. Screenshots at 1280 and 390 px are kept.
 */
const SOURCE = `bank:${COMMUNE_A_ACCOUNT.accountNumber}`;

describe.skipIf(skipWithoutBrowser('e2e/treasury-day'))("the treasury's day in a browser", () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let portal: string;
  let treasurer: string;
  let procedure: string;
  const opened: IsolatedPage[] = [];

  beforeAll(async () => {
    h = await createHarness({ gateways: vietqrGateway });
    base = await h.listen();
    await seedAgencyTree(h.ctx);
    await giveCommuneAnAccount(h);
    portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    treasurer = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-lan' });
    procedure = await createProcedure(h.ctx);
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    for (const p of opened) await p.context.close().catch(() => undefined);
    await browser?.close();
    await h?.close();
  });

  const signIn = (viewport = { width: 1280, height: 900 }) =>
    signInWithToken(browser, base, treasurer, '/dashboard/treasury', opened, { viewport });

  const vietqrIntent = async () => {
    const dossier = await registerDossier(h, portal, procedure, { agencyCode: AGENCIES.communeA });
    return expectJson(await createIntent(h, portal, dossier.code, { gateway: 'vietqr' }), 201);
  };

  /** A bank's statement line: dd/MM/yyyy HH:mm:ss, its reference number, debit, credit, transfer text. */
  const line = (at: Date, ref: string, credit: string, text: string) => {
    const t = vnCompactTimestamp(at);
    return `${t.slice(6, 8)}/${t.slice(4, 6)}/${t.slice(0, 4)} ${t.slice(8, 10)}:${t.slice(10, 12)}:${t.slice(12, 14)},${ref},,${credit},${text}`;
  };

  it('uploads, matches, resolves every difference and closes the day, at 1280 and at 390 px', async () => {
    const now = new Date();
    const today = vnDate(now);
    // Paid and notified; paid but the notification was lost; notified but not on the statement.
    const paid = await vietqrIntent();
    const lost = await vietqrIntent();
    const unlisted = await vietqrIntent();
    await bankCredit(h, { amount: paid.amount, description: `NGUYEN VAN AN ${paid.reference}` });
    await bankCredit(h, { amount: unlisted.amount, description: `TRAN THI BINH ${unlisted.reference}` });
    const csv = [
      'Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung',
      line(now, 'FT26001', paid.amount.toLocaleString('vi-VN'), `NGUYEN VAN AN ${paid.reference}`),
      line(now, 'FT26002', lost.amount.toLocaleString('vi-VN'), `LE VAN CUONG chuyen tien ${lost.reference}`),
      line(now, 'FT26003', '50.000', 'CHUYEN TIEN KHONG RO NOI DUNG'),
      line(now, 'FT26004', 'một trăm', 'DONG SAI SO TIEN'),
    ].join('\n');

    const { page, errors } = await signIn();
    await page.locator('#u-source').selectOption(SOURCE);
    await page.locator('#u-date').fill(today);
    await page.locator('#u-file').setInputFiles({ name: 'saoke-vcb.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
    await Promise.all([page.waitForURL(/notice=imported/), page.getByRole('button', { name: 'Nạp sao kê' }).click()]);
    const result = page.locator('.import-result');
    await expect.poll(() => result.innerText()).toContain('Bị loại');
    expect(await result.locator('tbody tr').count()).toBe(1); // the bad amount, kept with its line number
    expect(await result.locator('tbody').innerText()).toContain('5');
    await screenshot(page, 'treasury-day-imported.png');

    // Match: the lost notification is healed through the one outcome path.
    await Promise.all([page.waitForURL(/notice=matched/), page.getByRole('button', { name: 'Đối chiếu' }).click()]);
    const [healed] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, lost.id));
    expect(healed!.status).toBe('succeeded');
    const card = page.locator('.source-card').filter({ hasText: COMMUNE_A_ACCOUNT.accountNumber });
    await expect.poll(() => card.innerText()).toContain('2 chênh lệch đang mở');
    await screenshot(page, 'treasury-day-matched.png');

    // The unknown credit: written off (below the four-eyes threshold), with a note.
    await card.getByRole('link', { name: /2 chênh lệch đang mở/ }).click();
    await page.waitForURL(/\/dashboard\/treasury\/discrepancies\?/);
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.locator('tbody').getByRole('link', { name: 'Có trong sao kê, thiếu trong hệ thống' }).click();
    await page.waitForURL(/\/dashboard\/treasury\/discrepancies\/[0-9a-f-]{36}$/);
    await page.getByLabel(/Ghi nhận chênh lệch/).check();
    await page.locator('#d-note').fill('Tiền chuyển nhầm, người chuyển đã được liên hệ để hoàn');
    await Promise.all([page.waitForURL(/notice=resolved/), page.getByRole('button', { name: 'Ghi cách xử lý' }).click()]);

    // The payment missing from the statement: the bank's error, at 390 px on a phone.
    const phone = await signIn({ width: 390, height: 844 });
    await phone.page.goto(`${base}/dashboard/treasury/discrepancies?source=${SOURCE}&date=${today}&status=open`);
    await phone.page.locator('tbody').getByRole('link', { name: 'Có trong hệ thống, thiếu trong sao kê' }).click();
    await phone.page.waitForURL(/\/dashboard\/treasury\/discrepancies\/[0-9a-f-]{36}$/);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await phone.page.getByLabel(/Lỗi của ngân hàng/).check();
    await phone.page.locator('#d-note').fill('Ngân hàng xác nhận giao dịch sẽ có trên sao kê ngày sau, số tra soát 123');
    await screenshot(phone.page, 'treasury-day-discrepancy-390.png');
    await Promise.all([phone.page.waitForURL(/notice=resolved/), phone.page.getByRole('button', { name: 'Ghi cách xử lý' }).click()]);

    // Clean: the day closes, with its totals.
    await page.goto(`${base}/dashboard/treasury?date=${today}`);
    await Promise.all([page.waitForURL(/notice=closed/), card.getByRole('button', { name: 'Chốt ngày' }).click()]);
    expect(await card.innerText()).toContain('Đã chốt');
    await screenshot(page, 'treasury-day-closed.png');
    await phone.page.goto(`${base}/dashboard/treasury?date=${today}`);
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(phone.page, 'treasury-day-closed-390.png');

    const [day] = await h.db.db
      .select()
      .from(reconciliations)
      .where(and(eq(reconciliations.source, SOURCE), eq(reconciliations.businessDate, today)));
    expect(day!.status).toBe('closed');
    expect(day!.totals!.matched.count).toBe(2);
    const open = await h.db.db
      .select()
      .from(discrepancies)
      .where(and(eq(discrepancies.reconciliationId, day!.id), eq(discrepancies.status, 'open')));
    expect(open).toEqual([]);
    const [statement] = await h.db.db.select().from(statements).where(eq(statements.id, day!.statementId!));
    expect(statement!.linesRejected).toBe(1);
    const actions = (await h.db.db.select().from(auditLog).orderBy(asc(auditLog.id))).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['reconciliation.close']));
    expect(errors).toEqual([]);
    expect(phone.errors).toEqual([]);
  });
});
