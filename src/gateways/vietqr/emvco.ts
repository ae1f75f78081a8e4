/**
 * VietQR (NAPAS 24/7 bank transfer) payloads: EMVCo merchant-presented QR, built and read as
 * plain strings. Pure: no Node built-ins, so the same code runs on Node and on Workers.
 *
 * Layout (docs: shared/domain/gateways.md §2): concatenated TLV fields — 2-digit id, 2-digit
 * length counted in characters, value — ending with `63` `04` and a CRC-16/CCITT-FALSE computed
 * over everything before it *including* the literal `6304`.
 */

const VIETQR_AID = 'A000000727';
const VIETQR_SERVICE_TO_ACCOUNT = 'QRIBFTTA';
const VIETQR_SERVICE_TO_CARD = 'QRIBFTTC';
export type VietQrService = typeof VIETQR_SERVICE_TO_ACCOUNT | typeof VIETQR_SERVICE_TO_CARD;

/** EMVCo ids whose value is itself a TLV list, at the top level and below 38. */
const NESTED_TOP_LEVEL = new Set(['38', '62']);
const NESTED_IN_38 = new Set(['01']);

export class EmvcoError extends Error {
  override name = 'EmvcoError';
}

/** Number of characters (code points) — the unit EMVCo lengths count. */
function charLength(value: string): number {
  return Array.from(value).length;
}

/** One TLV field: 2-digit id, 2-digit length in characters, value (1..99 characters). */
export function tlv(id: string, value: string): string {
  if (!/^\d{2}$/.test(id)) throw new EmvcoError(`EMVCo id must be 2 digits, got ${JSON.stringify(id)}`);
  const length = charLength(value);
  if (length === 0) throw new EmvcoError(`EMVCo field ${id} is empty`);
  if (length > 99) throw new EmvcoError(`EMVCo field ${id} is ${length} characters long (at most 99)`);
  return `${id}${String(length).padStart(2, '0')}${value}`;
}

/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor) over the UTF-8 bytes
 * of `text`, as 4 upper-case hex digits. Check value: crc16CcittFalse('123456789') === '29B1'.
 */
export function crc16CcittFalse(text: string): string {
  let crc = 0xffff;
  for (const byte of new TextEncoder().encode(text)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

export interface VietQrPayloadInput {
  /** The receiving bank's 6-digit NAPAS BIN, e.g. '970415'. */
  bankBin: string;
  /** Receiving account (or card, with QRIBFTTC) number: letters and digits, at most 19. */
  accountNumber: string;
  /** Integer VND. Present → dynamic QR (point of initiation '12', tag 54); absent → static ('11'). */
  amount?: number;
  /** Transfer text (tag 62 / 08): upper-case A-Z, 0-9 and spaces, at most 25 characters. */
  transferText?: string;
  /** 'QRIBFTTA' transfer to an account (default) or 'QRIBFTTC' to a card. */
  service?: VietQrService;
}

const TRANSFER_TEXT_MAX_LENGTH = 25;
const BANK_BIN = /^\d{6}$/;
const ACCOUNT_NUMBER = /^[A-Za-z0-9]{1,19}$/;
const TRANSFER_TEXT = /^[A-Z0-9 ]+$/;

/** Validates the input and returns the complete payload, CRC included. */
export function buildVietQrPayload(input: VietQrPayloadInput): string {
  const service = input.service ?? VIETQR_SERVICE_TO_ACCOUNT;
  if (!BANK_BIN.test(input.bankBin)) throw new EmvcoError('bank BIN must be 6 digits');
  if (!ACCOUNT_NUMBER.test(input.accountNumber)) {
    throw new EmvcoError('account number must be 1 to 19 letters or digits');
  }
  if (service !== VIETQR_SERVICE_TO_ACCOUNT && service !== VIETQR_SERVICE_TO_CARD) {
    throw new EmvcoError(`unknown VietQR service ${JSON.stringify(service)}`);
  }
  const { amount, transferText } = input;
  if (amount !== undefined) {
    if (!Number.isSafeInteger(amount) || amount <= 0 || String(amount).length > 13) {
      throw new EmvcoError('amount must be a positive integer number of VND with at most 13 digits');
    }
  }
  if (transferText !== undefined) {
    if (transferText.length > TRANSFER_TEXT_MAX_LENGTH || !TRANSFER_TEXT.test(transferText)) {
      throw new EmvcoError(`transfer text must be 1 to ${TRANSFER_TEXT_MAX_LENGTH} characters of upper-case A-Z, 0-9 and spaces`);
    }
  }

  const merchantAccount = tlv('00', VIETQR_AID) + tlv('01', tlv('00', input.bankBin) + tlv('01', input.accountNumber)) + tlv('02', service);
  let body = tlv('00', '01') + tlv('01', amount === undefined ? '11' : '12') + tlv('38', merchantAccount) + tlv('53', '704');
  if (amount !== undefined) body += tlv('54', String(amount));
  body += tlv('58', 'VN');
  if (transferText !== undefined) body += tlv('62', tlv('08', transferText));
  body += '6304';
  return body + crc16CcittFalse(body);
}

export interface EmvcoField {
  id: string;
  /** Declared length, in characters. */
  length: number;
  value: string;
  /** Sub-fields, for the templates parsed as nested TLV (38, 38/01, 62). */
  children?: EmvcoField[];
}

export interface ParsedEmvco {
  fields: EmvcoField[];
  /** True when the last field is 63 (length 04) and its value is the CRC of everything before it plus '6304'. */
  crcValid: boolean;
}

/** Parses a TLV list given as code points; throws EmvcoError when a field runs past the end. */
function parseTlvList(chars: string[], nested: (id: string) => Set<string> | undefined, where: string): EmvcoField[] {
  const fields: EmvcoField[] = [];
  let i = 0;
  while (i < chars.length) {
    if (i + 4 > chars.length) throw new EmvcoError(`truncated field header at ${where}${i}`);
    const id = chars.slice(i, i + 2).join('');
    const lengthText = chars.slice(i + 2, i + 4).join('');
    if (!/^\d{2}$/.test(id) || !/^\d{2}$/.test(lengthText)) {
      throw new EmvcoError(`malformed field header ${JSON.stringify(id + lengthText)} at ${where}${i}`);
    }
    const length = Number(lengthText);
    if (i + 4 + length > chars.length) throw new EmvcoError(`field ${id} at ${where}${i} runs past the end`);
    const valueChars = chars.slice(i + 4, i + 4 + length);
    const field: EmvcoField = { id, length, value: valueChars.join('') };
    const childIds = nested(id);
    if (childIds) field.children = parseTlvList(valueChars, (childId) => (childIds.has(childId) ? new Set() : undefined), `${where}${id}/`);
    fields.push(field);
    i += 4 + length;
  }
  return fields;
}

/**
 * Reads an EMVCo payload into a tree of fields (38, 38/01 and 62 parsed as nested TLV) and checks
 * its CRC. Throws EmvcoError when the TLV structure itself is broken.
 */
export function parseEmvco(payload: string): ParsedEmvco {
  const chars = Array.from(payload);
  const fields = parseTlvList(chars, (id) => (NESTED_TOP_LEVEL.has(id) ? (id === '38' ? NESTED_IN_38 : new Set<string>()) : undefined), '');
  const last = fields[fields.length - 1];
  let crcValid = false;
  if (last && last.id === '63' && last.length === 4 && /^[0-9A-Fa-f]{4}$/.test(last.value)) {
    const covered = chars.slice(0, chars.length - 4).join('');
    crcValid = crc16CcittFalse(covered) === last.value.toUpperCase();
  }
  return { fields, crcValid };
}

/** The field at a path of ids, e.g. findField(fields, '38', '01', '00') for the bank BIN. */
export function findField(fields: readonly EmvcoField[], ...path: string[]): EmvcoField | undefined {
  let level: readonly EmvcoField[] | undefined = fields;
  let found: EmvcoField | undefined;
  for (const id of path) {
    found = level?.find((field) => field.id === id);
    if (!found) return undefined;
    level = found.children;
  }
  return found;
}
