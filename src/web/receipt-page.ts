import { html } from 'hono/html';
import { vnDisplayDate } from '../domain/dates.ts';
import { groupThousands } from '../domain/money.ts';
import type { ReceiptView } from '../services/receipts.ts';
import { page } from './layout.ts';

const kindName = { phi: 'Phí', le_phi: 'Lệ phí' } as const;

/** How a payer knows each channel. */
const channelName: Record<string, string> = {
  sandbox: 'cổng thanh toán thử nghiệm (sandbox)',
  vnpay: 'cổng thanh toán VNPay',
  vietqr: 'chuyển khoản VietQR',
  dvcqg: 'Nền tảng thanh toán trên Cổng Dịch vụ công quốc gia',
};

/**
 * The printable receipt (Decree 123/2020/NĐ-CP Art. 32, Circular 78/2021/TT-BTC): type name,
 * form and series symbols, gapless number, collecting organisation, payer, each fee with its
 * amount, the total in figures and in words, the date, and the digital signature.
 */
export function renderReceiptPage(r: ReceiptView) {
  const body = html`
  <header style="display:flex;justify-content:space-between;gap:1rem">
    <div><strong>${r.collectingAgency.name}</strong><br><span class="muted">Mã cơ quan: ${r.collectingAgency.code}</span></div>
    <div style="text-align:right">Mẫu số: <strong>${r.formSymbol}</strong><br>Ký hiệu: <strong>${r.seriesSymbol}</strong><br>Số: <strong>${r.displayNumber}</strong></div>
  </header>
  <h1>${r.receiptType.toUpperCase()}</h1>
  <p style="text-align:center" class="muted">(Biên lai điện tử)</p>
  <p>Tên người nộp: <strong>${r.payer.name ?? '—'}</strong></p>
  <p>Địa chỉ: ${r.payer.address ?? '—'}</p>
  <p>Mã hồ sơ: ${r.dossierCode} &nbsp;·&nbsp; Mã thanh toán: ${r.reference}</p>
  <table>
    <thead><tr><th>STT</th><th>Loại</th><th>Nội dung thu</th><th class="amount">Số tiền (đồng)</th></tr></thead>
    <tbody>
      ${r.lines.map(
        (l, i) =>
          html`<tr><td>${i + 1}</td><td>${kindName[l.kind]}</td><td>${l.name} <span class="muted">(${l.feeCode})</span></td><td class="amount">${groupThousands(l.amount)}</td></tr>`,
      )}
    </tbody>
    <tfoot><tr><th colspan="3">Tổng cộng</th><th class="amount">${groupThousands(r.total)}</th></tr></tfoot>
  </table>
  <p>Số tiền bằng chữ: <em>${r.totalInWords}</em></p>
  <p>Hình thức thanh toán: trực tuyến qua ${channelName[r.gateway] ?? r.gateway}${r.gatewayTransactionId ? html`, mã giao dịch ${r.gatewayTransactionId}` : ''}</p>
  <p style="text-align:right">Ngày ${vnDisplayDate(r.issuedDate)}</p>
  <section style="border-top:1px solid var(--line);margin-top:1.5rem;padding-top:1rem;font-size:0.85rem" class="muted">
    <p>Đã ký số (ES256, mã khóa ${r.keyId}). Kiểm tra chữ ký bằng khóa công khai tại ${r.verificationKeys}.</p>
    <p style="word-break:break-all;font-family:monospace">${r.signature}</p>
  </section>
  <p class="no-print"><button class="primary" onclick="window.print()">In biên lai</button></p>`;
  return page(`Biên lai ${r.seriesSymbol} số ${r.displayNumber}`, body);
}
