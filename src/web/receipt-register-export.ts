import type { ReceiptRegister } from '../services/receipt-register.ts';
import type { SheetSpec } from '../services/spreadsheets.ts';
import { calendarDate } from './downloads.ts';

const KIND_NAMES = { original: 'gốc', adjusting: 'điều chỉnh', replacing: 'thay thế' } as const;

export const receiptRegisterFileName = (register: ReceiptRegister) =>
  `bang-ke-bien-lai-${register.date}${register.agency ? `-${register.agency.code}` : ''}`;

/** The register as a table (CSV and XLSX alike): one row per receipt, the day's totals under them in the workbook. */
export function receiptRegisterSheet(register: ReceiptRegister): SheetSpec {
  return {
    name: 'Bảng kê biên lai',
    columns: [
      { header: 'Ngày lập', format: 'date', width: 12 },
      { header: 'Thời điểm lập', format: 'datetime', width: 20 },
      { header: 'Mã đơn vị thu', width: 16 },
      { header: 'Tổ chức thu', width: 36 },
      { header: 'Mã số thuế', width: 14 },
      { header: 'Mẫu số', width: 8 },
      { header: 'Ký hiệu', width: 8 },
      { header: 'Số', format: 'integer', width: 9 },
      { header: 'Tính chất', width: 11 },
      { header: 'Điều chỉnh/thay thế cho', width: 24 },
      { header: 'Lý do', width: 30 },
      { header: 'Đơn vị lập (ủy quyền)', width: 30 },
      { header: 'Người nộp', width: 26 },
      { header: 'Mã hồ sơ', width: 26 },
      { header: 'Kênh thu', width: 10 },
      { header: 'Mã giao dịch', width: 20 },
      { header: 'Số khoản thu', format: 'integer', width: 9 },
      { header: 'Số tiền (đồng)', format: 'vnd', width: 15 },
      { header: 'Mã tra cứu', width: 22 },
      { header: 'Đã ký số', width: 8 },
    ],
    rows: register.rows.map((r) => [
      calendarDate(r.issuedDate),
      new Date(r.issuedAt),
      r.collectorCode,
      r.collectorName,
      r.collectorTaxCode,
      r.formSymbol,
      r.seriesSymbol,
      r.number,
      KIND_NAMES[r.kind],
      r.corrects
        ? `${r.corrects.formSymbol} ${r.corrects.seriesSymbol} số ${String(r.corrects.number).padStart(7, '0')} ngày ${r.corrects.issuedDate}`
        : null,
      r.reason,
      r.issuerName,
      r.payerName,
      r.dossierCode,
      r.channel,
      r.gatewayTransactionId,
      r.lines,
      r.total,
      r.lookupCode,
      r.signed ? 'có' : 'chưa',
    ]),
    footer: [
      calendarDate(register.date),
      null,
      null,
      `Tổng cộng: ${register.totals.receipts} biên lai`,
      ...Array<null>(13).fill(null),
      register.totals.total,
      null,
      null,
    ],
  };
}
