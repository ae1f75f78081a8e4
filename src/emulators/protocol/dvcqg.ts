import { createHash, timingSafeEqual } from 'node:crypto';
import { type Hash, hmacHex, signedByAny } from './hmac.ts';

/**
 * The national platform's side, written apart from the hub's src/gateways/dvcqg/protocol.ts: the
 * documented field layouts (gateways.md §3, OpenCPS release-candidate-3.0's) and MaXacThuc with
 * node:crypto over the values joined by '|', as those integrations build their strings by
 * interpolation. The emulator signs and checks with it; tests sign what they send with it and
 * check what the hub signs.
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
/** The confirm as OpenCPS verifies it: the result code and the transaction are signed. */
export const CONFIRM_FIELDS = [
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
export const ANSWER_FIELDS = ['MaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
export const QUERY_FIELDS = ['LoaiBanTin', 'PhienBan', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD'];
/** OpenCPS's earlier (HMAC) confirm layout: it signs neither MaLoi nor MaGiaoDich. */
export const UNSIGNED_OUTCOME_CONFIRM_FIELDS = [
  'LoaiBanTin',
  'MaDoiTac',
  'MaThamChieu',
  'SoTien',
  'MaTienTe',
  'MaNganHang',
  'ThongTinGiaoDich',
  'ThoiGianGD',
];

/** LoaiBanTin of a status query, as the open-source system sends it. */
export const QUERY_MESSAGE_TYPE = 'QUERY';
/** MaLoi: done, and refused for any reason the platform states in MoTaLoi. */
export const SUCCESS = '00';
export const REFUSED = '99';
/** The platform keeps MaThamChieu to 20 characters. */
export const MAX_REFERENCE_LENGTH = 20;

/** How the partner's enrolment makes MaXacThuc: the key appended and hashed (default), or an HMAC. */
export type PlatformAlgorithm = 'SHA256-KEY' | 'HMAC-SHA256' | 'HMAC-SHA512';

/** node:crypto's hash of an algorithm (also the emulator's own page-link HMAC). */
export const hashOf = (algorithm: PlatformAlgorithm): Hash => (algorithm === 'HMAC-SHA512' ? 'sha512' : 'sha256');

const joined = (message: Record<string, unknown>, fields: readonly string[]) => fields.map((f) => `${message[f] ?? ''}`).join('|');

/** sha256(value1|…|valueN|key) in lower-case hex, as OpenCPS's PayGateUtil.sha256 and the .NET CreateMaXacThuc print it. */
const keyAppended = (text: string, key: string) => createHash('sha256').update(`${text}|${key}`, 'utf8').digest();

export function platformMac(
  message: Record<string, unknown>,
  fields: readonly string[],
  key: string,
  algorithm: PlatformAlgorithm = 'SHA256-KEY',
): string {
  const text = joined(message, fields);
  return algorithm === 'SHA256-KEY' ? keyAppended(text, key).toString('hex') : hmacHex(hashOf(algorithm), key, text);
}

/** True when the message's MaXacThuc is platformMac of `fields` under one of the keys (each tried, compared in constant time). */
export function platformMacVerifies(
  message: Record<string, unknown>,
  fields: readonly string[],
  keys: readonly string[],
  algorithm: PlatformAlgorithm = 'SHA256-KEY',
): boolean {
  // A nested object (ThongTinBienLai) has no one text form: it is never a signed field.
  if (fields.some((f) => typeof message[f] === 'object' && message[f] !== null)) return false;
  const code = message.MaXacThuc;
  const length = algorithm === 'HMAC-SHA512' ? 128 : 64;
  if (typeof code !== 'string' || code.length !== length || !/^[0-9a-fA-F]+$/.test(code)) return false;
  const text = joined(message, fields);
  if (algorithm !== 'SHA256-KEY') return signedByAny(hashOf(algorithm), keys, text, code);
  const given = Buffer.from(code, 'hex');
  let ok = false;
  for (const key of keys) if (timingSafeEqual(keyAppended(text, key), given)) ok = true;
  return ok;
}
