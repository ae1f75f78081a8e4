import nock from 'nock';
import { ANSWER_FIELDS, CONFIRM_FIELDS, INIT_FIELDS, platformMac, QUERY_FIELDS } from '../../../src/emulators/protocol/dvcqg.ts';
import { PLATFORM, testDvcqgGateway } from '../../helpers/dvcqg-gateway.ts';
import { createHarness, type Harness } from '../../helpers/harness.ts';
import { answerAfter, fixture, type GatewayDriver, type MessageKind, type Payment, readJson, type Verdict } from './driver.ts';

const KEY = 'dvcqg-contract-key-2026';
const TIMEOUT_MS = 300;

/** MaXacThuc as the platform computes it (SHA-256 with the key appended), with node:crypto rather than the hub's code. */
const mac = (message: Record<string, unknown>, fields: string[]) => platformMac(message, fields, KEY);

function signed(base: Record<string, unknown>, overrides: Record<string, unknown>) {
  const { MaXacThuc: _recorded, ...message } = { ...base, ...overrides };
  return { ...message, MaXacThuc: mac(message, CONFIRM_FIELDS) };
}

/**
 * The platform only says 00 or 99 (gateways.md §3); what the province meant is in MoTaLoi.
 * An answer whose own MaXacThuc does not verify is no answer the platform would accept.
 */
function verdictOf(status: number, body: Record<string, unknown> | string): Verdict {
  if (status !== 200 || typeof body !== 'object' || body.MaXacThuc !== mac(body, ANSWER_FIELDS)) return 'unrecognised';
  const text = String(body.MoTaLoi ?? '');
  if (body.MaLoi === '00') {
    if (text === 'Thanh cong') return 'accepted';
    if (/doi soat/i.test(text)) return 'held-for-review';
    if (/da duoc ghi nhan/i.test(text)) return 'already-recorded';
  }
  if (body.MaLoi === '99') {
    if (/xac thuc/i.test(text)) return 'refused-signature';
    if (/tham chieu/i.test(text)) return 'unknown-reference';
    if (/so tien/i.test(text)) return 'amount-mismatch';
  }
  return 'unrecognised';
}

const paidQueryAnswer = (payment: Payment) =>
  signed(fixture('dvcqg', 'query-answer-paid'), {
    MaThamChieu: payment.reference,
    SoTien: payment.amount,
    MaGiaoDich: `PP${payment.reference}`,
  });

/** What the platform's status query says of the payment a confirm reports: TrangThaiGD 1 paid, 4 failed. */
const queryAnswerFor = (payment: Payment, declined: boolean) => signed(paidQueryAnswer(payment), declined ? { TrangThaiGD: '4' } : {});

/** The national platform, configured WITH a query URL so that its poller case runs. */
export const dvcqgDriver: GatewayDriver & { verifiesStrangerPayments: boolean } = {
  id: 'dvcqg',
  onlinePaymentFlag: 1,
  refunds: false,
  unconfigured: 'vietqr',
  laterMessage: 'decline',
  // The documented confirm's MaXacThuc covers MaLoi and MaGiaoDich: a signed payment naming no
  // intent is kept for a person under its transaction id.
  verifiesStrangerPayments: true,
  timeoutMs: TIMEOUT_MS,

  harness: () =>
    createHarness({
      sandbox: false,
      gateways: (env) => ({
        dvcqg: testDvcqgGateway({
          secrets: [KEY],
          returnUrl: `${env.baseUrl}/v1/returns/dvcqg`,
          callbackUrl: `${env.baseUrl}/v1/callbacks/dvcqg`,
          fetch: env.fetch,
          now: env.now,
          timeoutMs: TIMEOUT_MS,
        }),
      }),
    }),

  beforeCreate() {
    // One init, answered only when its MaXacThuc verifies, with the platform's recorded answer.
    let reference = '';
    nock(PLATFORM)
      .post('/api/v1/init', (body: Record<string, unknown>) => {
        reference = String(body.MaThamChieu);
        return body.MaXacThuc === mac(body, INIT_FIELDS);
      })
      .reply(
        200,
        (): Record<string, unknown> => ({
          ...fixture('dvcqg', 'init-answer'),
          MaThamChieu: reference,
          MaGiaoDich: `PPI${reference}`,
          UrlThanhToan: `https://thanhtoan.dichvucong.test/payment?token=${reference}`,
        }),
      );
  },

  async send(h: Harness, payment: Payment, kind: MessageKind) {
    if (kind === 'second-credit') throw new Error('the platform reports payments, not bank credits');
    const declined = kind === 'decline';
    let message: Record<string, unknown> = signed(fixture('dvcqg', declined ? 'confirm-failure' : 'confirm-success'), {
      MaThamChieu: payment.reference,
      SoTien: payment.amount,
      MaGiaoDich: `PP${payment.reference}`,
    });
    if (kind === 'tampered') message = { ...message, SoTien: payment.amount * 10 };
    // The documented MaXacThuc covers MaLoi and MaGiaoDich: the hub takes a signed confirm at its
    // word and never asks the platform about it (this fake would answer if it did).
    const query = nock(PLATFORM).post('/api/v1/query', (body: Record<string, unknown>) => body.MaThamChieu === payment.reference);
    const scope = query.reply(200, queryAnswerFor(payment, declined));
    const response = await h.request('POST', '/v1/callbacks/dvcqg', {
      rawBody: JSON.stringify(message),
      headers: { 'content-type': 'application/json' },
    });
    const answer = await readJson(response);
    const verdict = verdictOf(answer.status, answer.body);
    const asked = scope.isDone();
    if (!asked) nock.removeInterceptor(query);
    if (asked) throw new Error(`the hub asked the platform about a signed confirm it answered ${verdict}`);
    return { ...answer, verdict };
  },

  async paidAtGateway(_h, intent) {
    const query = nock(PLATFORM)
      .post(
        '/api/v1/query',
        (body: Record<string, unknown>) => body.MaThamChieu === intent.reference && body.MaXacThuc === mac(body, QUERY_FIELDS),
      )
      .reply(200, paidQueryAnswer(intent));
    return [query];
  },

  statusQueryFails(_h, payment, how) {
    const scope = nock(PLATFORM).post('/api/v1/query', (body: Record<string, unknown>) => body.MaThamChieu === payment.reference);
    if (how === 'http-502') return scope.reply(502, 'Bad Gateway');
    return scope.reply(answerAfter(TIMEOUT_MS + 300, 200, paidQueryAnswer(payment)));
  },

  initFails(how) {
    const scope = nock(PLATFORM).post('/api/v1/init');
    if (how === 'http-502') return scope.reply(502, 'Bad Gateway');
    return scope.reply(answerAfter(TIMEOUT_MS + 300, 200, fixture('dvcqg', 'init-answer')));
  },
};
