import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { vnDisplayDate } from '../../domain/dates.ts';
import { type IndicatorKey, type IndicatorValue, indicatorKeys } from '../../domain/indicators.ts';
import type { CampaignProgress, CampaignView } from '../../services/campaigns.ts';
import type { BreakdownItem, CatalogueProcedure, IndicatorReport } from '../../services/indicators.ts';
import { INDICATOR_NAMES } from '../campaign-export.ts';
import { formatCount, formatDecimal, formatPercent, formatPointChange } from '../format.ts';
import { page } from '../layout.ts';
import { renderBurnUpChart } from './burn-up-chart.ts';

/**
 * The campaign managers' dashboard, rendered by the server: readable without JavaScript. The
 * token lives only in this tab: the pages carry it in a hidden field of their forms (every link
 * is a button of a POST form), and a few lines of script keep it in sessionStorage so that a
 * reload of the tab signs in again. Nothing else stores it: no cookie, no local storage.
 */

const TOKEN_KEY = 'hub-dashboard-token';

const CSS = `
  body { font-family: system-ui, "Segoe UI", Roboto, "Noto Sans", sans-serif; background: #eef1f4; }
  main { max-width: 74rem; padding: 1.5rem 2rem; }
  h1 { text-transform: none; text-align: left; font-size: 1.5rem; }
  h2 { font-size: 1.15rem; margin: 1.8rem 0 0.6rem; border-bottom: 2px solid var(--accent); padding-bottom: 0.2rem; }
  .bar { display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; }
  .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 1rem; margin: 1rem 0; }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: 0.9rem 1rem; background: #fafbfc; }
  .card h3 { font-size: 0.95rem; margin: 0 0 0.5rem; font-weight: 600; }
  .card .rate { font-size: 2rem; font-weight: 700; color: var(--accent); font-variant-numeric: tabular-nums; }
  .card dl { display: grid; grid-template-columns: auto auto; gap: 0.15rem 0.8rem; margin: 0.5rem 0 0; font-size: 0.9rem; }
  .card dt { color: var(--muted); } .card dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
  .total { font-size: 1.1rem; } .total strong { font-size: 1.4rem; color: var(--accent); }
  .good { color: #1d6b2f; } .bad { color: var(--danger); }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  button.link { background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; cursor: pointer; font: inherit; text-align: left; }
  button.link:focus-visible, button:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
  .lists li > button.link { display: block; }
  .leaderboard td.unit { min-width: 15rem; }
  .lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; }
  .legend { font-size: 0.85rem; color: var(--muted); }
  textarea { width: 100%; font-family: monospace; font-size: 0.85rem; }
  .error { border: 1px solid var(--danger); color: var(--danger); padding: 0.6rem 0.8rem; border-radius: 4px; }
  nav.crumbs { margin: 0.3rem 0 0.8rem; }
`;

const shell = (title: string, nonce: string, body: HtmlEscapedString | Promise<HtmlEscapedString>, script = '') =>
  page(
    title,
    body,
    CSS,
    html`<meta name="referrer" content="no-referrer">${script ? html`<script nonce="${nonce}">${raw(script)}</script>` : ''}`,
  );

/** The sign-in page. With a token kept in this tab, it signs in again by itself (unless signing out). */
export function renderLoginPage(nonce: string, error?: string) {
  const script = `document.addEventListener('DOMContentLoaded', () => {
    const form = document.getElementById('login');
    if (new URLSearchParams(location.search).has('logout')) { sessionStorage.removeItem('${TOKEN_KEY}'); return; }
    const kept = sessionStorage.getItem('${TOKEN_KEY}');
    if (kept && !form.dataset.error) { form.token.value = kept; form.submit(); }
    else if (form.dataset.error) sessionStorage.removeItem('${TOKEN_KEY}');
  });`;
  return shell(
    'Đăng nhập — Bảng theo dõi thanh toán trực tuyến',
    nonce,
    html`<h1>Bảng theo dõi thanh toán trực tuyến</h1>
  <p>Các chỉ số thanh toán trực tuyến theo Quyết định 766/QĐ-TTg và tiến độ chiến dịch.</p>
  ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
  <form id="login" method="post" action="/dashboard" ${error ? raw('data-error="1"') : ''}>
    <p><label for="token">Mã truy cập (JWT, vai trò <em>campaign</em> hoặc <em>admin</em>)</label></p>
    <textarea id="token" name="token" rows="5" required autocomplete="off" spellcheck="false"></textarea>
    <p class="muted">Mã chỉ được giữ trong thẻ trình duyệt này và mất khi đóng thẻ.</p>
    <p><button class="primary" type="submit">Xem bảng theo dõi</button></p>
  </form>`,
    script,
  );
}

export function renderDashboardError(nonce: string, title: string, message: string) {
  return shell(title, nonce, html`<h1>${title}</h1><p class="error" role="alert">${message}</p><p><a href="/dashboard">Quay lại</a></p>`);
}

const keepToken = (token: string) =>
  `try { sessionStorage.setItem('${TOKEN_KEY}', ${JSON.stringify(token).replace(/</g, '\\u003c')}); } catch (e) {}`;

export interface DashboardModel {
  nonce: string;
  token: string;
  campaigns: CampaignView[];
  progress: CampaignProgress | null;
  /** Without a campaign: the indicators of the caller's scope this month, and the other units it may choose. */
  report?: IndicatorReport;
  roots?: Array<{ code: string; name: string }>;
  /** One procedure's numbers per unit, when asked for. */
  procedure?: { procedure: CatalogueProcedure; items: BreakdownItem[] };
}

/** The forms every link submits: `nav` (with its button's agency or campaign), `here` (the unit shown). */
function navForms(m: DashboardModel) {
  const p = m.progress;
  return html`<form id="nav" method="post" action="/dashboard"><input type="hidden" name="token" value="${m.token}">${
    p ? html`<input type="hidden" name="campaign" value="${p.campaign.id}">` : ''
  }</form>
  <form id="here" method="post" action="/dashboard"><input type="hidden" name="token" value="${m.token}">${
    p
      ? html`<input type="hidden" name="campaign" value="${p.campaign.id}"><input type="hidden" name="agency" value="${p.agency.code}">`
      : ''
  }</form>`;
}

const unitButton = (code: string, name: string) =>
  html`<button class="link" type="submit" form="nav" name="agency" value="${code}">${name}</button>`;
const procedureButton = (code: string, name: string) =>
  html`<button class="link" type="submit" form="here" name="procedure" value="${code}">${name}</button>`;

function indicatorCard(key: IndicatorKey, value: IndicatorValue, p: CampaignProgress | null) {
  const target = p?.targets[key];
  const projection = p?.projection[key];
  const unit = key === 'dossierOnlinePayment' ? 'hồ sơ' : 'thủ tục';
  return html`<section class="card" data-indicator="${key}">
    <h3>${INDICATOR_NAMES[key]}</h3>
    <div class="rate" data-testid="rate-${key}">${formatPercent(value.rate)}</div>
    <dl>
      <dt>Tử số / mẫu số</dt><dd data-testid="counts-${key}">${formatCount(value.numerator)} / ${formatCount(value.denominator)} ${unit}</dd>
      <dt>Điểm</dt><dd data-testid="points-${key}">${formatDecimal(value.points)} / ${formatDecimal(value.maxPoints)}</dd>
      ${p ? html`<dt>Kỳ cơ sở</dt><dd>${formatPercent(p.baseline[key].rate)}</dd>` : ''}
      ${
        target && target.target !== null
          ? html`<dt>Mục tiêu</dt><dd>${formatPercent(target.target)}${
              target.reached === null
                ? ''
                : html` <span class="${target.reached ? 'good' : 'bad'}">${target.reached ? '✓ đạt' : `còn ${formatCount(target.needed ?? 0)} ${unit}`}</span>`
            }</dd>`
          : ''
      }
      ${
        projection && projection.projectedRate !== null && p?.status === 'running'
          ? html`<dt>Dự báo cuối kỳ</dt><dd>${formatPercent(projection.projectedRate)}${
              projection.onTrack === null
                ? ''
                : html` <span class="${projection.onTrack ? 'good' : 'bad'}">${projection.onTrack ? 'kịp mục tiêu' : 'chưa kịp'}</span>`
            }</dd>`
          : ''
      }
    </dl>
  </section>`;
}

function leaderboardTable(p: CampaignProgress) {
  return html`<table class="leaderboard" data-testid="leaderboard">
    <caption class="legend">Các đơn vị trực thuộc ${p.agency.name}, tỷ lệ hồ sơ thanh toán trực tuyến cao nhất trước.</caption>
    <thead><tr><th>#</th><th>Đơn vị</th><th class="num">Tỷ lệ hiện tại</th><th class="num">Hồ sơ TTTT / phải thu</th><th class="num">Kỳ cơ sở</th><th class="num">Thay đổi</th><th class="num">Còn cách mục tiêu</th><th class="num">Cần thêm</th><th class="num">Điểm</th></tr></thead>
    <tbody>${p.leaderboard.map(
      (row, i) => html`<tr>
      <td>${i + 1}</td>
      <td class="unit">${row.agency.direct ? html`${row.agency.name} <span class="muted">(tiếp nhận trực tiếp)</span>` : unitButton(row.agency.code, row.agency.name)}</td>
      <td class="num">${formatPercent(row.current.dossierOnlinePayment.rate)}</td>
      <td class="num">${formatCount(row.current.dossierOnlinePayment.numerator)} / ${formatCount(row.current.dossierOnlinePayment.denominator)}</td>
      <td class="num">${formatPercent(row.baseline.dossierOnlinePayment.rate)}</td>
      <td class="num ${row.change !== null && row.change > 0 ? 'good' : row.change !== null && row.change < 0 ? 'bad' : ''}">${formatPointChange(row.change)}</td>
      <td class="num">${row.needed === null ? '—' : row.needed === 0 ? html`<span class="good">đạt</span>` : formatPointChange(row.gap)}</td>
      <td class="num">${row.needed === null ? '—' : formatCount(row.needed)}</td>
      <td class="num">${formatDecimal(row.current.points)}</td>
    </tr>`,
    )}</tbody>
  </table>`;
}

function actionSections(p: CampaignProgress) {
  const a = p.actions;
  return html`<div class="lists">
  <section data-testid="action-a">
    <h3>TTHC có hồ sơ nhưng chưa có giao dịch thanh toán trực tuyến (chỉ số a)</h3>
    ${
      a.proceduresWithoutOnlinePayment.length === 0
        ? html`<p class="good">Mọi TTHC có hồ sơ đều đã có giao dịch thanh toán trực tuyến.</p>`
        : html`<ol>${a.proceduresWithoutOnlinePayment.map(
            (x) =>
              html`<li>${procedureButton(x.code, `${x.code} — ${x.name}`)} <span class="muted">(${formatCount(x.feeDossiers)} hồ sơ phải thu${x.integrated ? '' : ', chưa gắn cờ tích hợp'})</span></li>`,
          )}</ol>`
    }
  </section>
  <section data-testid="action-b">
    <h3>TTHC có phí, lệ phí chưa được tính là tích hợp (chỉ số b)</h3>
    ${
      a.proceduresNotIntegrated.length === 0
        ? html`<p class="good">Mọi TTHC có phí, lệ phí đều đã được tính là tích hợp.</p>`
        : html`<ol>${a.proceduresNotIntegrated.map(
            (x) =>
              html`<li>${procedureButton(x.code, `${x.code} — ${x.name}`)} <span class="muted">(${x.dossiers === 0 ? 'chưa có hồ sơ' : `${formatCount(x.dossiers)} hồ sơ`})</span></li>`,
          )}</ol>`
    }
  </section>
  <section data-testid="action-c">
    <h3>Đơn vị có tỷ lệ hồ sơ thanh toán trực tuyến thấp nhất (chỉ số c)</h3>
    <ol>${a.unitsByDossierRate
      .slice(0, 15)
      .map(
        (u) =>
          html`<li>${unitButton(u.agency.code, u.agency.name)}: ${formatPercent(u.rate)} <span class="muted">(${formatCount(u.numerator)}/${formatCount(u.denominator)}; cần thêm ${formatCount(u.needed)} hồ sơ)</span></li>`,
      )}</ol>
    ${a.unitsByDossierRate.length > 15 ? html`<p class="muted">và ${a.unitsByDossierRate.length - 15} đơn vị khác (xem tệp xuất).</p>` : ''}
  </section>
  </div>`;
}

function seriesTable(p: CampaignProgress) {
  return html`<details><summary>Số liệu từng ngày (bảng)</summary><table>
    <thead><tr><th>Ngày</th><th>Ngày thứ</th><th class="num">Lũy kế</th><th class="num">Hồ sơ TTTT / phải thu (lũy kế)</th><th class="num">Trong ngày</th></tr></thead>
    <tbody>${p.series.map(
      (
        s,
      ) => html`<tr><td>${vnDisplayDate(s.date)}</td><td class="num">${s.day}</td><td class="num">${formatPercent(s.cumulative.dossierOnlinePayment.rate)}</td>
      <td class="num">${formatCount(s.cumulative.dossierOnlinePayment.numerator)} / ${formatCount(s.cumulative.dossierOnlinePayment.denominator)}</td>
      <td class="num">${formatPercent(s.daily.dossierOnlinePayment.rate)}</td></tr>`,
    )}</tbody></table></details>`;
}

function campaignSelector(m: DashboardModel) {
  if (m.campaigns.length < 2) return '';
  return html`<form method="post" action="/dashboard" class="bar" style="justify-content:flex-start">
    <input type="hidden" name="token" value="${m.token}">
    <label for="campaign">Chiến dịch</label>
    <select id="campaign" name="campaign">${m.campaigns.map(
      (c) =>
        html`<option value="${c.id}" ${c.id === m.progress?.campaign.id ? raw('selected') : ''}>${c.name} (${vnDisplayDate(c.startDate)})</option>`,
    )}</select>
    <button type="submit">Xem</button>
  </form>`;
}

function procedureSection(p: CampaignProgress, view: NonNullable<DashboardModel['procedure']>) {
  return html`<section data-testid="procedure-view">
  <h2>${view.procedure.code} — ${view.procedure.name}</h2>
  <p>${view.procedure.integrated ? 'Đã gắn cờ tích hợp thanh toán trực tuyến trong danh mục.' : 'Chưa gắn cờ tích hợp thanh toán trực tuyến trong danh mục.'}
  Số liệu từ ${vnDisplayDate(p.current.from)} đến ${vnDisplayDate(p.current.to)}, theo đơn vị trực thuộc ${p.agency.name}.</p>
  <table><thead><tr><th>Đơn vị</th><th class="num">Hồ sơ phải thu</th><th class="num">Đã thanh toán trực tuyến</th><th class="num">Tỷ lệ</th></tr></thead>
  <tbody>${view.items
    .filter((i) => i.dossierOnlinePayment.denominator > 0)
    .map(
      (
        i,
      ) => html`<tr><td>${i.agency?.direct ? html`${i.agency.name} <span class="muted">(tiếp nhận trực tiếp)</span>` : unitButton(i.agency!.code, i.agency!.name)}</td>
      <td class="num">${formatCount(i.dossierOnlinePayment.denominator)}</td><td class="num">${formatCount(i.dossierOnlinePayment.numerator)}</td>
      <td class="num">${formatPercent(i.dossierOnlinePayment.rate)}</td></tr>`,
    )}</tbody></table>
  <p><button class="link" type="submit" form="here">← Quay lại bảng theo dõi ${p.agency.name}</button></p>
  </section>`;
}

const statusText = { scheduled: 'chưa bắt đầu', running: 'đang diễn ra', ended: 'đã kết thúc' } as const;

export function renderDashboard(m: DashboardModel) {
  const p = m.progress;
  const header = html`<div class="bar">
    <div><strong>Bảng theo dõi thanh toán trực tuyến</strong> <span class="muted">· Quyết định 766/QĐ-TTg</span></div>
    <form method="get" action="/dashboard"><input type="hidden" name="logout" value="1"><button type="submit">Đăng xuất</button></form>
  </div>${navForms(m)}${campaignSelector(m)}`;

  if (!p) {
    const r = m.report!;
    return shell(
      'Bảng theo dõi thanh toán trực tuyến',
      m.nonce,
      html`${header}<h1>${r.agency.name}</h1>
      ${
        (m.roots?.length ?? 0) > 1
          ? html`<nav class="crumbs">Đơn vị: ${m.roots!.map((a, i) => html`${i > 0 ? ' · ' : ''}${a.code === r.agency.code ? html`<strong>${a.name}</strong>` : unitButton(a.code, a.name)}`)}</nav>`
          : ''
      }
      <p>Chưa có chiến dịch nào cho đơn vị của bạn. Chỉ số từ ${vnDisplayDate(r.from)} đến ${vnDisplayDate(r.to)}:</p>
      <div class="cards">${indicatorKeys.map((k) => indicatorCard(k, r[k], null))}</div>
      <p class="total">Tổng điểm nhóm thanh toán trực tuyến: <strong data-testid="points-total">${formatDecimal(r.points)}</strong> / ${formatDecimal(r.maxPoints)}</p>`,
      keepToken(m.token),
    );
  }

  const atCampaignLevel = p.agency.code === p.campaign.agency.code;
  const body = html`${header}
  <h1>${p.campaign.name}</h1>
  ${
    atCampaignLevel
      ? ''
      : html`<nav class="crumbs">${unitButton(p.campaign.agency.code, `← ${p.campaign.agency.name}`)}${
          p.agency.parentCode && p.agency.parentCode !== p.campaign.agency.code
            ? html` · ${unitButton(p.agency.parentCode, 'đơn vị cấp trên')}`
            : ''
        }</nav>`
  }
  <p data-testid="campaign-line"><strong>${p.agency.name}</strong> · từ ${vnDisplayDate(p.campaign.startDate)} đến ${vnDisplayDate(p.campaign.endDate)}
   · ${p.status === 'running' ? html`ngày thứ <strong data-testid="day">${p.day}</strong>/${p.campaign.days}` : statusText[p.status]}
   · số liệu đến ngày ${vnDisplayDate(p.asOf)}</p>
  ${
    m.procedure
      ? procedureSection(p, m.procedure)
      : html`<div class="cards">${indicatorKeys.map((k) => indicatorCard(k, p.current[k], p))}</div>
  <p class="total">Tổng điểm nhóm thanh toán trực tuyến: <strong data-testid="points-total">${formatDecimal(p.current.points)}</strong> / ${formatDecimal(p.current.maxPoints)}
   <span class="muted">(kỳ cơ sở ${formatDecimal(p.baseline.points)})</span></p>
  <h2>Tỷ lệ hồ sơ thanh toán trực tuyến theo ngày</h2>
  ${renderBurnUpChart({
    days: p.campaign.days,
    series: p.series,
    target: p.campaign.targets.dossierOnlinePayment,
    baseline: p.baseline.dossierOnlinePayment.rate,
    projectedRate: p.status === 'running' ? p.projection.dossierOnlinePayment.projectedRate : null,
    endDate: p.campaign.endDate,
  })}
  <p class="legend">Đường liền: tỷ lệ lũy kế từ ngày bắt đầu; cột nhạt: tỷ lệ trong ngày; đường đỏ: mục tiêu; đường đứt: kỳ cơ sở
   (${vnDisplayDate(p.baseline.from)} – ${vnDisplayDate(p.baseline.to)}); đường chấm: dự báo theo nhịp ${p.projection.dossierOnlinePayment.windowDays} ngày gần nhất.
   Hồ sơ được tính theo ngày tiếp nhận, kể cả khi thanh toán sau đó.</p>
  ${seriesTable(p)}
  <h2>Xếp hạng đơn vị</h2>
  ${p.leaderboard.length === 0 ? html`<p class="muted">Đơn vị không có đơn vị trực thuộc.</p>` : leaderboardTable(p)}
  <h2>Việc cần làm</h2>
  ${actionSections(p)}
  <h2>Báo cáo</h2>
  <form method="post" action="/dashboard/export" class="bar" style="justify-content:flex-start">
    <input type="hidden" name="token" value="${m.token}"><input type="hidden" name="campaign" value="${p.campaign.id}"><input type="hidden" name="agency" value="${p.agency.code}">
    <button type="submit" name="format" value="xlsx">Tải báo cáo Excel (.xlsx)</button>
    <button type="submit" name="format" value="csv">Tải bảng đơn vị (.csv)</button>
  </form>`
  }`;
  return shell(`${p.campaign.name} — Bảng theo dõi thanh toán trực tuyến`, m.nonce, body, keepToken(m.token));
}
