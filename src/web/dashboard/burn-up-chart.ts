import { html, raw } from 'hono/html';
import { vnDisplayDate } from '../../domain/dates.ts';
import type { SeriesPoint } from '../../services/campaigns.ts';
import { formatCount, formatPercent } from '../format.ts';

/**
 * The burn-up chart of a campaign's dossier rate (766 indicator c), drawn by the server as SVG:
 * the rate since the start, one point per day (a hollow point on the axis while nothing is
 * counted yet), each day's own rate as a light bar, the target, the baseline and the projection
 * to the end date. Readable without JavaScript; every mark has a text equivalent.
 */
export interface BurnUpModel {
  days: number;
  series: SeriesPoint[];
  target: number | null;
  baseline: number | null;
  projectedRate: number | null;
  endDate: string;
}

const W = 760;
const H = 320;
const M = { top: 16, right: 120, bottom: 44, left: 52 };
const plotW = W - M.left - M.right;
const plotH = H - M.top - M.bottom;

const COLORS = {
  rate: '#0b4f8a',
  bar: '#c9dcef',
  target: '#a61b1b',
  baseline: '#4d4d4d',
  projection: '#0b4f8a',
  grid: '#d9d9d9',
  ink: '#1a1a1a',
};

const fixed = (n: number) => n.toFixed(1);

export function renderBurnUpChart(m: BurnUpModel) {
  const x = (day: number) => M.left + (m.days === 1 ? plotW / 2 : ((day - 1) / (m.days - 1)) * plotW);
  const y = (rate: number) => M.top + (1 - Math.min(Math.max(rate, 0), 1)) * plotH;
  const barWidth = Math.max(2, Math.min(16, (plotW / m.days) * 0.6));
  const counted = m.series.filter((s) => s.cumulative.dossierOnlinePayment.rate !== null);
  const last = counted.at(-1);

  const grid = [0, 0.2, 0.4, 0.6, 0.8, 1].map(
    (
      r,
    ) => html`<line x1="${M.left}" x2="${M.left + plotW}" y1="${fixed(y(r))}" y2="${fixed(y(r))}" stroke="${COLORS.grid}" stroke-width="1"/>
    <text x="${M.left - 8}" y="${fixed(y(r) + 4)}" text-anchor="end" font-size="12" fill="${COLORS.ink}">${formatPercent(r, 0)}</text>`,
  );
  const step = m.days <= 10 ? 1 : m.days <= 31 ? 5 : Math.ceil(m.days / 6);
  const ticks = [
    ...new Set([1, ...Array.from({ length: Math.floor(m.days / step) }, (_, i) => (i + 1) * step).filter((d) => d <= m.days), m.days]),
  ];
  const xTicks = ticks.map(
    (d) => html`<line x1="${fixed(x(d))}" x2="${fixed(x(d))}" y1="${M.top + plotH}" y2="${M.top + plotH + 5}" stroke="${COLORS.ink}"/>
    <text x="${fixed(x(d))}" y="${M.top + plotH + 19}" text-anchor="middle" font-size="12" fill="${COLORS.ink}">${d}</text>`,
  );
  const bars = m.series
    .filter((s) => s.daily.dossierOnlinePayment.rate !== null)
    .map((s) => {
      const d = s.daily.dossierOnlinePayment;
      return html`<rect class="daily" x="${fixed(x(s.day) - barWidth / 2)}" y="${fixed(y(d.rate!))}" width="${fixed(barWidth)}" height="${fixed(M.top + plotH - y(d.rate!))}" fill="${COLORS.bar}"><title>Trong ngày ${vnDisplayDate(s.date)}: ${formatPercent(d.rate)} (${formatCount(d.numerator)}/${formatCount(d.denominator)} hồ sơ)</title></rect>`;
    });
  const line = counted.map((s) => `${fixed(x(s.day))},${fixed(y(s.cumulative.dossierOnlinePayment.rate!))}`).join(' ');
  const points = m.series.map((s) => {
    const c = s.cumulative.dossierOnlinePayment;
    return c.rate === null
      ? html`<circle class="point" data-day="${s.day}" cx="${fixed(x(s.day))}" cy="${fixed(y(0))}" r="3.5" fill="#fff" stroke="${COLORS.rate}" stroke-width="1.5"><title>Ngày ${s.day} (${vnDisplayDate(s.date)}): chưa có hồ sơ phải thu phí</title></circle>`
      : html`<circle class="point" data-day="${s.day}" cx="${fixed(x(s.day))}" cy="${fixed(y(c.rate))}" r="3.5" fill="${COLORS.rate}"><title>Ngày ${s.day} (${vnDisplayDate(s.date)}): lũy kế ${formatPercent(c.rate)} (${formatCount(c.numerator)}/${formatCount(c.denominator)} hồ sơ)</title></circle>`;
  });
  const label = (rate: number, text: string, color: string, dy = 4) =>
    html`<text x="${M.left + plotW + 6}" y="${fixed(y(rate) + dy)}" font-size="12" fill="${color}">${text}</text>`;
  const hline = (rate: number, color: string, dash: string, name: string) =>
    html`<line class="${name}" x1="${M.left}" x2="${M.left + plotW}" y1="${fixed(y(rate))}" y2="${fixed(y(rate))}" stroke="${color}" stroke-width="2" stroke-dasharray="${dash}"/>`;
  // Keep the two right-hand labels apart when the target and the baseline are close.
  const apart = m.target !== null && m.baseline !== null && Math.abs(y(m.target) - y(m.baseline)) < 14;

  const description = [
    counted.length > 0
      ? `Từ ngày ${counted[0]!.day} đến ngày ${last!.day} trên ${m.days}: tỷ lệ lũy kế từ ${formatPercent(counted[0]!.cumulative.dossierOnlinePayment.rate)} đến ${formatPercent(last!.cumulative.dossierOnlinePayment.rate)}.`
      : 'Chưa có hồ sơ phải thu phí nào trong chiến dịch.',
    m.target !== null ? `Mục tiêu ${formatPercent(m.target)}.` : 'Chưa đặt mục tiêu.',
    m.baseline !== null ? `Kỳ cơ sở ${formatPercent(m.baseline)}.` : '',
    m.projectedRate !== null ? `Dự báo đến ${vnDisplayDate(m.endDate)}: ${formatPercent(m.projectedRate)}.` : '',
  ]
    .filter(Boolean)
    .join(' ');

  return html`<svg class="burn-up" role="img" aria-labelledby="burn-up-title burn-up-desc" viewBox="0 0 ${W} ${H}" width="100%" style="max-width:${W}px" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">
  <title id="burn-up-title">Tỷ lệ hồ sơ thanh toán trực tuyến lũy kế theo ngày của chiến dịch</title>
  <desc id="burn-up-desc">${description}</desc>
  <rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>
  ${grid}
  ${bars}
  ${m.baseline !== null ? html`${hline(m.baseline, COLORS.baseline, '4 4', 'baseline')}${label(m.baseline, `Cơ sở ${formatPercent(m.baseline, 1)}`, COLORS.baseline, apart && m.target !== null && m.baseline < m.target ? 14 : 4)}` : ''}
  ${m.target !== null ? html`${hline(m.target, COLORS.target, '0', 'target')}${label(m.target, `Mục tiêu ${formatPercent(m.target, 1)}`, COLORS.target, apart && m.baseline !== null && m.target <= m.baseline ? 14 : 4)}` : ''}
  ${
    last && m.projectedRate !== null && last.day < m.days
      ? html`<line class="projection" x1="${fixed(x(last.day))}" y1="${fixed(y(last.cumulative.dossierOnlinePayment.rate!))}" x2="${fixed(x(m.days))}" y2="${fixed(y(m.projectedRate))}" stroke="${COLORS.projection}" stroke-width="2" stroke-dasharray="2 4"><title>Dự báo đến ${vnDisplayDate(m.endDate)}: ${formatPercent(m.projectedRate)}</title></line>`
      : ''
  }
  ${line ? raw(`<polyline class="cumulative" points="${line}" fill="none" stroke="${COLORS.rate}" stroke-width="2.5"/>`) : ''}
  ${points}
  <line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="${COLORS.ink}"/>
  ${xTicks}
  <text x="${M.left + plotW / 2}" y="${H - 6}" text-anchor="middle" font-size="12" fill="${COLORS.ink}">Ngày của chiến dịch (${m.days} ngày)</text>
</svg>`;
}
