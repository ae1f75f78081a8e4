import { html } from 'hono/html';
import { vnCompactTimestamp, vnDate, vnDisplayDate } from '../domain/dates.ts';
import { formatVnd } from '../domain/money.ts';
import { page } from '../web/layout.ts';

/**
 * The pages of the emulators (demo only): the sandbox's checkout, VNPay's payment page, the
 * national platform's payment page, and a bank that sends credit notifications. Every value is
 * escaped by `html`.
 */

const CSS = `
  button.plain { background: #fff; color: var(--ink); border-color: var(--line); }
  form.choices { display: flex; gap: 1rem; justify-content: center; flex-wrap: wrap; }
  label { display: block; margin: 0.8rem 0 0.2rem; font-weight: bold; }
  input[type=text], select { font: inherit; width: 100%; padding: 0.5rem; border: 1px solid var(--line); }
  pre { background: #f7f7f7; border: 1px solid var(--line); padding: 0.6rem; white-space: pre-wrap; word-break: break-all; }
`;

/** "13:06 ngày 22/11/2026", in Vietnamese time. */
const vnTime = (d: Date) => {
  const local = vnCompactTimestamp(d);
  return `${local.slice(8, 10)}:${local.slice(10, 12)} ngày ${vnDisplayDate(vnDate(d))}`;
};

const banner = (channel: string) =>
  html`<p class="muted" style="text-align:center">${channel} — MÔ PHỎNG ĐỂ DÙNG THỬ (SANDBOX), không có tiền thật</p>`;

const hiddenInputs = (fields: Record<string, string>) =>
  Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`);

export function renderEmulatorMessage(channel: string, title: string, message: string, link?: { href: string; text: string }) {
  return page(
    title,
    html`${banner(channel)}<h1>${title}</h1><p style="text-align:center" data-testid="message">${message}</p>${
      link ? html`<p style="text-align:center"><a href="${link.href}">${link.text}</a></p>` : ''
    }`,
    CSS,
  );
}

export interface VnpayPaymentModel {
  tmnCode: string;
  reference: string;
  amount: number;
  orderInfo: string;
  expiresAt: Date;
  /** The signed vnp_* parameters, posted back with the payer's choice. */
  hidden: Record<string, string>;
}

export function renderVnpayPayment(m: VnpayPaymentModel) {
  return page(
    'VNPAY - Thanh toán',
    html`${banner('CỔNG THANH TOÁN VNPAY')}
  <h1>Thanh toán qua VNPAY</h1>
  <table>
    <tr><th>Đơn vị chấp nhận</th><td>${m.tmnCode}</td></tr>
    <tr><th>Mã giao dịch của đơn vị</th><td data-testid="reference">${m.reference}</td></tr>
    <tr><th>Nội dung</th><td data-testid="order-info">${m.orderInfo}</td></tr>
    <tr><th>Số tiền</th><td class="amount" data-testid="amount"><strong>${formatVnd(m.amount)}</strong></td></tr>
    <tr><th>Hết hạn thanh toán</th><td>${vnTime(m.expiresAt)}</td></tr>
    <tr><th>Ngân hàng</th><td>NCB — thẻ ATM nội địa (thử nghiệm)</td></tr>
  </table>
  <form method="post" class="choices">
    ${hiddenInputs(m.hidden)}
    <button class="primary" type="submit" name="choice" value="pay">Thanh toán</button>
    <button class="danger" type="submit" name="choice" value="cancel">Huỷ giao dịch</button>
    <button class="plain" type="submit" name="choice" value="fraud" title="VNPay trừ tiền nhưng nghi ngờ gian lận (mã 07)">Nghi ngờ gian lận</button>
  </form>`,
    CSS,
  );
}

export interface DvcqgPaymentModel {
  reference: string;
  transactionId: string;
  amount: number;
  description: string;
  dossierCode: string;
  procedureName: string;
  agencyName: string;
  account: { number: string; bank: string; name: string };
  payerName: string;
  /** LoaiPhiLePhi '1' phí, '2' lệ phí. */
  lines: Array<{ kind: string; name: string; amount: number }>;
  banks: ReadonlyArray<{ code: string; name: string }>;
  hidden: Record<string, string>;
}

export function renderDvcqgPayment(m: DvcqgPaymentModel) {
  return page(
    'Nền tảng thanh toán - Cổng Dịch vụ công quốc gia',
    html`${banner('NỀN TẢNG THANH TOÁN CỔNG DỊCH VỤ CÔNG QUỐC GIA')}
  <h1>Thanh toán phí, lệ phí hồ sơ</h1>
  <table>
    <tr><th>Mã hồ sơ</th><td data-testid="dossier">${m.dossierCode}</td></tr>
    <tr><th>Thủ tục</th><td>${m.procedureName}</td></tr>
    <tr><th>Cơ quan thu</th><td>${m.agencyName}</td></tr>
    <tr><th>Tài khoản thụ hưởng</th><td>${m.account.name} — ${m.account.number} (${m.account.bank})</td></tr>
    <tr><th>Người nộp</th><td>${m.payerName}</td></tr>
    <tr><th>Mã tham chiếu</th><td data-testid="reference">${m.reference}</td></tr>
    <tr><th>Mã giao dịch</th><td>${m.transactionId}</td></tr>
  </table>
  <table>
    <tr><th>Loại</th><th>Khoản phí, lệ phí</th><th class="amount">Số tiền</th></tr>
    ${m.lines.map(
      (l) =>
        html`<tr data-testid="fee-line"><td>${l.kind === '1' ? 'Phí' : 'Lệ phí'}</td><td>${l.name}</td><td class="amount">${formatVnd(l.amount)}</td></tr>`,
    )}
    <tr><th colspan="2">Tổng cộng</th><td class="amount" data-testid="amount"><strong>${formatVnd(m.amount)}</strong></td></tr>
  </table>
  <form method="post">
    ${hiddenInputs(m.hidden)}
    <label for="bank">Thanh toán qua</label>
    <select id="bank" name="MaNganHang">${m.banks.map((b) => html`<option value="${b.code}">${b.name}</option>`)}</select>
    <p class="choices" style="display:flex;gap:1rem;justify-content:center;margin-top:1.2rem">
      <button class="primary" type="submit" name="choice" value="pay">Thanh toán</button>
      <button class="danger" type="submit" name="choice" value="cancel">Huỷ giao dịch</button>
    </p>
  </form>`,
    CSS,
  );
}

export interface BankFormModel {
  format: string;
  account: string;
  amount: string;
  text: string;
  bankPrefix: boolean;
  error?: string;
}

export function renderBankForm(m: BankFormModel) {
  return page(
    'Ngân hàng thử nghiệm - Báo có',
    html`${banner('NGÂN HÀNG THỬ NGHIỆM (VIETQR)')}
  <h1>Chuyển khoản và báo có</h1>
  <p>Ngân hàng của tài khoản thu gửi thông báo báo có (định dạng <code>${m.format}</code>, có chữ ký) đến hệ thống,
  như khi người dân quét mã VietQR và chuyển khoản.</p>
  ${m.error ? html`<p style="color:var(--danger)" data-testid="error">${m.error}</p>` : ''}
  <form method="post">
    <label for="account">Số tài khoản nhận</label>
    <input type="text" id="account" name="account" value="${m.account}" required>
    <label for="amount">Số tiền (đồng)</label>
    <input type="text" id="amount" name="amount" value="${m.amount}" inputmode="numeric" required>
    <label for="text">Nội dung chuyển khoản</label>
    <input type="text" id="text" name="text" value="${m.text}" maxlength="200">
    <p><input type="checkbox" id="bankPrefix" name="bankPrefix" value="1"${m.bankPrefix ? html` checked` : ''}>
    <label for="bankPrefix" style="display:inline">Ngân hàng thêm chữ của mình vào nội dung (ví dụ <code>MBVCB.1234567.</code>)</label></p>
    <p style="text-align:center"><button class="primary" type="submit">Chuyển khoản</button></p>
  </form>`,
    CSS,
  );
}

export interface BankResultModel {
  notification: string;
  status: number | null;
  answer: string;
  attempts: number;
}

export function renderBankResult(m: BankResultModel) {
  const title = m.status === null ? 'Hệ thống không trả lời' : `Hệ thống trả lời HTTP ${m.status}`;
  return page(
    'Ngân hàng thử nghiệm - Kết quả báo có',
    html`${banner('NGÂN HÀNG THỬ NGHIỆM (VIETQR)')}
  <h1>Đã gửi thông báo báo có</h1>
  <p data-testid="status"><strong>${title}</strong> (sau ${m.attempts} lần gửi)</p>
  <p>Trả lời của hệ thống:</p>
  <pre data-testid="answer">${m.answer}</pre>
  <p>Thông báo đã gửi:</p>
  <pre data-testid="notification">${m.notification}</pre>
  <form method="post" class="choices">
    ${hiddenInputs({ raw: m.notification })}
    <button class="plain" type="submit">Gửi lại đúng thông báo này</button>
    <a href="?">Chuyển khoản khác</a>
  </form>`,
    CSS,
  );
}

// The sandbox gateway's hosted checkout.

export interface CheckoutPageModel {
  reference: string;
  amount: number;
  description: string;
  expiresAt: Date;
  /** The signed parameters, posted back with the payer's choice. */
  hidden: Record<string, string>;
}

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
    <tr><th>Hết hạn</th><td>${vnTime(m.expiresAt)}</td></tr>
  </table>
  <form method="post" style="display:flex;gap:1rem;justify-content:center">
    ${hiddenInputs(m.hidden)}
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
