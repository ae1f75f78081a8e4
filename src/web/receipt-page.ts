import { html, raw } from 'hono/html';
import { vnDisplayDate } from '../domain/dates.ts';
import { groupThousands } from '../domain/money.ts';
import { qrSvg } from '../gateways/vietqr/qr-image.ts';
import type { ReceiptView } from '../services/receipts.ts';
import { page } from './layout.ts';

const kindName = { phi: 'Phí', le_phi: 'Lệ phí' } as const;

/** How a payer knows each channel. */
const channelName: Record<string, string> = {
  sandbox: 'cổng thanh toán thử nghiệm (sandbox)',
  vnpay: 'cổng thanh toán VNPay',
  vietqr: 'chuyển khoản VietQR',
  dvcqg: 'Nền tảng thanh toán trên Cổng Dịch vụ công quốc gia',
  counter: 'nộp trực tiếp tại cơ quan',
};

/** An amount as printed: an adjustment's money given back with a minus sign. */
const printed = (amount: number) => (amount < 0 ? `−${groupThousands(-amount)}` : groupThousands(amount));

/** The look-up code in groups of four, as it is read aloud or typed. */
const grouped = (code: string) => code.replace(/(.{4})(?=.)/g, '$1 ');

const CSS = `
  .head { display: flex; justify-content: space-between; gap: 1rem; flex-wrap: wrap; }
  .head .symbols { text-align: right; }
  .verify { display: flex; gap: 1rem; align-items: center; border-top: 1px solid var(--line); margin-top: 1.5rem; padding-top: 1rem; }
  .verify svg { width: 8.5rem; height: 8.5rem; flex: none; }
  .code { font-family: monospace; font-size: 1.05rem; letter-spacing: 0.05em; }
  .notice { border-left: 4px solid #c98a00; background: #fff8e6; padding: 0.5rem 0.75rem; }
  .badge { display: inline-block; padding: 0.15rem 0.5rem; border-radius: 3px; font-size: 0.9rem; }
  .badge.ok { background: #e3f1e6; color: #1d5e2c; }
  .badge.bad { background: #f8e1e1; color: var(--danger); }
  .badge.refund { background: #fff3d6; color: #7a4d00; }
  @media (max-width: 480px) {
    main { padding: 1rem; }
    .head .symbols { text-align: left; }
    .verify { flex-direction: column; align-items: flex-start; }
  }`;

/**
 * The printable receipt for the citizen (Decree 254/2026/NĐ-CP Art. 23): name, form and series
 * symbols, gapless number, the collecting organisation with its address and tax code, the
 * service provider that issued it on the organisation's behalf, the payer, each fee with its kind
 * and amount, the total in figures and in words, the date, refunds since, and — instead of the
 * raw signature — the look-up code and the QR of its look-up page, where anyone can check it.
 * `verified` is set on the public look-up page: whether the signature checks out.
 */
export async function renderReceiptPage(r: ReceiptView, options: { verified?: boolean } = {}) {
  const qr = await qrSvg(r.lookupUrl);
  const body = html`
  <header class="head">
    <div><strong>${r.collector.name}</strong><br>
      <span class="muted">Mã số thuế: ${r.collector.taxCode ?? '—'}</span><br>
      <span class="muted">Địa chỉ: ${r.collector.address ?? '—'}</span></div>
    <div class="symbols">Mẫu số: <strong>${r.formSymbol}</strong><br>Ký hiệu: <strong>${r.seriesSymbol}</strong><br>Số: <strong>${r.displayNumber}</strong></div>
  </header>
  <h1>${r.receiptType.toUpperCase()}</h1>
  <p style="text-align:center" class="muted">(Biên lai điện tử)</p>
  ${
    r.original
      ? html`<p class="notice">${r.kind === 'adjusting' ? 'Điều chỉnh' : 'Thay thế'} cho biên lai ký hiệu ${r.original.seriesSymbol} số ${String(r.original.number).padStart(7, '0')} ngày ${vnDisplayDate(r.original.issuedDate)}${r.reason ? html`. Lý do: ${r.reason}` : ''}</p>`
      : ''
  }
  ${r.corrections.map(
    (c) =>
      html`<p class="notice">${c.kind === 'replacing' ? 'Biên lai này đã được thay thế bởi' : 'Biên lai này đã được điều chỉnh bởi'} biên lai ký hiệu ${c.seriesSymbol} số ${String(c.number).padStart(7, '0')} ngày ${vnDisplayDate(c.issuedDate)} — <a href="${c.lookupUrl}">xem</a></p>`,
  )}
  ${
    r.refunded.status !== 'none' && r.kind !== 'adjusting'
      ? html`<p><span class="badge refund">${r.refunded.status === 'full' ? 'Đã hoàn trả toàn bộ' : 'Đã hoàn trả một phần'}: ${groupThousands(r.refunded.amount)} đồng</span></p>`
      : ''
  }
  <p>Tên người nộp: <strong>${r.payer.name ?? '—'}</strong></p>
  <p>Địa chỉ: ${r.payer.address ?? '—'}</p>
  <p>Mã hồ sơ: ${r.dossierCode} &nbsp;·&nbsp; Mã thanh toán: ${r.reference}</p>
  <table>
    <thead><tr><th>STT</th><th>Nội dung thu</th><th class="amount">Số tiền (đồng)</th></tr></thead>
    <tbody>
      ${r.lines.map(
        (l, i) =>
          html`<tr><td>${i + 1}</td><td>${l.name}<br><span class="muted">${kindName[l.kind]} · ${l.feeCode}</span></td><td class="amount">${printed(l.amount)}</td></tr>`,
      )}
    </tbody>
    <tfoot><tr><th colspan="2">Tổng cộng</th><th class="amount">${printed(r.total)}</th></tr></tfoot>
  </table>
  <p>${r.kind === 'adjusting' ? 'Số tiền điều chỉnh giảm bằng chữ' : 'Số tiền bằng chữ'}: <em>${r.totalInWords}</em></p>
  <p>Hình thức thanh toán: ${channelName[r.gateway] ?? r.gateway}${r.gatewayTransactionId ? html`, mã giao dịch ${r.gatewayTransactionId}` : ''}</p>
  <p style="text-align:right">Ngày ${vnDisplayDate(r.issuedDate)}</p>
  ${
    r.issuer
      ? html`<p class="muted">Đơn vị cung cấp dịch vụ lập biên lai điện tử (được ủy quyền): ${r.issuer.name}${r.issuer.taxCode ? html`, mã số thuế ${r.issuer.taxCode}` : ''}, ${r.issuer.address}${r.issuer.delegation ? html` — ${r.issuer.delegation}` : ''}</p>`
      : ''
  }
  <section class="verify">
    ${raw(qr)}
    <div>
      <p>Mã tra cứu: <strong class="code">${grouped(r.lookupCode)}</strong></p>
      <p class="muted">Tra cứu và kiểm tra biên lai tại <a href="${r.lookupUrl}">${r.lookupUrl.replace(/\?.*$/, '')}</a> (quét mã QR).</p>
      ${
        options.verified === undefined
          ? html`<p class="muted">Đã ký số bởi ${r.issuer ? r.issuer.name : r.collector.name} (ES256, mã khóa ${r.keyId.slice(0, 12)}…).</p>`
          : options.verified
            ? html`<p><span class="badge ok">Chữ ký số hợp lệ</span> <span class="muted">ký bởi ${r.issuer ? r.issuer.name : r.collector.name}</span></p>`
            : html`<p><span class="badge bad">Không xác minh được chữ ký số</span> <span class="muted">— biên lai này không được coi là hợp lệ; liên hệ cơ quan thu.</span></p>`
      }
    </div>
  </section>
  <p class="no-print"><button class="primary" onclick="window.print()">In biên lai</button></p>`;
  return page(`Biên lai ${r.seriesSymbol} số ${r.displayNumber}`, body, CSS);
}

/** The look-up page when no receipt is shown: a mistyped or unknown code. */
export function renderLookupProblem(title: string, detail: string) {
  return page(
    title,
    html`<h1>${title}</h1><p>${detail}</p>
    <form method="get" action="/receipts/lookup" class="no-print">
      <label>Mã tra cứu <input name="code" autocomplete="off" style="font:inherit;padding:0.4rem;width:100%;max-width:22rem"></label>
      <p><button class="primary" type="submit">Tra cứu</button></p>
    </form>`,
  );
}
