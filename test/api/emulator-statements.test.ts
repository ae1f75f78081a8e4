import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateways } from '../../src/gateways/configure.ts';
import { upsertAgency } from '../../src/services/catalogue.ts';
import { demoGateways } from '../helpers/channels.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, rule, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';
import { expectJson } from '../helpers/problems.ts';
import { chooseOnCheckout } from '../helpers/sandbox.ts';
import { uploadStatement } from '../helpers/statements.ts';

/**
 * The treasury's day against the demo's outside world: payers pay (and give up) through each
 * emulated channel, each channel writes its own statement file from its own ledger, with its own
 * code, and the hub imports and matches what they wrote. Every payment must be matched and every
 * line read: a column, a word or a number the hub misreads shows up as a rejected line or a
 * discrepancy here.
 */
const COMMUNE_ACCOUNT = { bankBin: '970415', accountNumber: '1014682259', accountName: 'UBND PHUONG TRAN BIEN' };
const BANK = `bank:${COMMUNE_ACCOUNT.accountNumber}`;

let h: Harness;
let base: string;
let portal: string;
let treasury: string;
let procedure: string;

/** Today in Vietnam, the day the payments below are made on. */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date());

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
  nextAction: Record<string, any>;
}

async function intentFor(gateway: 'sandbox' | 'vnpay' | 'dvcqg' | 'vietqr'): Promise<Intent> {
  const dossier = await registerDossier(h, portal, procedure);
  const response = await createIntent(h, portal, dossier.code, { gateway, payer: { ip: '198.51.100.23' } });
  expect(response.status, await response.clone().text()).toBe(201);
  return json(response);
}

const statusOf = async (id: string) => (await json(await h.request('GET', `/v1/payment-intents/${id}`, { token: portal }))).status;

async function payOnPage(gateway: 'sandbox' | 'vnpay' | 'dvcqg', choice: string) {
  const intent = await intentFor(gateway);
  const extra: Record<string, string> = gateway === 'dvcqg' ? { MaNganHang: 'VCB' } : {};
  expect((await chooseOnCheckout(intent.nextAction.url, choice, extra)).status).toBe(303);
  return intent;
}

/** The payer transfers from their bank app; the bank credits the account and notifies the hub. */
async function transfer(account: string, amount: number, text: string, bankPrefix: boolean) {
  const form = new URLSearchParams({ account, amount: String(amount), text, ...(bankPrefix ? { bankPrefix: '1' } : {}) });
  const sent = await fetch(`${base}/sandbox/vietqr`, { method: 'POST', body: form });
  expect(sent.status).toBe(200);
}

async function download(path: string): Promise<{ name: string; bytes: Uint8Array; text: string }> {
  const response = await fetch(`${base}${path}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status, new TextDecoder().decode(bytes).slice(0, 300)).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
  expect(name).toMatch(/\.csv$/);
  return { name: name!, bytes, text: new TextDecoder().decode(bytes) };
}

describe(`statements written by the emulated channels, read by the hub (${databaseLabel})`, () => {
  it('every payment of the day is matched on every channel, declined ones are read and set aside, nothing is left open', async () => {
    const paid: Record<string, Intent[]> = { sandbox: [], vnpay: [], dvcqg: [], [BANK]: [] };
    const declined: Record<string, number> = { sandbox: 0, vnpay: 0, dvcqg: 0, [BANK]: 0 };
    for (const gateway of ['sandbox', 'vnpay', 'dvcqg'] as const) {
      paid[gateway]!.push(await payOnPage(gateway, 'pay'), await payOnPage(gateway, 'pay'));
      await payOnPage(gateway, gateway === 'sandbox' ? 'decline' : 'cancel');
      declined[gateway]! += 1;
    }
    // VietQR: one transfer with the bank's words before the text, one with the payer's words around the reference.
    const qr = [await intentFor('vietqr'), await intentFor('vietqr')];
    await transfer(qr[0]!.nextAction.accountNumber, qr[0]!.amount, qr[0]!.nextAction.transferText, true);
    await transfer(qr[1]!.nextAction.accountNumber, qr[1]!.amount, `Nguyen Van A nop phi, ${qr[1]!.reference}`, false);
    paid[BANK]!.push(...qr);
    for (const intent of Object.values(paid).flat()) expect(await statusOf(intent.id)).toBe('succeeded');

    // Refunded since, through the channels' own refund APIs: still money collected that day.
    for (const [intent, amount] of [
      [paid.vnpay![0]!, 50_000],
      [paid.sandbox![0]!, 185_000],
    ] as const) {
      const body = { amount, expectedRefundable: 185_000, reason: 'Nộp thừa' };
      const refund = await h.request('POST', `/v1/payment-intents/${intent.id}/refunds`, {
        token: treasury,
        body,
        headers: { 'idempotency-key': crypto.randomUUID() },
      });
      expect(refund.status, await refund.clone().text()).toBe(201);
    }
    expect(await statusOf(paid.vnpay![0]!.id)).toBe('partially_refunded');
    expect(await statusOf(paid.sandbox![0]!.id)).toBe('refunded');

    const date = today();
    const files: Record<string, Awaited<ReturnType<typeof download>>> = {
      sandbox: await download(`/sandbox/statement?date=${date}`),
      vnpay: await download(`/sandbox/vnpay/statement?date=${date}`),
      dvcqg: await download(`/sandbox/dvcqg/statement?date=${date}`),
      [BANK]: await download(`/sandbox/vietqr/statement?account=${COMMUNE_ACCOUNT.accountNumber}&date=${date}`),
    };
    // Each in its channel's own layout (test/fixtures/statements/ shows the same).
    const { vnpay, dvcqg, sandbox, [BANK]: bank } = files as Record<string, (typeof files)[string]>;
    expect(vnpay!.bytes.slice(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]));
    expect(vnpay!.text).toMatch(/^STT,Mã GD VNPAY,Mã GD merchant,Số tiền,Thời gian thanh toán,Ngân hàng,Trạng thái\r\n/);
    expect(vnpay!.text).toContain(`,${paid.vnpay![0]!.reference},185.000,`);
    expect(vnpay!.text).toMatch(/,Đã hoàn tiền\r\n/);
    expect(dvcqg!.text).toMatch(/^MaGiaoDich;MaThamChieu;SoTien;ThoiGianGD;TrangThai\n/);
    expect(sandbox!.text).toMatch(/^transaction_id,reference,amount,paid_at,status\n/);
    expect(sandbox!.text).toContain(`SBX${paid.sandbox![0]!.reference},${paid.sandbox![0]!.reference},185000,`);
    expect(sandbox!.text).toMatch(/\+07:00,refunded\n/);
    expect(bank!.text).toContain(`Số tài khoản: ${COMMUNE_ACCOUNT.accountNumber}`);
    expect(bank!.text).toContain('Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Số dư,Nội dung');
    expect(bank!.text).toMatch(/\r\nTổng cộng,,0,370\.000,,\r\n$/);

    for (const [source, file] of Object.entries(files)) {
      const lineCount = paid[source]!.length + declined[source]!;
      const imported = await expectJson(await uploadStatement(h, treasury, { source, date }, file), 201);
      // A bank's export ends with its totals row: kept, as a rejected line, never read as money.
      const totalsRow = source === BANK ? 1 : 0;
      expect(imported, `${source}: ${JSON.stringify(imported.rejected)}`).toMatchObject({
        linesTotal: lineCount + totalsRow,
        linesRejected: totalsRow,
        // Money collected only: a declined payment's line is read, and is no money.
        creditTotal: paid[source]!.reduce((sum, i) => sum + i.amount, 0),
      });
      if (totalsRow) expect(imported.rejected).toEqual([{ line: imported.linesTotal + 6, reason: expect.stringMatching(/time/) }]);

      const day = await expectJson(await h.request('POST', '/v1/reconciliations', { token: treasury, body: { source, date } }), 200);
      // Only `matched`: the callbacks had told the hub everything, so no line heals a payment either.
      expect(day.summary, source).toEqual({
        matched: { count: paid[source]!.length, amount: paid[source]!.length * 185_000 },
        ignored: { count: declined[source], amount: declined[source]! * 185_000 },
        healed: { count: 0, amount: 0 },
      });
      expect(day.open, source).toEqual({ discrepancies: 0, reviews: 0 });
      const listed = await expectJson(
        await h.request('GET', `/v1/discrepancies?source=${encodeURIComponent(source)}&date=${date}`, { token: treasury }),
        200,
      );
      expect(listed.items, source).toEqual([]);
      const closed = await expectJson(await h.request('POST', `/v1/reconciliations/${day.id}/close`, { token: treasury }), 200);
      expect(closed.status).toBe('closed');
    }
  });

  it('refuses a date that is no date, and an account that is no account', async () => {
    expect((await fetch(`${base}/sandbox/vnpay/statement?date=2026-02-31`)).status).toBe(400);
    expect((await fetch(`${base}/sandbox/statement?date=yesterday`)).status).toBe(400);
    expect((await fetch(`${base}/sandbox/dvcqg/statement?date=2026-13-01`)).status).toBe(400);
    expect((await fetch(`${base}/sandbox/vietqr/statement?date=2026-03-01`)).status).toBe(400);
  });
});
