import { createHmac } from 'node:crypto';
import nock from 'nock';
import { createHarness, type Harness, SANDBOX_SECRETS } from '../../helpers/harness.ts';
import { checkoutForm } from '../../helpers/sandbox.ts';
import { answerAfter, fixture, type GatewayDriver, type MessageKind, type Payment, readJson, verdictOfResult } from './driver.ts';

/**
 * The sandbox's time limit on its status queries here: short, since two cases wait it out, yet
 * far above the in-process answer of the hosted status API.
 */
const TIMEOUT_MS = 500;

/** `Sandbox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, made with node:crypto. */
const signature = (raw: string, timestamp: number, secret = SANDBOX_SECRETS[0]!) =>
  `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${raw}`, 'utf8').digest('hex')}`;

/** Where the harness hosts the sandbox when it does not listen. */
const HUB = 'http://hub.test';

/**
 * The sandbox is hosted by the hub itself: its checkout, callbacks and status API. The hub does
 * not listen here: nock 15 drains the body of a request it lets through to a real server
 * (nock/nock#2989), so the test's own requests go in-process, and nock stands for the network
 * between the sandbox and the hub — forwarding to the hosted status API, or losing and
 * delaying on purpose.
 */
export const sandboxDriver: GatewayDriver = {
  id: 'sandbox',
  onlinePaymentFlag: 2,
  refunds: true,
  unconfigured: 'vnpay',
  laterMessage: 'decline',
  timeoutMs: TIMEOUT_MS,

  harness: () => createHarness({ sandboxTimeoutMs: TIMEOUT_MS }),

  beforeCreate() {
    // The checkout URL is signed locally: nothing to call.
  },

  async send(h: Harness, payment: Payment, kind: MessageKind) {
    if (kind === 'second-credit') throw new Error('the sandbox reports payments, not bank credits');
    const body = {
      ...fixture('sandbox', kind === 'decline' ? 'callback-declined' : 'callback-succeeded'),
      reference: payment.reference,
      transactionId: `SBX${payment.reference}`,
      amount: payment.amount,
    };
    const signed = JSON.stringify(body);
    const header = signature(signed, Math.floor(h.ctx.now().getTime() / 1000));
    const raw = kind === 'tampered' ? JSON.stringify({ ...body, amount: payment.amount * 10 }) : signed;
    const response = await h.request('POST', '/v1/callbacks/sandbox', {
      rawBody: raw,
      headers: { 'content-type': 'application/json', 'sandbox-signature': header },
    });
    const answer = await readJson(response);
    return { ...answer, verdict: verdictOfResult(answer.status, answer.body?.result) };
  },

  async paidAtGateway(h, intent) {
    // Every delivery attempt of the callback is lost on the way, as a network would lose it.
    const lost = nock(HUB).post('/v1/callbacks/sandbox').times(3).replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    // The hosted status API answers the adapter's query for this payment.
    const statusApi = nock(HUB)
      .get(`/sandbox/api/payments/${intent.reference}`)
      .reply(async (request: Request) => {
        const answer = await h.app.request(new URL(request.url).pathname, { headers: request.headers });
        return [answer.status, await answer.text(), { 'content-type': answer.headers.get('content-type') ?? 'application/json' }];
      });
    // The payer pays on the hosted checkout page.
    const checkout = new URL(intent.nextAction!.url!);
    const page = await h.request('GET', `${checkout.pathname}${checkout.search}`);
    const form = checkoutForm(await page.text());
    form.set('choice', 'pay');
    const paid = await h.request('POST', checkout.pathname, {
      rawBody: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (paid.status !== 303) throw new Error(`the sandbox checkout answered ${paid.status}`);
    return [lost, statusApi];
  },

  statusQueryFails(_h, payment, how) {
    const scope = nock(HUB).get(`/sandbox/api/payments/${payment.reference}`);
    if (how === 'http-502') return scope.reply(502, 'Bad Gateway');
    const paid = {
      ...fixture('sandbox', 'status-succeeded'),
      reference: payment.reference,
      amount: payment.amount,
      transactionId: `SBX${payment.reference}`,
    };
    return scope.reply(answerAfter(TIMEOUT_MS + 300, 200, paid));
  },
};
