/**
 * The values of a statement line as the systems that export them write them, read into the hub's
 * words: integer VND, an instant, what happened to the payment, which way the money went. Pure:
 * each reader answers a value or the reason it cannot (kept on the line, never thrown).
 */

export type LineStatus = 'paid' | 'failed' | 'refunded' | 'pending';
export type LineDirection = 'credit' | 'debit';
export type Read<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What a spreadsheet cell or a CSV field holds. */
export type Cell = string | number | boolean | Date | null | undefined;

const ok = <T>(value: T): Read<T> => Object.freeze({ ok: true, value });
const bad = (reason: string): Read<never> => Object.freeze({ ok: false, reason });

/** A value shown in a reason: short, on one line. */
export const quote = (value: Cell) => JSON.stringify(String(value instanceof Date ? value.toISOString() : value).slice(0, 40));

export const isBlank = (cell: Cell) => cell === null || cell === undefined || (typeof cell === 'string' && cell.trim() === '');

const CURRENCY = /\s*(₫|đ|đồng|vnd|vnđ)\s*$/iu;
const CURRENCY_PREFIX = /^\s*(₫|vnd|vnđ)\s*/iu;

/**
 * An amount in integer VND, as Vietnamese exports write it: `135000`, `135.000` or `135,000`
 * (thousands grouped by either), optionally `1.234.567,00` / `1,234,567.00` with a zero decimal
 * part, and a currency word. A separator followed by exactly three digits groups thousands; one
 * followed by one, two or more than three digits is a decimal point, so `135.5` is fractional and
 * refused (VND has no minor unit), as are negative amounts (direction says which way money went),
 * zero, and anything else. `scale` divides a gateway's own unit (VNPay's ×100).
 */
export function readAmount(cell: Cell, scale = 1): Read<number> {
  if (isBlank(cell)) return bad('amount is missing');
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell)) return bad(`amount ${quote(cell)} is not a number`);
    return checkAmount(cell, scale, cell);
  }
  if (typeof cell !== 'string') return bad(`amount ${quote(cell)} is not a number`);
  let text = cell
    .normalize('NFC')
    .trim()
    .replace(CURRENCY, '')
    .replace(CURRENCY_PREFIX, '')
    .replace(/[\s\u00a0]/g, '');
  if (/^\(.*\)$/.test(text) || text.startsWith('-') || text.endsWith('-')) return bad(`amount ${quote(cell)} is negative`);
  if (text.startsWith('+')) text = text.slice(1);
  const grouped = /^(\d{1,3}(?:([.,])\d{3})(?:\2\d{3})*)(?:([.,])(\d+))?$/.exec(text);
  let integer: string;
  let fraction = '';
  if (grouped) {
    const [, whole, groupSep, decimalSep, decimals] = grouped;
    if (decimalSep !== undefined && decimalSep === groupSep) return bad(`amount ${quote(cell)} is not a number`);
    integer = whole!.replaceAll(groupSep!, '');
    fraction = decimals ?? '';
  } else {
    const plain = /^(\d+)(?:[.,](\d+))?$/.exec(text);
    if (!plain) return bad(`amount ${quote(cell)} is not a number`);
    integer = plain[1]!;
    fraction = plain[2] ?? '';
  }
  if (/[1-9]/.test(fraction)) return bad(`amount ${quote(cell)} has a fraction of a đồng`);
  if (integer.length > 16) return bad(`amount ${quote(cell)} is too large`);
  return checkAmount(Number(integer), scale, cell);
}

function checkAmount(value: number, scale: number, cell: Cell): Read<number> {
  if (value < 0) return bad(`amount ${quote(cell)} is negative`);
  if (!Number.isInteger(value)) return bad(`amount ${quote(cell)} has a fraction of a đồng`);
  if (value % scale !== 0) return bad(`amount ${quote(cell)} has a fraction of a đồng (in units of 1/${scale})`);
  const vnd = value / scale;
  if (vnd === 0) return bad('amount is zero');
  if (!Number.isSafeInteger(vnd) || vnd > 1e15) return bad(`amount ${quote(cell)} is too large`);
  return ok(vnd);
}

const VN_OFFSET_MS = 7 * 60 * 60 * 1000;

/** The instant of a GMT+7 wall-clock time, if those fields make a real one. */
function wallClock(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): Date | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || y < 2000 || y > 2099) return null;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(utc).getUTCDate() !== d) return null; // 31/02
  return new Date(utc - VN_OFFSET_MS);
}

const DMY = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An instant from the time a statement gives, in GMT+7 unless it says otherwise:
 * `dd/MM/yyyy HH:mm:ss` (also `-` or `.` between, seconds or the time left out: the day's
 * start), `yyyyMMddHHmmss` (the gateways'), `yyyy-MM-dd HH:mm:ss`, ISO 8601 with an offset. A
 * spreadsheet's date cell is a wall-clock time without a zone: its fields are read as GMT+7.
 */
export function readTime(cell: Cell): Read<Date> {
  if (isBlank(cell)) return bad('time is missing');
  if (cell instanceof Date) {
    if (Number.isNaN(cell.getTime())) return bad('time is not a date');
    const instant = wallClock(
      cell.getUTCFullYear(),
      cell.getUTCMonth() + 1,
      cell.getUTCDate(),
      cell.getUTCHours(),
      cell.getUTCMinutes(),
      cell.getUTCSeconds(),
    );
    return instant ? ok(instant) : bad(`time ${quote(cell)} is out of range`);
  }
  const text = String(cell).trim();
  let m = DMY.exec(text);
  if (m) return fromFields(cell, m[3], m[2], m[1], m[4], m[5], m[6]);
  m = COMPACT.exec(text);
  if (m) return fromFields(cell, m[1], m[2], m[3], m[4], m[5], m[6]);
  if (WITH_OFFSET.test(text)) {
    const instant = new Date(text);
    return Number.isNaN(instant.getTime()) ? bad(`time ${quote(cell)} is not a date`) : ok(instant);
  }
  m = YMD.exec(text);
  if (m) return fromFields(cell, m[1], m[2], m[3], m[4], m[5], m[6]);
  return bad(`time ${quote(cell)} is not dd/MM/yyyy HH:mm:ss or yyyyMMddHHmmss`);
}

function fromFields(cell: Cell, ...fields: Array<string | undefined>): Read<Date> {
  const [y, mo, d, h, mi, s] = fields.map((f) => (f === undefined ? 0 : Number(f)));
  const instant = wallClock(y!, mo!, d!, h, mi, s);
  return instant ? ok(instant) : bad(`time ${quote(cell)} is not a real date`);
}

/** Lower case, without diacritics or extra spaces: how status words and headers are compared. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/[\s_]+/g, ' ')
    .trim();
}

/** Words (folded) → value. A word not listed is refused with its reason. */
export function readWord<T extends string>(cell: Cell, words: Readonly<Record<string, T>>, what: string): Read<T> {
  if (isBlank(cell)) return bad(`${what} is missing`);
  const value = words[fold(String(cell))];
  return value ? ok(value) : bad(`${what} ${quote(cell)} is not one this format knows`);
}

/** Status words of Vietnamese gateways' exports (folded), and their codes. */
export const STATUS_WORDS: Readonly<Record<string, LineStatus>> = {
  '00': 'paid',
  'thanh cong': 'paid',
  'giao dich thanh cong': 'paid',
  'da thanh toan': 'paid',
  success: 'paid',
  succeeded: 'paid',
  paid: 'paid',
  'that bai': 'failed',
  'giao dich that bai': 'failed',
  loi: 'failed',
  failed: 'failed',
  failure: 'failed',
  'khach hang huy': 'failed',
  'da huy': 'failed',
  cancelled: 'failed',
  'hoan tien': 'refunded',
  'da hoan tien': 'refunded',
  'hoan tra': 'refunded',
  refunded: 'refunded',
  'dang xu ly': 'pending',
  'cho xu ly': 'pending',
  'chua hoan tat': 'pending',
  pending: 'pending',
  processing: 'pending',
};

/** Direction words (folded) of a generic file's direction column. */
export const DIRECTION_WORDS: Readonly<Record<string, LineDirection>> = {
  c: 'credit',
  cr: 'credit',
  co: 'credit',
  'ghi co': 'credit',
  credit: 'credit',
  '+': 'credit',
  thu: 'credit',
  d: 'debit',
  dr: 'debit',
  no: 'debit',
  'ghi no': 'debit',
  debit: 'debit',
  '-': 'debit',
  chi: 'debit',
};

const ASCII = /^[\t\n\r -~]*$/;

/** Text kept on a line: trimmed, NFC, without NUL (PostgreSQL text holds none), at most 1,000 characters (code points). */
export function readText(cell: Cell): string | null {
  if (isBlank(cell)) return null;
  // NUL is exactly what PostgreSQL text cannot hold.
  const raw = cell instanceof Date ? cell.toISOString() : String(cell);
  // Plain ASCII (most ids and bank texts) needs no normalisation.
  const text = (ASCII.test(raw) ? raw : raw.normalize('NFC')).replaceAll('\u0000', '').trim();
  if (text.length <= 1000) return text;
  // 1,000 characters as PostgreSQL's left() counts them (code points), not UTF-16 units: an
  // emoji is one, and is never cut in half.
  const characters = Array.from(text);
  return characters.length > 1000 ? characters.slice(0, 1000).join('') : text;
}
