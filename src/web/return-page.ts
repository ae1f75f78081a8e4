import { html } from 'hono/html';
import { formatVnd } from '../domain/money.ts';
import type { IntentStatus } from '../domain/payment-states.ts';
import { page } from './layout.ts';

/**
 * What the gateway told the payer's browser; the hub's record may not know it yet.
 * `unconfirmed`: the link's signature does not cover the result, so none is shown.
 */
type GatewayVerdict = 'succeeded' | 'failed' | 'needs_review' | 'unconfirmed';

export interface ReturnPageModel {
  gatewayName: string;
  reference: string;
  amount: number;
  verdict: GatewayVerdict;
  /** The gateway's reason, in Vietnamese, for a decline or a hold. */
  reason?: string;
  /** The amount the gateway reported, when it is not the one asked for. */
  reportedAmount?: number | null;
  status: IntentStatus;
  /** The portal page the payer goes back to, or null when there is none to trust. */
  redirectUrl: string | null;
  redirectSeconds: number;
}

const verdictText = (m: ReturnPageModel) => {
  switch (m.verdict) {
    case 'succeeded':
      return html`${m.gatewayName} báo <strong>giao dịch thành công</strong>.`;
    case 'failed':
      return html`${m.gatewayName} báo <strong>giao dịch không thành công</strong>${m.reason ? html`: ${m.reason}` : ''}.`;
    case 'needs_review':
      return html`${m.gatewayName} báo <strong>giao dịch bị nghi ngờ gian lận</strong>. Nếu tài khoản của bạn đã bị trừ tiền, cán bộ sẽ kiểm tra và xử lý.`;
    case 'unconfirmed':
      return html`Bạn đã quay về từ ${m.gatewayName}. Hệ thống xác nhận kết quả trực tiếp với ${m.gatewayName}.`;
  }
};

/** The hub's own record, which only the gateway's server-to-server confirmation changes. */
const statusText: Record<IntentStatus, string> = {
  created: 'Đang chờ xác nhận từ cổng thanh toán. Kết quả chính thức được ghi nhận khi cổng thanh toán gửi xác nhận đến hệ thống.',
  pending: 'Đang chờ xác nhận từ cổng thanh toán. Kết quả chính thức được ghi nhận khi cổng thanh toán gửi xác nhận đến hệ thống.',
  succeeded: 'Đã ghi nhận thanh toán; biên lai điện tử đã được lập.',
  failed: 'Đã ghi nhận giao dịch không thành công; bạn có thể thanh toán lại.',
  needs_review: 'Đang được cán bộ kiểm tra; bạn sẽ được thông báo kết quả.',
  expired: 'Yêu cầu thanh toán đã hết hạn.',
  cancelled: 'Yêu cầu thanh toán đã bị hủy.',
  partially_refunded: 'Đã ghi nhận thanh toán; một phần số tiền đã được hoàn trả.',
  refunded: 'Đã ghi nhận thanh toán; số tiền đã được hoàn trả.',
};

const noReferrer = html`<meta name="referrer" content="no-referrer">`;

/** The page the payer sees on coming back from the gateway: what it said, what the hub has. */
export function renderReturnPage(m: ReturnPageModel) {
  const head = m.redirectUrl
    ? html`${noReferrer}<meta http-equiv="refresh" content="${m.redirectSeconds};url=${m.redirectUrl}">`
    : noReferrer;
  const body = html`
  <h1>Kết quả thanh toán</h1>
  <table>
    <tr><th>Mã thanh toán</th><td data-testid="reference">${m.reference}</td></tr>
    <tr><th>Số tiền</th><td class="amount"><strong>${formatVnd(m.amount)}</strong></td></tr>
  </table>
  <p data-testid="verdict">${verdictText(m)}</p>
  ${
    m.reportedAmount !== undefined && m.reportedAmount !== m.amount
      ? html`<p>Số tiền ${m.gatewayName} báo ${m.reportedAmount === null ? 'không hợp lệ' : html`(${formatVnd(m.reportedAmount)})`} khác số tiền cần nộp; cán bộ sẽ kiểm tra.</p>`
      : ''
  }
  <p data-testid="status">Trạng thái trên hệ thống: ${statusText[m.status]}${
    // Money may have moved: paying again while the confirmation is on its way would pay twice.
    (m.status === 'pending' || m.status === 'created') && m.verdict !== 'failed' ? ' Bạn không cần thanh toán lại.' : ''
  }</p>
  ${
    m.redirectUrl
      ? html`<p style="text-align:center">Bạn sẽ được chuyển về cổng dịch vụ công sau ${m.redirectSeconds} giây.
    <a href="${m.redirectUrl}">Quay lại cổng dịch vụ công ngay</a></p>`
      : ''
  }`;
  return page('Kết quả thanh toán', body, '', head);
}

/** A return link the hub cannot vouch for (bad signature) or does not know: no redirect. */
export function renderReturnProblem(title: string, message: string) {
  return page(title, html`<h1>${title}</h1><p style="text-align:center">${message}</p>`, '', noReferrer);
}
