import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';

/**
 * The national platform's and the bank notifications' settings as an operator writes them: the
 * documented defaults (gateways.md §2, §3), the options, and what is refused.
 */
const dvcqg = { DVCQG_PARTNER_CODE: 'HCC_DONGNAI', DVCQG_HASH_KEY: 'key-2026, key-2025', DVCQG_INIT_URL: 'https://pp.example.vn/init' };

const refusal = (env: Record<string, string>) => {
  try {
    parseConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a configuration error');
};

describe('the national platform (DVCQG_*)', () => {
  it("defaults to the production integrations' checksum and confirm layout, so no status query is required", () => {
    const settings = parseConfig(dvcqg).gateways.dvcqg!;
    expect(settings).toMatchObject({
      partnerCode: 'HCC_DONGNAI',
      secrets: ['key-2026', 'key-2025'],
      algorithm: 'SHA256-KEY',
      queryUrl: undefined,
      receipt: { serviceCodeSuffix: '', treasury: '' },
    });
    // OpenCPS release-candidate-3.0's order: the time before the transaction text.
    expect(settings.confirmFields).toEqual([
      'LoaiBanTin',
      'MaLoi',
      'MaDoiTac',
      'MaThamChieu',
      'SoTien',
      'MaTienTe',
      'MaGiaoDich',
      'MaNganHang',
      'ThoiGianGD',
      'ThongTinGiaoDich',
    ]);
    expect(settings.initFields.at(-1)).toBe('Ip');
  });

  it('keeps the HMACs as options, and a layout without the outcome only with a status query', () => {
    expect(parseConfig({ ...dvcqg, DVCQG_HASH_ALGORITHM: 'HMAC-SHA256' }).gateways.dvcqg!.algorithm).toBe('HMAC-SHA256');
    expect(parseConfig({ ...dvcqg, DVCQG_HASH_ALGORITHM: 'HMAC-SHA512' }).gateways.dvcqg!.algorithm).toBe('HMAC-SHA512');
    expect(refusal({ ...dvcqg, DVCQG_HASH_ALGORITHM: 'MD5' })).toMatch(/DVCQG_HASH_ALGORITHM/);
    const legacy = {
      ...dvcqg,
      DVCQG_CONFIRM_FIELDS: 'LoaiBanTin|MaDoiTac|MaThamChieu|SoTien|MaTienTe|MaNganHang|ThongTinGiaoDich|ThoiGianGD',
    };
    expect(refusal(legacy)).toMatch(/DVCQG_QUERY_URL/);
    expect(parseConfig({ ...legacy, DVCQG_QUERY_URL: 'https://pp.example.vn/query' }).gateways.dvcqg!.confirmFields).toHaveLength(8);
  });

  it("reads the receipt block's enrolment values, and refuses a suffix that is not a code", () => {
    const settings = parseConfig({ ...dvcqg, DVCQG_SERVICE_CODE_SUFFIX: '.01', DVCQG_TREASURY: 'KBNN Đồng Nai' }).gateways.dvcqg!;
    expect(settings.receipt).toEqual({ serviceCodeSuffix: '.01', treasury: 'KBNN Đồng Nai' });
    expect(refusal({ ...dvcqg, DVCQG_SERVICE_CODE_SUFFIX: '|01' })).toMatch(/DVCQG_SERVICE_CODE_SUFFIX/);
  });
});

describe('bank notifications (VIETQR_*)', () => {
  it("configures SePay's API-key mode alone, several keys for rotation, without an HMAC secret", () => {
    const vietqr = parseConfig({ VIETQR_NOTIFY_API_KEY: ' sepay-key-new , sepay-key-old ', VIETQR_NOTIFY_FORMAT: 'sepay' }).gateways
      .vietqr!;
    expect(vietqr).toMatchObject({ secrets: [], apiKeys: ['sepay-key-new', 'sepay-key-old'], format: 'sepay' });
  });

  it('accepts both modes at once, and neither means no VietQR channel', () => {
    const both = parseConfig({ VIETQR_NOTIFY_SECRET: 'hmac-secret', VIETQR_NOTIFY_API_KEY: 'sepay-key' }).gateways.vietqr!;
    expect(both).toMatchObject({ secrets: ['hmac-secret'], apiKeys: ['sepay-key'] });
    expect(parseConfig({ VIETQR_NOTIFY_API_KEY: ' , ' }).gateways.vietqr).toBeUndefined();
  });
});
