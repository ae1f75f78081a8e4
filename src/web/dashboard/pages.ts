import { html, raw } from 'hono/html';
import { vnDisplayDate } from '../../domain/dates.ts';
import { type IndicatorKey, type IndicatorValue, indicatorKeys } from '../../domain/indicators.ts';
import type { CampaignProgress, CampaignView } from '../../services/campaigns.ts';
import type { BreakdownItem, CatalogueProcedure, IndicatorReport } from '../../services/indicators.ts';
import { INDICATOR_NAMES } from '../campaign-export.ts';
import { formatCount, formatDecimal, formatPercent, formatPointChange } from '../format.ts';
import { renderBurnUpChart } from './burn-up-chart.ts';

/**
 * The campaign managers' dashboard, rendered by the server: readable without JavaScript. Every
 * view is a GET of /dashboard/campaigns with its campaign, unit and procedure in the query, so
 * every drill-down is a plain link: it can be bookmarked, opened in a new tab, and Back works.
 * The session cookie (src/web/session.ts) says who is asking; nothing of it is in a page.
 */

/** The address of a view of the dashboard. */
function campaignsHref(view: { campaign?: string; agency?: string; procedure?: string }, path = '/dashboard/campaigns') {
  const query = new URLSearchParams();
  for (const key of ['campaign', 'agency', 'procedure'] as const) if (view[key]) query.set(key, view[key]);
  const q = query.toString();
  return q ? `${path}?${q}` : path;
}

export interface DashboardModel {
  /** An admin sees the links to create and edit campaigns. */
  canEdit: boolean;
  campaigns: CampaignView[];
  progress: CampaignProgress | null;
  /** Without a campaign: the indicators of the caller's scope this month, and the other units it may choose. */
  report?: IndicatorReport;
  roots?: Array<{ code: string; name: string }>;
  /** One procedure's numbers per unit, when asked for. */
  procedure?: { procedure: CatalogueProcedure; items: BreakdownItem[] };
}

const unitLink = (campaign: string | undefined, code: string, name: string) =>
  html`<a href="${campaignsHref({ campaign, agency: code })}">${name}</a>`;
const procedureLink = (p: CampaignProgress, code: string, name: string) =>
  html`<a href="${campaignsHref({ campaign: p.campaign.id, agency: p.agency.code, procedure: code })}">${name}</a>`;

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
  return html`<div class="scroll"><table class="leaderboard" data-testid="leaderboard">
    <caption class="legend">Các đơn vị trực thuộc ${p.agency.name}, tỷ lệ hồ sơ thanh toán trực tuyến cao nhất trước.</caption>
    <thead><tr><th>#</th><th>Đơn vị</th><th class="num">Tỷ lệ hiện tại</th><th class="num">Hồ sơ TTTT / phải thu</th><th class="num">Kỳ cơ sở</th><th class="num">Thay đổi</th><th class="num">Còn cách mục tiêu</th><th class="num">Cần thêm</th><th class="num">Điểm</th></tr></thead>
    <tbody>${p.leaderboard.map(
      (row, i) => html`<tr>
      <td>${i + 1}</td>
      <td class="unit">${row.agency.direct ? html`${row.agency.name} <span class="muted">(tiếp nhận trực tiếp)</span>` : unitLink(p.campaign.id, row.agency.code, row.agency.name)}</td>
      <td class="num">${formatPercent(row.current.dossierOnlinePayment.rate)}</td>
      <td class="num">${formatCount(row.current.dossierOnlinePayment.numerator)} / ${formatCount(row.current.dossierOnlinePayment.denominator)}</td>
      <td class="num">${formatPercent(row.baseline.dossierOnlinePayment.rate)}</td>
      <td class="num ${row.change !== null && row.change > 0 ? 'good' : row.change !== null && row.change < 0 ? 'bad' : ''}">${formatPointChange(row.change)}</td>
      <td class="num">${row.needed === null ? '—' : row.needed === 0 ? html`<span class="good">đạt</span>` : formatPointChange(row.gap)}</td>
      <td class="num">${row.needed === null ? '—' : formatCount(row.needed)}</td>
      <td class="num">${formatDecimal(row.current.points)}</td>
    </tr>`,
    )}</tbody>
  </table></div>`;
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
              html`<li>${procedureLink(p, x.code, `${x.code} — ${x.name}`)} <span class="muted">(${formatCount(x.feeDossiers)} hồ sơ phải thu${x.integrated ? '' : ', chưa gắn cờ tích hợp'})</span></li>`,
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
              html`<li>${procedureLink(p, x.code, `${x.code} — ${x.name}`)} <span class="muted">(${x.dossiers === 0 ? 'chưa có hồ sơ' : `${formatCount(x.dossiers)} hồ sơ`})</span></li>`,
          )}</ol>`
    }
  </section>
  <section data-testid="action-c">
    <h3>Đơn vị có tỷ lệ hồ sơ thanh toán trực tuyến thấp nhất (chỉ số c)</h3>
    <ol>${a.unitsByDossierRate
      .slice(0, 15)
      .map(
        (u) =>
          html`<li>${unitLink(p.campaign.id, u.agency.code, u.agency.name)}: ${formatPercent(u.rate)} <span class="muted">(${formatCount(u.numerator)}/${formatCount(u.denominator)}; cần thêm ${formatCount(u.needed)} hồ sơ)</span></li>`,
      )}</ol>
    ${a.unitsByDossierRate.length > 15 ? html`<p class="muted">và ${a.unitsByDossierRate.length - 15} đơn vị khác (xem tệp xuất).</p>` : ''}
  </section>
  </div>`;
}

function seriesTable(p: CampaignProgress) {
  return html`<details><summary>Số liệu từng ngày (bảng)</summary><div class="scroll"><table>
    <thead><tr><th>Ngày</th><th>Ngày thứ</th><th class="num">Lũy kế</th><th class="num">Hồ sơ TTTT / phải thu (lũy kế)</th><th class="num">Trong ngày</th></tr></thead>
    <tbody>${p.series.map(
      (
        s,
      ) => html`<tr><td>${vnDisplayDate(s.date)}</td><td class="num">${s.day}</td><td class="num">${formatPercent(s.cumulative.dossierOnlinePayment.rate)}</td>
      <td class="num">${formatCount(s.cumulative.dossierOnlinePayment.numerator)} / ${formatCount(s.cumulative.dossierOnlinePayment.denominator)}</td>
      <td class="num">${formatPercent(s.daily.dossierOnlinePayment.rate)}</td></tr>`,
    )}</tbody></table></div></details>`;
}

function campaignSelector(m: DashboardModel) {
  if (m.campaigns.length < 2) return '';
  return html`<form method="get" action="/dashboard/campaigns" class="bar" style="justify-content:flex-start">
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
  <div class="scroll"><table><thead><tr><th>Đơn vị</th><th class="num">Hồ sơ phải thu</th><th class="num">Đã thanh toán trực tuyến</th><th class="num">Tỷ lệ</th></tr></thead>
  <tbody>${view.items
    .filter((i) => i.dossierOnlinePayment.denominator > 0)
    .map(
      (
        i,
      ) => html`<tr><td>${i.agency?.direct ? html`${i.agency.name} <span class="muted">(tiếp nhận trực tiếp)</span>` : unitLink(p.campaign.id, i.agency!.code, i.agency!.name)}</td>
      <td class="num">${formatCount(i.dossierOnlinePayment.denominator)}</td><td class="num">${formatCount(i.dossierOnlinePayment.numerator)}</td>
      <td class="num">${formatPercent(i.dossierOnlinePayment.rate)}</td></tr>`,
    )}</tbody></table></div>
  <p><a href="${campaignsHref({ campaign: p.campaign.id, agency: p.agency.code })}">← Quay lại bảng theo dõi ${p.agency.name}</a></p>
  </section>`;
}

const statusText = { scheduled: 'chưa bắt đầu', running: 'đang diễn ra', ended: 'đã kết thúc' } as const;

/** The page of one view: its title and body, for the dashboard's shell. */
export function renderDashboard(m: DashboardModel) {
  const p = m.progress;
  const header = html`<div class="bar">
    <div><strong>Bảng theo dõi thanh toán trực tuyến</strong> <span class="muted">· Quyết định 766/QĐ-TTg</span></div>
    ${
      m.canEdit
        ? html`<div class="bar">${p ? html`<a class="button" href="/dashboard/campaigns/${p.campaign.id}/edit">Sửa chiến dịch</a>` : ''}
      <a class="button" href="/dashboard/campaigns/new">Tạo chiến dịch</a></div>`
        : ''
    }
  </div>${campaignSelector(m)}`;

  if (!p) {
    const r = m.report!;
    return {
      title: 'Bảng theo dõi thanh toán trực tuyến',
      body: html`${header}<h1>${r.agency.name}</h1>
      ${
        (m.roots?.length ?? 0) > 1
          ? html`<nav class="crumbs">Đơn vị: ${m.roots!.map((a, i) => html`${i > 0 ? ' · ' : ''}${a.code === r.agency.code ? html`<strong>${a.name}</strong>` : unitLink(undefined, a.code, a.name)}`)}</nav>`
          : ''
      }
      <p>Chưa có chiến dịch nào cho đơn vị của bạn. Chỉ số từ ${vnDisplayDate(r.from)} đến ${vnDisplayDate(r.to)}:</p>
      <div class="cards">${indicatorKeys.map((k) => indicatorCard(k, r[k], null))}</div>
      <p class="total">Tổng điểm nhóm thanh toán trực tuyến: <strong data-testid="points-total">${formatDecimal(r.points)}</strong> / ${formatDecimal(r.maxPoints)}</p>`,
    };
  }

  const atCampaignLevel = p.agency.code === p.campaign.agency.code;
  const exportHref = (format: 'csv' | 'xlsx') =>
    `${campaignsHref({ campaign: p.campaign.id, agency: p.agency.code }, '/dashboard/campaigns/export')}&format=${format}`;
  const body = html`${header}
  <h1>${p.campaign.name}</h1>
  ${
    atCampaignLevel
      ? ''
      : html`<nav class="crumbs">${unitLink(p.campaign.id, p.campaign.agency.code, `← ${p.campaign.agency.name}`)}${
          p.agency.parentCode && p.agency.parentCode !== p.campaign.agency.code
            ? html` · ${unitLink(p.campaign.id, p.agency.parentCode, 'đơn vị cấp trên')}`
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
  <p class="bar" style="justify-content:flex-start">
    <a class="button" href="${exportHref('xlsx')}" download>Tải báo cáo Excel (.xlsx)</a>
    <a class="button" href="${exportHref('csv')}" download>Tải bảng đơn vị (.csv)</a>
  </p>`
  }`;
  return { title: `${p.campaign.name} — Bảng theo dõi thanh toán trực tuyến`, body };
}
