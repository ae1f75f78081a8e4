import { createHmac } from 'node:crypto';
import { createVietqrGateway } from '../../../src/gateways/vietqr/adapter.ts';
import { createHarness, type Harness } from '../../helpers/harness.ts';
import { COLLECTION_ACCOUNT, fixture, type GatewayDriver, type MessageKind, type Payment, readJson, verdictOfResult } from './driver.ts';

const SECRET = 'vietqr-contract-notify-secret-0123';

/**
 * VietQR: payment is proven only by the bank's signed credit notification (HMAC-SHA256 hex of
 * the raw body in X-Signature), matched on the transfer text. There is no decline (a transfer
 * arrives or it does not), no status API and no outbound call at all.
 */
export const vietqrDriver: GatewayDriver = {
  id: 'vietqr',
  onlinePaymentFlag: 2,
  refunds: false,
  unconfigured: 'dvcqg',
  laterMessage: 'second-credit',
  timeoutMs: 0,

  harness: () =>
    createHarness({
      sandbox: false,
      gateways: (env) => ({
        vietqr: createVietqrGateway({
          secrets: [SECRET],
          signatureHeader: 'x-signature',
          format: 'standard',
          service: 'QRIBFTTA',
          now: env.now,
        }),
      }),
    }),

  beforeCreate() {
    // The QR code is made locally: nothing to call.
  },

  async send(h: Harness, payment: Payment, kind: MessageKind) {
    if (kind === 'decline') throw new Error('a bank reports credits, never a declined transfer');
    const credit = {
      ...fixture('vietqr', 'standard-credit'),
      accountNumber: COLLECTION_ACCOUNT.accountNumber,
      amount: payment.amount,
      transactionId: kind === 'second-credit' ? `FT${payment.reference}B` : `FT${payment.reference}`,
      description: `MBVCB.11876543210.084512.NGUYEN VAN AN chuyen tien ${payment.reference} thanh toan le phi`,
    };
    const signed = JSON.stringify(credit);
    const header = createHmac('sha256', SECRET).update(signed, 'utf8').digest('hex');
    const raw = kind === 'tampered' ? JSON.stringify({ ...credit, amount: payment.amount * 10 }) : signed;
    const response = await h.request('POST', '/v1/callbacks/vietqr', {
      rawBody: raw,
      headers: { 'content-type': 'application/json', 'x-signature': header },
    });
    const answer = await readJson(response);
    return { ...answer, verdict: verdictOfResult(answer.status, answer.body?.result) };
  },
};
