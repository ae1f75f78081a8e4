import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { deliver, type EmulatorDeps, emulatorForm, formFields, parseJsonObject, randomDigits } from './common.ts';
import { renderBankForm, renderBankResult } from './pages.ts';
import { gmt7 } from './protocol/time.ts';
import { type NotificationFormat, notification, notificationSignature } from './protocol/vietqr.ts';
import { sandboxBankCredits } from './schema.ts';
import { badStatementDate, csv, statementDay, statementDownload, vnDateTime, vnMoney } from './statement-files.ts';

/**
 * The collecting agency's bank, for the offline demo (shared/domain/gateways.md §2): a VietQR code
 * only tells the payer's app where to transfer, and the money is proven by the bank's credit
 * notification. This page is "the bank": it sends that notification, signed (HMAC-SHA256 hex of
 * the raw body in the configured header), in the configured layout, and shows what the hub said.
 */
export interface VietqrBankDeps extends EmulatorDeps {
  config: VietqrBankSettings;
}

/** What the bank and the hub agreed on: the same values the hub's gateway is configured with. */
export interface VietqrBankSettings {
  /** The first signs (rotation). */
  secrets: readonly string[];
  signatureHeader: string;
  format: NotificationFormat;
}

/** The demo bank, as its statements are headed. */
const BANK_NAME = 'NGÂN HÀNG GIẢ LẬP VIETQR (DEMO)';

/** Banks put their own words before the payer's text; the hub must find the reference anyway. */
const bankWords = () => `MBVCB.${randomDigits(10)}.${randomDigits(6)}.`;

export function createVietqrBank(deps: VietqrBankDeps) {
  const app = new Hono();
  const { secrets, signatureHeader, format } = deps.config;
  const [secret] = secrets;
  if (!secret) throw new Error('the bank emulator needs the notification secret');
  const notifyUrl = `${deps.publicBaseUrl}/v1/callbacks/vietqr`;

  // Pre-filled from ?account=&amount=&text=, so a QR's details can link straight here.
  app.get('/sandbox/vietqr', (c) =>
    c.html(
      renderBankForm({
        format,
        account: c.req.query('account') ?? '',
        amount: c.req.query('amount') ?? '',
        text: c.req.query('text') ?? '',
        bankPrefix: true,
      }),
    ),
  );

  app.post('/sandbox/vietqr', emulatorForm(), async (c) => {
    const form = await formFields(c.req);
    let raw: string;
    if (form.raw !== undefined) {
      // "Send again": the same notification, byte for byte, as a bank's retry is.
      raw = form.raw;
    } else {
      const account = (form.account ?? '').trim();
      const amountText = (form.amount ?? '').replace(/[.\s]/g, '');
      const text = (form.text ?? '').trim();
      if (!/^[0-9A-Za-z]{1,40}$/.test(account) || !/^[1-9]\d{0,14}$/.test(amountText)) {
        const error = 'Số tài khoản (chữ, số) và số tiền (số nguyên dương, đồng) là bắt buộc.';
        return c.html(
          renderBankForm({ format, account, amount: form.amount ?? '', text, bankPrefix: form.bankPrefix === '1', error }),
          400,
        );
      }
      const at = deps.now();
      const credit = {
        account,
        amount: Number(amountText),
        text: form.bankPrefix === '1' ? `${bankWords()}${text}` : text,
        bankReference: `FT${gmt7(at).slice(2, 8)}${randomDigits(6)}`,
        serviceId: Number(randomDigits(8)),
        at,
      };
      // The money is in the account whatever the hub makes of the notification: booked first.
      await deps.db.insert(sandboxBankCredits).values({
        bankReference: credit.bankReference,
        account: credit.account,
        amount: credit.amount,
        text: credit.text,
        createdAt: at,
      });
      raw = JSON.stringify(notification(format, credit));
    }
    const signature = notificationSignature(secret, raw);
    // Banks deliver again on no answer or a 5xx; anything else is the hub's word on it.
    const delivery = await deliver(
      deps,
      'vietqr',
      (signal) =>
        deps.fetch(notifyUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [signatureHeader]: signature },
          body: raw,
          signal,
        }),
      (status) => status < 500,
    );
    const answer = parseJsonObject(delivery.body);
    return c.html(
      renderBankResult({
        notification: raw,
        status: delivery.status,
        answer: answer ? JSON.stringify(answer, null, 2) : delivery.body,
        attempts: delivery.attempts,
      }),
    );
  });

  /**
   * The account's statement (sao kê) for one Vietnamese day, as the bank's internet banking
   * exports it: the account's details above the header, the day's credits with the bank's
   * reference, money out and in in two columns (Ghi nợ / Ghi có), the running balance and the
   * transfer text as credited, then the totals row. UTF-8 with a byte order mark, for Excel.
   */
  app.get('/sandbox/vietqr/statement', async (c) => {
    const account = (c.req.query('account') ?? '').replace(/[\s.-]/g, '');
    if (!/^[0-9A-Za-z]{1,40}$/.test(account)) return c.text('account (letters and digits) is required', 400);
    const day = statementDay(c.req.query('date'), deps.now());
    if (!day) return badStatementDate(c);
    const [opening] = await deps.db
      .select({ balance: sql<string>`coalesce(sum(${sandboxBankCredits.amount}), 0)` })
      .from(sandboxBankCredits)
      .where(and(eq(sandboxBankCredits.account, account), lt(sandboxBankCredits.createdAt, day.start)));
    const credits = await deps.db
      .select()
      .from(sandboxBankCredits)
      .where(
        and(
          eq(sandboxBankCredits.account, account),
          gte(sandboxBankCredits.createdAt, day.start),
          lt(sandboxBankCredits.createdAt, day.end),
        ),
      )
      .orderBy(asc(sandboxBankCredits.createdAt), asc(sandboxBankCredits.bankReference));
    let balance = Number(opening?.balance ?? 0);
    const lines = credits.map((credit) => {
      balance += credit.amount;
      return [vnDateTime(credit.createdAt), credit.bankReference, '', vnMoney(credit.amount), vnMoney(balance), credit.text];
    });
    const total = credits.reduce((sum, credit) => sum + credit.amount, 0);
    const shown = `${day.date.slice(8, 10)}/${day.date.slice(5, 7)}/${day.date.slice(0, 4)}`;
    const blank = ['', '', '', '', ''];
    const file = csv(
      [
        [BANK_NAME, ...blank],
        ['SAO KÊ TÀI KHOẢN', ...blank],
        [`Số tài khoản: ${account}`, ...blank],
        [`Từ ngày ${shown} đến ngày ${shown}`, ...blank],
        ['', ...blank],
        ['Ngày giao dịch', 'Số tham chiếu', 'Ghi nợ', 'Ghi có', 'Số dư', 'Nội dung'],
        ...lines,
        ['Tổng cộng', '', '0', vnMoney(total), '', ''],
      ],
      { separator: ',', lineEnd: '\r\n', bom: true },
    );
    return statementDownload(c, `SaoKe_${account}_${day.date.replaceAll('-', '')}.csv`, file);
  });

  return app;
}
