import type { CollectionsReport } from '../services/collections-report.ts';
import type { SheetSpec } from '../services/spreadsheets.ts';
import { calendarDate } from './downloads.ts';

/**
 * The collections report as a table (CSV and XLSX alike): one row per agency, collection account,
 * fee code, budget codes and channel, with the period's dates on every row so that a row copied
 * elsewhere keeps its period. Amounts are whole đồng (integers); the retained share a number of
 * percent as the catalogue states it (30.00 → 30 %: shown with a percent format as 0.30 in XLSX).
 * The workbook ends with a bold totals row; the CSV has the rows only.
 */
export function collectionsSheet(report: CollectionsReport): SheetSpec {
  return {
    name: 'Tổng hợp thu',
    columns: [
      { header: 'Từ ngày', format: 'date', width: 12 },
      { header: 'Đến ngày', format: 'date', width: 12 },
      { header: 'Mã đơn vị', width: 16 },
      { header: 'Đơn vị', width: 40 },
      { header: 'Tài khoản thu', width: 30 },
      { header: 'Loại (phí/lệ phí)', width: 10 },
      { header: 'Mã khoản thu', width: 12 },
      { header: 'Tên khoản thu', width: 40 },
      { header: 'Mã chương', width: 10 },
      { header: 'Tiểu mục', width: 10 },
      { header: 'Tài khoản NSNN', width: 12 },
      { header: 'Tỷ lệ để lại', format: 'percent', width: 10 },
      { header: 'Mã demo', width: 8 },
      { header: 'Kênh thu', width: 12 },
      { header: 'Số giao dịch', format: 'integer', width: 10 },
      { header: 'Số khoản thu', format: 'integer', width: 10 },
      { header: 'Số tiền thu (đồng)', format: 'vnd', width: 16 },
      { header: 'Số lần hoàn', format: 'integer', width: 10 },
      { header: 'Số tiền hoàn (đồng)', format: 'vnd', width: 16 },
      { header: 'Thực thu (đồng)', format: 'vnd', width: 16 },
      { header: 'Nộp NSNN (đồng)', format: 'vnd', width: 16 },
      { header: 'Để lại đơn vị (đồng)', format: 'vnd', width: 16 },
    ],
    rows: report.rows.map((r) => [
      calendarDate(report.from),
      calendarDate(report.to),
      r.agencyCode,
      r.agencyName,
      r.collectionAccount,
      r.kind === 'phi' ? 'phí' : 'lệ phí',
      r.feeCode,
      r.feeName,
      r.budgetChapter,
      r.budgetSubItem,
      r.budgetAccount,
      // A fraction (0.3 for 30 %), as rates are everywhere in the hub's sheets.
      r.retainedPercent === null ? null : Number(r.retainedPercent) / 100,
      r.budgetCodesDemo ? 'có' : 'không',
      r.channel,
      r.payments,
      r.lines,
      r.collected,
      r.refunds,
      r.refunded,
      r.net,
      r.remit,
      r.retained,
    ]),
    // The period's totals, under the rows (XLSX only: see SheetSpec.footer).
    footer: [
      calendarDate(report.from),
      calendarDate(report.to),
      null,
      'Tổng cộng',
      ...Array<null>(10).fill(null),
      report.totals.payments,
      report.totals.lines,
      report.totals.collected,
      report.totals.refunds,
      report.totals.refunded,
      report.totals.net,
      report.totals.remit,
      report.totals.retained,
    ],
  };
}

/** The download's file name: the period and the agency. */
export const collectionsFileName = (report: CollectionsReport) =>
  `thu-ngan-sach-${report.from}${report.to === report.from ? '' : `-${report.to}`}${report.agency ? `-${report.agency.code}` : ''}`;
