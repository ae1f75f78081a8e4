import fc from 'fast-check';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { newReference, REFERENCE_PATTERN } from '../../src/domain/reference.ts';
import {
  buildVietQrPayload,
  crc16CcittFalse,
  EmvcoError,
  findField,
  parseEmvco,
  tlv,
  type VietQrPayloadInput,
} from '../../src/gateways/vietqr/emvco.ts';
import { qrSvg } from '../../src/gateways/vietqr/qr-image.ts';
import { findReferenceMatches, findReferences, normaliseTransferText } from '../../src/gateways/vietqr/transfer-text.ts';

/** Published vectors (shared/domain/gateways.md §2). */
const DYNAMIC_VECTOR =
  '00020101021238530010A0000007270123000697041601092576788590208QRIBFTTA5303704540410005802VN62150811Chuyen tien6304BBB8';
const STATIC_VECTOR = '00020101021138580010A000000727012800069704070114190304136010180208QRIBFTTA53037045802VN63040283';

// ---------------------------------------------------------------------------------------------
// An independent decoder: its own TLV walk and its own bit-serial CRC, sharing no code with the
// module under test, so a bug there cannot hide itself.
// ---------------------------------------------------------------------------------------------

/**
 * CRC-16/CCITT-FALSE, one message bit at a time (a different formulation from the module's), over
 * a string of bytes: each character must be ≤ U+00FF and is taken as one byte.
 */
function referenceCrc(text: string): string {
  let crc = 0xffff;
  for (let i = 0; i < text.length; i += 1) {
    const byte = text.charCodeAt(i);
    if (byte > 0xff) throw new Error('referenceCrc takes one byte per character');
    for (let bit = 7; bit >= 0; bit -= 1) {
      const feedback = ((crc >> 15) & 1) ^ ((byte >> bit) & 1);
      crc = (crc << 1) & 0xffff;
      if (feedback) crc ^= 0x1021;
    }
  }
  return `000${crc.toString(16).toUpperCase()}`.slice(-4);
}

function walk(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < text.length) {
    const id = text.substring(at, at + 2);
    const len = parseInt(text.substring(at + 2, at + 4), 10);
    if (!/^\d\d$/.test(id) || Number.isNaN(len) || at + 4 + len > text.length) throw new Error(`bad TLV at ${at}`);
    if (out.has(id)) throw new Error(`duplicate id ${id}`);
    out.set(id, text.substring(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

function independentDecode(payload: string) {
  const top = walk(payload);
  const crcField = payload.slice(-8);
  const merchant = walk(top.get('38') ?? '');
  const beneficiary = walk(merchant.get('01') ?? '');
  const additional = top.has('62') ? walk(top.get('62')!) : new Map<string, string>();
  return {
    ids: [...top.keys()],
    crcValid: crcField.startsWith('6304') && referenceCrc(payload.slice(0, -4)) === crcField.slice(4),
    formatIndicator: top.get('00'),
    initiation: top.get('01'),
    aid: merchant.get('00'),
    bankBin: beneficiary.get('00'),
    accountNumber: beneficiary.get('01'),
    service: merchant.get('02'),
    currency: top.get('53'),
    amount: top.get('54'),
    country: top.get('58'),
    transferText: additional.get('08'),
  };
}

describe('CRC-16/CCITT-FALSE', () => {
  it('gives the standard check value 29B1 for "123456789"', () => {
    expect(crc16CcittFalse('123456789')).toBe('29B1');
    expect(referenceCrc('123456789')).toBe('29B1');
  });

  it('is FFFF for the empty string (init, no xor-out) and always 4 upper-case hex digits', () => {
    expect(crc16CcittFalse('')).toBe('FFFF');
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 200 }), (text) => {
        const crc = crc16CcittFalse(text);
        expect(crc).toMatch(/^[0-9A-F]{4}$/);
        expect(crc).toBe(referenceCrc(text));
      }),
    );
  });

  it('gives the published vectors their CRCs, computed over everything including "6304"', () => {
    expect(crc16CcittFalse(DYNAMIC_VECTOR.slice(0, -4))).toBe('BBB8');
    expect(crc16CcittFalse(STATIC_VECTOR.slice(0, -4))).toBe('0283');
    // Without the literal 6304 the CRC is something else.
    expect(crc16CcittFalse(DYNAMIC_VECTOR.slice(0, -8))).not.toBe('BBB8');
  });

  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    // 'đ' is C4 91 in UTF-8: the CRC of the character equals the CRC of those two bytes as Latin-1.
    const asBytes = String.fromCharCode(0xc4, 0x91);
    expect(crc16CcittFalse('đ')).toBe(referenceCrc(asBytes));
  });
});

describe('tlv', () => {
  it('writes id, 2-digit length in characters, value', () => {
    expect(tlv('00', '01')).toBe('000201');
    expect(tlv('58', 'VN')).toBe('5802VN');
    expect(tlv('62', tlv('08', 'Chuyen tien'))).toBe('62150811Chuyen tien');
    expect(tlv('08', 'Đóng phí')).toBe('0808Đóng phí');
    expect(tlv('99', 'x'.repeat(99))).toBe(`9999${'x'.repeat(99)}`);
  });

  it('refuses a value over 99 characters, an empty value and an id that is not 2 digits', () => {
    expect(() => tlv('62', 'x'.repeat(100))).toThrow(EmvcoError);
    expect(() => tlv('62', '')).toThrow(EmvcoError);
    expect(() => tlv('6', 'x')).toThrow(EmvcoError);
    expect(() => tlv('6a', 'x')).toThrow(EmvcoError);
    expect(() => tlv('063', 'x')).toThrow(EmvcoError);
  });

  it('reassembles the published dynamic vector from its parts', () => {
    const body =
      tlv('00', '01') +
      tlv('01', '12') +
      tlv('38', tlv('00', 'A000000727') + tlv('01', tlv('00', '970416') + tlv('01', '257678859')) + tlv('02', 'QRIBFTTA')) +
      tlv('53', '704') +
      tlv('54', '1000') +
      tlv('58', 'VN') +
      tlv('62', tlv('08', 'Chuyen tien')) +
      '6304';
    expect(body + crc16CcittFalse(body)).toBe(DYNAMIC_VECTOR);
  });
});

describe('buildVietQrPayload', () => {
  it('builds the published static vector exactly (BIN 970407, account 19030413601018, no amount)', () => {
    expect(buildVietQrPayload({ bankBin: '970407', accountNumber: '19030413601018' })).toBe(STATIC_VECTOR);
  });

  it('builds the published dynamic vector from its parts, with the transfer text in upper case', () => {
    // The vector's text "Chuyen tien" has lower case, which the builder refuses (banks upper-case
    // and strip it anyway); everything else must be byte for byte the vector's.
    const built = buildVietQrPayload({ bankBin: '970416', accountNumber: '257678859', amount: 1000, transferText: 'CHUYEN TIEN' });
    const expectedBody = DYNAMIC_VECTOR.slice(0, -4).replace('Chuyen tien', 'CHUYEN TIEN');
    expect(built).toBe(expectedBody + referenceCrc(expectedBody));
    expect(() => buildVietQrPayload({ bankBin: '970416', accountNumber: '257678859', amount: 1000, transferText: 'Chuyen tien' })).toThrow(
      EmvcoError,
    );
  });

  it('produces a payload an independent decoder reads back, CRC valid', () => {
    const reference = 'HP7K3M9Q2R1X';
    expect(reference).toMatch(REFERENCE_PATTERN);
    const payload = buildVietQrPayload({ bankBin: '970415', accountNumber: '0123456789', amount: 135_000, transferText: reference });
    expect(payload.endsWith(`6304${referenceCrc(payload.slice(0, -4))}`)).toBe(true);
    expect(independentDecode(payload)).toEqual({
      ids: ['00', '01', '38', '53', '54', '58', '62', '63'],
      crcValid: true,
      formatIndicator: '01',
      initiation: '12',
      aid: 'A000000727',
      bankBin: '970415',
      accountNumber: '0123456789',
      service: 'QRIBFTTA',
      currency: '704',
      amount: '135000',
      country: 'VN',
      transferText: reference,
    });
  });

  it('makes a static QR (11, no tag 54, no tag 62) without amount and text, and QRIBFTTC for a card', () => {
    const payload = buildVietQrPayload({ bankBin: '970436', accountNumber: '9704366612345678', service: 'QRIBFTTC' });
    const decoded = independentDecode(payload);
    expect(decoded.crcValid).toBe(true);
    expect(decoded.initiation).toBe('11');
    expect(decoded.ids).toEqual(['00', '01', '38', '53', '58', '63']);
    expect(decoded.service).toBe('QRIBFTTC');
    expect(decoded.accountNumber).toBe('9704366612345678');
  });

  it('accepts the limits: 19-character account, 13-digit amount, 25-character text', () => {
    const payload = buildVietQrPayload({
      bankBin: '970422',
      accountNumber: '1234567890ABCDEFGHJ',
      amount: 9_999_999_999_999,
      transferText: 'HP7K3M9Q2R1X THANH TOAN 1',
    });
    const decoded = independentDecode(payload);
    expect(decoded).toMatchObject({
      crcValid: true,
      accountNumber: '1234567890ABCDEFGHJ',
      amount: '9999999999999',
      transferText: 'HP7K3M9Q2R1X THANH TOAN 1',
    });
  });

  const valid: VietQrPayloadInput = { bankBin: '970415', accountNumber: '0123456789', amount: 135_000, transferText: 'HP7K3M9Q2R1X' };
  it.each<[string, Partial<VietQrPayloadInput>]>([
    ['a 5-digit BIN', { bankBin: '97041' }],
    ['a 7-digit BIN', { bankBin: '9704150' }],
    ['a BIN with a letter', { bankBin: '97041A' }],
    ['an empty account', { accountNumber: '' }],
    ['a 20-character account', { accountNumber: '12345678901234567890' }],
    ['an account with a dash', { accountNumber: '0123-456789' }],
    ['an account with a space', { accountNumber: '0123 456789' }],
    ['amount 0', { amount: 0 }],
    ['a negative amount', { amount: -1000 }],
    ['a fractional amount', { amount: 1000.5 }],
    ['NaN', { amount: Number.NaN }],
    ['Infinity', { amount: Number.POSITIVE_INFINITY }],
    ['a 14-digit amount', { amount: 10_000_000_000_000 }],
    ['an unsafe integer', { amount: 2 ** 53 }],
    ['a 26-character text', { transferText: 'HP7K3M9Q2R1X THANH TOAN 12' }],
    ['an empty text', { transferText: '' }],
    ['lower-case text', { transferText: 'hp7k3m9q2r1x' }],
    ['text with diacritics', { transferText: 'ĐÓNG PHÍ' }],
    ['text with punctuation', { transferText: 'HP7K3M9Q2R1X.PHI' }],
    ['an unknown service', { service: 'QRPUSH' as VietQrPayloadInput['service'] }],
  ])('refuses %s', (_label, change) => {
    expect(() => buildVietQrPayload({ ...valid, ...change })).toThrow(EmvcoError);
  });

  it('round-trips any valid input through parseEmvco and the independent decoder', () => {
    const alnum = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{6}$/),
        fc.string({ unit: fc.constantFrom(...alnum), minLength: 1, maxLength: 19 }),
        fc.option(fc.integer({ min: 1, max: 9_999_999_999_999 }), { nil: undefined }),
        fc.option(fc.stringMatching(/^[A-Z0-9][A-Z0-9 ]{0,24}$/), { nil: undefined }),
        (bankBin, accountNumber, amount, transferText) => {
          const payload = buildVietQrPayload({ bankBin, accountNumber, amount, transferText });
          const decoded = independentDecode(payload);
          expect(decoded.crcValid).toBe(true);
          expect(decoded).toMatchObject({ bankBin, accountNumber, initiation: amount === undefined ? '11' : '12' });
          expect(decoded.amount).toBe(amount === undefined ? undefined : String(amount));
          expect(decoded.transferText).toBe(transferText);
          const parsed = parseEmvco(payload);
          expect(parsed.crcValid).toBe(true);
          expect(findField(parsed.fields, '38', '01', '01')?.value).toBe(accountNumber);
          expect(findField(parsed.fields, '62', '08')?.value).toBe(transferText);
        },
      ),
    );
  });
});

describe('parseEmvco', () => {
  it('reads the published dynamic vector into a tree and finds its CRC valid', () => {
    const parsed = parseEmvco(DYNAMIC_VECTOR);
    expect(parsed.crcValid).toBe(true);
    expect(parsed.fields.map((field) => field.id)).toEqual(['00', '01', '38', '53', '54', '58', '62', '63']);
    expect(findField(parsed.fields, '38')).toMatchObject({ length: 53 });
    expect(findField(parsed.fields, '38', '00')?.value).toBe('A000000727');
    expect(findField(parsed.fields, '38', '01', '00')?.value).toBe('970416');
    expect(findField(parsed.fields, '38', '01', '01')?.value).toBe('257678859');
    expect(findField(parsed.fields, '38', '02')?.value).toBe('QRIBFTTA');
    expect(findField(parsed.fields, '53')?.value).toBe('704');
    expect(findField(parsed.fields, '54')?.value).toBe('1000');
    expect(findField(parsed.fields, '58')?.value).toBe('VN');
    expect(findField(parsed.fields, '62', '08')).toEqual({ id: '08', length: 11, value: 'Chuyen tien' });
    expect(findField(parsed.fields, '63')?.value).toBe('BBB8');
    // Only 38, 38/01 and 62 are templates; other values stay plain.
    expect(findField(parsed.fields, '54')?.children).toBeUndefined();
    expect(findField(parsed.fields, '38', '02')?.children).toBeUndefined();
    expect(findField(parsed.fields, '38', '01', '00')?.children).toBeUndefined();
    expect(findField(parsed.fields, '99')).toBeUndefined();
  });

  it('reads the published static vector: initiation 11, no amount, CRC 0283 valid', () => {
    const parsed = parseEmvco(STATIC_VECTOR);
    expect(parsed.crcValid).toBe(true);
    expect(findField(parsed.fields, '01')?.value).toBe('11');
    expect(findField(parsed.fields, '54')).toBeUndefined();
    expect(findField(parsed.fields, '38', '01', '00')?.value).toBe('970407');
    expect(findField(parsed.fields, '38', '01', '01')?.value).toBe('19030413601018');
    expect(findField(parsed.fields, '63')?.value).toBe('0283');
  });

  it('finds the CRC invalid when any character changes, or when the CRC field is missing or misplaced', () => {
    expect(parseEmvco(DYNAMIC_VECTOR.replace('54041000', '54049000')).crcValid).toBe(false);
    expect(parseEmvco(DYNAMIC_VECTOR.replace('Chuyen tien', 'Chuyen tieN')).crcValid).toBe(false);
    expect(parseEmvco(`${DYNAMIC_VECTOR.slice(0, -4)}BBB9`).crcValid).toBe(false);
    expect(parseEmvco(`${DYNAMIC_VECTOR.slice(0, -4)}bbb8`).crcValid).toBe(true);
    expect(parseEmvco(DYNAMIC_VECTOR.slice(0, -8)).crcValid).toBe(false);
    expect(parseEmvco(`${DYNAMIC_VECTOR}5802VN`).crcValid).toBe(false);
  });

  it('throws on a broken TLV structure', () => {
    expect(() => parseEmvco(DYNAMIC_VECTOR.slice(0, -1))).toThrow(EmvcoError);
    expect(() => parseEmvco('000201010')).toThrow(EmvcoError);
    expect(() => parseEmvco('00A201')).toThrow(EmvcoError);
    expect(() => parseEmvco('0002010102123806009999' + '6304FFFF')).toThrow(EmvcoError);
    expect(parseEmvco('')).toEqual({ fields: [], crcValid: false });
  });

  it('counts lengths in characters for a non-ASCII value', () => {
    const body = `${tlv('00', '01') + tlv('62', tlv('08', 'Đóng phí'))}6304`;
    const parsed = parseEmvco(body + crc16CcittFalse(body));
    expect(findField(parsed.fields, '62', '08')?.value).toBe('Đóng phí');
    expect(parsed.crcValid).toBe(true);
  });
});

describe('normaliseTransferText', () => {
  it.each([
    ['Nguyễn Văn Đức đóng phí', 'NGUYENVANDUCDONGPHI'],
    ['ĐẶNG THỊ Ơ Ư', 'DANGTHIOU'],
    ['MBVCB.5342.HP7K3M9Q2R1X.CT tu 0123', 'MBVCB5342HP7K3M9Q2R1XCTTU0123'],
    ['HP-7K3M-9Q2R-1X', 'HP7K3M9Q2R1X'],
    // Precomposed and decomposed forms give the same result.
    ['Phí'.normalize('NFC'), 'PHI'],
    ['Phí'.normalize('NFD'), 'PHI'],
    ['   ', ''],
  ])('%s → %s', (text, expected) => {
    expect(normaliseTransferText(text)).toBe(expected);
  });
});

describe('findReferences', () => {
  const REF = 'HP7K3M9Q2R1X';
  it.each<[string, string[]]>([
    ['MBVCB.5342.HP7K3M9Q2R1X.CT tu 0123 toi 4567', [REF]],
    ['IBFT hp7k3m9q2r1x thanh toan', [REF]],
    ['CT DEN:12345 HP-7K3M-9Q2R-1X', [REF]],
    ['Nguyễn Văn A chuyển khoản HP7K3M9Q2R1X', [REF]],
    ['HP7K3M9Q2R1X0123', [REF]],
    ['MBVCB5342HP7K3M9Q2R1XCTTU0123', [REF]],
    ['IBFTHP7K3M9Q2R1X', [REF]],
    ['REM Tfr Ac: 0123456789 HP7K3M9Q2R1X NGUYEN VAN A', [REF]],
    ['TKThe :0451000123456, tai VCB. HP 7K3M 9Q2R 1X -CTLNHIDI000012345', [REF]],
    ['HP7K3M9Q2R1X HP7K3M9Q2R1X', [REF]],
    ['HP7K3M9Q2R1X and HPA2B3C4D5E6', [REF, 'HPA2B3C4D5E6']],
    ['chuyen tien hoc phi thang 10', []],
    ['', []],
    ['HP7K3M9Q2R1', []],
    // I, L, O, U are not in the alphabet.
    ['HP7K3M9Q2R1O', []],
    ['HPIK3M9Q2R1X', []],
  ])('%j → %j', (text, expected) => {
    expect(findReferences(text)).toEqual(expected);
  });

  it('considers overlapping candidates when the prefix is glued to letters that could be part of one', () => {
    // Both windows are well-formed references; neither stands alone, so both go to the lookup.
    expect(findReferences('HPHP7K3M9Q2R1X')).toEqual(['HPHP7K3M9Q2R', REF]);
    expect(findReferenceMatches('HPHP7K3M9Q2R1X')).toEqual([
      { reference: 'HPHP7K3M9Q2R', index: 0, exact: false },
      { reference: REF, index: 2, exact: false },
    ]);
  });

  it('prefers exact matches: they come first, glued candidates after them, none dropped', () => {
    // 'XHP HP7K...' normalises to 'XHPHP7K...': 'HPHP7K3M9Q2R' straddles the space, REF stands alone.
    expect(findReferences('XHP HP7K3M9Q2R1X')).toEqual([REF, 'HPHP7K3M9Q2R']);
    expect(findReferenceMatches('XHP HP7K3M9Q2R1X')).toEqual([
      { reference: 'HPHP7K3M9Q2R', index: 1, exact: false },
      { reference: REF, index: 3, exact: true },
    ]);
    // A glued candidate is kept, after the exact one, though it appears first.
    expect(findReferences('HPA2B3C4D5E60 ck HP7K3M9Q2R1X')).toEqual([REF, 'HPA2B3C4D5E6']);
    // A space the bank put inside the real reference HPAAAAAHPBBB makes a look-alike exact; the
    // glued real one must still be returned.
    expect(findReferences('CTHPAAAAA HPBBBCCCCCCC KHAC')).toEqual(['HPBBBCCCCCCC', 'HPAAAAAHPBBB']);
    // Separators inside the reference do not make it glued.
    expect(findReferenceMatches('CT DEN:12345 HP-7K3M-9Q2R-1X')).toEqual([{ reference: REF, index: 10, exact: true }]);
    expect(findReferenceMatches('CT DEN:12345HP7K3M9Q2R1X')).toEqual([{ reference: REF, index: 10, exact: false }]);
    // A stripped diacritic is not a separator: 'PHÍHP7K…' is glued, in either normal form.
    expect(findReferenceMatches('PHÍHP7K3M9Q2R1X'.normalize('NFC'))).toEqual([{ reference: REF, index: 3, exact: false }]);
    expect(findReferenceMatches('PHÍHP7K3M9Q2R1X'.normalize('NFD'))).toEqual([{ reference: REF, index: 3, exact: false }]);
  });

  it('takes another pattern', () => {
    expect(findReferences('ma hs: DV-2024-0001', /DV\d{8}/)).toEqual(['DV20240001']);
    expect(findReferences('ma hs: DV-2024-0001', /dv\d{8}/gi)).toEqual(['DV20240001']);
  });

  it('finds any hub reference however a bank mangles the text around and inside it', () => {
    const noise = fc.string({ unit: fc.constantFrom(...'ABCXYZ0123456789 .-:/đăươ'.split('')), maxLength: 30 });
    const separator = fc.constantFrom('', '', '', '.', '-', ' ');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        noise,
        noise,
        fc.array(separator, { minLength: 12, maxLength: 12 }),
        fc.boolean(),
        (bytes, before, after, separators, lower) => {
          const reference = newReference(() => bytes);
          let mangled = [...reference].map((char, i) => (i === 0 ? char : `${separators[i]}${char}`)).join('');
          if (lower) mangled = mangled.toLowerCase();
          const found = findReferences(`${before}${mangled}${after}`);
          expect(found).toContain(reference);
          for (const candidate of found) expect(candidate).toMatch(REFERENCE_PATTERN);
        },
      ),
    );
  });
});

describe('qrSvg', () => {
  it('renders an <svg> that is the same for the same payload and differs for another', async () => {
    const payload = buildVietQrPayload({ bankBin: '970415', accountNumber: '0123456789', amount: 135_000, transferText: 'HP7K3M9Q2R1X' });
    const svg = await qrSvg(payload);
    expect(svg.trimStart().startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toMatch(/viewBox="0 0 (\d+) \1"/);
    expect(await qrSvg(payload)).toBe(svg);
    const other = await qrSvg(
      buildVietQrPayload({ bankBin: '970415', accountNumber: '0123456789', amount: 135_001, transferText: 'HP7K3M9Q2R1X' }),
    );
    expect(other).not.toBe(svg);
  });

  it('draws level M with a 2-module quiet zone on each side', async () => {
    const payload = buildVietQrPayload({ bankBin: '970415', accountNumber: '0123456789', amount: 135_000, transferText: 'HP7K3M9Q2R1X' });
    const svg = await qrSvg(payload);
    // 121 characters, split by the library into numeric/alphanumeric segments: version 5 at level
    // M (37 modules), plus 2 + 2 of margin.
    expect(QRCode.create(payload, { errorCorrectionLevel: 'M' }).version).toBe(5);
    expect(/viewBox="0 0 (\d+) /.exec(svg)?.[1]).toBe('41');
  });
});
