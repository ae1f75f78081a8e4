import type { Context } from 'hono';
import { vnDisplayDate } from '../domain/dates.ts';
import { type IndicatorKey, type IndicatorValue, indicatorKeys } from '../domain/indicators.ts';
import type { CampaignProgress } from '../services/campaigns.ts';
import type { ColumnFormat, SheetColumn, SheetSpec, Spreadsheets } from '../services/spreadsheets.ts';
import { calendarDate, csvResponse, xlsxResponse } from './downloads.ts';

/**
 * The campaign's weekly report: a workbook of the summary, the daily series, the units and the
 * action lists (`format=xlsx`: real dates, rates as numbers shown as percentages, Vietnamese
 * headers), or one of those tables as CSV (`format=csv&sheet=…`, the conventions of downloads.ts:
 * rates as fractions with a point, ISO dates, for machines).
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

const col = (header: string, format: ColumnFormat = 'text', width?: number): SheetColumn => ({ header, format, width });
const count = (header: string) => col(header, 'integer', 12);
const rate = (header: string) => col(header, 'percent', 12);
const points = (header: string) => col(header, 'decimal', 10);

function tables(p: CampaignProgress): Record<ExportSheet, SheetSpec> {
  const value = (v: IndicatorValue) => [v.numerator, v.denominator, v.rate, v.points];
  return {
    summary: {
      name: 'Tổng hợp',
      columns: [
        col('Chỉ tiêu', 'text', 62),
        rate('Mục tiêu'),
        count('Cơ sở: tử số'),
        count('Cơ sở: mẫu số'),
        rate('Cơ sở: tỷ lệ'),
        count('Hiện tại: tử số'),
        count('Hiện tại: mẫu số'),
        rate('Hiện tại: tỷ lệ'),
        points('Điểm'),
        points('Điểm tối đa'),
        rate('Dự báo cuối kỳ'),
      ],
      rows: [
        ...indicatorKeys.map((k) => [
          INDICATOR_NAMES[k],
          p.campaign.targets[k] ?? null,
          p.baseline[k].numerator,
          p.baseline[k].denominator,
          p.baseline[k].rate,
          p.current[k].numerator,
          p.current[k].denominator,
          p.current[k].rate,
          p.current[k].points,
          p.current[k].maxPoints,
          p.projection[k].projectedRate,
        ]),
        ['Tổng điểm nhóm thanh toán trực tuyến', null, null, null, null, null, null, null, p.current.points, p.current.maxPoints, null],
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
      columns: [
        col('Ngày', 'date', 12),
        col('Ngày thứ', 'integer', 8),
        count('a lũy kế: tử số'),
        count('a lũy kế: mẫu số'),
        rate('a lũy kế: tỷ lệ'),
        count('b lũy kế: tử số'),
        count('b lũy kế: mẫu số'),
        rate('b lũy kế: tỷ lệ'),
        count('c lũy kế: tử số'),
        count('c lũy kế: mẫu số'),
        rate('c lũy kế: tỷ lệ'),
        count('c trong ngày: tử số'),
        count('c trong ngày: mẫu số'),
        rate('c trong ngày: tỷ lệ'),
      ],
      rows: p.series.map((s) => [
        calendarDate(s.date),
        s.day,
        ...indicatorKeys.flatMap((k) => [s.cumulative[k].numerator, s.cumulative[k].denominator, s.cumulative[k].rate]),
        s.daily.dossierOnlinePayment.numerator,
        s.daily.dossierOnlinePayment.denominator,
        s.daily.dossierOnlinePayment.rate,
      ]),
    },
    units: {
      name: 'Đơn vị',
      columns: [
        col('Mã đơn vị', 'text', 18),
        col('Đơn vị', 'text', 46),
        rate('c cơ sở: tỷ lệ'),
        count('c hiện tại: tử số'),
        count('c hiện tại: mẫu số'),
        rate('c hiện tại: tỷ lệ'),
        rate('Thay đổi'),
        col('Còn cách mục tiêu', 'percent', 14),
        col('Hồ sơ TTTT cần thêm', 'integer', 14),
        rate('a hiện tại: tỷ lệ'),
        points('Điểm'),
      ],
      rows: p.leaderboard.map((u) => [
        u.agency.code,
        u.agency.direct ? `${u.agency.name} (tiếp nhận trực tiếp)` : u.agency.name,
        u.baseline.dossierOnlinePayment.rate,
        ...value(u.current.dossierOnlinePayment).slice(0, 3),
        u.change,
        u.gap,
        u.needed,
        u.current.procedureOnlinePayment.rate,
        u.current.points,
      ]),
    },
    'procedures-without-payment': {
      name: 'TTHC chưa có TTTT',
      columns: [
        col('Mã TTHC', 'text', 14),
        col('Tên thủ tục', 'text', 70),
        count('Số hồ sơ'),
        col('Hồ sơ phải thu', 'integer', 14),
        col('Đã tích hợp'),
      ],
      rows: p.actions.proceduresWithoutOnlinePayment.map((x) => [x.code, x.name, x.dossiers, x.feeDossiers, x.integrated ? 'có' : 'không']),
    },
    'procedures-not-integrated': {
      name: 'TTHC chưa tích hợp',
      columns: [
        col('Mã TTHC', 'text', 14),
        col('Tên thủ tục', 'text', 70),
        count('Số hồ sơ'),
        col('Hồ sơ có phí', 'integer', 14),
        col('Cờ tích hợp'),
      ],
      rows: p.actions.proceduresNotIntegrated.map((x) => [x.code, x.name, x.dossiers, x.charged, x.integrated ? 'có' : 'không']),
    },
    'units-by-rate': {
      name: 'Đơn vị theo tỷ lệ',
      columns: [
        col('Mã đơn vị', 'text', 18),
        col('Đơn vị', 'text', 46),
        col('Đơn vị cấp trên', 'text', 18),
        count('Hồ sơ TTTT'),
        count('Hồ sơ phải thu'),
        rate('Tỷ lệ'),
        col('Hồ sơ TTTT cần thêm', 'integer', 14),
      ],
      rows: p.actions.unitsByDossierRate.map((u) => [
        u.agency.code,
        u.agency.name,
        u.agency.parentCode,
        u.numerator,
        u.denominator,
        u.rate,
        u.needed,
      ]),
    },
  };
}

/** The report as a download: named after the campaign, the unit and the day, never cached. */
export async function exportResponse(
  c: Context,
  spreadsheets: Spreadsheets | undefined,
  p: CampaignProgress,
  format: 'csv' | 'xlsx',
  sheet: ExportSheet,
): Promise<Response> {
  const name = `chien-dich-${p.campaign.startDate}-${p.agency.code}-${p.asOf}`;
  const t = tables(p);
  if (format === 'csv') return csvResponse(c, `${name}-${sheet}`, t[sheet]);
  return xlsxResponse(
    c,
    spreadsheets,
    name,
    exportSheets.map((k) => t[k]),
    new Date(),
  );
}
