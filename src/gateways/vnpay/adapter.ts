import { fetchText } from '../http.ts';
import { parseJsonObject } from '../json.ts';
import type {
  CallbackResult,
  CallbackVerification,
  Gateway,
  GatewayOutcome,
  GatewayResponse,
  InboundMessage,
  IntentSnapshot,
  PaymentRequest,
  PollingSchedule,
  RefundRequest,
  RefundResult,
  StatusQueryResult,
} from '../types.ts';
import {
  buildPaymentUrl,
  buildQuerydrRequest,
  buildRefundRequest,
  fromVnpAmount,
  ipnAnswer,
  ipnOutcome,
  ipnStepFor,
  parseVnCompactTimestamp,
  QUERYDR_RESPONSE_HASH_FIELDS,
  type QueryEncoding,
  REFUND_FULL,
  REFUND_PARTIAL,
  REFUND_RESPONSE_HASH_FIELDS,
  transactionStatusReason,
  type VnpayJsonRequest,
  verifyPipeSigned,
  verifyQuery,
} from './protocol.ts';
import { vnpayStatementFormat } from './statement.ts';

/** What an operator configures for VNPay (the hub's configuration reads it from the environment). */
export interface VnpaySettings {
  tmnCode: string;
  /** The first signs, every one verifies (rotation). */
  secrets: readonly string[];
  paymentUrl: string;
  apiUrl: string;
  encoding: QueryEncoding;
  /** The hub's own IP, sent as vnp_IpAddr in querydr and refund requests. */
  serverIp: string;
  polling: PollingSchedule;
}

export type VnpayOptions = VnpaySettings & {
  /** The hub's browser return route (`…/v1/returns/vnpay`), sent as vnp_ReturnUrl. */
  returnUrl: string;
  fetch: typeof fetch;
  now: () => Date;
  timeoutMs: number;
  querydrResponseFields?: readonly string[];
  refundResponseFields?: readonly string[];
};

/** VNPay's limits: vnp_OrderInfo ≤ 255 characters, vnp_RequestId alphanumeric ≤ 32. */
const ORDER_INFO_MAX = 255;
/**
 * vnp_Amount is Numeric[1,12] and carries VND × 100 (VNPay's integration guide, "Danh sách tham
 * số"): at most 999 999 999 999, so one payment is at most 9 999 999 999 đ.
 */
const VNPAY_MAX_AMOUNT = 9_999_999_999;
const newRequestId = () => crypto.randomUUID().replace(/-/g, '');
const withoutPipes = (text: string) => text.replace(/\|/g, '/');

const json = (status: number, body: unknown): GatewayResponse => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** The `vnp_*` parameters of a GET message's query string (IPN or browser return). */
function queryOf(message: InboundMessage): URLSearchParams {
  return new URL(message.url, 'http://vnpay.invalid').searchParams;
}

/**
 * A whole-VND amount, or, for a `vnp_Amount` that is not VND × 100, a number no intent can have
 * (the fraction it denotes, else NaN): the intent is then still looked up (01 first) and the
 * mismatch answered 04, as VNPay's order of checks asks, with nothing changed.
 */
function unmatchableAmount(raw: string): number {
  return /^\d{1,17}$/.test(raw) ? Number(raw) / 100 : Number.NaN;
}

/** The outcome querydr reports for a transaction VNPay found (vnp_ResponseCode 00). */
function querydrOutcome(body: Record<string, unknown>): StatusQueryResult {
  const field = (name: string) => (body[name] === undefined || body[name] === null ? undefined : String(body[name]));
  const status = field('vnp_TransactionStatus');
  const amount = fromVnpAmount(field('vnp_Amount'));
  if (amount === null) return { kind: 'unknown', reason: `VNPay querydr: vnp_Amount ${field('vnp_Amount')} is not VND × 100` };
  const transactionNo = field('vnp_TransactionNo');
  const transactionId = transactionNo && transactionNo !== '0' ? transactionNo : undefined;
  const withTransaction = transactionId ? { transactionId } : {};
  switch (status) {
    case '00': {
      if (!transactionId) {
        return { kind: 'outcome', outcome: { kind: 'needs_review', reason: 'querydr: success without vnp_TransactionNo', amount } };
      }
      const paidAt = parseVnCompactTimestamp(field('vnp_PayDate'));
      return { kind: 'outcome', outcome: { kind: 'succeeded', amount, transactionId, ...(paidAt ? { paidAt } : {}) } };
    }
    case '01':
      return { kind: 'pending' };
    case '02':
      return { kind: 'outcome', outcome: { kind: 'failed', reason: transactionStatusReason('02'), amount, ...withTransaction } };
    // 07 suspected fraud; 04 reversed (VNPay: the payer's bank debited, VNPay did not complete);
    // 05/06/09 are refund states of a payment that did succeed. Money moved in each, so neither a
    // payment (no receipt) nor a decline (obligations would be freed): a person decides.
    case '04':
    case '05':
    case '06':
    case '07':
    case '09':
      return { kind: 'outcome', outcome: { kind: 'needs_review', reason: transactionStatusReason(status), amount, ...withTransaction } };
    default:
      return { kind: 'unknown', reason: `VNPay querydr: unknown vnp_TransactionStatus ${status ?? '(none)'}` };
  }
}

export function createVnpayGateway(options: VnpayOptions): Gateway {
  const [signingSecret] = options.secrets;
  if (!signingSecret) throw new Error('the VNPay gateway needs at least one hash secret');

  /** POSTs a signed JSON request; the verified answer, or why it cannot be trusted. */
  async function call(
    request: VnpayJsonRequest,
    fields: readonly string[],
  ): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; reason: string }> {
    let response: { ok: boolean; status: number; text: string };
    try {
      response = await fetchText(
        options.fetch,
        options.apiUrl,
        { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(request) },
        options.timeoutMs,
      );
    } catch (error) {
      return { ok: false, reason: `VNPay ${request.vnp_Command}: ${error instanceof Error ? error.message : 'request failed'}` };
    }
    if (!response.ok) return { ok: false, reason: `VNPay ${request.vnp_Command} answered HTTP ${response.status}` };
    const record = parseJsonObject(response.text);
    if (!record) return { ok: false, reason: `VNPay ${request.vnp_Command} answered something that is not a JSON object` };
    if (!(await verifyPipeSigned(record, fields, options.secrets))) {
      return { ok: false, reason: `VNPay ${request.vnp_Command}: the answer's vnp_SecureHash does not verify` };
    }
    // A signed answer about another merchant or transaction is not an answer to this request.
    if (record.vnp_TmnCode !== undefined && record.vnp_TmnCode !== options.tmnCode) {
      return { ok: false, reason: `VNPay ${request.vnp_Command}: answer for terminal ${String(record.vnp_TmnCode)}` };
    }
    if (record.vnp_TxnRef !== undefined && record.vnp_TxnRef !== '' && record.vnp_TxnRef !== request.vnp_TxnRef) {
      return { ok: false, reason: `VNPay ${request.vnp_Command}: answer for another vnp_TxnRef ${String(record.vnp_TxnRef)}` };
    }
    return { ok: true, body: record };
  }

  return {
    id: 'vnpay',
    capabilities: { redirect: true, qr: false, queryStatus: true, refund: true, statement: true },
    maxAmount: VNPAY_MAX_AMOUNT,
    statement: vnpayStatementFormat,
    onlinePaymentFlag: 2,
    polling: options.polling,

    async createPayment(request: PaymentRequest) {
      const url = await buildPaymentUrl({
        paymentUrl: options.paymentUrl,
        tmnCode: options.tmnCode,
        secret: signingSecret,
        amount: request.amount,
        txnRef: request.reference,
        orderInfo: request.description,
        returnUrl: options.returnUrl,
        ipAddr: request.payer.ip,
        createDate: request.createdAt,
        expireDate: request.expiresAt,
        encoding: options.encoding,
      });
      return { nextAction: { type: 'redirect', url }, gatewayReference: request.reference };
    },

    async verifyCallback(message: InboundMessage): Promise<CallbackVerification> {
      const { valid, params } = await verifyQuery(queryOf(message), options.secrets, options.encoding);
      const reference = params.vnp_TxnRef || undefined;
      if (!valid) return { ok: false, reason: 'bad_signature', reference, detail: 'vnp_SecureHash does not verify' };
      const missing = ['vnp_TxnRef', 'vnp_Amount', 'vnp_ResponseCode', 'vnp_TransactionStatus'].filter((k) => !params[k]);
      if (missing.length > 0) return { ok: false, reason: 'malformed', reference, detail: `not an IPN: missing ${missing.join(', ')}` };
      if (params.vnp_TmnCode !== options.tmnCode) {
        return {
          ok: false,
          reason: 'malformed',
          reference,
          detail: `vnp_TmnCode ${params.vnp_TmnCode ?? '(none)'} is not this hub's terminal`,
        };
      }
      if (params.vnp_CurrCode !== undefined && params.vnp_CurrCode !== 'VND') {
        return { ok: false, reason: 'malformed', reference, detail: `vnp_CurrCode ${params.vnp_CurrCode} is not VND` };
      }
      const outcome = ipnOutcome(params);
      if (outcome.kind === 'invalid_amount') {
        const failed: GatewayOutcome = {
          kind: 'failed',
          reason: `vnp_Amount ${outcome.raw} is not a whole number of VND × 100`,
          amount: unmatchableAmount(outcome.raw ?? ''),
        };
        return { ok: true, reference: reference!, outcome: failed };
      }
      return { ok: true, reference: reference!, outcome };
    },

    async respond(result: CallbackResult): Promise<GatewayResponse> {
      // VNPay reads RspCode, not the HTTP status: always 200, even for "try again" (99).
      return json(200, ipnAnswer(ipnStepFor(result)));
    },

    async queryStatus(intent: IntentSnapshot): Promise<StatusQueryResult> {
      let request: VnpayJsonRequest;
      try {
        request = await buildQuerydrRequest({
          tmnCode: options.tmnCode,
          secret: signingSecret,
          requestId: newRequestId(),
          txnRef: intent.reference,
          orderInfo: `Truy van giao dich ${intent.reference}`,
          transactionNo: intent.gatewayTransactionId ?? undefined,
          // The payment URL's vnp_CreateDate was the intent's creation instant.
          transactionDate: intent.createdAt,
          createDate: options.now(),
          ipAddr: options.serverIp,
        });
      } catch (error) {
        return { kind: 'unknown', reason: `VNPay querydr not sent: ${error instanceof Error ? error.message : String(error)}` };
      }
      const answer = await call(request, options.querydrResponseFields ?? QUERYDR_RESPONSE_HASH_FIELDS);
      if (!answer.ok) return { kind: 'unknown', reason: answer.reason };
      const code = String(answer.body.vnp_ResponseCode ?? '');
      if (code === '91') return { kind: 'not_found' };
      if (code !== '00')
        return { kind: 'unknown', reason: `VNPay querydr answered ${code || '(no code)'}: ${String(answer.body.vnp_Message ?? '')}` };
      return querydrOutcome(answer.body);
    },

    async refund(request: RefundRequest): Promise<RefundResult> {
      let body: VnpayJsonRequest;
      try {
        body = await buildRefundRequest({
          tmnCode: options.tmnCode,
          secret: signingSecret,
          // The hub's refund id, so a retry of the same refund is the same request to VNPay.
          requestId: request.refundId.replace(/-/g, ''),
          transactionType: request.full ? REFUND_FULL : REFUND_PARTIAL,
          txnRef: request.intent.reference,
          amount: request.amount,
          transactionNo: request.intent.gatewayTransactionId ?? undefined,
          transactionDate: request.intent.createdAt,
          createBy: withoutPipes(request.requestedBy),
          createDate: request.now,
          ipAddr: options.serverIp,
          orderInfo: withoutPipes(`Hoan tien ${request.intent.reference}: ${request.reason}`).slice(0, ORDER_INFO_MAX),
        });
      } catch (error) {
        // Nothing reached VNPay, so nothing can have been refunded.
        return { kind: 'failed', reason: `VNPay refund not sent: ${error instanceof Error ? error.message : String(error)}` };
      }
      const answer = await call(body, options.refundResponseFields ?? REFUND_RESPONSE_HASH_FIELDS);
      if (!answer.ok) return { kind: 'unknown', reason: answer.reason };
      const code = String(answer.body.vnp_ResponseCode ?? '');
      const detail = { responseCode: code, message: answer.body.vnp_Message, requestId: body.vnp_RequestId };
      if (code === '00') {
        const refunded = answer.body.vnp_Amount === undefined ? request.amount : fromVnpAmount(String(answer.body.vnp_Amount));
        if (refunded !== request.amount) {
          return {
            kind: 'unknown',
            reason: `VNPay refund: answered 00 for vnp_Amount ${String(answer.body.vnp_Amount)}, asked ${request.amount} VND`,
          };
        }
        const transactionNo = answer.body.vnp_TransactionNo;
        return {
          kind: 'succeeded',
          ...(transactionNo !== undefined && transactionNo !== null && transactionNo !== ''
            ? { gatewayRefundId: String(transactionNo) }
            : {}),
          detail,
        };
      }
      if (code === '91') return { kind: 'failed', reason: 'VNPay: the transaction to refund was not found (91)', detail };
      if (code === '95') return { kind: 'failed', reason: 'VNPay: the original payment was not successful (95)', detail };
      // 94 a refund of this transaction is already in progress; 97/99 and anything else: ask again.
      return { kind: 'unknown', reason: `VNPay refund answered ${code || '(no code)'}: ${String(answer.body.vnp_Message ?? '')}` };
    },
  };
}
