import { html } from 'hono/html';
import { vnCompactTimestamp, vnDate, vnDisplayDate } from '../domain/dates.ts';
import { formatVnd } from '../domain/money.ts';
import { page } from './layout.ts';

export interface CheckoutPageModel {
  reference: string;
  amount: number;
  description: string;
  expiresAt: Date;
  /** The signed parameters, posted back with the payer's choice. */
  hidden: Record<string, string>;
}

/** "13:06 ngày 22/11/2026", in Vietnamese time. */
const expiresText = (d: Date) => {
  const local = vnCompactTimestamp(d);
  return `${local.slice(8, 10)}:${local.slice(10, 12)} ngày ${vnDisplayDate(vnDate(d))}`;
};

export function renderCheckoutPage(m: CheckoutPageModel) {
  return page(
    'Cổng thanh toán thử nghiệm',
    html`
  <p class="muted" style="text-align:center">CỔNG THANH TOÁN THỬ NGHIỆM (SANDBOX) — không có tiền thật</p>
  <h1>Xác nhận thanh toán</h1>
  <table>
    <tr><th>Mã thanh toán</th><td data-testid="reference">${m.reference}</td></tr>
    <tr><th>Nội dung</th><td>${m.description}</td></tr>
    <tr><th>Số tiền</th><td class="amount" data-testid="amount"><strong>${formatVnd(m.amount)}</strong></td></tr>
    <tr><th>Hết hạn</th><td>${expiresText(m.expiresAt)}</td></tr>
  </table>
  <form method="post" style="display:flex;gap:1rem;justify-content:center">
    ${Object.entries(m.hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
    <button class="primary" type="submit" name="choice" value="pay">Thanh toán</button>
    <button class="danger" type="submit" name="choice" value="decline">Từ chối</button>
  </form>`,
  );
}

export function renderCheckoutMessage(title: string, message: string, link?: string) {
  return page(
    title,
    html`<h1>${title}</h1><p style="text-align:center">${message}</p>${
      link ? html`<p style="text-align:center"><a href="${link}">Quay lại cổng dịch vụ công</a></p>` : ''
    }`,
  );
}
