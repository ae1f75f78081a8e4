import { hmacHex } from './hmac.ts';
import { gmt7 } from './time.ts';

/**
 * A bank's credit notification, as the collecting agency's bank (or a service reading the
 * account, such as SePay) sends it, written apart from the hub's parser
 * (src/gateways/vietqr/notifications.ts): the two layouts, and the signature, HMAC-SHA256 hex of
 * the raw body in the agreed header.
 */
export type NotificationFormat = 'standard' | 'sepay';

export interface Credit {
  account: string;
  amount: number;
  text: string;
  /** The bank's own reference of the transfer. */
  bankReference: string;
  /** SePay's id of the transaction (its key against duplicates). */
  serviceId: number;
  at: Date;
}

export function notification(format: NotificationFormat, credit: Credit): Record<string, unknown> {
  const local = gmt7(credit.at);
  if (format === 'sepay') {
    return {
      id: credit.serviceId,
      gateway: 'MBBank',
      // SePay's wall-clock time in Vietnam: 'YYYY-MM-DD HH:mm:ss'.
      transactionDate: `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)} ${local.slice(8, 10)}:${local.slice(10, 12)}:${local.slice(12, 14)}`,
      accountNumber: credit.account,
      subAccount: null,
      code: null,
      content: credit.text,
      transferType: 'in',
      description: `BankAPINotify ${credit.text}`,
      transferAmount: credit.amount,
      accumulated: 0,
      referenceCode: credit.bankReference,
    };
  }
  return {
    accountNumber: credit.account,
    amount: credit.amount,
    transactionId: credit.bankReference,
    time: `${local.slice(0, 4)}-${local.slice(4, 6)}-${local.slice(6, 8)}T${local.slice(8, 10)}:${local.slice(10, 12)}:${local.slice(12, 14)}+07:00`,
    description: credit.text,
  };
}

/** The signature header's value for a raw notification body. */
export const notificationSignature = (secret: string, rawBody: string) => hmacHex('sha256', secret, rawBody);
