import nock from 'nock';
import {
  pipeHash,
  QUERYDR_ANSWER_FIELDS,
  QUERYDR_REQUEST_FIELDS,
  signedAnswer,
  vnpSignedQuery,
} from '../../../src/emulators/protocol/vnpay.ts';
import { createVnpayGateway } from '../../../src/gateways/vnpay/adapter.ts';
import { createHarness, type Harness } from '../../helpers/harness.ts';
import { vnpayFixture } from '../../helpers/vnpay-fixtures.ts';
import { answerAfter, type GatewayDriver, type MessageKind, type Payment, readJson, type Verdict } from './driver.ts';

const SECRET = 'VNPAYCONTRACTSECRET0123456789ABC';
const TMN = 'DEMOV210';
const API = 'https://sandbox.vnpayment.vn';
const API_PATH = '/merchant_webapi/api/transaction';
const TIMEOUT_MS = 300;

/** VNPay's transaction number of each reference's payment: digits, one per reference. */
const transactionNumbers = new Map<string, string>();
const transactionNo = (reference: string) => {
  if (!transactionNumbers.has(reference)) transactionNumbers.set(reference, String(14_226_112 + transactionNumbers.size));
  return transactionNumbers.get(reference)!;
};

/** VNPay reads RspCode, always over HTTP 200 (gateways.md §1's table). */
const VERDICTS: Record<string, Verdict> = {
  '00': 'accepted',
  '02': 'already-recorded',
  '97': 'refused-signature',
  '01': 'unknown-reference',
  '04': 'amount-mismatch',
};

type QuerydrRequest = Record<string, string>;
const querydrFor = (payment: Payment, checkSignature: boolean) => (body: QuerydrRequest) =>
  body.vnp_Command === 'querydr' &&
  body.vnp_TxnRef === payment.reference &&
  (!checkSignature || body.vnp_SecureHash === pipeHash(body, QUERYDR_REQUEST_FIELDS, SECRET));

/** querydr's signed answer: the transaction was paid (status 00) for the amount. */
const paidAnswer = (payment: Payment) =>
  signedAnswer(
    {
      ...vnpayFixture<Record<string, unknown>>('querydr-success'),
      vnp_TxnRef: payment.reference,
      vnp_Amount: String(payment.amount * 100),
      vnp_TransactionNo: transactionNo(payment.reference),
    },
    QUERYDR_ANSWER_FIELDS,
    SECRET,
  );

/** IPNs are built and signed by the independent VNPay 2.1.0 implementation (src/emulators/protocol/vnpay.ts). */
export const vnpayDriver: GatewayDriver = {
  id: 'vnpay',
  onlinePaymentFlag: 2,
  refunds: true,
  unconfigured: 'sandbox',
  laterMessage: 'decline',
  timeoutMs: TIMEOUT_MS,

  harness: () =>
    createHarness({
      sandbox: false,
      gateways: (env) => ({
        vnpay: createVnpayGateway({
          tmnCode: TMN,
          secrets: [SECRET],
          paymentUrl: `${API}/paymentv2/vpcpay.html`,
          apiUrl: `${API}${API_PATH}`,
          encoding: 'php',
          serverIp: '203.0.113.10',
          polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
          returnUrl: `${env.baseUrl}/v1/returns/vnpay`,
          fetch: env.fetch,
          now: env.now,
          timeoutMs: TIMEOUT_MS,
        }),
      }),
    }),

  beforeCreate() {
    // The payment URL is signed locally: nothing to call.
  },

  async send(h: Harness, payment: Payment, kind: MessageKind) {
    if (kind === 'second-credit') throw new Error('VNPay reports payments, not bank credits');
    const params = {
      ...vnpayFixture(kind === 'decline' ? 'ipn-cancelled' : 'ipn-success'),
      vnp_TxnRef: payment.reference,
      vnp_Amount: String(payment.amount * 100),
      ...(kind === 'decline' ? {} : { vnp_TransactionNo: transactionNo(payment.reference) }),
    };
    let query = vnpSignedQuery(params, SECRET);
    if (kind === 'tampered') {
      const changed = new URLSearchParams(query);
      changed.set('vnp_Amount', String(payment.amount * 1000));
      query = changed.toString();
    }
    const answer = await readJson(await h.request('GET', `/v1/callbacks/vnpay?${query}`));
    const code = answer.status === 200 ? String(answer.body?.RspCode) : '';
    return { ...answer, verdict: VERDICTS[code] ?? 'unrecognised' };
  },

  async paidAtGateway(_h, intent) {
    return [nock(API).post(API_PATH, querydrFor(intent, true)).reply(200, paidAnswer(intent))];
  },

  statusQueryFails(_h, payment, how) {
    const scope = nock(API).post(API_PATH, querydrFor(payment, false));
    if (how === 'http-502') return scope.reply(502, '<html><body>502 Bad Gateway</body></html>');
    return scope.reply(answerAfter(TIMEOUT_MS + 300, 200, paidAnswer(payment)));
  },
};
