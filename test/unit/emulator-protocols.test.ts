import { describe, expect, it } from 'vitest';
import { CONFIRM_FIELDS, INIT_FIELDS, platformMac, platformMacVerifies } from '../../src/emulators/protocol/dvcqg.ts';
import { checkoutSignature, checkoutVerifies, checkSignatureHeader, signatureHeader } from '../../src/emulators/protocol/sandbox.ts';
import { fromGmt7, gmt7 } from '../../src/emulators/protocol/time.ts';
import { notificationSignature } from '../../src/emulators/protocol/vietqr.ts';
import {
  checkSignedQuery,
  pipeVerifies,
  QUERYDR_ANSWER_FIELDS,
  QUERYDR_REQUEST_FIELDS,
  signedAnswer,
  vndOf,
  vnpSignedQuery,
} from '../../src/emulators/protocol/vnpay.ts';
import * as hubDvcqg from '../../src/gateways/dvcqg/protocol.ts';
import { verifyWithAny } from '../../src/gateways/hmac.ts';
import * as hubSandbox from '../../src/gateways/sandbox/protocol.ts';
import * as hubVnpay from '../../src/gateways/vnpay/protocol.ts';

/**
 * The emulators' protocol code (src/emulators/protocol/) is written apart from the adapters'
 * (src/gateways/): each side must accept what the other signs, and both must refuse a change.
 */
const SECRETS = ['current-secret-0123456789', 'previous-secret-9876543210'];
const NOW = new Date('2026-11-22T06:06:40Z');

describe('the sandbox, both sides', () => {
  const params = {
    amount: '185000',
    currency: 'VND',
    returnUrl: 'https://portal.test/back?x=1 2',
    expiresAt: '1795334800',
    description: 'Lệ phí & phí',
  };

  it('a checkout link signed by the hub verifies at the checkout, under a previous secret too, and not once changed', async () => {
    for (const secret of SECRETS) {
      const signed = { ...params, signature: await hubSandbox.signCheckout(secret, 'HUBREF01', params) };
      expect(checkoutVerifies(SECRETS, 'HUBREF01', signed)).toBe(true);
      expect(checkoutVerifies(SECRETS, 'HUBREF01', { ...signed, amount: '1000' })).toBe(false);
      expect(checkoutVerifies(SECRETS, 'HUBREF02', signed)).toBe(false);
    }
    expect(checkoutSignature(SECRETS[0]!, 'HUBREF01', params)).toBe(await hubSandbox.signCheckout(SECRETS[0]!, 'HUBREF01', params));
  });

  it("signature headers: each side accepts the other's, refuses another payload or secret, and tells stale apart", async () => {
    const t = Math.floor(NOW.getTime() / 1000);
    const ours = signatureHeader(SECRETS[1]!, t, '{"a":1}');
    expect(await hubSandbox.checkSignature(SECRETS, ours, '{"a":1}', NOW, 300)).toBe('valid');
    expect(await hubSandbox.checkSignature(SECRETS, ours, '{"a":2}', NOW, 300)).toBe('bad_signature');
    const theirs = await hubSandbox.signatureHeader(SECRETS[0]!, t, 'GET /sandbox/api/payments/R1');
    expect(checkSignatureHeader(SECRETS, theirs, 'GET /sandbox/api/payments/R1', NOW, 300)).toBe('valid');
    expect(checkSignatureHeader(SECRETS, theirs, 'GET /sandbox/api/payments/R2', NOW, 300)).toBe('bad_signature');
    expect(checkSignatureHeader(['another-secret'], theirs, 'GET /sandbox/api/payments/R1', NOW, 300)).toBe('bad_signature');
    expect(checkSignatureHeader(SECRETS, theirs, 'GET /sandbox/api/payments/R1', new Date(NOW.getTime() + 301_000), 300)).toBe('stale');
    expect(checkSignatureHeader(SECRETS, undefined, '', NOW, 300)).toBe('bad_signature');
    expect(checkSignatureHeader(SECRETS, `t=${t}`, '', NOW, 300)).toBe('bad_signature');
  });
});

describe('VNPay, both sides', () => {
  const payment = {
    paymentUrl: 'https://hub.test/sandbox/vnpay/paymentv2/vpcpay.html',
    tmnCode: 'DEMOV210',
    amount: 185_000,
    txnRef: 'HUBREF01',
    // '*' is where PHP urlencode and the form encoding differ.
    orderInfo: 'Thanh toán lệ phí * hồ sơ (000.00.01)',
    returnUrl: 'https://hub.test/v1/returns/vnpay',
    ipAddr: '198.51.100.23',
    createDate: NOW,
    expireDate: new Date(NOW.getTime() + 15 * 60_000),
  };

  it.each(['php', 'form'] as const)(
    'a payment URL the hub signs (%s encoding) verifies at VNPay, and only under the same encoding',
    async (encoding) => {
      const url = new URL(await hubVnpay.buildPaymentUrl({ ...payment, secret: SECRETS[1]!, encoding }));
      const checked = checkSignedQuery(url.searchParams, SECRETS, encoding);
      expect(checked.valid).toBe(true);
      expect(checked.params.vnp_OrderInfo).toContain('*');
      expect(checkSignedQuery(url.searchParams, SECRETS, encoding === 'php' ? 'form' : 'php').valid).toBe(false);
    },
  );

  it('refuses a changed amount and a repeated parameter', async () => {
    const url = new URL(await hubVnpay.buildPaymentUrl({ ...payment, secret: SECRETS[0]! }));
    const changed = new URLSearchParams(url.searchParams);
    changed.set('vnp_Amount', '100');
    expect(checkSignedQuery(changed, SECRETS, 'php').valid).toBe(false);
    const repeated = new URLSearchParams(url.searchParams);
    repeated.append('vnp_Amount', url.searchParams.get('vnp_Amount')!);
    expect(checkSignedQuery(repeated, SECRETS, 'php').valid).toBe(false);
  });

  it('an IPN query VNPay signs verifies at the hub', async () => {
    const query = vnpSignedQuery(
      { vnp_Amount: '18500000', vnp_OrderInfo: 'a*b (c)', vnp_ResponseCode: '00', vnp_TxnRef: 'HUBREF01', vnp_BankCode: '' },
      SECRETS[0]!,
    );
    expect((await hubVnpay.verifyQuery(query, SECRETS)).valid).toBe(true);
  });

  it("querydr: the hub's request verifies at VNPay, VNPay's answer at the hub; a change or a nested object does not", async () => {
    const request = await hubVnpay.buildQuerydrRequest({
      tmnCode: 'DEMOV210',
      secret: SECRETS[0]!,
      requestId: 'abc123',
      txnRef: 'HUBREF01',
      orderInfo: 'Truy van',
      transactionDate: NOW,
      createDate: NOW,
      ipAddr: '127.0.0.1',
    });
    expect(pipeVerifies(request, QUERYDR_REQUEST_FIELDS, SECRETS)).toBe(true);
    expect(pipeVerifies({ ...request, vnp_TxnRef: 'HUBREF02' }, QUERYDR_REQUEST_FIELDS, SECRETS)).toBe(false);
    expect(pipeVerifies({ ...request, vnp_OrderInfo: {} as never }, QUERYDR_REQUEST_FIELDS, SECRETS)).toBe(false);
    const answer = signedAnswer(
      { vnp_ResponseId: 'r1', vnp_Command: 'querydr', vnp_ResponseCode: '00', vnp_TxnRef: 'HUBREF01', vnp_Amount: '18500000' },
      QUERYDR_ANSWER_FIELDS,
      SECRETS[1]!,
    );
    expect(await hubVnpay.verifyPipeSigned(answer, hubVnpay.QUERYDR_RESPONSE_HASH_FIELDS, SECRETS)).toBe(true);
  });

  it('reads vnp_Amount as whole VND only', () => {
    expect(vndOf('18500000')).toBe(185_000);
    expect(vndOf('100')).toBe(1);
    for (const raw of [undefined, '', '0', '50', '18500050', '018500000', '1.5e9', '-100']) expect(vndOf(raw)).toBeNull();
  });
});

describe('the national platform, both sides', () => {
  const init = {
    LoaiBanTin: 'INIT',
    PhienBan: '1.0.6',
    MaDoiTac: 'HCC',
    MaThamChieu: 'HUBREF01',
    SoTien: '185000',
    ThoiGianGD: '20261122130640',
    Ip: '1.2.3.4',
  };

  it.each(['SHA256-KEY', 'HMAC-SHA256', 'HMAC-SHA512'] as const)(
    "MaXacThuc (%s): the hub's verifies at the platform and the platform's at the hub",
    async (algorithm) => {
      const signed = { ...init, MaXacThuc: await hubDvcqg.authenticationCode(algorithm, SECRETS[1]!, init, INIT_FIELDS) };
      expect(platformMacVerifies(signed, INIT_FIELDS, SECRETS, algorithm)).toBe(true);
      expect(platformMacVerifies({ ...signed, SoTien: '1' }, INIT_FIELDS, SECRETS, algorithm)).toBe(false);
      expect(platformMacVerifies({ ...signed, SoTien: { n: 1 } }, INIT_FIELDS, SECRETS, algorithm)).toBe(false);
      expect(platformMacVerifies(signed, INIT_FIELDS, ['another-secret'], algorithm)).toBe(false);
      const confirm = {
        LoaiBanTin: 'CONFIRM',
        MaLoi: '00',
        MaDoiTac: 'HCC',
        MaThamChieu: 'HUBREF01',
        SoTien: 185000,
        MaTienTe: 'VND',
        MaGiaoDich: 'PP01',
      };
      const code = platformMac(confirm, CONFIRM_FIELDS, SECRETS[0]!, algorithm);
      expect(await hubDvcqg.verifyAuthenticationCode(algorithm, SECRETS, { ...confirm, MaXacThuc: code }, CONFIRM_FIELDS)).toBe(true);
      expect(
        await hubDvcqg.verifyAuthenticationCode(algorithm, SECRETS, { ...confirm, MaLoi: '11', MaXacThuc: code }, CONFIRM_FIELDS),
      ).toBe(false);
    },
  );

  it('the default MaXacThuc is SHA-256 of the joined fields with the key appended, not an HMAC', () => {
    // printf '%s' 'INIT|1.0.6|HCC|HUBREF01|185000||||||||20261122130640|1.2.3.4|k' | sha256sum
    expect(platformMac(init, INIT_FIELDS, 'k')).toBe('dfc5b021c01e9c12cebc30687b5e1f96c58ebcd9eb646dc81354ad36618c37cb');
    expect(platformMac(init, INIT_FIELDS, 'k')).not.toBe(platformMac(init, INIT_FIELDS, 'k', 'HMAC-SHA256'));
  });
});

describe('the bank and the wall clock', () => {
  it('a credit notification the bank signs verifies at the hub', async () => {
    const raw = '{"accountNumber":"1014682259","amount":185000}';
    expect(await verifyWithAny('SHA-256', SECRETS, raw, notificationSignature(SECRETS[1]!, raw))).toBe(true);
  });

  it('reads back the Vietnamese wall-clock times it writes, and refuses impossible ones', () => {
    expect(gmt7(NOW)).toBe('20261122130640');
    expect(fromGmt7('20261122130640')).toEqual(NOW);
    for (const raw of [undefined, '', '20261131120000', '20261122250000', '2026112213064']) expect(fromGmt7(raw)).toBeNull();
  });
});
