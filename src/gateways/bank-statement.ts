import type { StatementFormat } from './statement-format.ts';

/**
 * A collecting bank account's statement (sao kê), the proof of VietQR transfers: the date, the
 * bank's own reference number, money out (Ghi nợ) and in (Ghi có) in two columns, and the transfer
 * text, inside which the matcher looks for the hub's reference. Exports start with the account's
 * details above the header and may end with totals: the header is found among the first rows, and
 * a totals row is kept as a refused line. Headers as Vietcombank, VietinBank, BIDV and
 * Agribank export them (not confirmed: keep fixtures of each bank's file).
 */
export const bankStatementFormat: StatementFormat = {
  id: 'bank',
  columns: {
    time: ['Ngày giao dịch', 'Ngày GD', 'Thời gian giao dịch', 'Ngày hiệu lực', 'Ngày', 'Transaction date'],
    transactionId: ['Số tham chiếu', 'Số bút toán', 'Mã giao dịch', 'Số CT', 'Số chứng từ', 'Reference number', 'Reference No'],
    debit: ['Ghi nợ', 'Số tiền ghi nợ', 'Phát sinh nợ', 'Nợ', 'Debit'],
    credit: ['Ghi có', 'Số tiền ghi có', 'Phát sinh có', 'Có', 'Credit'],
    text: ['Nội dung', 'Nội dung giao dịch', 'Diễn giải', 'Mô tả', 'Chi tiết giao dịch', 'Description'],
  },
  requiresTransaction: false,
};
