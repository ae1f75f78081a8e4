import { bankStatementFormat } from './bank-statement.ts';
import { dvcqgStatementFormat } from './dvcqg/statement.ts';
import { sandboxStatementFormat } from './sandbox/statement.ts';
import type { StatementFormat } from './statement-format.ts';
import { vnpayStatementFormat } from './vnpay/statement.ts';

/**
 * Each source's own file format, as the adapters describe it: used when the adapter is not
 * configured on this hub (a past month's file of a channel since switched off still imports).
 */
export const defaultStatementFormats: Record<'vnpay' | 'dvcqg' | 'sandbox' | 'bank', StatementFormat> = {
  vnpay: vnpayStatementFormat,
  dvcqg: dvcqgStatementFormat,
  sandbox: sandboxStatementFormat,
  bank: bankStatementFormat,
};
