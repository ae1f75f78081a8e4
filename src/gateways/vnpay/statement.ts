import type { StatementFormat } from '../statement-format.ts';

/**
 * VNPay's daily transaction file (the merchant portal's "Tra cứu giao dịch" export, one line per
 * transaction). Its layout is not published (domain/gateways.md): these are the headers of the
 * portal's Vietnamese export and the API's field names, amounts in VND (the portal shows đồng, not
 * the wire's ×100). A line names VNPay's transaction number and the hub's TxnRef.
 */
export const vnpayStatementFormat: StatementFormat = {
  id: 'vnpay',
  columns: {
    transactionId: ['Mã GD VNPAY', 'Mã giao dịch VNPAY', 'Mã GD tại VNPAY', 'vnp_TransactionNo', 'TransactionNo'],
    reference: ['Mã GD merchant', 'Mã giao dịch merchant', 'Mã GD website', 'Mã đơn hàng', 'TxnRef', 'vnp_TxnRef'],
    amount: ['Số tiền', 'Số tiền giao dịch', 'Số tiền thanh toán', 'Amount'],
    time: ['Thời gian thanh toán', 'Ngày thanh toán', 'Thời gian giao dịch', 'vnp_PayDate', 'PayDate'],
    status: ['Trạng thái', 'Trạng thái giao dịch', 'vnp_TransactionStatus'],
    text: ['Nội dung thanh toán', 'Thông tin đơn hàng', 'Mô tả', 'vnp_OrderInfo'],
  },
  direction: 'credit',
  // vnp_TransactionStatus codes (domain/gateways.md): 00 success, 01 not completed, 02 error,
  // 04 reversed, 05/06 refund under way or sent, 07 fraud hold, 09 refund refused.
  statusWords: { '01': 'pending', '02': 'failed', '04': 'refunded', '05': 'refunded', '06': 'refunded', '07': 'pending', '09': 'paid' },
  requiresTransaction: true,
};
