import { vnCompactTimestamp } from '../../domain/dates.ts';
import { hmacHex, verifyWithAny } from '../hmac.ts';
import type { CallbackResult, GatewayOutcome } from '../types.ts';

/**
 * VNPay payment gateway, API version 2.1.0 (shared/domain/gateways.md §1), as pure functions:
 * no I/O, no clock, no node:* imports (Web Crypto through ../hmac.ts, so Node and Workers alike).
 *
 * - Payment URL and IPN/return URL: HMAC-SHA512 (hex) over the `vnp_*` parameters, empty ones and
 *   the hash fields dropped, keys sorted ascending, `key=value&...` form-encoded like PHP
 *   `urlencode` (space as `+`). The hash is appended last as `vnp_SecureHash`.
 * - querydr / refund (JSON, `POST {host}/merchant_webapi/api/transaction`): HMAC-SHA512 over the
 *   listed fields' raw values joined by `|`, in the order of the exported *_HASH_FIELDS constants.
 * - IPN: VNPay's answers (`ipnAnswer`; its order of checks is the hub's `decide`), and the normalised
 *   outcome of a verified IPN (`ipnOutcome`).
 */

const VNP_VERSION = '2.1.0';

/** Parameters that carry the signature and are never part of what is signed. */
const HASH_FIELDS = ['vnp_SecureHash', 'vnp_SecureHashType'] as const;

// ---------------------------------------------------------------------------------------------
// Encoding and the query signature
// ---------------------------------------------------------------------------------------------

/**
 * How a key or value is percent-encoded in the signed string.
 * - `php`: PHP `urlencode` (the domain file's reference): only `A-Za-z0-9-_.` stay as they are,
 *   space becomes `+`, everything else `%XX` (uppercase) over UTF-8.
 * - `form`: WHATWG `URLSearchParams` (= Java `URLEncoder`): the same except that `*` stays as is.
 * The two differ on `*` alone; the domain file names both as if they were one, so it is a choice.
 */
export type QueryEncoding = 'php' | 'form';

function formEncode(value: string): string {
  const params = new URLSearchParams();
  params.append('k', value);
  return params.toString().slice(2);
}

export function encodeComponent(value: string, encoding: QueryEncoding = 'php'): string {
  const encoded = formEncode(value);
  return encoding === 'php' ? encoded.replace(/\*/g, '%2A') : encoded;
}

const isHashField = (key: string) => (HASH_FIELDS as readonly string[]).includes(key);

/** Code-unit order, as PHP `ksort` / Java `Collections.sort` on ASCII keys (never localeCompare). */
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The string VNPay signs: non-empty parameters except the hash fields, sorted, form-encoded. */
export function signString(params: Record<string, string>, encoding: QueryEncoding = 'php'): string {
  return Object.keys(params)
    .filter((k) => !isHashField(k) && params[k] !== undefined && params[k] !== '')
    .sort(byCodeUnit)
    .map((k) => `${encodeComponent(k, encoding)}=${encodeComponent(params[k]!, encoding)}`)
    .join('&');
}

/** `{ query, hash }`: the signed query string (without the hash) and hex HMAC-SHA512 over it. */
export async function signedQuery(
  params: Record<string, string>,
  secret: string,
  encoding: QueryEncoding = 'php',
): Promise<{ query: string; hash: string }> {
  const query = signString(params, encoding);
  return { query, hash: await hmacHex('SHA-512', secret, query) };
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

/**
 * Vietnamese (and any Latin) text without diacritics: tone marks and the breve, circumflex and
 * horn are combining marks after NFD; đ/Đ are letters of their own and are mapped by hand.
 */
export function removeVietnameseDiacritics(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .normalize('NFC');
}

/**
 * `vnp_OrderInfo` as VNPay wants it: printable ASCII without diacritics. Whatever is still not
 * printable ASCII after removing diacritics becomes a space; runs of spaces collapse.
 */
export function asciiOrderInfo(text: string): string {
  return removeVietnameseDiacritics(text)
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Amounts and timestamps
// ---------------------------------------------------------------------------------------------

/** Integer VND → VNPay's `vnp_Amount` (VND × 100) as a digit string. Throws on anything else. */
export function toVnpAmount(amount: number): string {
  if (!Number.isSafeInteger(amount) || amount <= 0 || !Number.isSafeInteger(amount * 100)) {
    throw new RangeError(`VNPay amount must be a positive safe integer number of VND, got ${amount}`);
  }
  return String(amount * 100);
}

/**
 * VNPay's `vnp_Amount` → integer VND, or null when it is not a digit string of a safe integer
 * divisible by 100 (a fractional or malformed amount never matches an order).
 */
export function fromVnpAmount(raw: string | undefined): number | null {
  if (raw === undefined || !/^\d{1,17}$/.test(raw)) return null;
  const minor = Number(raw);
  if (!Number.isSafeInteger(minor) || minor % 100 !== 0) return null;
  return minor / 100;
}

/** `yyyyMMddHHmmss` in GMT+7 → the instant, or null when it is not a real time of that shape. */
export function parseVnCompactTimestamp(raw: string | undefined): Date | null {
  const m = raw === undefined ? null : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h - 7, mi, s);
  const date = new Date(utc);
  // Round trip, so 20261131… or 25:00 are refused rather than rolled over.
  return vnCompactTimestamp(date) === raw ? date : null;
}

// ---------------------------------------------------------------------------------------------
// Payment URL
// ---------------------------------------------------------------------------------------------

export interface PaymentUrlInput {
  /** `{host}/paymentv2/vpcpay.html`, without a query string. */
  paymentUrl: string;
  tmnCode: string;
  secret: string;
  /** Integer VND; sent as VND × 100. */
  amount: number;
  /** Merchant reference, unique per day. */
  txnRef: string;
  /** Free text; sent as ASCII without diacritics. */
  orderInfo: string;
  orderType?: string;
  locale?: 'vn' | 'en';
  returnUrl: string;
  ipAddr: string;
  createDate: Date;
  expireDate: Date;
  bankCode?: string;
  encoding?: QueryEncoding;
}

/** The parameters of a payment URL, before signing. */
export function paymentParams(input: Omit<PaymentUrlInput, 'paymentUrl' | 'secret' | 'encoding'>): Record<string, string> {
  for (const [name, value] of Object.entries({
    tmnCode: input.tmnCode,
    txnRef: input.txnRef,
    returnUrl: input.returnUrl,
    ipAddr: input.ipAddr,
  })) {
    if (!value) throw new Error(`VNPay payment: ${name} is required`);
  }
  if (!(input.expireDate.getTime() > input.createDate.getTime())) {
    throw new RangeError('VNPay payment: expireDate must be after createDate');
  }
  const orderInfo = asciiOrderInfo(input.orderInfo);
  if (!orderInfo) throw new Error('VNPay payment: orderInfo is empty once reduced to ASCII');
  const params: Record<string, string> = {
    vnp_Version: VNP_VERSION,
    vnp_Command: 'pay',
    vnp_TmnCode: input.tmnCode,
    vnp_Amount: toVnpAmount(input.amount),
    vnp_CurrCode: 'VND',
    vnp_TxnRef: input.txnRef,
    vnp_OrderInfo: orderInfo,
    vnp_OrderType: input.orderType ?? 'other',
    vnp_Locale: input.locale ?? 'vn',
    vnp_ReturnUrl: input.returnUrl,
    vnp_IpAddr: input.ipAddr,
    vnp_CreateDate: vnCompactTimestamp(input.createDate),
    vnp_ExpireDate: vnCompactTimestamp(input.expireDate),
  };
  if (input.bankCode) params.vnp_BankCode = input.bankCode;
  return params;
}

/** The signed URL the payer is sent to; `vnp_SecureHash` comes last. */
export async function buildPaymentUrl(input: PaymentUrlInput): Promise<string> {
  const base = new URL(input.paymentUrl);
  if (base.search || base.hash || input.paymentUrl.includes('?') || input.paymentUrl.includes('#')) {
    throw new Error('VNPay payment: paymentUrl must not carry a query string or fragment');
  }
  if (!input.secret) throw new Error('VNPay payment: secret is required');
  const { query, hash } = await signedQuery(paymentParams(input), input.secret, input.encoding);
  return `${input.paymentUrl}?${query}&vnp_SecureHash=${hash}`;
}

// ---------------------------------------------------------------------------------------------
// Return URL and IPN verification
// ---------------------------------------------------------------------------------------------

export interface QueryVerification {
  valid: boolean;
  /** The signed `vnp_*` parameters (non-empty, hash fields excluded); trust them only if valid. */
  params: Record<string, string>;
}

/**
 * Verifies a return-URL or IPN query (raw query string, leading `?` optional, or parsed params)
 * against any of the secrets (rotation). Only `vnp_*` parameters are signed; others are ignored
 * and not returned. A repeated `vnp_*` key is refused: which of the values was signed and which
 * one a reader would pick are then not the same question.
 */
export async function verifyQuery(
  query: string | URLSearchParams,
  secrets: readonly string[],
  encoding: QueryEncoding = 'php',
): Promise<QueryVerification> {
  const search = typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
  const params: Record<string, string> = {};
  const seen = new Set<string>();
  let duplicate = false;
  let hash: string | undefined;
  for (const [key, value] of search) {
    if (!key.startsWith('vnp_')) continue;
    if (seen.has(key)) duplicate = true;
    seen.add(key);
    if (key === 'vnp_SecureHash') hash = value;
    else if (!isHashField(key) && value !== '') params[key] = value;
  }
  if (duplicate || !hash || !/^[0-9a-fA-F]{128}$/.test(hash) || secrets.length === 0) return { valid: false, params };
  const valid = await verifyWithAny('SHA-512', secrets, signString(params, encoding), hash);
  return { valid, params };
}

// ---------------------------------------------------------------------------------------------
// IPN
// ---------------------------------------------------------------------------------------------

/** Where VNPay's IPN procedure ended; each has one exact answer. */
export type IpnStep = 'bad_signature' | 'order_not_found' | 'amount_mismatch' | 'already_confirmed' | 'recorded' | 'unexpected';

export interface IpnAnswer {
  RspCode: '97' | '01' | '04' | '02' | '00' | '99';
  Message: string;
}

export const IPN_ANSWERS: Readonly<Record<IpnStep, IpnAnswer>> = Object.freeze({
  bad_signature: { RspCode: '97', Message: 'Invalid signature' },
  order_not_found: { RspCode: '01', Message: 'Order not found' },
  amount_mismatch: { RspCode: '04', Message: 'Invalid amount' },
  already_confirmed: { RspCode: '02', Message: 'Order already confirmed' },
  recorded: { RspCode: '00', Message: 'Confirm Success' },
  unexpected: { RspCode: '99', Message: 'Unknown error' },
});

/** VNPay's JSON answer to an IPN (sent with HTTP 200). */
export function ipnAnswer(step: IpnStep): IpnAnswer {
  return { ...IPN_ANSWERS[step] };
}

/** The hub's CallbackResult (types.ts) in VNPay's words, for an adapter's respond(). */
export function ipnStepFor(result: CallbackResult): IpnStep {
  switch (result) {
    case 'applied':
    case 'needs_review':
      return 'recorded';
    case 'duplicate':
    case 'already_final':
      return 'already_confirmed';
    case 'unknown_reference':
      return 'order_not_found';
    case 'amount_mismatch':
      return 'amount_mismatch';
    case 'bad_signature':
      return 'bad_signature';
    default:
      return 'unexpected';
  }
}

/** `vnp_ResponseCode` meanings (domain file), Vietnamese / English. */
const RESPONSE_CODE_REASONS: Readonly<Record<string, string>> = Object.freeze({
  '00': 'Giao dịch thành công / Successful',
  '07': 'Trừ tiền thành công, giao dịch bị nghi ngờ gian lận / Debited, suspected fraud',
  '09': 'Thẻ/Tài khoản chưa đăng ký Internet Banking / Card or account not registered for internet banking',
  '10': 'Xác thực thông tin thẻ/tài khoản không đúng quá 3 lần / Authentication failed 3 times',
  '11': 'Hết hạn chờ thanh toán / Payment timed out',
  '24': 'Khách hàng hủy giao dịch / Customer cancelled',
  '51': 'Tài khoản không đủ số dư / Insufficient balance',
  '65': 'Tài khoản đã vượt quá hạn mức giao dịch trong ngày / Daily limit exceeded',
  '75': 'Ngân hàng thanh toán đang bảo trì / Bank under maintenance',
});

/** `vnp_TransactionStatus` meanings (domain file), Vietnamese / English. */
const TRANSACTION_STATUS_REASONS: Readonly<Record<string, string>> = Object.freeze({
  '00': 'Giao dịch thành công / Successful',
  '01': 'Giao dịch chưa hoàn tất / Not completed',
  '02': 'Giao dịch bị lỗi / Error',
  '04': 'Giao dịch đảo / Reversed',
  '05': 'VNPAY đang xử lý hoàn tiền / VNPay processing refund',
  '06': 'VNPAY đã gửi yêu cầu hoàn tiền sang ngân hàng / Refund sent to bank',
  '07': 'Giao dịch bị nghi ngờ gian lận / Suspected fraud',
  '09': 'Giao dịch hoàn trả bị từ chối / Refund rejected',
});

export function responseCodeReason(code: string | undefined): string {
  return (code !== undefined && RESPONSE_CODE_REASONS[code]) || `Lỗi không xác định / Unknown response code ${code ?? '(none)'}`;
}

export function transactionStatusReason(status: string | undefined): string {
  return (
    (status !== undefined && TRANSACTION_STATUS_REASONS[status]) ||
    `Trạng thái không xác định / Unknown transaction status ${status ?? '(none)'}`
  );
}

/** ipnOutcome's marker for a vnp_Amount that is not VND × 100: answer with 'amount_mismatch'. */
export interface InvalidAmount {
  kind: 'invalid_amount';
  raw: string | undefined;
}

/**
 * The outcome of a verified IPN (or querydr answer with the same fields). Checked in this order:
 * the amount must be a digit string divisible by 100 (else the invalid-amount marker); `07` in
 * either code holds the payment for review; success needs both codes `00`; anything else failed.
 */
export function ipnOutcome(params: Record<string, string>): GatewayOutcome | InvalidAmount {
  const amount = fromVnpAmount(params.vnp_Amount);
  if (amount === null) return { kind: 'invalid_amount', raw: params.vnp_Amount };
  const responseCode = params.vnp_ResponseCode;
  const status = params.vnp_TransactionStatus;
  // VNPay sends vnp_TransactionNo=0 when no bank transaction took place (e.g. cancelled).
  const transactionId = params.vnp_TransactionNo && params.vnp_TransactionNo !== '0' ? params.vnp_TransactionNo : undefined;
  const withTransaction = transactionId ? { transactionId } : {};

  if (responseCode === '07' || status === '07') {
    return {
      kind: 'needs_review',
      reason: responseCode === '07' ? responseCodeReason('07') : transactionStatusReason('07'),
      amount,
      ...withTransaction,
    };
  }
  if (responseCode === '00' && status === '00') {
    if (!transactionId) {
      return { kind: 'needs_review', reason: 'Thành công nhưng thiếu vnp_TransactionNo / Success without vnp_TransactionNo', amount };
    }
    const paidAt = parseVnCompactTimestamp(params.vnp_PayDate);
    return { kind: 'succeeded', amount, transactionId, ...(paidAt ? { paidAt } : {}) };
  }
  const reason = responseCode !== '00' ? responseCodeReason(responseCode) : transactionStatusReason(status);
  // The amount goes along so a failure for another amount is answered 04, as VNPay checks it first.
  return { kind: 'failed', reason, amount, ...withTransaction };
}

// ---------------------------------------------------------------------------------------------
// querydr and refund (JSON API, pipe-joined hashes)
// ---------------------------------------------------------------------------------------------

/** Hash field orders, exactly as the domain file lists them. */
export const QUERYDR_HASH_FIELDS = [
  'vnp_RequestId',
  'vnp_Version',
  'vnp_Command',
  'vnp_TmnCode',
  'vnp_TxnRef',
  'vnp_TransactionDate',
  'vnp_CreateDate',
  'vnp_IpAddr',
  'vnp_OrderInfo',
] as const;

export const QUERYDR_RESPONSE_HASH_FIELDS = [
  'vnp_ResponseId',
  'vnp_Command',
  'vnp_ResponseCode',
  'vnp_Message',
  'vnp_TmnCode',
  'vnp_TxnRef',
  'vnp_Amount',
  'vnp_BankCode',
  'vnp_PayDate',
  'vnp_TransactionNo',
  'vnp_TransactionType',
  'vnp_TransactionStatus',
  'vnp_OrderInfo',
  'vnp_PromotionCode',
  'vnp_PromotionAmount',
] as const;

/**
 * The refund answer's hash fields. Not in the domain file: the order VNPay's 2.1.0
 * documentation and widely used clients give, querydr's without the promotion fields. An
 * adapter option, since it is unconfirmed here.
 */
export const REFUND_RESPONSE_HASH_FIELDS: readonly string[] = QUERYDR_RESPONSE_HASH_FIELDS.filter(
  (field) => field !== 'vnp_PromotionCode' && field !== 'vnp_PromotionAmount',
);

export const REFUND_HASH_FIELDS = [
  'vnp_RequestId',
  'vnp_Version',
  'vnp_Command',
  'vnp_TmnCode',
  'vnp_TransactionType',
  'vnp_TxnRef',
  'vnp_Amount',
  'vnp_TransactionNo',
  'vnp_TransactionDate',
  'vnp_CreateBy',
  'vnp_CreateDate',
  'vnp_IpAddr',
  'vnp_OrderInfo',
] as const;

/**
 * The fields' values joined by `|`, raw (not encoded). A missing field, null or undefined counts
 * as ''; numbers and booleans are stringified; anything else (objects) is refused.
 */
function pipeSignString(body: Readonly<Record<string, unknown>>, fields: readonly string[]): string {
  return fields
    .map((field) => {
      const value = body[field];
      if (value === undefined || value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new TypeError(`VNPay: field ${field} is not a scalar`);
    })
    .join('|');
}

async function pipeHash(body: Readonly<Record<string, unknown>>, fields: readonly string[], secret: string): Promise<string> {
  return hmacHex('SHA-512', secret, pipeSignString(body, fields));
}

/** Checks `vnp_SecureHash` of a JSON answer over `fields` joined by `|`, with any secret. */
export async function verifyPipeSigned(body: unknown, fields: readonly string[], secrets: readonly string[]): Promise<boolean> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const record = body as Record<string, unknown>;
  const hash = record.vnp_SecureHash;
  if (typeof hash !== 'string' || !/^[0-9a-fA-F]{128}$/.test(hash) || secrets.length === 0) return false;
  let message: string;
  try {
    message = pipeSignString(record, fields);
  } catch {
    return false;
  }
  return verifyWithAny('SHA-512', secrets, message, hash);
}

/** A querydr answer's signature check (QUERYDR_RESPONSE_HASH_FIELDS unless told otherwise). */
export function verifyQuerydrResponse(
  body: unknown,
  secrets: readonly string[],
  fields: readonly string[] = QUERYDR_RESPONSE_HASH_FIELDS,
): Promise<boolean> {
  return verifyPipeSigned(body, fields, secrets);
}

/** A transaction date (the original payment's vnp_CreateDate): given as such, or as its instant. */
const transactionDate = (value: Date | string): string => {
  if (typeof value !== 'string') return vnCompactTimestamp(value);
  if (!parseVnCompactTimestamp(value)) throw new RangeError(`VNPay: transactionDate ${value} is not yyyyMMddHHmmss`);
  return value;
};

function refusePipes(body: Record<string, string>): void {
  for (const [key, value] of Object.entries(body)) {
    if (value.includes('|')) throw new Error(`VNPay: ${key} must not contain '|' (the hash separator)`);
  }
}

function requireFields(body: Record<string, string>, names: readonly string[]): void {
  for (const name of names) if (!body[name]) throw new Error(`VNPay: ${name} is required`);
}

export interface QuerydrInput {
  tmnCode: string;
  secret: string;
  /** Unique per request (VNPay refuses a repeated one with 94). */
  requestId: string;
  txnRef: string;
  orderInfo: string;
  /** VNPay's vnp_TransactionNo, when known (not part of the hash). */
  transactionNo?: string;
  /** The original payment's vnp_CreateDate (string) or that instant. */
  transactionDate: Date | string;
  /** When this request is made. */
  createDate: Date;
  ipAddr: string;
  fields?: readonly string[];
}

export type VnpayJsonRequest = Record<string, string> & { vnp_SecureHash: string };

export async function buildQuerydrRequest(input: QuerydrInput): Promise<VnpayJsonRequest> {
  const body: Record<string, string> = {
    vnp_RequestId: input.requestId,
    vnp_Version: VNP_VERSION,
    vnp_Command: 'querydr',
    vnp_TmnCode: input.tmnCode,
    vnp_TxnRef: input.txnRef,
    vnp_OrderInfo: asciiOrderInfo(input.orderInfo),
    ...(input.transactionNo ? { vnp_TransactionNo: input.transactionNo } : {}),
    vnp_TransactionDate: transactionDate(input.transactionDate),
    vnp_CreateDate: vnCompactTimestamp(input.createDate),
    vnp_IpAddr: input.ipAddr,
  };
  requireFields(body, ['vnp_RequestId', 'vnp_TmnCode', 'vnp_TxnRef', 'vnp_OrderInfo', 'vnp_IpAddr']);
  refusePipes(body);
  if (!input.secret) throw new Error('VNPay: secret is required');
  return { ...body, vnp_SecureHash: await pipeHash(body, input.fields ?? QUERYDR_HASH_FIELDS, input.secret) };
}

export interface RefundInput {
  tmnCode: string;
  secret: string;
  requestId: string;
  /** '02' full refund, '03' partial. */
  transactionType: '02' | '03';
  txnRef: string;
  /** Integer VND to refund; sent as VND × 100. */
  amount: number;
  transactionNo?: string;
  transactionDate: Date | string;
  /** Who asks for the refund (user name of the operator). */
  createBy: string;
  createDate: Date;
  ipAddr: string;
  orderInfo: string;
  fields?: readonly string[];
}

export const REFUND_FULL = '02';
export const REFUND_PARTIAL = '03';

export async function buildRefundRequest(input: RefundInput): Promise<VnpayJsonRequest> {
  if (input.transactionType !== REFUND_FULL && input.transactionType !== REFUND_PARTIAL) {
    throw new Error(`VNPay refund: transactionType must be '02' or '03', got ${String(input.transactionType)}`);
  }
  const body: Record<string, string> = {
    vnp_RequestId: input.requestId,
    vnp_Version: VNP_VERSION,
    vnp_Command: 'refund',
    vnp_TmnCode: input.tmnCode,
    vnp_TransactionType: input.transactionType,
    vnp_TxnRef: input.txnRef,
    vnp_Amount: toVnpAmount(input.amount),
    ...(input.transactionNo ? { vnp_TransactionNo: input.transactionNo } : {}),
    vnp_TransactionDate: transactionDate(input.transactionDate),
    vnp_CreateBy: input.createBy,
    vnp_CreateDate: vnCompactTimestamp(input.createDate),
    vnp_IpAddr: input.ipAddr,
    vnp_OrderInfo: asciiOrderInfo(input.orderInfo),
  };
  requireFields(body, ['vnp_RequestId', 'vnp_TmnCode', 'vnp_TxnRef', 'vnp_CreateBy', 'vnp_IpAddr', 'vnp_OrderInfo']);
  refusePipes(body);
  if (!input.secret) throw new Error('VNPay: secret is required');
  return { ...body, vnp_SecureHash: await pipeHash(body, input.fields ?? REFUND_HASH_FIELDS, input.secret) };
}
