import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  asciiOrderInfo,
  buildPaymentUrl,
  buildQuerydrRequest,
  buildRefundRequest,
  encodeComponent,
  fromVnpAmount,
  IPN_ANSWERS,
  type IpnStep,
  ipnAnswer,
  ipnOutcome,
  ipnStepFor,
  parseVnCompactTimestamp,
  paymentParams,
  QUERYDR_HASH_FIELDS,
  QUERYDR_RESPONSE_HASH_FIELDS,
  REFUND_HASH_FIELDS,
  removeVietnameseDiacritics,
  signedQuery,
  signString,
  toVnpAmount,
  verifyQuery,
  verifyQuerydrResponse,
} from '../../src/gateways/vnpay/protocol.ts';

// ---------------------------------------------------------------------------------------------
// An independent implementation of VNPay's signing, written the way VNPay's PHP sample does it
// (ksort + urlencode + hash_hmac('sha512')), on node:crypto and a hand-rolled byte-wise encoder.
// ---------------------------------------------------------------------------------------------

/** PHP urlencode: alphanumerics and -_. as they are, space as '+', every other UTF-8 byte %XX. */
function phpUrlencode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const isAlnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
    if (isAlnum || byte === 0x2d || byte === 0x5f || byte === 0x2e) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function referenceHashData(params: Record<string, string>): string {
  const keys = Object.keys(params)
    .filter((k) => k.startsWith('vnp_') && k !== 'vnp_SecureHash' && k !== 'vnp_SecureHashType' && params[k] !== '')
    .sort();
  let data = '';
  for (const key of keys) {
    if (data) data += '&';
    data += `${phpUrlencode(key)}=${phpUrlencode(params[key]!)}`;
  }
  return data;
}

function referenceHmac(secret: string, data: string): string {
  return createHmac('sha512', secret).update(data, 'utf8').digest('hex');
}

/** The raw query string VNPay would send to the IPN URL: the signed data plus the hash. */
function referenceIpnQuery(params: Record<string, string>, secret: string): string {
  const data = referenceHashData(params);
  return `${data}&vnp_SecureHash=${referenceHmac(secret, data)}`;
}

const SECRET = 'SECRETKEYDEMO';

const ipnParams = (overrides: Record<string, string> = {}): Record<string, string> => ({
  vnp_Amount: '13500000',
  vnp_BankCode: 'NCB',
  vnp_BankTranNo: 'VNP14123456',
  vnp_CardType: 'ATM',
  // Characters where encoders disagree or that must be escaped: space, + & = / : * ~ ! ' ( ) %.
  vnp_OrderInfo: "Thanh toan le phi ho so HP0123456789 + a&b=c/d:e *~!'() 100%",
  vnp_PayDate: '20261122093512',
  vnp_ResponseCode: '00',
  vnp_TmnCode: 'DEMOV210',
  vnp_TransactionNo: '14123456',
  vnp_TransactionStatus: '00',
  vnp_TxnRef: 'HP0123456789',
  ...overrides,
});

describe('VNPay query signature', () => {
  it('accepts an IPN signed by the independent implementation and returns its vnp_* params', async () => {
    const params = ipnParams();
    const result = await verifyQuery(referenceIpnQuery(params, SECRET), [SECRET]);
    expect(result.valid).toBe(true);
    expect(result.params).toEqual(params);
    // With a leading '?', as URL.search gives it, and as URLSearchParams.
    expect((await verifyQuery(`?${referenceIpnQuery(params, SECRET)}`, [SECRET])).valid).toBe(true);
    expect((await verifyQuery(new URLSearchParams(referenceIpnQuery(params, SECRET)), [SECRET])).valid).toBe(true);
  });

  it('computes the same sign string and hash as the independent implementation', async () => {
    const params = ipnParams({ vnp_OrderInfo: 'Lệ phí Đồng Nai ✓ 😀 tab\there' });
    const { query, hash } = await signedQuery(params, SECRET);
    expect(query).toBe(referenceHashData(params));
    expect(hash).toBe(referenceHmac(SECRET, referenceHashData(params)));
  });

  it('refuses the IPN when any single parameter value is changed', async () => {
    const params = ipnParams();
    const data = referenceHashData(params);
    const hash = referenceHmac(SECRET, data);
    for (const key of Object.keys(params)) {
      const value = params[key]!;
      const flipped = /\d$/.test(value) ? value.slice(0, -1) + String((Number(value.at(-1)) + 1) % 10) : `${value}x`;
      const tampered = { ...params, [key]: flipped };
      const result = await verifyQuery(`${referenceHashData(tampered)}&vnp_SecureHash=${hash}`, [SECRET]);
      expect(result.valid, `tampered ${key}`).toBe(false);
    }
  });

  it('refuses a changed amount, a dropped parameter and an added vnp_* parameter', async () => {
    const params = ipnParams();
    const hash = referenceHmac(SECRET, referenceHashData(params));
    const withHash = (p: Record<string, string>) => `${referenceHashData(p)}&vnp_SecureHash=${hash}`;
    expect((await verifyQuery(withHash({ ...params, vnp_Amount: '1350000000' }), [SECRET])).valid).toBe(false);
    expect((await verifyQuery(withHash({ ...params, vnp_Amount: '13500100' }), [SECRET])).valid).toBe(false);
    const { vnp_BankTranNo: _dropped, ...fewer } = params;
    expect((await verifyQuery(withHash(fewer), [SECRET])).valid).toBe(false);
    expect((await verifyQuery(withHash({ ...params, vnp_Extra: '1' }), [SECRET])).valid).toBe(false);
  });

  it('accepts a retired secret only while it is in the list', async () => {
    const query = referenceIpnQuery(ipnParams(), 'OLDSECRET2025');
    expect((await verifyQuery(query, ['NEWSECRET2026'])).valid).toBe(false);
    expect((await verifyQuery(query, ['NEWSECRET2026', 'OLDSECRET2025'])).valid).toBe(true);
    expect((await verifyQuery(query, [])).valid).toBe(false);
  });

  it('ignores non-vnp parameters, empty ones and vnp_SecureHashType; accepts an uppercase hash', async () => {
    const params = ipnParams();
    const query = referenceIpnQuery(params, SECRET);
    const result = await verifyQuery(`${query}&utm_source=mail&vnp_SecureHashType=HmacSHA512&vnp_Empty=`, [SECRET]);
    expect(result.valid).toBe(true);
    expect(result.params).toEqual(params);
    const [data, hash] = query.split('&vnp_SecureHash=') as [string, string];
    expect((await verifyQuery(`${data}&vnp_SecureHash=${hash.toUpperCase()}`, [SECRET])).valid).toBe(true);
  });

  it('refuses a missing, short or non-hex hash and a repeated vnp_* key', async () => {
    const params = ipnParams();
    const data = referenceHashData(params);
    const hash = referenceHmac(SECRET, data);
    expect((await verifyQuery(data, [SECRET])).valid).toBe(false);
    expect((await verifyQuery(`${data}&vnp_SecureHash=`, [SECRET])).valid).toBe(false);
    expect((await verifyQuery(`${data}&vnp_SecureHash=${hash.slice(0, 64)}`, [SECRET])).valid).toBe(false);
    expect((await verifyQuery(`${data}&vnp_SecureHash=${'z'.repeat(128)}`, [SECRET])).valid).toBe(false);
    // The signed amount first, a second one after it: refused whichever a reader would pick.
    expect((await verifyQuery(`${data}&vnp_SecureHash=${hash}&vnp_Amount=100`, [SECRET])).valid).toBe(false);
    expect((await verifyQuery(`${data}&vnp_SecureHash=${hash}&vnp_SecureHash=${hash}`, [SECRET])).valid).toBe(false);
  });

  it('encodes like PHP urlencode by default; the form (URLSearchParams) variant differs on * only', async () => {
    expect(encodeComponent("a b*~!'()-_.é/")).toBe(phpUrlencode("a b*~!'()-_.é/"));
    expect(encodeComponent('a*b', 'form')).toBe('a*b');
    expect(encodeComponent("a b~!'()-_.é/", 'form')).toBe(phpUrlencode("a b~!'()-_.é/"));
    const params = ipnParams({ vnp_OrderInfo: 'a*b' });
    expect(signString(params, 'form')).not.toBe(signString(params));
    const query = referenceIpnQuery(params, SECRET);
    expect((await verifyQuery(query, [SECRET], 'form')).valid).toBe(false);
    expect((await verifyQuery(query, [SECRET], 'php')).valid).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Payment URL
// ---------------------------------------------------------------------------------------------

const fixture = {
  paymentUrl: 'https://sandbox.vnpayment.vn/paymentv2/vpcpay.html',
  tmnCode: 'DEMOV210',
  secret: SECRET,
  amount: 135_000,
  txnRef: 'HP0123456789',
  orderInfo: 'Thanh toán lệ phí hồ sơ Đồng Nai',
  returnUrl: 'https://hub.example.vn/pay/return?intent=abc',
  ipAddr: '203.0.113.7',
  createDate: new Date('2026-11-22T02:30:00Z'),
  expireDate: new Date('2026-11-22T02:45:00Z'),
};

const FIXTURE_QUERY =
  'vnp_Amount=13500000&vnp_Command=pay&vnp_CreateDate=20261122093000&vnp_CurrCode=VND' +
  '&vnp_ExpireDate=20261122094500&vnp_IpAddr=203.0.113.7&vnp_Locale=vn' +
  '&vnp_OrderInfo=Thanh+toan+le+phi+ho+so+Dong+Nai&vnp_OrderType=other' +
  '&vnp_ReturnUrl=https%3A%2F%2Fhub.example.vn%2Fpay%2Freturn%3Fintent%3Dabc' +
  '&vnp_TmnCode=DEMOV210&vnp_TxnRef=HP0123456789&vnp_Version=2.1.0';
// printf '%s' "$FIXTURE_QUERY" | openssl dgst -sha512 -hmac SECRETKEYDEMO
const FIXTURE_HASH =
  '99de9c0e5b352e71295e8403bce6465e51c748d25e4bf360fca2aa294fb1cf5ba4c5dbc41078f1dc5d47d19ee9b98359e4e17270b28656253172093309695c71';

describe('VNPay payment URL', () => {
  it('matches the fixture: amount × 100, GMT+7 dates, sorted query, hash last', async () => {
    const url = await buildPaymentUrl(fixture);
    expect(url).toBe(`${fixture.paymentUrl}?${FIXTURE_QUERY}&vnp_SecureHash=${FIXTURE_HASH}`);
    const search = new URL(url).searchParams;
    expect(search.get('vnp_Amount')).toBe('13500000');
    expect(search.get('vnp_CreateDate')).toBe('20261122093000');
    expect(search.get('vnp_ExpireDate')).toBe('20261122094500');
    expect(search.get('vnp_Version')).toBe('2.1.0');
    expect(search.get('vnp_Command')).toBe('pay');
    expect(search.get('vnp_CurrCode')).toBe('VND');
    expect([...search.keys()].at(-1)).toBe('vnp_SecureHash');
    expect(FIXTURE_HASH).toBe(referenceHmac(SECRET, FIXTURE_QUERY));
    expect(referenceHashData(paymentParams(fixture))).toBe(FIXTURE_QUERY);
  });

  it('round-trips through verifyQuery', async () => {
    const url = await buildPaymentUrl({ ...fixture, bankCode: 'VNBANK', locale: 'en' });
    const result = await verifyQuery(new URL(url).search, [SECRET]);
    expect(result.valid).toBe(true);
    expect(result.params.vnp_BankCode).toBe('VNBANK');
    expect(result.params.vnp_Locale).toBe('en');
    expect(result.params.vnp_OrderInfo).toBe('Thanh toan le phi ho so Dong Nai');
  });

  it('leaves out an empty bankCode', async () => {
    expect(paymentParams({ ...fixture, bankCode: '' })).not.toHaveProperty('vnp_BankCode');
    expect(await buildPaymentUrl({ ...fixture, bankCode: '' })).toBe(await buildPaymentUrl(fixture));
  });

  it.each([
    ['2026-11-22T17:30:00Z', '20261123003000'],
    ['2026-11-22T16:59:59Z', '20261122235959'],
    ['2026-11-22T17:00:00Z', '20261123000000'],
    ['2026-12-31T17:00:00Z', '20270101000000'],
    ['2028-02-28T17:00:00Z', '20280229000000'],
  ])('formats %s as %s (GMT+7, rolling the date over)', (instant, expected) => {
    const createDate = new Date(instant);
    const params = paymentParams({ ...fixture, createDate, expireDate: new Date(createDate.getTime() + 15 * 60_000) });
    expect(params.vnp_CreateDate).toBe(expected);
    expect(parseVnCompactTimestamp(expected)?.toISOString()).toBe(createDate.toISOString());
  });

  it.each([0, -1000, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER, 2 ** 53])(
    'refuses the amount %s',
    async (amount) => {
      expect(() => toVnpAmount(amount)).toThrow(RangeError);
      await expect(buildPaymentUrl({ ...fixture, amount })).rejects.toThrow();
    },
  );

  it('refuses an expiry not after creation, a paymentUrl with a query, and missing fields', async () => {
    await expect(buildPaymentUrl({ ...fixture, expireDate: fixture.createDate })).rejects.toThrow(/expireDate/);
    await expect(buildPaymentUrl({ ...fixture, paymentUrl: `${fixture.paymentUrl}?a=1` })).rejects.toThrow(/query/);
    await expect(buildPaymentUrl({ ...fixture, txnRef: '' })).rejects.toThrow(/txnRef/);
    await expect(buildPaymentUrl({ ...fixture, secret: '' })).rejects.toThrow(/secret/);
    await expect(buildPaymentUrl({ ...fixture, orderInfo: '😀' })).rejects.toThrow(/orderInfo/);
  });
});

describe('Vietnamese text to ASCII', () => {
  it('removes diacritics, đ and Đ included', () => {
    expect(removeVietnameseDiacritics('Thanh toán lệ phí hồ sơ Đồng Nai')).toBe('Thanh toan le phi ho so Dong Nai');
    expect(removeVietnameseDiacritics('Thanh toán lệ phí hồ sơ Đồng Nai'.normalize('NFD'))).toBe('Thanh toan le phi ho so Dong Nai');
  });

  it.each([
    ['àáảãạăắằẳẵặâấầẩẫậ', 'a'],
    ['ÀÁẢÃẠĂẮẰẲẴẶÂẤẦẨẪẬ', 'A'],
    ['èéẻẽẹêếềểễệ', 'e'],
    ['ÈÉẺẼẸÊẾỀỂỄỆ', 'E'],
    ['ìíỉĩị', 'i'],
    ['ÌÍỈĨỊ', 'I'],
    ['òóỏõọôốồổỗộơớờởỡợ', 'o'],
    ['ÒÓỎÕỌÔỐỒỔỖỘƠỚỜỞỠỢ', 'O'],
    ['ùúủũụưứừửữự', 'u'],
    ['ÙÚỦŨỤƯỨỪỬỮỰ', 'U'],
    ['ỳýỷỹỵ', 'y'],
    ['ỲÝỶỸỴ', 'Y'],
    ['đ', 'd'],
    ['Đ', 'D'],
  ])('%s → %s', (letters, base) => {
    expect(removeVietnameseDiacritics(letters)).toBe(base.repeat([...letters].length));
  });

  it('keeps order info printable ASCII', () => {
    expect(asciiOrderInfo('  Phí – 50%\thồ sơ 😀 #HP01 ')).toBe('Phi 50% ho so #HP01');
    expect(asciiOrderInfo('Lệ phí cấp giấy phép xây dựng')).toMatch(/^[\x20-\x7e]+$/);
  });
});

// ---------------------------------------------------------------------------------------------
// IPN
// ---------------------------------------------------------------------------------------------

describe('VNPay IPN answers', () => {
  it.each<[IpnStep, string, string]>([
    ['bad_signature', '97', 'Invalid signature'],
    ['order_not_found', '01', 'Order not found'],
    ['amount_mismatch', '04', 'Invalid amount'],
    ['already_confirmed', '02', 'Order already confirmed'],
    ['recorded', '00', 'Confirm Success'],
    ['unexpected', '99', 'Unknown error'],
  ])('%s → {RspCode: %s, Message: %s}', (step, RspCode, Message) => {
    expect(ipnAnswer(step)).toEqual({ RspCode, Message });
    expect(JSON.stringify(ipnAnswer(step))).toBe(`{"RspCode":"${RspCode}","Message":"${Message}"}`);
  });

  it('answers are copies: mutating one does not change the table', () => {
    const answer = ipnAnswer('recorded');
    answer.Message = 'changed';
    expect(IPN_ANSWERS.recorded.Message).toBe('Confirm Success');
  });

  it.each([
    ['applied', '00'],
    ['needs_review', '00'],
    ['duplicate', '02'],
    ['already_final', '02'],
    ['unknown_reference', '01'],
    ['amount_mismatch', '04'],
    ['bad_signature', '97'],
    ['stale', '99'],
    ['malformed', '99'],
    ['error', '99'],
  ] as const)('maps the hub result %s to RspCode %s', (result, code) => {
    expect(ipnAnswer(ipnStepFor(result)).RspCode).toBe(code);
  });
});

describe('VNPay IPN outcome', () => {
  it('00/00 succeeded, with amount ÷ 100, transaction and pay date (GMT+7)', () => {
    expect(ipnOutcome(ipnParams())).toEqual({
      kind: 'succeeded',
      amount: 135_000,
      transactionId: '14123456',
      paidAt: new Date('2026-11-22T02:35:12Z'),
    });
  });

  it('00 with transaction status 01 is failed (not completed)', () => {
    const outcome = ipnOutcome(ipnParams({ vnp_TransactionStatus: '01' }));
    expect(outcome.kind).toBe('failed');
    expect(outcome).toMatchObject({ reason: expect.stringContaining('Not completed'), transactionId: '14123456' });
  });

  it('24 customer cancelled is failed, without the 0 transaction number', () => {
    const outcome = ipnOutcome(ipnParams({ vnp_ResponseCode: '24', vnp_TransactionStatus: '02', vnp_TransactionNo: '0' }));
    expect(outcome).toEqual({ kind: 'failed', reason: 'Khách hàng hủy giao dịch / Customer cancelled', amount: 135_000 });
  });

  it.each([
    ['09', 'internet banking'],
    ['10', '3 times'],
    ['11', 'timed out'],
    ['51', 'Insufficient balance'],
    ['65', 'Daily limit'],
    ['75', 'maintenance'],
    ['42', 'Unknown response code 42'],
  ])('response code %s is failed (%s)', (code, reason) => {
    const outcome = ipnOutcome(ipnParams({ vnp_ResponseCode: code, vnp_TransactionStatus: '02' }));
    expect(outcome.kind).toBe('failed');
    expect(outcome).toMatchObject({ reason: expect.stringContaining(reason) });
  });

  it.each([
    ['07', '00'],
    ['07', '07'],
    ['00', '07'],
  ])('response %s / status %s needs review (suspected fraud), keeping the amount', (code, status) => {
    const outcome = ipnOutcome(ipnParams({ vnp_ResponseCode: code, vnp_TransactionStatus: status }));
    expect(outcome).toMatchObject({ kind: 'needs_review', amount: 135_000, transactionId: '14123456' });
    expect(outcome).toMatchObject({ reason: expect.stringMatching(/fraud/) });
  });

  it.each(['13500050', '1.35e7', '13500000.00', '-13500000', ' 13500000', '', '0x100', '99999999999999999900', '１３５００'])(
    'vnp_Amount %j is the invalid-amount marker, whatever the codes say',
    (raw) => {
      expect(ipnOutcome(ipnParams({ vnp_Amount: raw }))).toEqual({ kind: 'invalid_amount', raw });
      expect(ipnOutcome(ipnParams({ vnp_Amount: raw, vnp_ResponseCode: '24' }))).toEqual({ kind: 'invalid_amount', raw });
      expect(fromVnpAmount(raw)).toBeNull();
    },
  );

  it('a missing vnp_Amount is the invalid-amount marker too', () => {
    const { vnp_Amount: _amount, ...params } = ipnParams();
    expect(ipnOutcome(params)).toEqual({ kind: 'invalid_amount', raw: undefined });
  });

  it('success without a transaction number is held for review; a bad pay date is left out', () => {
    const { vnp_TransactionNo: _no, ...params } = ipnParams();
    expect(ipnOutcome(params)).toMatchObject({ kind: 'needs_review', amount: 135_000 });
    expect(ipnOutcome(ipnParams({ vnp_PayDate: '20261131093512' }))).toEqual({
      kind: 'succeeded',
      amount: 135_000,
      transactionId: '14123456',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// querydr and refund
// ---------------------------------------------------------------------------------------------

describe('VNPay querydr and refund', () => {
  const base = {
    tmnCode: 'DEMOV210',
    secret: SECRET,
    txnRef: 'HP0123456789',
    transactionDate: new Date('2026-11-22T02:30:00Z'),
    ipAddr: '203.0.113.7',
  };

  it('exports the field orders of the domain file', () => {
    expect(QUERYDR_HASH_FIELDS.join('|')).toBe(
      'vnp_RequestId|vnp_Version|vnp_Command|vnp_TmnCode|vnp_TxnRef|vnp_TransactionDate|vnp_CreateDate|vnp_IpAddr|vnp_OrderInfo',
    );
    expect(REFUND_HASH_FIELDS.map((f) => f.slice(4)).join('|')).toBe(
      'RequestId|Version|Command|TmnCode|TransactionType|TxnRef|Amount|TransactionNo|TransactionDate|CreateBy|CreateDate|IpAddr|OrderInfo',
    );
    expect(QUERYDR_RESPONSE_HASH_FIELDS).toHaveLength(15);
  });

  it('querydr hashes RequestId|Version|Command|TmnCode|TxnRef|TransactionDate|CreateDate|IpAddr|OrderInfo', async () => {
    const input = {
      ...base,
      requestId: 'REQ20261122001',
      orderInfo: 'Truy vấn giao dịch HP0123456789',
      transactionNo: '14123456',
      createDate: new Date('2026-11-22T03:00:00Z'),
    };
    const body = await buildQuerydrRequest(input);
    const expected =
      'REQ20261122001|2.1.0|querydr|DEMOV210|HP0123456789|20261122093000|20261122100000|203.0.113.7|Truy van giao dich HP0123456789';
    expect(body).toEqual({
      vnp_RequestId: 'REQ20261122001',
      vnp_Version: '2.1.0',
      vnp_Command: 'querydr',
      vnp_TmnCode: 'DEMOV210',
      vnp_TxnRef: 'HP0123456789',
      vnp_OrderInfo: 'Truy van giao dich HP0123456789',
      vnp_TransactionNo: '14123456',
      vnp_TransactionDate: '20261122093000',
      vnp_CreateDate: '20261122100000',
      vnp_IpAddr: '203.0.113.7',
      vnp_SecureHash: referenceHmac(SECRET, expected),
    });
    // vnp_TransactionNo is sent but not hashed; the transaction date may be given as a string.
    const without = await buildQuerydrRequest({ ...input, transactionNo: undefined, transactionDate: '20261122093000' });
    expect(without).not.toHaveProperty('vnp_TransactionNo');
    expect(without.vnp_SecureHash).toBe(body.vnp_SecureHash);
  });

  it('refund hashes RequestId|Version|Command|TmnCode|TransactionType|TxnRef|Amount|TransactionNo|TransactionDate|CreateBy|CreateDate|IpAddr|OrderInfo', async () => {
    const input = {
      ...base,
      requestId: 'RF20261123001',
      transactionType: '03' as const,
      amount: 50_000,
      transactionNo: '14123456',
      createBy: 'ketoan01',
      createDate: new Date('2026-11-23T01:00:00Z'),
      orderInfo: 'Hoàn tiền một phần HP0123456789',
    };
    const body = await buildRefundRequest(input);
    const expected =
      'RF20261123001|2.1.0|refund|DEMOV210|03|HP0123456789|5000000|14123456|20261122093000|ketoan01|20261123080000|203.0.113.7|Hoan tien mot phan HP0123456789';
    expect(body.vnp_SecureHash).toBe(referenceHmac(SECRET, expected));
    expect(body).toMatchObject({ vnp_Command: 'refund', vnp_TransactionType: '03', vnp_Amount: '5000000', vnp_CreateBy: 'ketoan01' });

    const full = await buildRefundRequest({ ...input, transactionType: '02', amount: 135_000, transactionNo: undefined });
    const expectedFull =
      'RF20261123001|2.1.0|refund|DEMOV210|02|HP0123456789|13500000||20261122093000|ketoan01|20261123080000|203.0.113.7|Hoan tien mot phan HP0123456789';
    expect(full.vnp_SecureHash).toBe(referenceHmac(SECRET, expectedFull));
    expect(full).not.toHaveProperty('vnp_TransactionNo');
  });

  it('refund refuses a bad type, amount, separator or missing operator', async () => {
    const input = {
      ...base,
      requestId: 'RF1',
      transactionType: '02' as const,
      amount: 135_000,
      createBy: 'ketoan01',
      createDate: new Date('2026-11-23T01:00:00Z'),
      orderInfo: 'Hoan tien',
    };
    await expect(buildRefundRequest({ ...input, transactionType: '01' as '02' })).rejects.toThrow(/transactionType/);
    await expect(buildRefundRequest({ ...input, amount: 0.5 })).rejects.toThrow(RangeError);
    await expect(buildRefundRequest({ ...input, createBy: 'a|b' })).rejects.toThrow(/\|/);
    await expect(buildRefundRequest({ ...input, createBy: '' })).rejects.toThrow(/vnp_CreateBy/);
    await expect(buildRefundRequest({ ...input, transactionDate: '2026-11-22' })).rejects.toThrow(/yyyyMMddHHmmss/);
  });

  const response = {
    vnp_ResponseId: '8f5a3c1e2b',
    vnp_Command: 'querydr',
    vnp_ResponseCode: '00',
    vnp_Message: 'QueryDR Success',
    vnp_TmnCode: 'DEMOV210',
    vnp_TxnRef: 'HP0123456789',
    vnp_Amount: '13500000',
    vnp_BankCode: 'NCB',
    vnp_PayDate: '20261122093512',
    vnp_TransactionNo: '14123456',
    vnp_TransactionType: '01',
    vnp_TransactionStatus: '00',
    vnp_OrderInfo: 'Thanh toan le phi ho so Dong Nai',
    vnp_PromotionCode: '',
    vnp_PromotionAmount: '',
  };
  const responseData =
    '8f5a3c1e2b|querydr|00|QueryDR Success|DEMOV210|HP0123456789|13500000|NCB|20261122093512|14123456|01|00|Thanh toan le phi ho so Dong Nai||';

  it('verifyQuerydrResponse accepts a correctly signed answer, with any listed secret', async () => {
    const signed = { ...response, vnp_SecureHash: referenceHmac(SECRET, responseData) };
    expect(await verifyQuerydrResponse(signed, [SECRET])).toBe(true);
    expect(await verifyQuerydrResponse(signed, ['OTHER', SECRET])).toBe(true);
    expect(await verifyQuerydrResponse(signed, ['OTHER'])).toBe(false);
    // Absent promotion fields count as empty; a numeric amount as its digits.
    const { vnp_PromotionCode: _c, vnp_PromotionAmount: _a, ...trimmed } = signed;
    expect(await verifyQuerydrResponse({ ...trimmed, vnp_Amount: 13_500_000 }, [SECRET])).toBe(true);
  });

  it('verifyQuerydrResponse refuses a tampered or unsigned answer', async () => {
    const hash = referenceHmac(SECRET, responseData);
    for (const key of QUERYDR_RESPONSE_HASH_FIELDS) {
      const tampered = { ...response, [key]: `${response[key]}1`, vnp_SecureHash: hash };
      expect(await verifyQuerydrResponse(tampered, [SECRET]), `tampered ${key}`).toBe(false);
    }
    expect(await verifyQuerydrResponse(response, [SECRET])).toBe(false);
    expect(await verifyQuerydrResponse({ ...response, vnp_SecureHash: hash.slice(2) }, [SECRET])).toBe(false);
    expect(await verifyQuerydrResponse({ ...response, vnp_Amount: { v: 1 }, vnp_SecureHash: hash }, [SECRET])).toBe(false);
    expect(await verifyQuerydrResponse(null, [SECRET])).toBe(false);
    expect(await verifyQuerydrResponse('x', [SECRET])).toBe(false);
    expect(await verifyQuerydrResponse({ ...response, vnp_SecureHash: hash }, [])).toBe(false);
  });
});
