import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackInbox, paymentIntents, paymentReviews, receipts } from '../../src/db/schema/index.ts';
import { signatureHeader } from '../../src/emulators/protocol/sandbox.ts';
import { sandboxRefunds, sandboxTransactions } from '../../src/emulators/schema.ts';
import { buildGateways } from '../../src/gateways/configure.ts';
import type { IntentSnapshot } from '../../src/gateways/types.ts';
import {
  buildQuerydrRequest,
  buildRefundRequest,
  QUERYDR_RESPONSE_HASH_FIELDS,
  verifyPipeSigned,
  verifyQuery,
} from '../../src/gateways/vnpay/protocol.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { DEMO_CHANNELS, demoGateways } from '../helpers/channels.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken, SANDBOX_SECRETS } from '../helpers/harness.ts';
import { chooseOnCheckout, openCheckout } from '../helpers/sandbox.ts';

/**
 * The demo's channel emulators over real HTTP: each gateway configured (through the one
 * configuration schema) to point at its emulator, the payer's pages read and submitted with
 * fetch, the channel calling the hub back; then status queries and refunds through them.
 */
const { vnpayTmn: TMN, vnpaySecret: VNPAY_SECRET } = DEMO_CHANNELS;
const COMMUNE_ACCOUNT = { bankBin: '970415', accountNumber: '1014682259', accountName: 'UBND PHUONG TRAN BIEN' };

let h: Harness;
let base: string;
let portal: string;
let treasury: string;
let procedure: string;

beforeAll(async () => {
  h = await createHarness({
    gateways: (env) =>
      buildGateways(demoGateways(env.baseUrl), {
        publicBaseUrl: env.baseUrl,
        fetch: env.fetch,
        now: env.now,
        callbackToleranceSeconds: 300,
      }),
    emulators: (env) => demoGateways(env.baseUrl),
  });
  base = await h.listen();
  await seedAgencyTree(h.ctx);
  await upsertAgency(h.ctx, {
    code: AGENCIES.communeA,
    name: 'UBND phường Trấn Biên',
    level: 'commune',
    parentCode: AGENCIES.province,
    ...COMMUNE_ACCOUNT,
  });
  portal = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'thu-quy-an' });
  procedure = await createProcedure(h.ctx, [
    rule({ kind: 'phi', feeCode: 'P01', name: 'Phí thẩm định', lineNo: 1, formula: { type: 'fixed', amount: 50_000 } }),
    rule({ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí cấp phiếu', lineNo: 2, formula: { type: 'fixed', amount: 135_000 } }),
  ]);
});
afterAll(() => h?.close());

interface Intent {
  id: string;
  reference: string;
  amount: number;
  status: string;
  createdAt: string;
  nextAction: Record<string, any>;
}

async function intentFor(gateway: 'vnpay' | 'dvcqg' | 'vietqr'): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure);
  const response = await createIntent(h, portal, dossier.code, { gateway, payer: { ip: '198.51.100.23' } });
  expect(response.status, await response.clone().text()).toBe(201);
  return json(response);
}

const intentNow = async (id: string) => json(await h.request('GET', `/v1/payment-intents/${id}`, { token: portal }));
const receiptCount = async (intentId: string) =>
  (await h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intentId)))[0]!.n;
const ledger = async (reference: string) =>
  (await h.db.db.select().from(sandboxTransactions).where(eq(sandboxTransactions.reference, reference)))[0];

async function snapshot(id: string): Promise<IntentSnapshot> {
  const [row] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, id));
  return {
    id: row!.id,
    reference: row!.reference,
    amount: row!.amount,
    createdAt: row!.createdAt,
    gatewayReference: row!.gatewayReference,
    gatewayTransactionId: row!.gatewayTransactionId,
    succeededAt: row!.succeededAt,
  };
}

/** Opens the page behind a redirect nextAction and submits the payer's choice. */
const choose = chooseOnCheckout;

describe(`VNPay emulator on ${databaseLabel}`, () => {
  it('shows a signed payment URL, pays, sends the IPN, and returns the payer with signed parameters', async () => {
    const intent = await intentFor('vnpay');
    expect(intent.nextAction.url.startsWith(`${base}/sandbox/vnpay/paymentv2/vpcpay.html?`)).toBe(true);
    const page = await openCheckout(intent.nextAction.url);
    expect(page.html).toContain('185.000 đ');
    expect(page.html).toContain(intent.reference);

    const paid = await choose(intent.nextAction.url, 'pay');
    expect(paid.status).toBe(303);
    const back = new URL(paid.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(`${base}/v1/returns/vnpay`);
    expect((await verifyQuery(back.search, [VNPAY_SECRET])).valid).toBe(true);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({
      vnp_ResponseCode: '00',
      vnp_TransactionStatus: '00',
      vnp_TxnRef: intent.reference,
      vnp_Amount: '18500000',
    });

    // The IPN reached the hub before the browser was sent back.
    const after = await intentNow(intent.id);
    expect(after.status).toBe('succeeded');
    expect(await receiptCount(intent.id)).toBe(1);
    const [row] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(row!.gatewayTransactionId).toBe(back.searchParams.get('vnp_TransactionNo'));
    expect(row!.gatewayTransactionId).toMatch(/^\d{8}$/);
    const inbox = await h.db.db.select().from(callbackInbox).where(eq(callbackInbox.gateway, 'vnpay'));
    expect(inbox.some((m) => m.url.includes(`vnp_TxnRef=${intent.reference}`))).toBe(true);

    // The hub's return page believes the emulator's signature.
    const returned = await fetch(back, { redirect: 'manual' });
    expect(returned.status).toBe(200);

    // The link again shows the decision, not a second payment.
    const again = await fetch(intent.nextAction.url);
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('Giao dịch đã được xử lý');
  });

  it('a cancelled payment fails the intent; suspected fraud (07) goes to review', async () => {
    const cancelled = await intentFor('vnpay');
    const answer = await choose(cancelled.nextAction.url, 'cancel');
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get('location')!).searchParams.get('vnp_ResponseCode')).toBe('24');
    expect((await intentNow(cancelled.id)).status).toBe('failed');
    expect(await receiptCount(cancelled.id)).toBe(0);

    const fraud = await intentFor('vnpay');
    expect((await choose(fraud.nextAction.url, 'fraud')).status).toBe(303);
    expect((await intentNow(fraud.id)).status).toBe('needs_review');
    const reviews = await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, fraud.id));
    expect(reviews).toHaveLength(1);
    expect(await receiptCount(fraud.id)).toBe(0);
  });

  it('refuses a tampered link or form with a 400 page, and an expired link with 410', async () => {
    const intent = await intentFor('vnpay');
    const tampered = intent.nextAction.url.replace('vnp_Amount=18500000', 'vnp_Amount=100');
    const page = await fetch(tampered);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('Sai chữ ký');

    const { form } = await openCheckout(intent.nextAction.url);
    form.set('vnp_Amount', '100');
    form.set('choice', 'pay');
    const post = await fetch(intent.nextAction.url.split('?')[0]!, { method: 'POST', body: form, redirect: 'manual' });
    expect(post.status).toBe(400);
    expect((await intentNow(intent.id)).status).toBe('pending');

    h.clock.now = new Date(Date.now() + 2 * 60 * 60 * 1000);
    try {
      expect((await fetch(intent.nextAction.url)).status).toBe(410);
    } finally {
      h.clock.now = null;
    }
  });

  it('answers querydr: not found, then not completed (01), then paid', async () => {
    const gateway = h.deps.gateways.vnpay!;
    const intent = await intentFor('vnpay');
    expect(await gateway.queryStatus!(await snapshot(intent.id))).toEqual({ kind: 'not_found' });
    await openCheckout(intent.nextAction.url);
    expect(await gateway.queryStatus!(await snapshot(intent.id))).toEqual({ kind: 'pending' });
    await choose(intent.nextAction.url, 'pay');
    const paid = await gateway.queryStatus!(await snapshot(intent.id));
    expect(paid).toMatchObject({
      kind: 'outcome',
      outcome: { kind: 'succeeded', amount: 185_000, transactionId: (await ledger(intent.reference))!.transactionId },
    });
  });

  it('answers a querydr with a bad checksum 97 and a repeated request id 94, both signed', async () => {
    const api = `${base}/sandbox/vnpay/merchant_webapi/api/transaction`;
    const request = (secret: string, requestId: string) =>
      buildQuerydrRequest({
        tmnCode: TMN,
        secret,
        requestId,
        txnRef: 'HP0000000000',
        orderInfo: 'Truy van',
        transactionDate: new Date(),
        createDate: new Date(),
        ipAddr: '127.0.0.1',
      });
    const post = async (body: unknown) =>
      json(await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    const bad = await post(await request('NOT-THE-SECRET-0123456789ABCDEFGH', 'a1'));
    expect(bad.vnp_ResponseCode).toBe('97');
    expect(await verifyPipeSigned(bad, QUERYDR_RESPONSE_HASH_FIELDS, [VNPAY_SECRET])).toBe(true);
    const id = `dup${Date.now()}`;
    expect((await post(await request(VNPAY_SECRET, id))).vnp_ResponseCode).toBe('91');
    expect((await post(await request(VNPAY_SECRET, id))).vnp_ResponseCode).toBe('94');
  });

  it('refunds through the emulator: part, then the rest, never above what was paid', async () => {
    const intent = await intentFor('vnpay');
    await choose(intent.nextAction.url, 'pay');
    const refund = (amount: number, expectedRefundable: number) =>
      h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
        token: treasury,
        body: { amount, expectedRefundable, reason: 'Nộp trùng' },
        headers: { 'idempotency-key': `emu-${intent.id}-${amount}-${expectedRefundable}` },
      });
    const first = await refund(50_000, 185_000);
    expect(first.status).toBe(201);
    expect(await json(first)).toMatchObject({ status: 'succeeded', amount: 50_000, full: false });
    const rest = await refund(135_000, 135_000);
    expect(rest.status).toBe(201);
    // The rest of a partly refunded payment is a partial refund (03) to VNPay: 02 means the whole.
    expect(await json(rest)).toMatchObject({ status: 'succeeded', amount: 135_000, full: false });
    const made = await h.db.db.select().from(sandboxRefunds).where(eq(sandboxRefunds.reference, intent.reference));
    expect(made.map((r) => r.amount).sort((a, b) => a - b)).toEqual([50_000, 135_000]);

    // Asked directly (the hub never would): more than is left, and a payment that did not succeed.
    const api = `${base}/sandbox/vnpay/merchant_webapi/api/transaction`;
    const refundRequest = (txnRef: string, amount: number, type: '02' | '03') =>
      buildRefundRequest({
        tmnCode: TMN,
        secret: VNPAY_SECRET,
        requestId: crypto.randomUUID().replace(/-/g, ''),
        transactionType: type,
        txnRef,
        amount,
        transactionDate: new Date(),
        createBy: 'thu-quy',
        createDate: new Date(),
        ipAddr: '127.0.0.1',
        orderInfo: 'Hoan tien',
      });
    const post = async (body: unknown) =>
      json(await fetch(api, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    expect((await post(await refundRequest(intent.reference, 1, '03'))).vnp_ResponseCode).toBe('99');
    const declined = await intentFor('vnpay');
    await choose(declined.nextAction.url, 'cancel');
    expect((await post(await refundRequest(declined.reference, 185_000, '02'))).vnp_ResponseCode).toBe('95');
    expect((await post(await refundRequest('HP0000000000', 185_000, '02'))).vnp_ResponseCode).toBe('91');
    const repeated = await refundRequest(intent.reference, 1, '03');
    await post(repeated);
    expect((await post(repeated)).vnp_ResponseCode).toBe('94');
  });
});

describe(`national platform emulator on ${databaseLabel}`, () => {
  it('inits, shows the fee lines, confirms to the hub, and sends the payer to the return page', async () => {
    const intent = await intentFor('dvcqg');
    expect(intent.nextAction.url.startsWith(`${base}/sandbox/dvcqg/pay/${intent.reference}?`)).toBe(true);
    const gateway = h.deps.gateways.dvcqg!;
    expect(await gateway.queryStatus!(await snapshot(intent.id))).toEqual({ kind: 'pending' });

    const page = await openCheckout(intent.nextAction.url);
    expect(page.html).toContain('Phí thẩm định');
    expect(page.html).toContain('50.000 đ');
    expect(page.html).toContain('Lệ phí cấp phiếu');
    expect(page.html).toContain('185.000 đ');

    const paid = await choose(intent.nextAction.url, 'pay', { MaNganHang: 'VCB' });
    expect(paid.status).toBe(303);
    const back = new URL(paid.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(`${base}/v1/returns/dvcqg`);
    expect(back.searchParams.get('MaThamChieu')).toBe(intent.reference);
    // The hub's return page verifies the link, changes nothing, and sends the payer on.
    const landing = await fetch(back);
    expect(landing.status).toBe(200);
    const landingHtml = await landing.text();
    // The link's MaXacThuc (SHA-256 with the key, the documented layout) covers MaLoi: the page
    // shows the platform's signed word beside the hub's record.
    expect(landingHtml).toContain('giao dịch thành công');
    expect(landingHtml).toContain('Đã ghi nhận thanh toán');
    expect(landingHtml).toContain(intent.reference);
    const forged = new URL(back);
    forged.searchParams.set('SoTien', '1');
    expect((await fetch(forged)).status).toBe(400);
    const flipped = new URL(back);
    flipped.searchParams.set('MaGiaoDich', 'PP0000000000');
    expect((await fetch(flipped)).status).toBe(400);
    const after = await intentNow(intent.id);
    expect(after.status).toBe('succeeded');
    expect(await receiptCount(intent.id)).toBe(1);
    const [row] = await h.db.db.select().from(paymentIntents).where(eq(paymentIntents.id, intent.id));
    expect(row).toMatchObject({ onlinePaymentFlag: 1, gatewayTransactionId: (await ledger(intent.reference))!.transactionId });

    expect(await gateway.queryStatus!(await snapshot(intent.id))).toMatchObject({
      kind: 'outcome',
      outcome: { kind: 'succeeded', amount: 185_000 },
    });
  });

  it('a cancelled payment fails the intent', async () => {
    const intent = await intentFor('dvcqg');
    expect((await choose(intent.nextAction.url, 'cancel', { MaNganHang: 'BIDV' })).status).toBe(303);
    expect((await intentNow(intent.id)).status).toBe('failed');
    expect(await receiptCount(intent.id)).toBe(0);
  });

  it('refuses a tampered page link with 400 and an init with a bad MaXacThuc with MaLoi 99', async () => {
    const intent = await intentFor('dvcqg');
    const url = new URL(intent.nextAction.url);
    const details = JSON.parse(Buffer.from(url.searchParams.get('d')!, 'base64url').toString('utf8'));
    url.searchParams.set('d', Buffer.from(JSON.stringify({ ...details, SoTien: 1000 })).toString('base64url'));
    const page = await fetch(url);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('Liên kết không hợp lệ');

    const init = await fetch(`${base}/sandbox/dvcqg/init`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ MaDoiTac: 'HCC_DONGNAI', MaThamChieu: 'HP0000000001', SoTien: '1000', MaXacThuc: '0'.repeat(64) }),
    });
    expect(await json(init)).toMatchObject({ MaLoi: '99' });
  });
});

describe(`bank emulator (VietQR) on ${databaseLabel}`, () => {
  const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

  async function transfer(fields: Record<string, string>) {
    const response = await fetch(`${base}/sandbox/vietqr`, { method: 'POST', body: new URLSearchParams(fields) });
    return { status: response.status, html: await response.text() };
  }

  it("pre-fills from the QR details, sends a signed credit with the bank's own words, and shows the hub's answer", async () => {
    const intent = await intentFor('vietqr');
    const { accountNumber, amount, transferText } = intent.nextAction;
    const form = await (
      await fetch(`${base}/sandbox/vietqr?${new URLSearchParams({ account: accountNumber, amount: String(amount), text: transferText })}`)
    ).text();
    expect(field(form, 'account')).toBe(COMMUNE_ACCOUNT.accountNumber);
    expect(field(form, 'amount')).toBe('185000');
    expect(field(form, 'text')).toBe(intent.reference);

    const sent = await transfer({
      account: field(form, 'account')!,
      amount: '185.000',
      text: `chuyen tien ${field(form, 'text')}`,
      bankPrefix: '1',
    });
    expect(sent.status).toBe(200);
    expect(sent.html).toContain('HTTP 200');
    expect(sent.html).toContain('&quot;applied&quot;');
    expect(sent.html).toMatch(/MBVCB\.\d{10}\.\d{6}\.chuyen tien/);
    expect((await intentNow(intent.id)).status).toBe('succeeded');
    expect(await receiptCount(intent.id)).toBe(1);

    // "Send again" repeats the same notification: the hub recognises it.
    const raw = field(sent.html, 'raw')!
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
    const again = await transfer({ raw });
    expect(again.html).toContain('&quot;duplicate&quot;');
    expect(await receiptCount(intent.id)).toBe(1);
  });

  it('an underpaid transfer is held for review, never paid', async () => {
    const intent = await intentFor('vietqr');
    const sent = await transfer({ account: COMMUNE_ACCOUNT.accountNumber, amount: '100000', text: intent.reference });
    expect(sent.status).toBe(200);
    const after = await intentNow(intent.id);
    expect(after.status).not.toBe('succeeded');
    expect(await h.db.db.select().from(paymentReviews).where(eq(paymentReviews.intentId, intent.id))).toHaveLength(1);
  });

  it('refuses a form without an account or an amount', async () => {
    expect((await transfer({ account: '', amount: 'abc', text: 'x' })).status).toBe(400);
  });
});

describe(`emulator mounting, and a bank speaking SePay's layout, on ${databaseLabel}`, () => {
  it('mounts no emulator for a gateway that points at the real channel; the bank follows VIETQR_NOTIFY_FORMAT', async () => {
    const settings = (baseUrl: string) =>
      demoGateways(baseUrl, {
        VNPAY_PAYMENT_URL: 'https://sandbox.vnpayment.vn/paymentv2/vpcpay.html',
        DVCQG_INIT_URL: 'https://thanhtoan.dichvucong.gov.vn/init',
        VIETQR_NOTIFY_FORMAT: 'sepay',
      });
    const other = await createHarness({
      gateways: (env) =>
        buildGateways(settings(env.baseUrl), { publicBaseUrl: env.baseUrl, fetch: env.fetch, now: env.now, callbackToleranceSeconds: 300 }),
      emulators: (env) => settings(env.baseUrl),
    });
    try {
      const otherBase = await other.listen();
      expect((await other.request('GET', '/sandbox/vnpay/paymentv2/vpcpay.html')).status).toBe(404);
      expect((await other.request('POST', '/sandbox/dvcqg/init', { body: {} })).status).toBe(404);

      await seedAgencyTree(other.ctx);
      await upsertAgency(other.ctx, {
        code: AGENCIES.communeA,
        name: 'UBND phường Trấn Biên',
        level: 'commune',
        parentCode: AGENCIES.province,
        ...COMMUNE_ACCOUNT,
      });
      const code = await createProcedure(other.ctx);
      const dossier = await registerDossier(other, portal, code);
      const intent = await json(await createIntent(other, portal, dossier.code, { gateway: 'vietqr' }));
      const sent = await fetch(`${otherBase}/sandbox/vietqr`, {
        method: 'POST',
        body: new URLSearchParams({
          account: COMMUNE_ACCOUNT.accountNumber,
          amount: String(intent.amount),
          text: intent.reference,
          bankPrefix: '1',
        }),
      });
      const html = await sent.text();
      expect(html).toContain('&quot;transferType&quot;:&quot;in&quot;');
      expect(html).toContain('&quot;applied&quot;');
      expect((await json(await other.request('GET', `/v1/payment-intents/${intent.id}`, { token: portal }))).status).toBe('succeeded');
    } finally {
      await other.close();
    }
  });
});

describe(`the sandbox's hosted checkout on ${databaseLabel}`, () => {
  it('refuses a tampered link with 400, and its status API answers only signed, recent requests', async () => {
    const dossier = await registerDossier(h, portal, procedure);
    const created = await createIntent(h, portal, dossier.code, { gateway: 'sandbox' });
    expect(created.status, await created.clone().text()).toBe(201);
    const intent: Intent = await json(created);
    const tampered = new URL(intent.nextAction.url);
    tampered.searchParams.set('amount', '1000');
    expect((await openCheckout(tampered.toString())).status).toBe(400);
    expect((await openCheckout(intent.nextAction.url)).status).toBe(200);

    const path = `/sandbox/api/payments/${intent.reference}`;
    expect((await fetch(`${base}${path}`)).status).toBe(401);
    const old = Math.floor(Date.now() / 1000) - 3600;
    const stale = await fetch(`${base}${path}`, {
      headers: { 'sandbox-signature': signatureHeader(SANDBOX_SECRETS[0]!, old, `GET ${path}`) },
    });
    expect([stale.status, await stale.json()]).toEqual([401, { error: 'stale' }]);
    const fresh = await fetch(`${base}${path}`, {
      headers: { 'sandbox-signature': signatureHeader(SANDBOX_SECRETS[1]!, Math.floor(Date.now() / 1000), `GET ${path}`) },
    });
    expect(await fresh.json()).toEqual({ reference: intent.reference, status: 'not_found' });
  });
});
