import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CallbackResult, InboundMessage, PaymentRequest } from '../../src/gateways/types.ts';
import { createVietqrGateway, type VietqrOptions } from '../../src/gateways/vietqr/adapter.ts';

/**
 * The VietQR adapter on its own: the QR it hands the payer, read back by a decoder written here
 * (its own TLV walk and a table-driven CRC, sharing nothing with src/), and the bank credit
 * notification in both layouts, signed here with node:crypto.
 */

const SECRETS = ['vietqr-current-secret-0123456789', 'vietqr-previous-secret-9876543210'];
const REFERENCE = 'HP7K3M9Q2X4A';
const ACCOUNT = { bankBin: '970415', accountNumber: '1014682259', accountName: 'UBND PHUONG TRAN BIEN' };

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/vietqr/${name}.json`, import.meta.url), 'utf8'));

function gateway(overrides: Partial<VietqrOptions> = {}) {
  return createVietqrGateway({
    secrets: SECRETS,
    signatureHeader: 'x-signature',
    format: 'standard',
    service: 'QRIBFTTA',
    now: () => new Date('2026-11-20T03:00:00Z'),
    ...overrides,
  });
}

function paymentRequest(overrides: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    intentId: '00000000-0000-4000-8000-000000000001',
    reference: REFERENCE,
    amount: 135_000,
    currency: 'VND',
    createdAt: new Date('2026-11-20T03:00:00Z'),
    expiresAt: new Date('2026-11-20T03:30:00Z'),
    returnUrl: 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua',
    dossierCode: '000.21.32.H19-261120-0001',
    procedureCode: '1.001234',
    procedureName: 'Cấp bản sao trích lục hộ tịch',
    agencyCode: '000.21.32.H19',
    agencyName: 'UBND phường Trấn Biên',
    description: 'Thanh toan ho so 000.21.32.H19-261120-0001',
    lines: [{ kind: 'le_phi', feeCode: 'LP01', name: 'Lệ phí', amount: 135_000 }],
    payer: { ip: '203.0.113.7' },
    collectionAccount: ACCOUNT,
    ...overrides,
  };
}

// --- An independent EMVCo decoder ------------------------------------------------------------

/** CRC-16/CCITT-FALSE by a 256-entry table (poly 0x1021, init 0xFFFF), over ASCII. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
  return c & 0xffff;
});
function crcCcittFalse(text: string): string {
  let crc = 0xffff;
  for (const ch of text) {
    const byte = ch.charCodeAt(0);
    if (byte > 0x7f) throw new Error('this decoder reads ASCII payloads only');
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

/** id → value for one TLV level, in payload order, refusing overruns and repeated ids. */
function tlvLevel(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (let at = 0; at < text.length; ) {
    const header = /^(\d\d)(\d\d)/.exec(text.slice(at, at + 4));
    if (!header) throw new Error(`no TLV header at ${at}`);
    const [, id, length] = header;
    const end = at + 4 + Number(length);
    if (end > text.length) throw new Error(`field ${id} overruns the payload`);
    if (fields.has(id!)) throw new Error(`field ${id} repeated`);
    fields.set(id!, text.slice(at + 4, end));
    at = end;
  }
  return fields;
}

function decodeVietQr(payload: string) {
  const top = tlvLevel(payload);
  const merchant = tlvLevel(top.get('38') ?? '');
  const beneficiary = tlvLevel(merchant.get('01') ?? '');
  const additional = tlvLevel(top.get('62') ?? '');
  const crcDeclared = top.get('63');
  return {
    order: [...top.keys()],
    crcOk: payload.endsWith(`6304${crcDeclared}`) && crcCcittFalse(payload.slice(0, -4)) === crcDeclared,
    format: top.get('00'),
    initiation: top.get('01'),
    aid: merchant.get('00'),
    bin: beneficiary.get('00'),
    account: beneficiary.get('01'),
    service: merchant.get('02'),
    currency: top.get('53'),
    amount: top.get('54'),
    country: top.get('58'),
    text: additional.get('08'),
  };
}

describe('the independent decoder itself', () => {
  it('reads the published dynamic vector (shared/domain/gateways.md §2) and catches one changed character', () => {
    const vector = '00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704540410005802VN62150811Chuyen tien6304BBB8';
    expect(decodeVietQr(vector)).toMatchObject({ crcOk: true, bin: '970416', account: '257678859', amount: '1000', text: 'Chuyen tien' });
    expect(crcCcittFalse('123456789')).toBe('29B1');
    expect(decodeVietQr(vector.replace('5802VN', '5802VM')).crcOk).toBe(false);
  });
});

describe('createPayment', () => {
  it('hands over a dynamic VietQR for the agency account, amount and reference, with an SVG image', async () => {
    const { nextAction, gatewayReference } = await gateway().createPayment(paymentRequest());
    expect(nextAction).toMatchObject({
      type: 'qr',
      bank: '970415',
      bankName: 'VietinBank',
      accountNumber: '1014682259',
      accountName: 'UBND PHUONG TRAN BIEN',
      amount: 135_000,
      transferText: REFERENCE,
    });
    expect(gatewayReference).toBe(REFERENCE);
    if (nextAction.type !== 'qr') throw new Error('expected a QR');
    expect(decodeVietQr(nextAction.payload)).toEqual({
      order: ['00', '01', '38', '53', '54', '58', '62', '63'],
      crcOk: true,
      format: '01',
      initiation: '12',
      aid: 'A000000727',
      bin: '970415',
      account: '1014682259',
      service: 'QRIBFTTA',
      currency: '704',
      amount: '135000',
      country: 'VN',
      text: REFERENCE,
    });
    expect(String(nextAction.imageSvg)).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
  });

  it('draws a different QR for a different amount, and pays a card with QRIBFTTC when so configured', async () => {
    const a = await gateway().createPayment(paymentRequest());
    const b = await gateway({ service: 'QRIBFTTC' }).createPayment(paymentRequest({ amount: 270_000 }));
    if (a.nextAction.type !== 'qr' || b.nextAction.type !== 'qr') throw new Error('expected QRs');
    expect(decodeVietQr(b.nextAction.payload)).toMatchObject({ crcOk: true, amount: '270000', service: 'QRIBFTTC' });
    expect(b.nextAction.imageSvg).not.toBe(a.nextAction.imageSvg);
  });

  it('leaves the bank name out for a BIN it does not list, and refuses without a collection account', async () => {
    const other = await gateway().createPayment(paymentRequest({ collectionAccount: { ...ACCOUNT, bankBin: '970499' } }));
    expect(other.nextAction).toMatchObject({ bank: '970499' });
    expect(other.nextAction).not.toHaveProperty('bankName');
    await expect(gateway().createPayment(paymentRequest({ collectionAccount: undefined }))).rejects.toThrow(/collecting agency's account/);
  });

  it('declares a QR-only channel without status, refund or polling, paid into the agency account (766 flag 2)', () => {
    const g = gateway();
    expect(g.id).toBe('vietqr');
    expect(g.capabilities).toEqual({ redirect: false, qr: true, queryStatus: false, refund: false, statement: false });
    expect(g.onlinePaymentFlag).toBe(2);
    expect(g.needsCollectionAccount).toBe(true);
    expect(g.polling).toBeUndefined();
    expect(g.queryStatus).toBeUndefined();
    expect(() => gateway({ secrets: [] })).toThrow(/secret/);
  });
});

// --- The bank credit notification --------------------------------------------------------------

const sign = (raw: string, secret = SECRETS[0]!) => createHmac('sha256', secret).update(raw, 'utf8').digest('hex');

function notification(
  body: unknown,
  options: { secret?: string; header?: string; signature?: string; method?: string } = {},
): InboundMessage {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    method: options.method ?? 'POST',
    url: '/v1/callbacks/vietqr',
    headers: { 'content-type': 'application/json', [options.header ?? 'x-signature']: options.signature ?? sign(raw, options.secret) },
    rawBody: raw,
  };
}

const receivedAt = new Date('2026-11-20T03:16:00Z');

describe('verifyCallback, standard layout', () => {
  it('reads the fixture into a verified success: amount, bank transaction id, time, reference, account', async () => {
    const verification = await gateway().verifyCallback(notification(fixture('standard-credit')), receivedAt);
    expect(verification).toEqual({
      ok: true,
      reference: REFERENCE,
      candidates: [],
      outcome: {
        kind: 'succeeded',
        amount: 135_000,
        transactionId: 'FT26324918273645',
        paidAt: new Date('2026-11-20T03:15:42Z'),
        payeeAccount: '1014682259',
        detail: { accountNumber: '1014682259' },
      },
    });
  });

  it('accepts every configured secret (rotation) and a configured header name, case ignored', async () => {
    const body = fixture('standard-credit');
    for (const secret of SECRETS) {
      expect((await gateway().verifyCallback(notification(body, { secret }), receivedAt)).ok).toBe(true);
    }
    const custom = gateway({ signatureHeader: 'X-Bank-Signature' });
    expect((await custom.verifyCallback(notification(body, { header: 'x-bank-signature' }), receivedAt)).ok).toBe(true);
    const upper = notification(body);
    upper.headers['x-signature'] = upper.headers['x-signature']!.toUpperCase();
    expect((await gateway().verifyCallback(upper, receivedAt)).ok).toBe(true);
  });

  it('refuses an unknown secret, a missing or garbled header, and any tampered byte as bad_signature', async () => {
    const body = fixture('standard-credit');
    const g = gateway();
    const refused = async (message: InboundMessage) => {
      const v = await g.verifyCallback(message, receivedAt);
      expect(v).toMatchObject({ ok: false, reason: 'bad_signature' });
    };
    await refused(notification(body, { secret: 'someone-else' }));
    await refused(notification(body, { signature: '' }));
    await refused(notification(body, { signature: 'not-hex' }));
    const signedRaw = JSON.stringify(body);
    await refused({ ...notification(body), rawBody: signedRaw.replace('135000', '1350000') });
    await refused({ ...notification(body), rawBody: signedRaw.replace(REFERENCE, 'HP7K3M9Q2X4B') });
    // Signed with another header name than the configured one.
    await refused(notification(body, { header: 'x-other-signature' }));
  });

  it('calls a validly signed message that is no credit malformed (signature first, then shape)', async () => {
    const base = fixture('standard-credit');
    const g = gateway();
    const cases: unknown[] = [
      'not json',
      { ...base, amount: 0 },
      { ...base, amount: -135_000 },
      { ...base, amount: 135_000.5 },
      { ...base, amount: '135000' },
      { ...base, time: '20/11/2026 10:15' },
      { ...base, transactionId: '' },
      { accountNumber: base.accountNumber, amount: base.amount },
    ];
    for (const body of cases) {
      expect(await g.verifyCallback(notification(body), receivedAt), JSON.stringify(body)).toMatchObject({
        ok: false,
        reason: 'malformed',
      });
    }
    expect(await g.verifyCallback(notification(base, { method: 'GET' }), receivedAt)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('finds the reference however the bank rewrote the text, and lists every other candidate after it', async () => {
    const g = gateway();
    const texts = [
      `MBVCB.123456.ck ${REFERENCE.toLowerCase()} thanh toan`,
      'MBVCB.123456.ck hp-7k3m.9q2x.4a thanh toan',
      `IBFT Thanh toán lệ phí hộ tịch ${REFERENCE.slice(0, 6)} ${REFERENCE.slice(6)}`,
      `CT DEN:012345678901 NGUYỄN VĂN ĐỨC chuyển tiền ${REFERENCE}`,
      `TKThe :0071000123456, tai VCB. ${REFERENCE}.CT tu 0071000123456`,
      `CK${REFERENCE}THANHTOAN`,
    ];
    for (const description of texts) {
      const v = await g.verifyCallback(notification({ ...fixture('standard-credit'), description }), receivedAt);
      expect(v.ok && v.reference, description).toBe(REFERENCE);
    }
    const two = await g.verifyCallback(
      notification({ ...fixture('standard-credit'), description: `HPAAAAAAAAAA va ${REFERENCE}` }),
      receivedAt,
    );
    expect(two).toMatchObject({ ok: true, reference: 'HPAAAAAAAAAA', candidates: [REFERENCE] });
  });

  it('keeps a credit whose text names no reference: ok, reference empty, still a success to record', async () => {
    const v = await gateway().verifyCallback(
      notification({ ...fixture('standard-credit'), description: 'NGUYEN VAN AN chuyen tien' }),
      receivedAt,
    );
    expect(v).toMatchObject({ ok: true, reference: '', candidates: [], outcome: { kind: 'succeeded', amount: 135_000 } });
  });
});

describe('verifyCallback, SePay layout', () => {
  const sepay = () => gateway({ format: 'sepay' });

  it('reads the SePay fixture: transferAmount, id, transactionDate in Vietnam time, content', async () => {
    const v = await sepay().verifyCallback(notification(fixture('sepay-credit')), receivedAt);
    expect(v).toEqual({
      ok: true,
      reference: REFERENCE,
      candidates: [],
      outcome: {
        kind: 'succeeded',
        amount: 135_000,
        transactionId: '92704',
        paidAt: new Date('2026-11-20T03:15:42Z'),
        payeeAccount: '1014682259',
        detail: { accountNumber: '1014682259', bank: 'Vietcombank', bankReference: 'MBVCB.3278907687', subAccount: null },
      },
    });
  });

  it('finds the reference in the bank message or SePay code when the content lacks it', async () => {
    const body = { ...fixture('sepay-credit'), content: 'chuyen tien', code: REFERENCE, description: null };
    expect(await sepay().verifyCallback(notification(body), receivedAt)).toMatchObject({ ok: true, reference: REFERENCE });
  });

  it('refuses a debit, a fractional or non-positive amount and an impossible date as malformed', async () => {
    const base = fixture('sepay-credit');
    const cases = [
      fixture('sepay-debit'),
      { ...base, transferAmount: 135_000.5 },
      { ...base, transferAmount: 0 },
      { ...base, transactionDate: '2026-02-30 10:00:00' },
      { ...base, transferType: 'sideways' },
      fixture('standard-credit'),
    ];
    for (const body of cases) {
      expect(await sepay().verifyCallback(notification(body), receivedAt), JSON.stringify(body)).toMatchObject({
        ok: false,
        reason: 'malformed',
      });
    }
  });

  it('checks the signature before the layout: an unsigned debit is bad_signature', async () => {
    const v = await sepay().verifyCallback(notification(fixture('sepay-debit'), { secret: 'nobody' }), receivedAt);
    expect(v).toMatchObject({ ok: false, reason: 'bad_signature' });
  });
});

describe("verifyCallback, SePay's API-key mode beside the HMAC signature", () => {
  const KEYS = ['sepay-key-current-0123456789', 'sepay-key-previous-9876543210'];
  const both = () => gateway({ format: 'sepay', apiKeys: KEYS });
  /** The message as the inbox keeps it: no Authorization header, the key's SHA-256 under the hub's own header. */
  const withKey = (key: string) => {
    const raw = JSON.stringify(fixture('sepay-credit'));
    const digest = createHash('sha256').update(key, 'utf8').digest('hex');
    return { method: 'POST', url: '/v1/callbacks/vietqr', headers: { 'x-hub-apikey-sha256': digest }, rawBody: raw };
  };

  it('accepts either: an HMAC-signed message, or one that carried a configured key (each of the rotated ones)', async () => {
    expect(await both().verifyCallback(notification(fixture('sepay-credit')), receivedAt)).toMatchObject({
      ok: true,
      reference: REFERENCE,
    });
    for (const key of KEYS) expect(await both().verifyCallback(withKey(key), receivedAt), key).toMatchObject({ ok: true });
  });

  it('refuses a wrong key, a digest of no key, a bad signature and neither, as bad_signature', async () => {
    const unsigned = { ...withKey(KEYS[0]!), headers: {} };
    const cases: InboundMessage[] = [
      withKey('not-a-configured-key'),
      { ...withKey(KEYS[0]!), headers: { 'x-hub-apikey-sha256': 'zz' } },
      notification(fixture('sepay-credit'), { secret: 'nobody' }),
      unsigned,
    ];
    for (const message of cases) {
      expect(await both().verifyCallback(message, receivedAt), JSON.stringify(message.headers)).toMatchObject({
        ok: false,
        reason: 'bad_signature',
        detail: 'no valid x-signature header or Authorization: Apikey key',
      });
    }
    // With keys only, a valid HMAC signature is no authentication.
    const keysOnly = gateway({ format: 'sepay', secrets: [], apiKeys: KEYS });
    expect(await keysOnly.verifyCallback(notification(fixture('sepay-credit')), receivedAt)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
    expect(await keysOnly.verifyCallback(withKey(KEYS[1]!), receivedAt)).toMatchObject({ ok: true });
  });
});

describe('respond', () => {
  it('answers 200 success for everything recorded, 401 for signatures, 400 malformed, 503 to be delivered again', async () => {
    const g = gateway();
    const expected: Record<CallbackResult, number> = {
      applied: 200,
      duplicate: 200,
      unknown_reference: 200,
      amount_mismatch: 200,
      already_final: 200,
      needs_review: 200,
      bad_signature: 401,
      stale: 401,
      malformed: 400,
      error: 503,
    };
    for (const [result, status] of Object.entries(expected) as Array<[CallbackResult, number]>) {
      const response = await g.respond(result);
      expect(response.status, result).toBe(status);
      expect(response.contentType).toBe('application/json');
      const body = JSON.parse(response.body);
      expect(body.success, result).toBe(status === 200);
      if (status === 200) expect(body.result).toBe(result);
    }
  });
});
