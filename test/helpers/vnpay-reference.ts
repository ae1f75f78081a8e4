import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * An implementation of VNPay 2.1.0 signing written apart from the hub's protocol.ts, as a
 * merchant or VNPay itself would: node:crypto HMAC-SHA512, PHP `urlencode` built from
 * encodeURIComponent, field lists written out here. Tests sign what they send with it, and
 * check what the hub signs with it.
 */

/** PHP urlencode = encodeURIComponent, plus the five marks it leaves alone, and space as '+'. */
export function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** ksort, drop empty values and the hash fields, urlencode each key and value. */
export function vnpHashData(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k.startsWith('vnp_') && k !== 'vnp_SecureHash' && k !== 'vnp_SecureHashType' && params[k] !== '')
    .sort()
    .map((k) => `${phpUrlencode(k)}=${phpUrlencode(params[k]!)}`)
    .join('&');
}

export const hmacSha512 = (secret: string, data: string) => createHmac('sha512', secret).update(data, 'utf8').digest('hex');

/** The query string VNPay puts on the IPN and return URLs: signed data, then the hash. */
export function vnpSignedQuery(params: Record<string, string>, secret: string): string {
  const data = vnpHashData(params);
  return `${data}&vnp_SecureHash=${hmacSha512(secret, data)}`;
}

/** True when a URL's vnp_SecureHash is HMAC-SHA512 of its (decoded, re-encoded) parameters. */
export function vnpUrlVerifies(url: string, secret: string): boolean {
  const params = Object.fromEntries(new URL(url).searchParams);
  return typeof params.vnp_SecureHash === 'string' && params.vnp_SecureHash === hmacSha512(secret, vnpHashData(params));
}

export const QUERYDR_REQUEST_FIELDS = 'vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TxnRef|vnp_TransactionDate|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo'.split('|');
export const QUERYDR_ANSWER_FIELDS =
  'vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo|vnp_PromotionCode|vnp_PromotionAmount'.split('|');
export const REFUND_REQUEST_FIELDS =
  'vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TransactionType|vnp_TxnRef|vnp_Amount|vnp_TransactionNo|vnp_TransactionDate|vnp_CreateBy|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo'.split('|');
export const REFUND_ANSWER_FIELDS =
  'vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo'.split('|');

/** HMAC-SHA512 over the fields' values joined by '|' (missing ones as ''). */
export function pipeHash(body: Record<string, unknown>, fields: readonly string[], secret: string): string {
  return hmacSha512(secret, fields.map((f) => (body[f] === undefined || body[f] === null ? '' : String(body[f]))).join('|'));
}

/** A JSON answer as VNPay signs it. */
export function signedAnswer(body: Record<string, unknown>, fields: readonly string[], secret: string) {
  return { ...body, vnp_SecureHash: pipeHash(body, fields, secret) };
}

/** yyyyMMddHHmmss in Vietnam's time zone, by Intl rather than by offset arithmetic. */
export function gmt7(date: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Ho_Chi_Minh',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}${parts.month}${parts.day}${parts.hour}${parts.minute}${parts.second}`;
}

/** A recorded VNPay message shape from test/fixtures/vnpay. */
export function vnpayFixture<T = Record<string, string>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/vnpay/${name}.json`, import.meta.url), 'utf8')) as T;
}
