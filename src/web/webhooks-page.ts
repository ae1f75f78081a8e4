import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { DeliveryState, EventType } from '../db/schema/outbox.ts';
import type { AttemptView, DeliveryView } from '../services/webhook-delivery.ts';
import type { EndpointView } from '../services/webhook-endpoints.ts';
import { formatCount, formatVnDateTime } from './format.ts';

/**
 * The admin's page of webhooks (issue 13): every registered endpoint of a dossier system, and
 * under each its recent deliveries with their attempts (expandable, no script needed), the
 * failed ones marked and filterable, and a "Gửi lại" form (CSRF-checked) on the failed and
 * pending ones. At 390 px the deliveries' table becomes one card per delivery.
 */

export const WEBHOOKS_PAGE = '/dashboard/webhooks';

export type DeliveryFilter = 'all' | DeliveryState;

export interface WebhooksPageModel {
  csrf: HtmlEscapedString;
  filter: DeliveryFilter;
  notice?: string;
  error?: { title: string; detail: string };
  endpoints: Array<{ endpoint: EndpointView; deliveries: DeliveryView[]; failed: number }>;
  /** How many recent deliveries are shown per endpoint at most. */
  limit: number;
}

const EVENT_LABELS: Record<EventType, string> = {
  'obligation.paid': 'Khoản phí đã thanh toán',
  'dossier.paid': 'Hồ sơ đã thanh toán đủ',
  'payment.failed': 'Thanh toán không thành công',
  'payment.expired': 'Giao dịch hết hạn',
  'payment.cancelled': 'Giao dịch bị hủy',
  'payment.needs_review': 'Giao dịch cần xử lý',
  'payment.review_resolved': 'Đã xử lý giao dịch',
  'payment.refunded': 'Đã hoàn tiền',
  'receipt.issued': 'Đã phát hành biên lai',
  'receipt.adjusted': 'Biên lai được điều chỉnh',
  'receipt.replaced': 'Biên lai được thay thế',
  'offline_payment.recorded': 'Ghi nhận nộp trực tiếp',
};

const STATE_LABELS: Record<DeliveryState, string> = {
  pending: 'Đang chờ gửi',
  succeeded: 'Đã gửi thành công',
  failed: 'Thất bại',
};

const FILTERS: Array<{ value: DeliveryFilter; label: string }> = [
  { value: 'all', label: 'Tất cả' },
  { value: 'failed', label: 'Thất bại' },
  { value: 'pending', label: 'Đang chờ gửi' },
  { value: 'succeeded', label: 'Đã gửi thành công' },
];

const filterHref = (filter: DeliveryFilter) => (filter === 'all' ? WEBHOOKS_PAGE : `${WEBHOOKS_PAGE}?state=${filter}`);

export function renderWebhooksPage(model: WebhooksPageModel) {
  const failedTotal = model.endpoints.reduce((sum, e) => sum + e.failed, 0);
  return html`<div class="hooks">
  <h1>Gửi sự kiện đến hệ thống hồ sơ (webhook)</h1>
  <p class="muted">Các điểm nhận đã đăng ký, các lần gửi gần đây (tối đa ${model.limit} mỗi điểm nhận) và từng lần thử.
    Lần gửi thất bại sau lần thử cuối có thể gửi lại bằng tay; việc gửi lại được ghi vào nhật ký kiểm toán.</p>
  ${model.notice ? html`<p class="flash flash-ok" role="status" data-testid="notice"><strong>Đã ghi nhận.</strong> ${model.notice}</p>` : ''}
  ${
    model.error
      ? html`<div class="flash flash-error" role="alert"><p><strong>Lỗi: ${model.error.title}</strong></p><p>${model.error.detail}</p></div>`
      : ''
  }
  <nav class="filters" aria-label="Lọc theo trạng thái">
    <span class="muted">Lọc:</span>
    ${FILTERS.map(
      (f) =>
        html`<a href="${filterHref(f.value)}" data-filter="${f.value}"${model.filter === f.value ? raw(' aria-current="page"') : ''}>${f.label}${
          f.value === 'failed'
            ? html` <span class="count${failedTotal > 0 ? ' bad' : ''}" data-testid="failed-total">${formatCount(failedTotal)}</span>`
            : ''
        }</a>`,
    )}
  </nav>
  ${
    model.endpoints.length === 0
      ? html`<p class="empty">Chưa có điểm nhận nào. Quản trị viên đăng ký điểm nhận qua <code>POST /v1/webhook-endpoints</code>.</p>`
      : model.endpoints.map((e) => endpointSection(model, e))
  }
</div>`;
}

function endpointSection(model: WebhooksPageModel, { endpoint, deliveries, failed }: WebhooksPageModel['endpoints'][number]) {
  return html`<section class="endpoint" id="e-${endpoint.id}" data-testid="endpoint" aria-labelledby="h-${endpoint.id}">
  <h2 id="h-${endpoint.id}"><span class="url">${endpoint.url}</span>
    <span class="badge ${endpoint.active ? 'on' : 'off'}">${endpoint.active ? 'Đang hoạt động' : 'Tạm dừng'}</span>
    ${failed > 0 ? html`<span class="badge failed">${formatCount(failed)} thất bại</span>` : ''}</h2>
  ${endpoint.description ? html`<p>${endpoint.description}</p>` : ''}
  <dl class="facts">
    <dt>Cơ quan</dt><dd><code>${endpoint.agencyCode}</code></dd>
    <dt>Sự kiện</dt><dd><ul class="events">${endpoint.events.map((e) => html`<li><code>${e}</code></li>`)}</ul></dd>
    <dt>Khóa ký</dt><dd>${endpoint.secretFingerprints.map((f, i) => html`${i > 0 ? ', ' : ''}<code title="12 chữ số hex đầu của SHA-256 của khóa">${f}</code>`)}
      <span class="muted">(${endpoint.secretFingerprints.length > 1 ? 'đang xoay vòng khóa' : 'một khóa'}; chỉ hiện dấu vân tay)</span></dd>
    <dt>Đăng ký</dt><dd>${formatVnDateTime(endpoint.createdAt)} · ${endpoint.createdBy}</dd>
  </dl>
  ${deliveries.length === 0 ? html`<p class="empty">Không có lần gửi nào${model.filter === 'all' ? '' : ' ở trạng thái này'}.</p>` : deliveryTable(model, deliveries)}
</section>`;
}

function deliveryTable(model: WebhooksPageModel, deliveries: DeliveryView[]) {
  return html`<table class="deliveries" data-testid="deliveries">
  <thead><tr><th scope="col">Sự kiện</th><th scope="col">Hồ sơ</th><th scope="col">Trạng thái</th><th scope="col" class="num">Số lần</th>
    <th scope="col">Kết quả gần nhất</th><th scope="col">Lần gửi tiếp</th><th scope="col"><span class="sr-only">Thao tác</span></th></tr></thead>
  ${deliveries.map((d) => deliveryRows(model, d))}
</table>`;
}

function deliveryRows(model: WebhooksPageModel, d: DeliveryView) {
  const label = EVENT_LABELS[d.eventType as EventType];
  return html`<tbody class="delivery ${d.state}" id="d-${d.id}" data-testid="delivery" data-state="${d.state}" data-delivery="${d.id}">
  <tr>
    ${cell('Sự kiện', html`<code>${d.eventType}</code>${label ? html`<br><span class="muted">${label}</span>` : ''}`)}
    ${cell('Hồ sơ', html`<code class="dossier">${d.dossierCode}</code>`)}
    ${cell(
      'Trạng thái',
      html`<span class="state ${d.state}" data-testid="state">${STATE_LABELS[d.state]}</span>${
        d.completedAt ? html`<br><span class="muted">${formatVnDateTime(d.completedAt)}</span>` : ''
      }`,
    )}
    ${cell('Số lần', formatCount(d.attempts), 'num')}
    ${cell('Kết quả gần nhất', lastResult(d), 'last')}
    ${cell('Lần gửi tiếp', d.nextAttemptAt ? formatVnDateTime(d.nextAttemptAt) : html`<span class="muted">—</span>`)}
    <td class="act">${
      d.state === 'succeeded'
        ? ''
        : html`<form method="post" action="${WEBHOOKS_PAGE}/deliveries/${d.id}/resend">${model.csrf}
        <button type="submit" class="secondary" aria-label="Gửi lại ${d.eventType} của hồ sơ ${d.dossierCode}">Gửi lại</button></form>`
    }</td>
  </tr>
  <tr class="log"><td colspan="7">${attemptLog(d.attemptLog)}</td></tr>
</tbody>`;
}

/** A cell labelled for the narrow layout, its content in one box (the label and the value are a two-column grid there). */
const cell = (label: string, content: unknown, className = '') =>
  html`<td data-label="${label}"${className ? raw(` class="${className}"`) : ''}><div>${content}</div></td>`;

function lastResult(d: DeliveryView) {
  if (d.attempts === 0) return html`<span class="muted">Chưa gửi</span>`;
  const status = d.lastStatus === null ? '' : html`<strong>HTTP ${d.lastStatus}</strong>`;
  const error = d.lastError ? html`<span class="error-text">${d.lastError}</span>` : '';
  return html`${status}${status && error ? html`<br>` : ''}${error}`;
}

function attemptLog(attempts: AttemptView[]) {
  if (attempts.length === 0) return html`<span class="muted">Chưa có lần thử nào.</span>`;
  return html`<details>
  <summary>Nhật ký gửi (${formatCount(attempts.length)} lần thử)</summary>
  <ol class="attempts">
    ${attempts.map(
      (a) => html`<li class="${a.succeeded ? 'ok' : 'ko'}"><span class="when">${formatVnDateTime(a.attemptedAt)}</span>
      <span class="${a.succeeded ? 'good' : 'bad'}">${a.succeeded ? 'Thành công' : 'Không thành công'}</span>
      ${a.statusCode === null ? html`<span class="muted">không có mã HTTP</span>` : html`<span>HTTP ${a.statusCode}</span>`}
      <span class="muted">${formatCount(a.latencyMs)} ms</span>
      ${a.error ? html`<span class="error-text">${a.error}</span>` : ''}</li>`,
    )}
  </ol>
</details>`;
}

export const WEBHOOKS_CSS = `
  .hooks .filters { display: flex; flex-wrap: wrap; gap: 0.4rem 0.6rem; align-items: center; margin: 1rem 0; }
  .hooks .filters a { padding: 0.35rem 0.8rem; border: 1px solid var(--line); border-radius: 999px; text-decoration: none; background: #fff; }
  .hooks .filters a[aria-current="page"] { background: var(--accent); color: #fff; border-color: var(--accent); }
  .hooks .filters a[aria-current="page"] .count { color: #fff; }
  .hooks .count { font-weight: 700; }
  .hooks .flash { border-radius: 4px; padding: 0.6rem 0.8rem; margin: 0.8rem 0; }
  .hooks .flash p { margin: 0.2rem 0; }
  .hooks .flash-ok { border: 1px solid #1d6b2f; background: #eef7f0; color: #1d6b2f; }
  .hooks .flash-error { border: 1px solid var(--danger); background: #fbeeee; color: var(--danger); }
  .hooks section.endpoint { border: 1px solid var(--line); border-radius: 6px; padding: 0 1rem 0.6rem; margin: 1.2rem 0; background: #fff; }
  .hooks h2 { display: flex; flex-wrap: wrap; align-items: center; gap: 0.3rem 0.6rem; margin-top: 1rem; }
  .hooks h2 .url { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1rem; overflow-wrap: anywhere; }
  .hooks .badge { font-size: 0.8rem; font-weight: 600; padding: 0.1rem 0.5rem; border-radius: 999px; border: 1px solid; white-space: nowrap; }
  .hooks .badge.on { color: #1d6b2f; background: #eef7f0; }
  .hooks .badge.off { color: #8a5a00; background: #fff8e6; }
  .hooks .badge.failed { color: var(--danger); background: #fbeeee; }
  .hooks dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; margin: 0.6rem 0; }
  .hooks dl.facts dt { color: var(--muted); }
  .hooks dl.facts dd { margin: 0; overflow-wrap: anywhere; }
  .hooks ul.events { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem; }
  .hooks ul.events code { background: #eef1f4; padding: 0.05rem 0.4rem; border-radius: 3px; }
  .hooks table.deliveries { font-size: 0.95rem; }
  .hooks table.deliveries tr.log td { border-top: 0; padding-top: 0; }
  .hooks tbody.delivery.failed tr > td { background: #fdf1f1; }
  .hooks tbody.delivery.failed tr:first-child > td:first-child { box-shadow: inset 4px 0 0 var(--danger); }
  .hooks tbody.delivery:target tr > td { outline: 2px solid #f0b400; outline-offset: -2px; }
  .hooks .state { font-weight: 600; white-space: nowrap; }
  .hooks .state.failed, .hooks .error-text { color: var(--danger); }
  .hooks .state.succeeded { color: #1d6b2f; }
  .hooks .state.pending { color: #8a5a00; }
  .hooks code.dossier { white-space: nowrap; }
  .hooks td.last { overflow-wrap: anywhere; max-width: 22rem; }
  .hooks td.act form { margin: 0; }
  .hooks td.act button { white-space: nowrap; padding: 0.4rem 0.9rem; }
  .hooks details summary { cursor: pointer; color: var(--accent); padding: 0.3rem 0; }
  .hooks ol.attempts { margin: 0.3rem 0 0.5rem; padding-left: 1.6rem; font-size: 0.9rem; }
  .hooks ol.attempts li { margin: 0.2rem 0; overflow-wrap: anywhere; }
  .hooks ol.attempts li > span { margin-right: 0.6rem; }
  .hooks .empty { color: var(--muted); font-style: italic; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  @media (max-width: 40rem) {
    .hooks section.endpoint { padding: 0 0.7rem 0.5rem; }
    .hooks dl.facts { grid-template-columns: 1fr; gap: 0 0; }
    .hooks dl.facts dd { margin-bottom: 0.4rem; }
    .hooks table.deliveries, .hooks table.deliveries tbody, .hooks table.deliveries tr, .hooks table.deliveries td { display: block; width: 100%; }
    .hooks table.deliveries thead { display: none; }
    .hooks table.deliveries { border-collapse: separate; }
    .hooks tbody.delivery { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 0.8rem; overflow: hidden; }
    .hooks tbody.delivery.failed { border-color: var(--danger); border-left-width: 4px; }
    .hooks tbody.delivery.failed tr:first-child > td:first-child { box-shadow: none; }
    .hooks table.deliveries td { border: 0; border-bottom: 1px solid #e5e5e5; padding: 0.35rem 0.6rem; max-width: none; }
    .hooks table.deliveries td[data-label] { display: grid; grid-template-columns: 6.8rem minmax(0, 1fr); gap: 0.5rem; }
    .hooks table.deliveries td[data-label]::before { content: attr(data-label); color: var(--muted); font-size: 0.85rem; }
    .hooks table.deliveries td.num { text-align: left; }
    .hooks table.deliveries td.act:empty { display: none; }
    .hooks table.deliveries tr.log td { border-bottom: 0; padding-top: 0.35rem; }
    .hooks ol.attempts .error-text { display: block; }
    .hooks code.dossier { white-space: normal; overflow-wrap: anywhere; }
  }
`;
