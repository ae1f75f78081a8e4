import type { Context } from 'hono';
import { vnDisplayDate } from '../domain/dates.ts';
import { type IndicatorKey, type IndicatorValue, indicatorKeys } from '../domain/indicators.ts';
import type { CampaignProgress } from '../services/campaigns.ts';
import { type CellValue, type Sheet, writeXlsx } from './xlsx.ts';

/**
 * The campaign's weekly report: a workbook of the summary, the daily series, the units and the
 * action lists (`format=xlsx`), or one of those tables as CSV (`format=csv&sheet=…`: UTF-8 with
 * a byte-order mark, comma-separated, rates as fractions with a point, for machines).
 */

export const INDICATOR_NAMES: Record<IndicatorKey, string> = {
  procedureOnlinePayment: 'Tỷ lệ TTHC có giao dịch thanh toán trực tuyến',
  procedureIntegration: 'Tỷ lệ TTHC có nghĩa vụ tài chính được tích hợp thanh toán trực tuyến',
  dossierOnlinePayment: 'Tỷ lệ hồ sơ thanh toán trực tuyến',
};

export const exportSheets = [
  'summary',
  'daily',
  'units',
  'procedures-without-payment',
  'procedures-not-integrated',
  'units-by-rate',
] as const;
export type ExportSheet = (typeof exportSheets)[number];

const pct = (rate: number | null): CellValue => (rate === null ? null : { value: rate, format: 'percent' });
const dec = (value: number | null): CellValue => (value === null ? null : { value, format: 'decimal' });

function tables(p: CampaignProgress): Record<ExportSheet, Sheet> {
  const value = (v: IndicatorValue) => [v.numerator, v.denominator, pct(v.rate), dec(v.points)];
  return {
    summary: {
      name: 'Tổng hợp',
      widths: [62, 12, 12, 12, 12, 12, 12, 12, 12, 12, 14],
      rows: [
        [
          'Chỉ tiêu',
          'Mục tiêu',
          'Cơ sở: tử số',
          'Cơ sở: mẫu số',
          'Cơ sở: tỷ lệ',
          'Hiện tại: tử số',
          'Hiện tại: mẫu số',
          'Hiện tại: tỷ lệ',
          'Điểm',
          'Điểm tối đa',
          'Dự báo cuối kỳ',
        ],
        ...indicatorKeys.map((k) => [
          INDICATOR_NAMES[k],
          pct(p.campaign.targets[k]),
          p.baseline[k].numerator,
          p.baseline[k].denominator,
          pct(p.baseline[k].rate),
          p.current[k].numerator,
          p.current[k].denominator,
          pct(p.current[k].rate),
          dec(p.current[k].points),
          p.current[k].maxPoints,
          pct(p.projection[k].projectedRate),
        ]),
        [
          'Tổng điểm nhóm thanh toán trực tuyến',
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          dec(p.current.points),
          p.current.maxPoints,
          null,
        ],
        [],
        ['Chiến dịch', p.campaign.name],
        ['Đơn vị', `${p.campaign.agency.name} (${p.campaign.agency.code})`],
        ['Thời gian', `${vnDisplayDate(p.campaign.startDate)} – ${vnDisplayDate(p.campaign.endDate)} (${p.campaign.days} ngày)`],
        ['Kỳ cơ sở', `${vnDisplayDate(p.baseline.from)} – ${vnDisplayDate(p.baseline.to)}`],
        ['Số liệu đến ngày', `${vnDisplayDate(p.asOf)} (ngày thứ ${p.day})`],
      ],
    },
    daily: {
      name: 'Theo ngày',
      widths: [12, 8, ...Array(12).fill(12)],
      rows: [
        [
          'Ngày',
          'Ngày thứ',
          'a lũy kế: tử số',
          'a lũy kế: mẫu số',
          'a lũy kế: tỷ lệ',
          'b lũy kế: tử số',
          'b lũy kế: mẫu số',
          'b lũy kế: tỷ lệ',
          'c lũy kế: tử số',
          'c lũy kế: mẫu số',
          'c lũy kế: tỷ lệ',
          'c trong ngày: tử số',
          'c trong ngày: mẫu số',
          'c trong ngày: tỷ lệ',
        ],
        ...p.series.map((s) => [
          vnDisplayDate(s.date),
          s.day,
          ...indicatorKeys.flatMap((k) => [s.cumulative[k].numerator, s.cumulative[k].denominator, pct(s.cumulative[k].rate)]),
          s.daily.dossierOnlinePayment.numerator,
          s.daily.dossierOnlinePayment.denominator,
          pct(s.daily.dossierOnlinePayment.rate),
        ]),
      ],
    },
    units: {
      name: 'Đơn vị',
      widths: [18, 46, 12, 12, 12, 12, 12, 14, 14, 12, 10],
      rows: [
        [
          'Mã đơn vị',
          'Đơn vị',
          'c cơ sở: tỷ lệ',
          'c hiện tại: tử số',
          'c hiện tại: mẫu số',
          'c hiện tại: tỷ lệ',
          'Thay đổi',
          'Còn cách mục tiêu',
          'Hồ sơ TTTT cần thêm',
          'a hiện tại: tỷ lệ',
          'Điểm',
        ],
        ...p.leaderboard.map((u) => [
          u.agency.code,
          u.agency.direct ? `${u.agency.name} (tiếp nhận trực tiếp)` : u.agency.name,
          pct(u.baseline.dossierOnlinePayment.rate),
          ...value(u.current.dossierOnlinePayment).slice(0, 3),
          pct(u.change),
          pct(u.gap),
          u.needed,
          pct(u.current.procedureOnlinePayment.rate),
          dec(u.current.points),
        ]),
      ],
    },
    'procedures-without-payment': {
      name: 'TTHC chưa có TTTT',
      widths: [14, 70, 12, 14, 12],
      rows: [
        ['Mã TTHC', 'Tên thủ tục', 'Số hồ sơ', 'Hồ sơ phải thu', 'Đã tích hợp'],
        ...p.actions.proceduresWithoutOnlinePayment.map((x) => [x.code, x.name, x.dossiers, x.feeDossiers, x.integrated ? 'có' : 'không']),
      ],
    },
    'procedures-not-integrated': {
      name: 'TTHC chưa tích hợp',
      widths: [14, 70, 12, 14, 12],
      rows: [
        ['Mã TTHC', 'Tên thủ tục', 'Số hồ sơ', 'Hồ sơ có phí', 'Cờ tích hợp'],
        ...p.actions.proceduresNotIntegrated.map((x) => [x.code, x.name, x.dossiers, x.charged, x.integrated ? 'có' : 'không']),
      ],
    },
    'units-by-rate': {
      name: 'Đơn vị theo tỷ lệ',
      widths: [18, 46, 18, 12, 12, 12, 14],
      rows: [
        ['Mã đơn vị', 'Đơn vị', 'Đơn vị cấp trên', 'Hồ sơ TTTT', 'Hồ sơ phải thu', 'Tỷ lệ', 'Hồ sơ TTTT cần thêm'],
        ...p.actions.unitsByDossierRate.map((u) => [
          u.agency.code,
          u.agency.name,
          u.agency.parentCode,
          u.numerator,
          u.denominator,
          pct(u.rate),
          u.needed,
        ]),
      ],
    },
  };
}

function campaignWorkbook(p: CampaignProgress, now: Date): Uint8Array<ArrayBuffer> {
  const t = tables(p);
  return writeXlsx(
    exportSheets.map((k) => t[k]),
    now,
  );
}

const csvField = (value: CellValue): string => {
  if (value === null) return '';
  const text = typeof value === 'object' ? String(value.value) : String(value);
  // Quote what CSV needs quoted, and defuse spreadsheet formulas in text (=, +, -, @).
  const safe = typeof value === 'string' && /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

function campaignCsv(p: CampaignProgress, sheet: ExportSheet): string {
  return `\uFEFF${tables(p)
    [sheet].rows.map((row) => row.map(csvField).join(','))
    .join('\r\n')}\r\n`;
}

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The report as a download: named after the campaign, the unit and the day, never cached. */
export function exportResponse(c: Context, p: CampaignProgress, format: 'csv' | 'xlsx', sheet: ExportSheet): Response {
  const name = `chien-dich-${p.campaign.startDate}-${p.agency.code}-${p.asOf}`;
  c.header('cache-control', 'no-store');
  if (format === 'csv') {
    c.header('content-disposition', `attachment; filename="${name}-${sheet}.csv"`);
    return c.body(campaignCsv(p, sheet), 200, { 'content-type': 'text/csv; charset=utf-8' });
  }
  c.header('content-disposition', `attachment; filename="${name}.xlsx"`);
  return c.body(campaignWorkbook(p, new Date()), 200, { 'content-type': XLSX_TYPE });
}
