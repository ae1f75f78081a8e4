import Decimal from 'decimal.js';
import { vnCompactTimestamp, vnDate, vnDisplayDate } from '../domain/dates.ts';
import { formatVnd, groupThousands } from '../domain/money.ts';

/**
 * Vietnamese number formats for pages people read: `.` groups thousands and `,` marks decimals
 * (1.234; 52,50%; 3,15 điểm). Rounded half up in decimal arithmetic, never by float printing.
 */
const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

function vnDecimal(value: Decimal, digits: number): string {
  const fixed = value.toFixed(digits);
  const negative = fixed.startsWith('-') && !/^-0(\.0+)?$/.test(fixed);
  const [whole, fraction] = fixed.replace('-', '').split('.');
  return `${negative ? '−' : ''}${groupThousands(Number(whole))}${fraction ? `,${fraction}` : ''}`;
}

/** 0.525 → "52,50%"; null → "—". */
export function formatPercent(rate: number | null, digits = 2): string {
  return rate === null ? '—' : `${vnDecimal(new Dec(rate).mul(100), digits)}%`;
}

/** A change of a rate in percentage points, signed: 0.052 → "+5,20 điểm %". */
export function formatPointChange(change: number | null, digits = 2): string {
  if (change === null) return '—';
  const text = vnDecimal(new Dec(change).mul(100), digits);
  return `${change > 0 ? '+' : ''}${text} điểm %`;
}

/** 3.15 → "3,15". */
export function formatDecimal(value: number | null, digits = 2): string {
  return value === null ? '—' : vnDecimal(new Dec(value), digits);
}

/** 12345 → "12.345". */
export function formatCount(value: number): string {
  return groupThousands(value);
}

/** Money on a page: 135000 → "135.000 đ"; null (a message that named no amount) → "—". */
export function formatMoney(amount: number | null | undefined): string {
  return amount === null || amount === undefined ? '—' : formatVnd(amount);
}

/** An instant (ISO 8601) as people in Vietnam read it, in Asia/Ho_Chi_Minh: "20/11/2026 10:05". */
export function formatVnDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) return iso;
  const clock = vnCompactTimestamp(instant);
  return `${vnDisplayDate(vnDate(instant))} ${clock.slice(8, 10)}:${clock.slice(10, 12)}`;
}
