import { type Hash, hmacHex, signedByAny } from './hmac.ts';

/**
 * The national platform's side, written apart from the hub's src/gateways/dvcqg/protocol.ts: the
 * documented field layouts (gateways.md §3; the query's and the outcome-signing confirm's are the
 * open-source provincial system's) and MaXacThuc with node:crypto over the values joined by '|',
 * as that system builds its string. The emulator signs and checks with it; tests sign what they
 * send with it and check what the hub signs.
 */
export const INIT_FIELDS = [
  'LoaiBanTin',
  'PhienBan',
  'MaDoiTac',
  'MaThamChieu',
  'SoTien',
  'LoaiHinhThanhToan',
  'MaKenhThanhToan',
  'MaThietBi',
  'NgonNgu',
  'MaTienTe',
  'MaNganHang',
  'ThongTinGiaoDich',
  'ThoiGianGD',
  'Ip',
];
export const CONFIRM_FIELDS = [
  'LoaiBanTin',
  'MaDoiTac',
  'MaThamChieu',
  'SoTien',
  'MaTienTe',
  'MaNganHang',
  'ThongTinGiaoDich',
  'ThoiGianGD',
];
export const ANSWER_FIELDS = ['MaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
export const QUERY_FIELDS = ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
/** The open-source system's confirm layout: it signs the result code and the transaction too. */
export const OUTCOME_SIGNED_FIELDS = [
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
];

/** LoaiBanTin of a status query, as the open-source system sends it. */
export const QUERY_MESSAGE_TYPE = 'QUERY';
/** MaLoi: done, and refused for any reason the platform states in MoTaLoi. */
export const SUCCESS = '00';
export const REFUSED = '99';
/** The platform keeps MaThamChieu to 20 characters. */
export const MAX_REFERENCE_LENGTH = 20;

/** The enrolment's algorithm name → node:crypto's. */
export const hashOf = (algorithm: 'HMAC-SHA256' | 'HMAC-SHA512'): Hash => (algorithm === 'HMAC-SHA512' ? 'sha512' : 'sha256');

export function platformMac(message: Record<string, unknown>, fields: readonly string[], key: string, hash: Hash = 'sha256'): string {
  return hmacHex(hash, key, fields.map((f) => `${message[f] ?? ''}`).join('|'));
}

/** True when the message's MaXacThuc is platformMac of `fields` under one of the keys. */
export function platformMacVerifies(
  message: Record<string, unknown>,
  fields: readonly string[],
  keys: readonly string[],
  hash: Hash = 'sha256',
): boolean {
  // A nested object (ThongTinBienLai) has no one text form: it is never a signed field.
  if (fields.some((f) => typeof message[f] === 'object' && message[f] !== null)) return false;
  const code = message.MaXacThuc;
  const length = hash === 'sha512' ? 128 : 64;
  return (
    typeof code === 'string' && code.length === length && signedByAny(hash, keys, fields.map((f) => `${message[f] ?? ''}`).join('|'), code)
  );
}
