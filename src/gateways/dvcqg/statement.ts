import type { StatementFormat } from '../statement-format.ts';

/**
 * The national platform's (PP-DVCQG / PayGov) reconciliation file. No specification is published
 * (domain/gateways.md): the columns take the names of its confirm message (MaGiaoDich,
 * MaThamChieu, SoTien, ThoiGianGD, ThongTinGiaoDich, MaLoi) or their Vietnamese headers.
 */
export const dvcqgStatementFormat: StatementFormat = {
  id: 'dvcqg',
  columns: {
    transactionId: ['MaGiaoDich', 'Mã giao dịch', 'Mã GD'],
    reference: ['MaThamChieu', 'Mã tham chiếu', 'Mã thanh toán'],
    amount: ['SoTien', 'Số tiền'],
    time: ['ThoiGianGD', 'Thời gian giao dịch', 'Thời gian thanh toán'],
    status: ['TrangThai', 'Trạng thái', 'MaLoi'],
    text: ['ThongTinGiaoDich', 'Thông tin giao dịch', 'Nội dung'],
  },
  direction: 'credit',
  // MaLoi: 00 success; anything else the platform reports is a failure: 99 refused, 01 unknown
  // partner, 11 cancelled by the payer on the platform's page (its confirm's MaLoi).
  statusWords: { '99': 'failed', '01': 'failed', '11': 'failed' },
  requiresTransaction: true,
};
