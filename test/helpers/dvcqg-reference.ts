import { createHmac } from 'node:crypto';
import { createDvcqgGateway, type DvcqgOptions } from '../../src/gateways/dvcqg/adapter.ts';

/**
 * The national platform's side, written apart from the hub's protocol.ts: the documented field
 * layouts (gateways.md §3; the query's and the outcome-signing confirm's are the open-source
 * provincial system's) and MaXacThuc with node:crypto over the values joined by '|', as that
 * system builds its string. Tests sign what they send with it and check what the hub signs.
 */
export const INIT_FIELDS = ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'LoaiHinhThanhToan', 'MaKenhThanhToan', 'MaThietBi', 'NgonNgu', 'MaTienTe', 'MaNganHang', 'ThongTinGiaoDich', 'ThoiGianGD', 'Ip'];
export const CONFIRM_FIELDS = ['LoaiBanTin', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'MaTienTe', 'MaNganHang', 'ThongTinGiaoDich', 'ThoiGianGD'];
export const ANSWER_FIELDS = ['MaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
export const QUERY_FIELDS = ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
/** The open-source system's confirm layout: it signs the result code and the transaction too. */
export const OUTCOME_SIGNED_FIELDS = ['LoaiBanTin', 'MaLoi', 'MaDoiTac', 'MaThamChieu', 'SoTien', 'MaTienTe', 'MaGiaoDich', 'MaNganHang', 'ThoiGianGD', 'ThongTinGiaoDich'];

export const PLATFORM = 'https://paymentplatform.dichvucong.test';
export const PARTNER = 'HCC_DONGNAI';

export function platformMac(message: Record<string, unknown>, fields: readonly string[], key: string, hash: 'sha256' | 'sha512' = 'sha256'): string {
  return createHmac(hash, key).update(fields.map((f) => `${message[f] ?? ''}`).join('|'), 'utf8').digest('hex');
}

/** The adapter as the tests configure it: the fake platform's URLs, the documented layouts. */
export function testDvcqgGateway(options: Pick<DvcqgOptions, 'secrets' | 'returnUrl' | 'callbackUrl' | 'fetch' | 'now' | 'timeoutMs'> & Partial<DvcqgOptions>) {
  return createDvcqgGateway({
    partnerCode: PARTNER,
    initUrl: `${PLATFORM}/api/v1/init`,
    queryUrl: `${PLATFORM}/api/v1/query`,
    version: '1.0.6',
    algorithm: 'HMAC-SHA256',
    initFields: INIT_FIELDS,
    confirmFields: CONFIRM_FIELDS,
    answerFields: ANSWER_FIELDS,
    redirectField: 'UrlThanhToan',
    polling: { startDelaySeconds: 600, intervalSeconds: 900, maxAttempts: 8 },
    ...options,
  });
}
