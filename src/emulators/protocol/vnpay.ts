import { hmacHex, signedByAny } from './hmac.ts';

/**
 * VNPay 2.1.0 as VNPay (or a merchant following its samples) writes it, apart from the hub's
 * src/gateways/vnpay/protocol.ts: node:crypto HMAC-SHA512, PHP `urlencode` built from
 * encodeURIComponent, field lists written out here. The emulator signs and checks with it, and
 * the tests sign what they send with it and check what the hub signs.
 */

export const VNP_VERSION = '2.1.0';
/** vnp_TransactionType of a refund request: all that is left, or a part of it. */
export const REFUND_FULL = '02';
export const REFUND_PARTIAL = '03';

/** PHP urlencode = encodeURIComponent, plus the five marks it leaves alone, and space as '+'. */
function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * How the merchant percent-encodes the signed string: PHP `urlencode` (VNPay's samples), or
 * the HTML form encoding (Java's URLEncoder), which leaves `*` as it is.
 */
export type Encoding = 'php' | 'form';

const urlencode = (text: string, encoding: Encoding) => (encoding === 'php' ? phpUrlencode(text) : phpUrlencode(text).replace(/%2A/g, '*'));

const isSigned = (key: string, value: string | undefined) =>
  key.startsWith('vnp_') && key !== 'vnp_SecureHash' && key !== 'vnp_SecureHashType' && value !== undefined && value !== '';

/** ksort, drop empty values and the hash fields, urlencode each key and value. */
function vnpHashData(params: Record<string, string>, encoding: Encoding = 'php'): string {
  return Object.keys(params)
    .filter((k) => isSigned(k, params[k]))
    .sort()
    .map((k) => `${urlencode(k, encoding)}=${urlencode(params[k]!, encoding)}`)
    .join('&');
}

const hmacSha512 = (secret: string, data: string) => hmacHex('sha512', secret, data);

/** The query string VNPay puts on the IPN and return URLs: signed data, then the hash. */
export function vnpSignedQuery(params: Record<string, string>, secret: string, encoding: Encoding = 'php'): string {
  const data = vnpHashData(params, encoding);
  return `${data}&vnp_SecureHash=${hmacSha512(secret, data)}`;
}

/** True when a URL's vnp_SecureHash is HMAC-SHA512 of its (decoded, re-encoded) parameters. */
export function vnpUrlVerifies(url: string, secret: string): boolean {
  const params = Object.fromEntries(new URL(url).searchParams);
  return typeof params.vnp_SecureHash === 'string' && params.vnp_SecureHash === hmacSha512(secret, vnpHashData(params));
}

/**
 * A payment request's `vnp_*` parameters, and whether their hash is one of the merchant's
 * secrets'. A key given twice is refused: which of its values was signed is not knowable.
 */
export function checkSignedQuery(
  query: URLSearchParams,
  secrets: readonly string[],
  encoding: Encoding,
): { valid: boolean; params: Record<string, string> } {
  const params: Record<string, string> = {};
  const seen = new Set<string>();
  let hash: string | undefined;
  let repeated = false;
  for (const [key, value] of query) {
    if (!key.startsWith('vnp_')) continue;
    if (seen.has(key)) repeated = true;
    seen.add(key);
    if (key === 'vnp_SecureHash') hash = value;
    else if (isSigned(key, value)) params[key] = value;
  }
  const valid = !repeated && hash?.length === 128 && signedByAny('sha512', secrets, vnpHashData(params, encoding), hash);
  return { valid, params };
}

export const QUERYDR_REQUEST_FIELDS =
  'vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TxnRef|vnp_TransactionDate|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo'.split('|');
export const QUERYDR_ANSWER_FIELDS =
  'vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo|vnp_PromotionCode|vnp_PromotionAmount'.split(
    '|',
  );
export const REFUND_REQUEST_FIELDS =
  'vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TransactionType|vnp_TxnRef|vnp_Amount|vnp_TransactionNo|vnp_TransactionDate|vnp_CreateBy|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo'.split(
    '|',
  );
export const REFUND_ANSWER_FIELDS =
  'vnp_ResponseId|vnp_Command|vnp_ResponseCode|vnp_Message|vnp_TmnCode|vnp_TxnRef|vnp_Amount|vnp_BankCode|vnp_PayDate|vnp_TransactionNo|vnp_TransactionType|vnp_TransactionStatus|vnp_OrderInfo'.split(
    '|',
  );

/** HMAC-SHA512 over the fields' values joined by '|' (missing ones as ''). */
export function pipeHash(body: Record<string, unknown>, fields: readonly string[], secret: string): string {
  return hmacSha512(secret, fields.map((f) => (body[f] === undefined || body[f] === null ? '' : String(body[f]))).join('|'));
}

/** True when a JSON request's vnp_SecureHash is pipeHash of `fields` under one of the secrets. */
export function pipeVerifies(body: Record<string, unknown>, fields: readonly string[], secrets: readonly string[]): boolean {
  // A nested object has no one text form: no field of a signed request is one.
  if (fields.some((f) => typeof body[f] === 'object' && body[f] !== null)) return false;
  const data = fields.map((f) => (body[f] === undefined || body[f] === null ? '' : String(body[f]))).join('|');
  return (
    typeof body.vnp_SecureHash === 'string' &&
    body.vnp_SecureHash.length === 128 &&
    signedByAny('sha512', secrets, data, body.vnp_SecureHash)
  );
}

/** A JSON answer as VNPay signs it. */
export function signedAnswer(body: Record<string, unknown>, fields: readonly string[], secret: string) {
  return { ...body, vnp_SecureHash: pipeHash(body, fields, secret) };
}

/** vnp_Amount (VND × 100, digits) → whole VND, or null for anything else. */
export function vndOf(vnpAmount: string | undefined): number | null {
  if (vnpAmount === undefined || !/^[1-9]\d{2,16}$/.test(vnpAmount) || !vnpAmount.endsWith('00')) return null;
  const vnd = Number(vnpAmount.slice(0, -2));
  return Number.isSafeInteger(vnd) ? vnd : null;
}
